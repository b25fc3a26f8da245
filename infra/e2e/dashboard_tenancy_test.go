package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// dashboardTenancyRoutes is the dashboard's tenancy table, in the style of
// tenancyRoutes: every dashboard route that names a tenant's resource has a
// row (TestDashboardTenancyTableCoversEveryRoute), and is attacked with the
// sessions of another partner and of every role of a sibling organisation.
type dashboardTenancyCase struct {
	route       string
	build       func(id targetIDs) string // the path
	ownerStatus int
	// form: the fields a POST sends besides its csrf token.
	form url.Values
}

var dashboardTenancyRoutes = []dashboardTenancyCase{
	{route: "GET /dashboard/organizations/{org_id}", ownerStatus: 200, build: func(id targetIDs) string { return "/dashboard/organizations/" + id.org }},
	{route: "GET /dashboard/organizations/{org_id}/departments/{dept_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/departments/" + id.dept
	}},
	{route: "GET /dashboard/organizations/{org_id}/invoices", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/invoices"
	}},
	{route: "GET /dashboard/organizations/{org_id}/invoices/{invoice_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/invoices/" + id.issued
	}},
	{route: "GET /dashboard/organizations/{org_id}/invoices/{invoice_id}/pdf", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/invoices/" + id.issued + "/pdf"
	}},
	{route: "GET /dashboard/organizations/{org_id}/payment_links", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/payment_links?invoice_id=" + id.issued
	}},
	{route: "GET /dashboard/organizations/{org_id}/payment_links/{link_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/payment_links/" + id.link
	}},
	{route: "POST /dashboard/organizations/{org_id}/payment_links/{link_id}/deactivate", ownerStatus: 303, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/payment_links/" + id.link + "/deactivate"
	}},
	{route: "GET /dashboard/organizations/{org_id}/payment_intents/{intent_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/payment_intents/" + id.intent
	}},
	// The settled payment of the target (its route names refunds): the
	// owner refunds 1 € of it.
	{route: "POST /dashboard/organizations/{org_id}/payment_intents/{intent_id}/refunds", ownerStatus: 303, form: url.Values{"amount": {"1,00"}, "reason": {"Intrus"}},
		build: func(id targetIDs) string {
			return "/dashboard/organizations/" + id.org + "/payment_intents/" + id.paid + "/refunds"
		}},
	{route: "GET /dashboard/organizations/{org_id}/refunds", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/refunds?status=requires_action"
	}},
	{route: "POST /dashboard/organizations/{org_id}/refunds/{refund_id}/confirm", ownerStatus: 303, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/refunds/" + id.refund + "/confirm"
	}},
	{route: "POST /dashboard/organizations/{org_id}/refunds/{refund_id}/cancel", ownerStatus: 303, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/refunds/" + id.refund + "/cancel"
	}},
	{route: "GET /dashboard/organizations/{org_id}/api_clients", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/api_clients"
	}},
	{route: "GET /dashboard/organizations/{org_id}/audit_logs", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/audit_logs?resource_id=" + id.issued
	}},
	{route: "POST /dashboard/organizations/{org_id}/api_clients", ownerStatus: 200, form: url.Values{"role": {"admin"}, "name": {"Intrus"}},
		build: func(id targetIDs) string { return "/dashboard/organizations/" + id.org + "/api_clients" }},
	{route: "POST /dashboard/organizations/{org_id}/api_clients/{client_id}/revoke", ownerStatus: 303, build: func(id targetIDs) string {
		return "/dashboard/organizations/" + id.org + "/api_clients/" + id.client + "/revoke"
	}},
	{route: "GET /dashboard/webhook_subscriptions/{subscription_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/webhook_subscriptions/" + id.subscription
	}},
	{route: "POST /dashboard/webhook_subscriptions/{subscription_id}/test", ownerStatus: 303, build: func(id targetIDs) string {
		return "/dashboard/webhook_subscriptions/" + id.subscription + "/test"
	}},
	{route: "GET /dashboard/webhook_deliveries/{delivery_id}", ownerStatus: 200, build: func(id targetIDs) string {
		return "/dashboard/webhook_deliveries/" + id.delivery
	}},
	// The owner's delivery (a test ping) is pending or succeeded: the
	// API's 409, which still proves the owner reaches it.
	{route: "POST /dashboard/webhook_deliveries/{delivery_id}/retry", ownerStatus: 409, build: func(id targetIDs) string {
		return "/dashboard/webhook_deliveries/" + id.delivery + "/retry"
	}},
}

// dashboardOwnScopeRoutes name no tenant's resource: public, or the
// caller's own session, partner or organisation.
var dashboardOwnScopeRoutes = map[string]string{
	"GET /dashboard/login":                 "public: the sign-in form",
	"POST /dashboard/login":                "public: signs in with the credentials sent",
	"GET /dashboard/dashboard.css":         "public: the stylesheet",
	"GET /dashboard":                       "the caller's own principal",
	"POST /dashboard/logout":               "ends the caller's own session",
	"GET /dashboard/organizations":         "lists the caller's own partner's organisations",
	"GET /dashboard/webhook_subscriptions": "lists the caller's own partner's subscriptions",
}

// TestDashboardTenancyTableCoversEveryRoute: every /dashboard route of
// template.yaml is in the table above or, naming no tenant resource, in
// dashboardOwnScopeRoutes; a new page without a row fails here.
func TestDashboardTenancyTableCoversEveryRoute(t *testing.T) {
	inTable := map[string]bool{}
	for _, c := range dashboardTenancyRoutes {
		inTable[c.route] = true
	}
	if missing := uncoveredRoutes(t, func(_, path string) bool {
		return path == "/dashboard" || strings.HasPrefix(path, "/dashboard/")
	}, inTable, dashboardOwnScopeRoutes); len(missing) > 0 {
		t.Fatalf("dashboard routes missing from the dashboard tenancy table (or in both it and dashboardOwnScopeRoutes): %v", missing)
	}
}

// TestDashboardOtherTenantsGetNotFound attacks every row of the table with
// the sessions of another partner, of another partner's organisation admin
// and of each role of a sibling organisation: each answer is the answer to
// ids that do not exist, byte for byte but the request id, names no victim
// id, and the victim's items are unchanged afterwards (read raw before and
// after). The victim's own partner reaches each (the positive control).
func TestDashboardOtherTenantsGetNotFound(t *testing.T) {
	w := newWorld(t)
	hookSink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hookSink.Close)
	partnerA := w.token("ptn-1-client", partnerSecret)
	partnerB := w.token("ptn-2-client", partnerSecret)
	orgA1 := w.createOrg(partnerA, orgBody("A1"))
	orgA2 := w.createOrg(partnerA, orgBody("A2"))
	orgB1 := w.createOrg(partnerB, orgBody("B1"))
	newClient := func(token, org, role string) map[string]any {
		return w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			header: bearer(token), body: `{"role":"` + role + `"}`, status: 201}).json(t)
	}
	// An attacker's own organisation: on the routes whose path names an
	// organisation and one of its resources, it also sends its own
	// organisation with the victim's resource id.
	type attacker struct{ name, session, csrf, ownOrg string }
	sessionOf := func(name, id, secret, ownOrg string) attacker {
		s := w.signIn(id, secret)
		return attacker{name: name, session: s, csrf: csrfOf(t, w.page("GET", "/dashboard", "", s, nil, nil, 200)), ownOrg: ownOrg}
	}
	clientSession := func(name, token, org, role string) attacker {
		c := newClient(token, org, role)
		return sessionOf(name, c["client_id"].(string), c["client_secret"].(string), org)
	}
	attackers := []attacker{
		sessionOf("another partner", "ptn-2-client", partnerSecret, orgB1),
		clientSession("another partner's organisation admin", partnerB, orgB1, "admin"),
	}
	for _, role := range []string{"admin", "finance_manager", "portfolio_manager", "analyst"} {
		attackers = append(attackers, clientSession("sibling organisation "+role, partnerA, orgA2, role))
	}
	owner := sessionOf("the victim's partner", "ptn-1-client", partnerSecret, orgA2)
	// The victim's own partner, naming its other organisation in the path
	// with the victim organisation's resource ids.
	crossOrg := append([]attacker{{name: "the victim's partner", session: owner.session, csrf: owner.csrf, ownOrg: orgA2}}, attackers...)
	snap := newTableSnapshot(t, w)
	missing := targetIDs{org: "org-01900000-0000-7000-8000-000000000000", client: "cli-01900000-0000-7000-8000-000000000000",
		dept: "dept-01900000-0000-7000-8000-000000000000", issued: "inv-01900000-0000-7000-8000-000000000001",
		subscription: "whsub-01900000-0000-7000-8000-000000000000", delivery: "whd-01900000-0000-5000-8000-000000000000",
		link: "pl-01900000-0000-7000-8000-000000000000", intent: "pi-01900000-0000-7000-8000-000000000000",
		paid: "pi-01900000-0000-7000-8000-000000000001", refund: missingRefundID}

	for _, c := range dashboardTenancyRoutes {
		t.Run(c.route, func(t *testing.T) {
			target := newTarget(t, w, partnerA, orgA1, newClient(partnerA, orgA1, "analyst")["client_id"].(string), c.route, hookSink.URL)
			victimIDs := []string{target.org, target.client, target.dept, target.account, target.invoice, target.issued, target.link, target.intent,
				target.subscription, target.delivery, target.paid, target.paidInvoice, target.refund}
			wt := &world{t: t, app: w.app, srv: w.srv, clock: w.clock, faults: w.faults, validator: w.validator, seen: w.seen}
			method, route, _ := strings.Cut(c.route, " ")
			before := snap.take(t, victimIDs)
			for _, a := range attackers {
				send := func(id targetIDs) answer {
					var form url.Values
					if method == http.MethodPost {
						form = url.Values{"csrf": {a.csrf}}
						for k, v := range c.form {
							form[k] = v
						}
					}
					return wt.page(method, route, c.build(id), a.session, form, nil, -1)
				}
				ref, got := send(missing), send(target)
				if ref.status != 403 && ref.status != 404 {
					t.Errorf("%s: ids that do not exist answered %d: %s", a.name, ref.status, ref.body)
				}
				if !samePage(got, ref) {
					t.Errorf("%s: answer %d %s differs from the one for ids that do not exist %d %s", a.name, got.status, got.body, ref.status, ref.body)
				}
				for _, id := range victimIDs {
					if id != "" && strings.Contains(string(got.body)+got.header.Get("Location"), id) {
						t.Errorf("%s: the answer names the victim's %s: %s", a.name, id, got.body)
					}
				}
			}
			// The attacker's own organisation in the path, the victim's
			// resource after it: the path binds the resource.
			if nested := strings.Count(route, "{") > 1 && strings.HasPrefix(route, "/dashboard/organizations/{org_id}/"); nested {
				for _, a := range crossOrg {
					send := func(id targetIDs) answer {
						var form url.Values
						if method == http.MethodPost {
							form = url.Values{"csrf": {a.csrf}}
						}
						id.org = a.ownOrg
						return wt.page(method, route, c.build(id), a.session, form, nil, -1)
					}
					ref, got := send(missing), send(target)
					// 404, or the role's 403 where the role may not act on its
					// own organisation either: the same answer either way.
					if (ref.status != 404 && ref.status != 403) || !samePage(got, ref) {
						t.Errorf("%s, its own organisation %s with the victim's ids: %d %s, want the answer to ids that do not exist %d %s",
							a.name, a.ownOrg, got.status, got.body, ref.status, ref.body)
					}
				}
			}
			if diff := snap.take(t, victimIDs).diff(before); diff != "" {
				t.Errorf("the victim's items changed under the attackers' requests:\n%s", diff)
			}
			var form url.Values
			if method == http.MethodPost {
				form = url.Values{"csrf": {owner.csrf}}
				for k, v := range c.form {
					form[k] = v
				}
			}
			wt.page(method, route, c.build(target), owner.session, form, nil, c.ownerStatus)
		})
	}
}
