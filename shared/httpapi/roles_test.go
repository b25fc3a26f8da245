package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
)

func TestNewRefusesBearerRouteWithoutAction(t *testing.T) {
	h := func(context.Context, *httpapi.Request) (*httpapi.Response, error) { return httpapi.NoContent(), nil }
	opts := httpapi.Options{Verifier: principals{}}
	cases := []struct {
		name  string
		route httpapi.Route
		want  string // "" when New accepts the route
	}{
		{"bearer, no action", httpapi.Route{Key: "POST /v1/things", Tenancy: httpapi.OrgInEntity, Handler: h}, "declares no action"},
		{"bearer, action unknown to the matrix", httpapi.Route{Key: "POST /v1/things", Tenancy: httpapi.OrgInEntity, Action: "things.write", Handler: h}, "does not know"},
		{"bearer, known action", httpapi.Route{Key: "POST /v1/things", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: h}, ""},
		{"public, no action", httpapi.Route{Key: "GET /health", Access: httpapi.Public, Handler: h}, ""},
	}
	for _, c := range cases {
		_, err := httpapi.New(opts, c.route)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// principals takes the token as "<scope>:<org>:<role>" (org and role empty
// for a partner token).
type principals struct{}

func (principals) Verify(token string) (auth.Principal, error) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return auth.Principal{}, errors.New("bad token")
	}
	return auth.Principal{ClientID: "cli-" + parts[2], PartnerID: "ptn-1", Scope: auth.Scope(parts[0]),
		OrgID: parts[1], Role: auth.Role(parts[2])}, nil
}

// TestEdgeAppliesTheRoleMatrix: the edge asks the matrix after the tenancy
// and before the handler (and before idempotency): a refused role is the
// 403 handlers answered before, a foreign organisation stays a 404 whatever the
// role, and the handler never runs for a refused request.
func TestEdgeAppliesTheRoleMatrix(t *testing.T) {
	ran := map[string]int{}
	handler := func(name string) httpapi.HandlerFunc {
		return func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			ran[name]++
			return httpapi.JSON(http.StatusOK, map[string]string{"ok": name})
		}
	}
	store := &memIdempotency{recs: map[string]idempotency.Record{}}
	api, err := httpapi.New(httpapi.Options{Verifier: principals{}, Idempotency: store, NewID: func() string { return "req-1" }},
		httpapi.Route{Key: "GET /v1/invoices", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: handler("read")},
		httpapi.Route{Key: "POST /v1/invoices", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: handler("write")},
		httpapi.Route{Key: "PATCH /v1/organizations/{org_id}", Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsWrite, Handler: handler("org")},
	)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		name, method, route, path, token, entity, key string
		status                                        int
		ran                                           string // the handler that ran, "" none
		message                                       string // the error message, when one is checked
	}
	const refused = `the role "analyst" may not do this`
	calls := []call{
		{"analyst reads", "GET", "GET /v1/invoices", "/v1/invoices", "organization:org-a:analyst", "", "", 200, "read", ""},
		{"analyst writes", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:analyst", "", "", 403, "", refused},
		{"analyst writes with an idempotency key", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:analyst", "", "k-1", 403, "", refused},
		{"analyst writes with a malformed idempotency key", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:analyst", "", "\x01", 403, "", refused},
		{"finance manager writes", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:finance_manager", "", "", 200, "write", ""},
		{"portfolio manager writes", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:portfolio_manager", "", "", 403, "", `the role "portfolio_manager" may not do this`},
		{"partner writes", "POST", "POST /v1/invoices", "/v1/invoices", "partner::", "org-a", "", 200, "write", ""},
		{"analyst writes to a sibling organisation: 404 first", "POST", "POST /v1/invoices", "/v1/invoices", "organization:org-a:analyst", "org-b", "", 404, "", "organization not found"},
		{"analyst patches a sibling organisation: 404 first", "PATCH", "PATCH /v1/organizations/{org_id}", "/v1/organizations/org-b", "organization:org-a:analyst", "", "", 404, "", "organization not found"},
		{"finance manager patches its organisation", "PATCH", "PATCH /v1/organizations/{org_id}", "/v1/organizations/org-a", "organization:org-a:finance_manager", "", "", 403, "", `the role "finance_manager" may not do this`},
		{"admin patches its organisation", "PATCH", "PATCH /v1/organizations/{org_id}", "/v1/organizations/org-a", "organization:org-a:admin", "", "", 200, "org", ""},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			clear(ran)
			path := c.path
			params := map[string]string{}
			if strings.HasPrefix(path, "/v1/organizations/") {
				params["org_id"] = strings.TrimPrefix(path, "/v1/organizations/")
			}
			h := map[string]string{"authorization": "Bearer " + c.token}
			if c.entity != "" {
				h["x-entity-id"] = c.entity
			}
			if c.key != "" {
				h["idempotency-key"] = c.key
			}
			resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: c.route, RawPath: path,
				Headers: h, PathParameters: params,
				RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: c.method, Path: path}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.ran != "" && ran[c.ran] != 1 || c.ran == "" && len(ran) > 0 {
				t.Errorf("handlers run %v, want %q", ran, c.ran)
			}
			if c.message != "" {
				var body httpapi.ErrorBody
				if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
					t.Fatalf("body %s: %v", resp.Body, err)
				}
				wantCode := "forbidden"
				if c.status == 404 {
					wantCode = "not_found"
				}
				if body.Error.Message != c.message || body.Error.Code != wantCode || body.Error.RequestID != "req-1" {
					t.Errorf("error %+v, want code %s, message %q", body.Error, wantCode, c.message)
				}
			}
		})
	}
	if len(store.recs) != 0 {
		t.Errorf("a refused request left idempotency records: %v", store.recs)
	}
}
