package e2e

import (
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/auth"
	auditapi "github.com/modupay/modupay/shared/handlers/audit"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/paymentorders"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/httpapi"
)

// TestRolesOnEveryRoute calls every authenticated route of template.yaml
// with a token of each of the four roles of the caller's own organisation,
// through the deployed wiring: the answer is the role's 403 exactly when the
// matrix refuses the route's action, and on partner-level routes the scope's
// 403 (the tenancy answers before the matrix). Ids that do not exist and
// empty bodies are enough: an admitted request goes on to its handler and
// answers anything but a 403.
func TestRolesOnEveryRoute(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Roles"))
	roleTokens := map[auth.Role]string{}
	for _, role := range auth.Roles() {
		c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			header: bearer(partner), body: `{"role":"` + string(role) + `"}`, status: 201}).json(t)
		roleTokens[role] = w.token(c["client_id"].(string), c["client_secret"].(string))
	}
	routes := map[string]httpapi.Route{}
	for _, family := range [][]httpapi.Route{(&tokens.Handlers{}).Routes(), (&organizations.Handlers{}).Routes(),
		(&invoices.Handlers{}).Routes(), (&payments.Handlers{}).Routes(), (&webhooks.Handlers{}).Routes(), (&auditapi.Handlers{}).Routes(),
		(&paymentorders.Handlers{}).Routes()} {
		for _, rt := range family {
			routes[rt.Key] = rt
		}
	}
	missing := strings.NewReplacer("{org_id}", org,
		"{client_id}", "cli-01900000-0000-7000-8000-000000000000",
		"{dept_id}", "dept-01900000-0000-7000-8000-000000000000",
		"{bank_account_id}", "ba-01900000-0000-7000-8000-000000000000",
		"{invoice_id}", "inv-01900000-0000-7000-8000-000000000000",
		"{link_id}", "pl-01900000-0000-7000-8000-000000000000",
		"{intent_id}", "pi-01900000-0000-7000-8000-000000000000",
		"{subscription_id}", "whsub-01900000-0000-7000-8000-000000000000",
		"{delivery_id}", "whd-01900000-0000-5000-8000-000000000000",
		"{refund_id}", missingRefundID,
		"{payment_id}", "payment-01900000-0000-7000-8000-000000000000",
		"{portfolio_id}", "portfolio-01900000-0000-7000-8000-000000000000")
	checked := 0
	for _, key := range templateRoutes(t) {
		method, route, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(route, "/v1/") || key == "POST /v1/auth/token" {
			continue
		}
		rt, ok := routes[key]
		if !ok || rt.Access != httpapi.Bearer {
			t.Errorf("%s: no authenticated route of that key in the families' tables", key)
			continue
		}
		for _, role := range auth.Roles() {
			ex := exchange{method: method, route: route, path: missing.Replace(route), header: bearer(roleTokens[role]), status: -1}
			if method != "GET" && method != "DELETE" {
				ex.body = "{}"
			}
			a := w.do(ex)
			checked++
			var message string
			if a.status == 403 {
				e, _ := a.json(t)["error"].(map[string]any)
				message, _ = e["message"].(string)
			}
			admitted := auth.Allowed(auth.Principal{ClientID: "c", PartnerID: "ptn-1", OrgID: org, Scope: auth.ScopeOrganization, Role: role}, rt.Action)
			roleRefusal := `the role "` + string(role) + `" may not do this`
			switch {
			case rt.Tenancy == httpapi.PartnerLevel:
				if a.status != 403 || message == roleRefusal {
					t.Errorf("%s as %s: %d %q, want the partner scope's 403", key, role, a.status, message)
				}
			case admitted && a.status == 403:
				t.Errorf("%s as %s (%s admits it): 403 %q", key, role, rt.Action, message)
			case !admitted && (a.status != 403 || message != roleRefusal):
				t.Errorf("%s as %s (%s refuses it): %d %q, want 403 %q", key, role, rt.Action, a.status, message, roleRefusal)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no route checked")
	}
}
