// Package handlers_test holds the checks over every family's routes at once:
// which roles each route admits, and the role table of docs/security.md.
package handlers_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/auth"
	auditapi "github.com/modupay/modupay/shared/handlers/audit"
	"github.com/modupay/modupay/shared/handlers/checkout"
	"github.com/modupay/modupay/shared/handlers/dashboard"
	"github.com/modupay/modupay/shared/handlers/docs"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/paymentorders"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/paymentorder"
)

// allRoutes is every family's route table, in a fixed order.
func allRoutes() []httpapi.Route {
	var rs []httpapi.Route
	for _, family := range [][]httpapi.Route{
		(&tokens.Handlers{}).Routes(),
		(&organizations.Handlers{}).Routes(),
		(&invoices.Handlers{}).Routes(),
		(&payments.Handlers{}).Routes(),
		(&webhooks.Handlers{}).Routes(),
		(&checkout.Handlers{}).Routes(),
		(&auditapi.Handlers{}).Routes(),
		(&paymentorders.Handlers{}).Routes(),
		(&docs.Handlers{}).Routes(),
		(&dashboard.Handlers{}).Routes(),
	} {
		rs = append(rs, family...)
	}
	return rs
}

// routeRoles is, for every authenticated route, the organisation roles it
// admits, written out: what the handlers' role checks admitted before the
// matrix (a read without a check: every role), and none on partner-level
// routes, which the tenancy refuses to organisation tokens anyway. Partner
// tokens are admitted everywhere.
var routeRoles = map[string]string{
	"POST /v1/organizations/{org_id}/api_clients":                             "admin",
	"GET /v1/organizations/{org_id}/api_clients":                              "admin",
	"DELETE /v1/organizations/{org_id}/api_clients/{client_id}":               "admin",
	"POST /v1/organizations":                                                  "",
	"GET /v1/organizations":                                                   "",
	"GET /v1/organizations/{org_id}":                                          "admin finance_manager portfolio_manager analyst",
	"PATCH /v1/organizations/{org_id}":                                        "admin",
	"POST /v1/organizations/{org_id}/departments":                             "admin",
	"GET /v1/organizations/{org_id}/departments":                              "admin finance_manager portfolio_manager analyst",
	"GET /v1/departments/{dept_id}":                                           "admin finance_manager portfolio_manager analyst",
	"PATCH /v1/departments/{dept_id}":                                         "admin",
	"POST /v1/departments/{dept_id}/bank_accounts":                            "admin",
	"GET /v1/departments/{dept_id}/bank_accounts":                             "admin finance_manager portfolio_manager analyst",
	"GET /v1/departments/{dept_id}/bank_accounts/{bank_account_id}":           "admin finance_manager portfolio_manager analyst",
	"PATCH /v1/departments/{dept_id}/bank_accounts/{bank_account_id}":         "admin",
	"DELETE /v1/departments/{dept_id}/bank_accounts/{bank_account_id}":        "admin",
	"POST /v1/departments/{dept_id}/kyc/documents":                            "admin",
	"POST /v1/departments/{dept_id}/kyc":                                      "admin",
	"GET /v1/departments/{dept_id}/kyc":                                       "admin finance_manager portfolio_manager analyst",
	"GET /v1/branding":                                                        "",
	"PUT /v1/branding":                                                        "",
	"GET /v1/organizations/{org_id}/branding":                                 "admin finance_manager portfolio_manager analyst",
	"PUT /v1/organizations/{org_id}/branding":                                 "admin",
	"GET /v1/organizations/{org_id}/data_subjects/export":                     "admin",
	"POST /v1/organizations/{org_id}/data_subjects/erase":                     "admin",
	"POST /v1/invoices":                                                       "admin finance_manager",
	"GET /v1/invoices":                                                        "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}":                                           "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/pdf":                                       "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/facturx":                                   "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/cii.xml":                                   "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/pdf":     "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/facturx": "admin finance_manager portfolio_manager analyst",
	"GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/cii.xml": "admin finance_manager portfolio_manager analyst",
	"PATCH /v1/invoices/{invoice_id}":                                         "admin finance_manager",
	"POST /v1/invoices/{invoice_id}/issue":                                    "admin finance_manager",
	"POST /v1/invoices/{invoice_id}/cancel":                                   "admin finance_manager",
	"PATCH /v1/invoices/{invoice_id}/payer":                                   "admin finance_manager",
	"POST /v1/payment_links":                                                  "admin finance_manager",
	"GET /v1/payment_links":                                                   "admin finance_manager portfolio_manager analyst",
	"GET /v1/payment_links/{link_id}":                                         "admin finance_manager portfolio_manager analyst",
	"GET /v1/payment_links/{link_id}/qr.png":                                  "admin finance_manager portfolio_manager analyst",
	"POST /v1/payment_links/{link_id}/deactivate":                             "admin finance_manager",
	"GET /v1/payment_intents":                                                 "admin finance_manager portfolio_manager analyst",
	"GET /v1/payment_intents/{intent_id}":                                     "admin finance_manager portfolio_manager analyst",
	"GET /v1/payment_intents/{intent_id}/refunds":                             "admin finance_manager portfolio_manager analyst",
	"POST /v1/refunds":                                                        "admin finance_manager",
	"GET /v1/refunds":                                                         "admin finance_manager portfolio_manager analyst",
	"GET /v1/audit_logs":                                                      "admin finance_manager analyst",
	"GET /v1/refunds/{refund_id}":                                             "admin finance_manager portfolio_manager analyst",
	"POST /v1/payment_intents/{intent_id}/resolve":                            "admin finance_manager",
	"POST /v1/refunds/{refund_id}/confirm":                                    "admin finance_manager",
	"POST /v1/refunds/{refund_id}/cancel":                                     "admin finance_manager",
	// Seed 003's matrix. A status change is admitted at the edge for the
	// roles that may approve (and cancel: the same); the transition asked
	// for decides the action, which the service checks once the order is
	// read.
	"GET /v1/payments":                                               "admin finance_manager portfolio_manager analyst",
	"POST /v1/payments":                                              "admin finance_manager portfolio_manager",
	"GET /v1/payments/{payment_id}":                                  "admin finance_manager portfolio_manager analyst",
	"PUT /v1/payments/{payment_id}":                                  "admin finance_manager portfolio_manager",
	"DELETE /v1/payments/{payment_id}":                               "admin finance_manager",
	"PUT /v1/payments/{payment_id}/status":                           "admin finance_manager",
	"POST /v1/portfolios":                                            "admin finance_manager",
	"GET /v1/portfolios":                                             "admin finance_manager portfolio_manager analyst",
	"GET /v1/portfolios/{portfolio_id}":                              "admin finance_manager portfolio_manager analyst",
	"PATCH /v1/portfolios/{portfolio_id}":                            "admin finance_manager",
	"POST /v1/portfolios/{portfolio_id}/fundings":                    "admin finance_manager",
	"POST /v1/webhook_subscriptions":                                 "",
	"GET /v1/webhook_subscriptions":                                  "",
	"GET /v1/webhook_subscriptions/{subscription_id}":                "",
	"PATCH /v1/webhook_subscriptions/{subscription_id}":              "",
	"DELETE /v1/webhook_subscriptions/{subscription_id}":             "",
	"POST /v1/webhook_subscriptions/{subscription_id}/rotate_secret": "",
	"POST /v1/webhook_subscriptions/{subscription_id}/test":          "",
	"GET /v1/webhook_subscriptions/{subscription_id}/deliveries":     "",
	"GET /v1/webhook_deliveries/{delivery_id}":                       "",
	"POST /v1/webhook_deliveries/{delivery_id}/retry":                "",
	// The dashboard's pages admit what the API routes whose services they
	// call admit; its home page and signing out, every role.
	"GET /dashboard":                                                             "admin finance_manager portfolio_manager analyst",
	"POST /dashboard/logout":                                                     "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations":                                               "",
	"GET /dashboard/organizations/{org_id}":                                      "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/departments/{dept_id}":                "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/invoices":                             "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/invoices/{invoice_id}":                "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/invoices/{invoice_id}/pdf":            "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/payment_links":                        "admin finance_manager portfolio_manager analyst",
	"GET /dashboard/organizations/{org_id}/payment_links/{link_id}":              "admin finance_manager portfolio_manager analyst",
	"POST /dashboard/organizations/{org_id}/payment_links/{link_id}/deactivate":  "admin finance_manager",
	"GET /dashboard/organizations/{org_id}/payment_intents/{intent_id}":          "admin finance_manager portfolio_manager analyst",
	"POST /dashboard/organizations/{org_id}/payment_intents/{intent_id}/refunds": "admin finance_manager",
	"GET /dashboard/organizations/{org_id}/refunds":                              "admin finance_manager portfolio_manager analyst",
	"POST /dashboard/organizations/{org_id}/refunds/{refund_id}/confirm":         "admin finance_manager",
	"POST /dashboard/organizations/{org_id}/refunds/{refund_id}/cancel":          "admin finance_manager",
	"GET /dashboard/organizations/{org_id}/api_clients":                          "admin",
	"GET /dashboard/organizations/{org_id}/audit_logs":                           "admin finance_manager analyst",
	"POST /dashboard/organizations/{org_id}/api_clients":                         "admin",
	"POST /dashboard/organizations/{org_id}/api_clients/{client_id}/revoke":      "admin",
	"GET /dashboard/webhook_subscriptions":                                       "",
	"GET /dashboard/webhook_subscriptions/{subscription_id}":                     "",
	"POST /dashboard/webhook_subscriptions/{subscription_id}/test":               "",
	"GET /dashboard/webhook_deliveries/{delivery_id}":                            "",
	"POST /dashboard/webhook_deliveries/{delivery_id}/retry":                     "",
}

func admitted(a auth.Action) string {
	var out []string
	for _, r := range auth.Roles() {
		if auth.Allowed(auth.Principal{ClientID: "cli", PartnerID: "ptn", OrgID: "org", Scope: auth.ScopeOrganization, Role: r}, a) {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, " ")
}

// TestRoutesAdmitTheirRoles: each route's action admits exactly the roles
// written above, so giving a route another action (or changing a row of the
// matrix) shows here as a route whose rights changed.
func TestRoutesAdmitTheirRoles(t *testing.T) {
	tpl, err := stack.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]httpapi.Route{}
	for _, rt := range allRoutes() {
		served[rt.Key] = rt
	}
	for _, fn := range fns {
		if fn.LogicalID == lambdaenv.SandboxBankFunction {
			// Not ModuPay's API: the sandbox stage's stand-in for Aiia, which
			// authenticates Aiia's client credentials itself (shared/aiiasandbox).
			continue
		}
		for _, ev := range fn.Events {
			if ev.HTTP != nil && served[ev.HTTP.RouteKey()].Key == "" {
				t.Errorf("%s is in template.yaml but in no family listed by allRoutes", ev.HTTP.RouteKey())
			}
		}
	}
	bearer := map[string]bool{}
	for _, rt := range allRoutes() {
		if rt.Access != httpapi.Bearer && rt.Access != httpapi.Session {
			if rt.Action != "" {
				t.Errorf("%s is public but declares the action %s", rt.Key, rt.Action)
			}
			continue
		}
		bearer[rt.Key] = true
		want, ok := routeRoles[rt.Key]
		if !ok {
			t.Errorf("%s (%s) has no row in routeRoles", rt.Key, rt.Action)
			continue
		}
		if got := admitted(rt.Action); got != want {
			t.Errorf("%s (%s) admits %q, want %q", rt.Key, rt.Action, got, want)
		}
		if rt.Tenancy == httpapi.PartnerLevel && admitted(rt.Action) != "" {
			t.Errorf("%s is partner-level but its action %s admits organisation roles: the matrix would promise what the tenancy refuses", rt.Key, rt.Action)
		}
	}
	for k := range routeRoles {
		if !bearer[k] {
			t.Errorf("routeRoles names %s, which is no authenticated route", k)
		}
	}
}

// TestSecurityDocRoleTable: docs/security.md shows the matrix as the code
// has it, with the routes of each action; the table cannot drift.
func TestSecurityDocRoleTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := roleTable()
	got := tableAt(string(doc), strings.SplitN(want, "\n", 2)[0])
	if got != want {
		t.Fatalf("the role table of docs/security.md differs from the matrix; it should read:\n\n%s", want)
	}
}

// roleTable renders the matrix as docs/security.md shows it.
func roleTable() string {
	routes := map[auth.Action][]string{}
	for _, rt := range allRoutes() {
		if rt.Access == httpapi.Bearer || rt.Access == httpapi.Session {
			routes[rt.Action] = append(routes[rt.Action], "`"+rt.Key+"`")
		}
	}
	// The status route checks each transition's own action once the
	// order is read (paymentorder.Step): those actions reach the route too.
	const status = "`PUT /v1/payments/{payment_id}/status`"
	steps := map[auth.Action][]string{}
	for _, tr := range paymentorder.Transitions() {
		if !slices.Contains(steps[tr.Action], tr.Name) {
			steps[tr.Action] = append(steps[tr.Action], tr.Name)
		}
	}
	for a, names := range steps {
		routes[a] = append(slices.DeleteFunc(routes[a], func(r string) bool { return r == status }), status+" ("+strings.Join(names, ", ")+")")
	}
	var b strings.Builder
	b.WriteString("| Action | partner token |")
	for _, r := range auth.Roles() {
		b.WriteString(" `" + string(r) + "` |")
	}
	b.WriteString(" Routes |\n|---|---|")
	for range auth.Roles() {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, a := range auth.Actions() {
		b.WriteString("| `" + string(a) + "` |")
		if auth.Allowed(auth.Principal{ClientID: "cli", PartnerID: "ptn", Scope: auth.ScopePartner}, a) {
			b.WriteString(" yes |")
		} else {
			b.WriteString(" no |")
		}
		roles := strings.Fields(admitted(a))
		for _, r := range auth.Roles() {
			if slices.Contains(roles, string(r)) {
				b.WriteString(" yes |")
			} else {
				b.WriteString(" no |")
			}
		}
		rs := strings.Join(routes[a], ", ")
		if rs == "" {
			rs = "(to come)"
		}
		b.WriteString(" " + rs + " |\n")
	}
	return b.String()
}

// tableAt returns the markdown table of doc that starts with the line
// header: that line and the "|" lines that follow it.
func tableAt(doc, header string) string {
	lines := strings.Split(doc, "\n")
	i := slices.Index(lines, header)
	if i < 0 {
		return ""
	}
	var b strings.Builder
	for _, l := range lines[i:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}
