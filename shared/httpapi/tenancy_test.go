package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
)

func TestResolveTenant(t *testing.T) {
	partner := &auth.Principal{ClientID: "cli-p", PartnerID: "ptn-1", Scope: auth.ScopePartner}
	orgA := func(role auth.Role) *auth.Principal {
		return &auth.Principal{ClientID: "cli-a", PartnerID: "ptn-1", OrgID: "org-a", Scope: auth.ScopeOrganization, Role: role}
	}
	type want struct {
		tenant Tenant
		code   apperr.Code
		param  string
	}
	notFound := want{code: apperr.NotFound}
	cases := []struct {
		name    string
		p       *auth.Principal
		tenancy Tenancy
		entity  string
		orgPath string
		want    want
	}{
		// Organisation tokens: bound to their organisation whatever the route.
		{"org token, resource route, no header", orgA(auth.RoleAnalyst), OrgOfResource, "", "", want{tenant: Tenant{"ptn-1", "org-a"}}},
		{"org token, resource route, own header", orgA(auth.RoleAdmin), OrgOfResource, "org-a", "", want{tenant: Tenant{"ptn-1", "org-a"}}},
		{"org token, resource route, sibling header", orgA(auth.RoleAdmin), OrgOfResource, "org-b", "", notFound},
		{"org token, entity route, no header", orgA(auth.RoleFinanceManager), OrgInEntity, "", "", want{tenant: Tenant{"ptn-1", "org-a"}}},
		{"org token, entity route, sibling header", orgA(auth.RoleFinanceManager), OrgInEntity, "org-b", "", notFound},
		{"org token, path route, own path", orgA(auth.RoleAdmin), OrgInPath, "", "org-a", want{tenant: Tenant{"ptn-1", "org-a"}}},
		{"org token, path route, sibling path", orgA(auth.RoleAdmin), OrgInPath, "", "org-b", notFound},
		{"org token, path route, own path, sibling header", orgA(auth.RoleAdmin), OrgInPath, "org-b", "org-a", notFound},
		{"org token, path route, sibling path, own header", orgA(auth.RoleAdmin), OrgInPath, "org-a", "org-b", notFound},
		{"org token, partner route", orgA(auth.RoleAdmin), PartnerLevel, "", "", want{code: apperr.Forbidden}},
		{"org token, partner route, sibling header", orgA(auth.RoleAdmin), PartnerLevel, "org-b", "", notFound},
		// Partner tokens: any organisation of theirs; the partner id is theirs.
		{"partner, resource route, no header", partner, OrgOfResource, "", "", want{tenant: Tenant{PartnerID: "ptn-1"}}},
		{"partner, resource route, header narrows", partner, OrgOfResource, "org-b", "", want{tenant: Tenant{"ptn-1", "org-b"}}},
		{"partner, entity route, header", partner, OrgInEntity, "org-b", "", want{tenant: Tenant{"ptn-1", "org-b"}}},
		{"partner, entity route, no header", partner, OrgInEntity, "", "", want{code: apperr.Malformed, param: "X-Entity-Id"}},
		{"partner, path route", partner, OrgInPath, "", "org-b", want{tenant: Tenant{"ptn-1", "org-b"}}},
		{"partner, path route, same header", partner, OrgInPath, "org-b", "org-b", want{tenant: Tenant{"ptn-1", "org-b"}}},
		{"partner, path route, other header", partner, OrgInPath, "org-a", "org-b", want{code: apperr.Malformed, param: "X-Entity-Id"}},
		{"partner, partner route", partner, PartnerLevel, "org-b", "", want{tenant: Tenant{PartnerID: "ptn-1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Request{Principal: c.p, Header: http.Header{}, PathParams: map[string]string{}}
			if c.entity != "" {
				r.Header.Set("X-Entity-Id", c.entity)
			}
			if c.orgPath != "" {
				r.PathParams["org_id"] = c.orgPath
			}
			got, err := resolveTenant(r, c.tenancy)
			if c.want.code == "" {
				if err != nil || got != c.want.tenant {
					t.Fatalf("got %+v, %v; want %+v", got, err, c.want.tenant)
				}
				return
			}
			if apperr.CodeOf(err) != c.want.code {
				t.Fatalf("got %+v, %v; want code %s", got, err, c.want.code)
			}
			if c.want.code == apperr.NotFound && err.Error() != errOrgNotFound().Error() {
				t.Fatalf("got %v; want the missing organisation's answer %v", err, errOrgNotFound())
			}
			var ae *apperr.Error
			if c.want.param != "" && (!asAppErr(err, &ae) || ae.Param != c.want.param) {
				t.Fatalf("got %v; want param %s", err, c.want.param)
			}
		})
	}
}

func asAppErr(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestNewRefusesBearerRouteWithoutTenancy(t *testing.T) {
	h := func(context.Context, *Request) (*Response, error) { return NoContent(), nil }
	_, err := New(Options{Verifier: noVerifier{}}, Route{Key: "GET /v1/things/{id}", Action: auth.ActionDepartmentsRead, Handler: h})
	if err == nil {
		t.Fatal("a Bearer route without a tenancy was accepted")
	}
	if _, err := New(Options{}, Route{Key: "GET /health", Access: Public, Handler: h}); err != nil {
		t.Fatalf("a public route needs no tenancy: %v", err)
	}
	if _, err := New(Options{Verifier: noVerifier{}}, Route{Key: "GET /v1/things/{id}", Tenancy: OrgOfResource, Action: auth.ActionDepartmentsRead, Handler: h}); err != nil {
		t.Fatal(err)
	}
}

type noVerifier struct{}

func (noVerifier) Verify(string) (auth.Principal, error) {
	return auth.Principal{}, auth.ErrInvalidToken
}
