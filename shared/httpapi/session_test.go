package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
)

// cookieSessions reads the principal from the cookie "s", valued like the
// principals verifier's tokens ("<scope>:<org>:<role>").
type cookieSessions struct{}

func (cookieSessions) Authenticate(_ context.Context, r *httpapi.Request) (auth.Principal, error) {
	v := r.Cookie("s")
	if v == "" {
		return auth.Principal{}, apperr.E("test.session", apperr.Unauthenticated, "no session")
	}
	p, err := principals{}.Verify(v)
	if err != nil {
		return auth.Principal{}, apperr.E("test.session", apperr.Unauthenticated, "bad session")
	}
	r.Session = v
	return p, nil
}

// revokedClients is a revocation list naming whole clients.
type revokedClients map[string]bool

func (r revokedClients) Revoked(_ context.Context, clientID string, _ time.Time) (bool, error) {
	return r[clientID], nil
}

func TestNewRefusesSessionRoutesWithoutTheirParts(t *testing.T) {
	h := func(context.Context, *httpapi.Request) (*httpapi.Response, error) { return httpapi.NoContent(), nil }
	for name, c := range map[string]struct {
		opts  httpapi.Options
		route httpapi.Route
		want  string
	}{
		"no authenticator": {httpapi.Options{}, httpapi.Route{Key: "GET /d", Access: httpapi.Session, Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: h}, "session authenticator"},
		"no tenancy":       {httpapi.Options{Sessions: cookieSessions{}}, httpapi.Route{Key: "GET /d", Access: httpapi.Session, Action: auth.ActionWebhooksRead, Handler: h}, "no tenancy"},
		"no action":        {httpapi.Options{Sessions: cookieSessions{}}, httpapi.Route{Key: "GET /d", Access: httpapi.Session, Tenancy: httpapi.PartnerLevel, Handler: h}, "no action"},
		"unknown action":   {httpapi.Options{Sessions: cookieSessions{}}, httpapi.Route{Key: "GET /d", Access: httpapi.Session, Tenancy: httpapi.PartnerLevel, Action: "d.see", Handler: h}, "does not know"},
	} {
		if _, err := httpapi.New(c.opts, c.route); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

// TestSessionRoutesPassTheEdge: a session's principal meets the revocation
// list, the tenancy rule and the role matrix as a token's does; its errors
// are the route's own (no Bearer challenge); cookies come in from payload
// 2.0's cookies and go out in its cookies; a form claims no idempotency key.
func TestSessionRoutesPassTheEdge(t *testing.T) {
	ran := 0
	handler := func(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		ran++
		resp := httpapi.Raw(http.StatusOK, "text/html", []byte("ok "+r.Tenant.OrgID))
		resp.Cookies = []string{"a=1; Path=/d", "b=2; Path=/d"}
		return resp, nil
	}
	page := func(err error, _ string) *httpapi.Response {
		return httpapi.Raw(httpapi.StatusOf(apperr.CodeOf(err)), "text/html", []byte("page "+string(apperr.CodeOf(err))))
	}
	store := &memIdempotency{recs: map[string]idempotency.Record{}}
	api, err := httpapi.New(httpapi.Options{Sessions: cookieSessions{}, Revocations: revokedClients{"cli-revoked": true}, Idempotency: store},
		httpapi.Route{Key: "GET /d/orgs/{org_id}", Access: httpapi.Session, Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsRead, Handler: handler, Errors: page},
		httpapi.Route{Key: "POST /d/orgs/{org_id}/things", Access: httpapi.Session, Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsWrite, Handler: handler, Errors: page,
			Consumes: []string{"application/x-www-form-urlencoded"}},
		httpapi.Route{Key: "GET /d/hooks", Access: httpapi.Session, Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: handler, Errors: page},
	)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, route, path string, cookies []string) events.APIGatewayV2HTTPResponse {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: method + " " + route, RawPath: path, Cookies: cookies,
			PathParameters: map[string]string{"org_id": strings.TrimPrefix(strings.TrimSuffix(path, "/things"), "/d/orgs/")}}
		ev.RequestContext.HTTP.Method = method
		if method == http.MethodPost {
			ev.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded", "idempotency-key": "k-1"}
			ev.Body = "x=1"
		}
		resp, _ := api.Handle(context.Background(), ev)
		return resp
	}
	for _, c := range []struct {
		name, method, route, path string
		cookies                   []string
		status                    int
		body                      string
	}{
		{"no session", "GET", "/d/orgs/{org_id}", "/d/orgs/org-1", nil, 401, "page unauthenticated"},
		{"the session, among other cookies", "GET", "/d/orgs/{org_id}", "/d/orgs/org-1", []string{"x=y", "s=organization:org-1:analyst"}, 200, "ok org-1"},
		{"another organisation", "GET", "/d/orgs/{org_id}", "/d/orgs/org-2", []string{"s=organization:org-1:admin"}, 404, "page not_found"},
		{"a role the matrix refuses", "POST", "/d/orgs/{org_id}/things", "/d/orgs/org-1/things", []string{"s=organization:org-1:analyst"}, 403, "page forbidden"},
		{"a partner-level page, an organisation's session", "GET", "/d/hooks", "/d/hooks", []string{"s=organization:org-1:admin"}, 403, "page forbidden"},
		{"a revoked client", "GET", "/d/orgs/{org_id}", "/d/orgs/org-1", []string{"s=organization:org-1:revoked"}, 401, "page unauthenticated"},
		{"a partner's session", "GET", "/d/hooks", "/d/hooks", []string{"s=partner::"}, 200, "ok "},
		{"a form with an idempotency key", "POST", "/d/orgs/{org_id}/things", "/d/orgs/org-1/things", []string{"s=organization:org-1:admin"}, 200, "ok org-1"},
	} {
		resp := send(c.method, c.route, c.path, c.cookies)
		if resp.StatusCode != c.status || resp.Body != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, resp.Body, c.status, c.body)
		}
		if resp.Headers["WWW-Authenticate"] != "" {
			t.Errorf("%s: a Bearer challenge on a session route", c.name)
		}
		if c.status == 200 && strings.Join(resp.Cookies, "|") != "a=1; Path=/d|b=2; Path=/d" {
			t.Errorf("%s: cookies %v", c.name, resp.Cookies)
		}
	}
	if len(store.recs) != 0 {
		t.Errorf("a session's form claimed an idempotency key: %v", store.recs)
	}
	if ran != 3 {
		t.Errorf("the handler ran %d times, want 3", ran)
	}
}
