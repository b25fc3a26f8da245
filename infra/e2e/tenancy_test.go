package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
)

// tenancyRoutes is the table every route that names a tenant's resource must
// join (TestTenancyTableCoversEveryRoute fails until it does). Each case
// builds the request for a target organisation and resource ids; the owner
// gets ownerStatus, anyone else — another partner, another organisation of the
// same partner — gets exactly the 404 an id that does not exist gets.
type tenancyCase struct {
	route       string // the route key
	build       func(ids targetIDs) exchange
	ownerStatus int
	// entity: the route names its organisation in X-Entity-Id.
	entity bool
	// partnerOnly: organisation tokens are refused (403) whatever the ids.
	partnerOnly bool
}

// entityRoutes are the routes without an id in the path that act on the
// organisation named by X-Entity-Id: they belong in the table too.
var entityRoutes = map[string]bool{"POST /v1/invoices": true, "GET /v1/invoices": true,
	"POST /v1/payment_links": true, "GET /v1/payment_links": true, "GET /v1/payment_intents": true}

// targetIDs are the ids a request aims at.
type targetIDs struct {
	org     string
	client  string
	dept    string
	account string // not the department's default, so it can be deleted
	invoice string // a draft
	issued  string // an issued invoice with a payment link
	link    string
	intent  string
	// The partner's webhook subscription and a delivery of it.
	subscription string
	delivery     string
}

var tenancyRoutes = []tenancyCase{
	{route: "GET /v1/organizations/{org_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + id.org}
	}},
	{route: "POST /v1/organizations/{org_id}/api_clients", ownerStatus: 201, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + id.org + "/api_clients", body: `{"role":"analyst"}`}
	}},
	{route: "GET /v1/organizations/{org_id}/api_clients", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + id.org + "/api_clients"}
	}},
	{route: "DELETE /v1/organizations/{org_id}/api_clients/{client_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "DELETE", route: "/v1/organizations/{org_id}/api_clients/{client_id}", path: "/v1/organizations/" + id.org + "/api_clients/" + id.client}
	}},
	{route: "PATCH /v1/organizations/{org_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + id.org, body: `{"name":"Renamed"}`}
	}},
	{route: "GET /v1/organizations/{org_id}/branding", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/organizations/{org_id}/branding", path: "/v1/organizations/" + id.org + "/branding"}
	}},
	{route: "PUT /v1/organizations/{org_id}/branding", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "PUT", route: "/v1/organizations/{org_id}/branding", path: "/v1/organizations/" + id.org + "/branding", body: `{"display_name":"Régie"}`}
	}},
	{route: "POST /v1/organizations/{org_id}/departments", ownerStatus: 201, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + id.org + "/departments", body: `{"name":"D","code":"T-` + id.client[len(id.client)-8:] + `"}`}
	}},
	{route: "GET /v1/organizations/{org_id}/departments", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + id.org + "/departments"}
	}},
	{route: "GET /v1/departments/{dept_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/departments/{dept_id}", path: deptPath(id.dept)}
	}},
	{route: "PATCH /v1/departments/{dept_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(id.dept), body: `{"description":"x"}`}
	}},
	{route: "POST /v1/departments/{dept_id}/bank_accounts", ownerStatus: 201, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(id.dept, "/bank_accounts"), body: `{"iban":"FR7630004000031234567890143","bic":"BNPAFRPPXXX","account_name":"C"}`}
	}},
	{route: "GET /v1/departments/{dept_id}/bank_accounts", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(id.dept, "/bank_accounts")}
	}},
	{route: "GET /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(id.dept, "/bank_accounts/", id.account)}
	}},
	{route: "PATCH /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(id.dept, "/bank_accounts/", id.account), body: `{"account_name":"R"}`}
	}},
	{route: "DELETE /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", ownerStatus: 204, build: func(id targetIDs) exchange {
		return exchange{method: "DELETE", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(id.dept, "/bank_accounts/", id.account)}
	}},
	{route: "POST /v1/departments/{dept_id}/kyc/documents", ownerStatus: 201, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(id.dept, "/kyc/documents"),
			body: `{"type":"rib","file_name":"rib.pdf","content_type":"application/pdf","content_base64":"` + pdf("rib") + `"}`}
	}},
	// The owner's minimal submission is refused for its content (422), which
	// still proves the route reached the department.
	{route: "POST /v1/departments/{dept_id}/kyc", ownerStatus: 422, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(id.dept, "/kyc"), body: `{"representative":{"first_name":"A","last_name":"B","role":"regisseur","date_of_birth":"1970-01-01"},"documents":[]}`}
	}},
	{route: "GET /v1/departments/{dept_id}/kyc", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/departments/{dept_id}/kyc", path: deptPath(id.dept, "/kyc")}
	}},
	{route: "POST /v1/invoices", ownerStatus: 201, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/invoices", body: seedInvoice(id.dept, "2030-01-01")}
	}},
	{route: "GET /v1/invoices", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices"}
	}},
	{route: "GET /v1/invoices/{invoice_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id.invoice}
	}},
	{route: "PATCH /v1/invoices/{invoice_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id.invoice, body: `{"payment_terms":"30 jours"}`}
	}},
	{route: "POST /v1/invoices/{invoice_id}/issue", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + id.invoice + "/issue"}
	}},
	{route: "POST /v1/invoices/{invoice_id}/cancel", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/invoices/{invoice_id}/cancel", path: "/v1/invoices/" + id.invoice + "/cancel"}
	}},
	{route: "POST /v1/payment_links", ownerStatus: 201, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/payment_links", body: linkBody(id.issued, "")}
	}},
	{route: "GET /v1/payment_links", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_links"}
	}},
	{route: "GET /v1/payment_links/{link_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_links/{link_id}", path: "/v1/payment_links/" + id.link}
	}},
	{route: "GET /v1/payment_links/{link_id}/qr.png", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: "/v1/payment_links/" + id.link + "/qr.png"}
	}},
	{route: "POST /v1/payment_links/{link_id}/deactivate", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + id.link + "/deactivate"}
	}},
	{route: "GET /v1/payment_intents", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_intents", query: "invoice_id=" + id.issued}
	}},
	{route: "GET /v1/payment_intents/{intent_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + id.intent}
	}},
	{route: "GET /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 200, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription}
	}},
	{route: "PATCH /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 200, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription, body: `{"description":"mine"}`}
	}},
	{route: "DELETE /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 204, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "DELETE", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription}
	}},
	{route: "POST /v1/webhook_subscriptions/{subscription_id}/rotate_secret", ownerStatus: 200, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/rotate_secret", path: "/v1/webhook_subscriptions/" + id.subscription + "/rotate_secret"}
	}},
	{route: "POST /v1/webhook_subscriptions/{subscription_id}/test", ownerStatus: 202, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/test", path: "/v1/webhook_subscriptions/" + id.subscription + "/test"}
	}},
	{route: "GET /v1/webhook_subscriptions/{subscription_id}/deliveries", ownerStatus: 200, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}/deliveries", path: "/v1/webhook_subscriptions/" + id.subscription + "/deliveries"}
	}},
	{route: "GET /v1/webhook_deliveries/{delivery_id}", ownerStatus: 200, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_deliveries/{delivery_id}", path: "/v1/webhook_deliveries/" + id.delivery}
	}},
	// The owner's delivery (a test ping) is pending or succeeded: 409, which
	// still proves the owner reaches it.
	{route: "POST /v1/webhook_deliveries/{delivery_id}/retry", ownerStatus: 409, partnerOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_deliveries/{delivery_id}/retry", path: "/v1/webhook_deliveries/" + id.delivery + "/retry"}
	}},
}

// TestTenancyTableCoversEveryRoute: every authenticated route with a path
// parameter is in the table above.
func TestTenancyTableCoversEveryRoute(t *testing.T) {
	inTable := map[string]bool{}
	for _, c := range tenancyRoutes {
		inTable[c.route] = true
	}
	var missing []string
	for _, rk := range templateRoutes(t) {
		// The payment page's routes are public: their token is the only key,
		// covered by TestPaymentPageUnknownToken.
		if strings.HasPrefix(rk, "GET /p/") || strings.HasPrefix(rk, "POST /p/") {
			continue
		}
		if (strings.Contains(rk, "{") || entityRoutes[rk]) && !inTable[rk] {
			missing = append(missing, rk)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes with ids missing from the tenancy table: %v", missing)
	}
}

func TestOtherTenantsGetNotFound(t *testing.T) {
	w := newWorld(t)
	hookSink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hookSink.Close)
	partnerA := w.token("ptn-1-client", partnerSecret)
	partnerB := w.token("ptn-2-client", partnerSecret)
	orgA1 := w.createOrg(partnerA, orgBody("A1"))
	orgA2 := w.createOrg(partnerA, orgBody("A2"))
	w.createOrg(partnerB, orgBody("B1"))
	newClient := func(org, role string) map[string]any {
		return w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			header: bearer(partnerA), body: `{"role":"` + role + `"}`, status: 201}).json(t)
	}
	a2Admin := newClient(orgA2, "admin")
	a2Token := w.token(a2Admin["client_id"].(string), a2Admin["client_secret"].(string))

	callers := []struct {
		name  string
		token string
	}{
		{"another partner", partnerB},
		{"another organisation of the same partner (admin)", a2Token},
	}
	for _, c := range tenancyRoutes {
		t.Run(c.route, func(t *testing.T) {
			target := targetIDs{org: orgA1, client: newClient(orgA1, "analyst")["client_id"].(string)}
			target.dept, target.account = newDepartmentWithAccounts(t, w, partnerA, orgA1)
			target.invoice = w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(partnerA, "X-Entity-Id", orgA1),
				body: seedInvoice(target.dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
			target.issued = w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(partnerA, "X-Entity-Id", orgA1),
				body: seedInvoice(target.dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
			w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + target.issued + "/issue",
				header: bearer(partnerA, "X-Entity-Id", orgA1), status: 200})
			lk := w.do(exchange{method: "POST", route: "/v1/payment_links", header: bearer(partnerA, "X-Entity-Id", orgA1),
				body: linkBody(target.issued, `,"amount":200`), status: 201}).json(t) // leaves room for the owner's control link
			target.link, target.intent = lk["id"].(string), lk["payment_intent_id"].(string)
			if strings.Contains(c.route, "webhook") {
				// A subscription per case (one case deletes it), removed after.
				target.subscription = w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(partnerA),
					body: `{"url":"` + hookSink.URL + `","events":["*"]}`, status: 201}).json(t)["id"].(string)
				target.delivery = w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/test",
					path: "/v1/webhook_subscriptions/" + target.subscription + "/test", header: bearer(partnerA), status: 202}).json(t)["id"].(string)
				defer w.doAny(exchange{method: "DELETE", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + target.subscription, header: bearer(partnerA)})
			}
			missing := targetIDs{org: "org-01900000-0000-7000-8000-000000000000", client: "cli-01900000-0000-7000-8000-000000000000",
				dept: "dept-01900000-0000-7000-8000-000000000000", account: "ba-01900000-0000-7000-8000-000000000000",
				invoice: "inv-01900000-0000-7000-8000-000000000000", issued: "inv-01900000-0000-7000-8000-000000000001",
				link: "pl-01900000-0000-7000-8000-000000000000", intent: "pi-01900000-0000-7000-8000-000000000000",
				subscription: "whsub-01900000-0000-7000-8000-000000000000", delivery: "whd-01900000-0000-5000-8000-000000000000"}
			headers := func(token string, id targetIDs) map[string]string {
				if c.entity {
					return bearer(token, "X-Entity-Id", id.org)
				}
				return bearer(token)
			}
			wt := &world{t: t, app: w.app, srv: w.srv, clock: w.clock, faults: w.faults, validator: w.validator, seen: w.seen}

			for _, caller := range callers {
				// The reference: what this caller gets for ids that do not exist.
				want := 404
				if c.partnerOnly && caller.token == a2Token {
					want = 403
				}
				ex := c.build(missing)
				ex.header, ex.status = headers(caller.token, missing), want
				ref := wt.do(ex)
				ex = c.build(target)
				ex.header, ex.status = headers(caller.token, target), want
				got := wt.do(ex)
				if !sameError(t, got, ref) {
					t.Errorf("%s: answer %s differs from the one for a missing id %s", caller.name, got.body, ref.body)
				}
			}
			// Positive control: the owner reaches it, so the 404s above mean something.
			ex := c.build(target)
			ex.header, ex.status = headers(partnerA, target), c.ownerStatus
			wt.do(ex)
		})
	}
}

// sameError compares two error bodies but for the request id.
func sameError(t *testing.T, a, b answer) bool {
	t.Helper()
	strip := func(x answer) string {
		var m map[string]map[string]any
		if err := json.Unmarshal(x.body, &m); err != nil {
			t.Fatalf("not an error body: %s", x.body)
		}
		delete(m["error"], "request_id")
		out, _ := json.Marshal(m)
		return string(out)
	}
	return strip(a) == strip(b)
}

var deptSeq atomic.Int64

// newDepartmentWithAccounts makes a department with two accounts and returns
// the department and its non-default account.
func newDepartmentWithAccounts(t *testing.T, w *world, token, org string) (string, string) {
	t.Helper()
	n := deptSeq.Add(1)
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + org + "/departments",
		header: bearer(token), body: fmt.Sprintf(`{"name":"D","code":"D-%d"}`, n), status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(token),
		body: `{"iban":"FR1420041010050500013M02606","bic":"PSSTFRPPXXX","account_name":"A"}`, status: 201})
	acct := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(token),
		body: `{"iban":"FR7630006000011234567890189","bic":"AGRIFRPPXXX","account_name":"B"}`, status: 201}).json(t)["id"].(string)
	return dept, acct
}
