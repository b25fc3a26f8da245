package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/listing"
)

// tenancyRoutes is the table every route that names a tenant's resource must
// join (TestTenancyTableCoversEveryRoute fails until it does). Each case
// builds the request for a target organisation and resource ids; the owner
// gets ownerStatus, anyone else — another partner, another organisation of the
// same partner — gets exactly the answer ids that do not exist get.
type tenancyCase struct {
	route       string // the route key
	build       func(ids targetIDs) exchange
	ownerStatus int
	// entity: the route names its organisation in X-Entity-Id.
	entity bool
	// byEntityOnly: the request names the victim by X-Entity-Id alone (a
	// creation whose body holds no victim id): a caller that does not send
	// the victim's organisation acts on its own, as is its right, so only
	// the callers naming the victim attack it.
	byEntityOnly bool
}

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
	// A payment settled (paid of the invoice paidInvoice) and a refund of
	// it that waits for the organisation (requires_action).
	paid, paidInvoice string
	refund            string
	// The partner's webhook subscription and a delivery of it.
	subscription string
	delivery     string
	// A funded portfolio and a PENDING payment order of it (seed 003).
	portfolio, order string
	// An issued invoice cancelled since, and its credit note's number.
	cancelled, creditNote string
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
	{route: "GET /v1/organizations/{org_id}/data_subjects/export", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/organizations/{org_id}/data_subjects/export", path: "/v1/organizations/" + id.org + "/data_subjects/export", query: "email=jean.dupont@example.com"}
	}},
	// The owner erases the guide's payer of its organisation (every invoice
	// the cases made so far); attackers erase nothing (the snapshot).
	{route: "POST /v1/organizations/{org_id}/data_subjects/erase", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/organizations/{org_id}/data_subjects/erase", path: "/v1/organizations/" + id.org + "/data_subjects/erase",
			body: `{"email":"jean.dupont@example.com","reason":"RGPD"}`}
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
	{route: "GET /v1/invoices/{invoice_id}/pdf", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/pdf", path: "/v1/invoices/" + id.issued + "/pdf"}
	}},
	// The target's organisation has no VAT number, so its invoices have no
	// structured document (BR-S-02): the owner's 409 names what it lacked,
	// which still proves the owner reaches the invoice.
	{route: "GET /v1/invoices/{invoice_id}/facturx", ownerStatus: 409, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/facturx", path: "/v1/invoices/" + id.issued + "/facturx"}
	}},
	{route: "GET /v1/invoices/{invoice_id}/cii.xml", ownerStatus: 409, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/cii.xml", path: "/v1/invoices/" + id.issued + "/cii.xml"}
	}},
	{route: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/pdf", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/pdf",
			path: "/v1/invoices/" + id.cancelled + "/credit_notes/" + id.creditNote + "/pdf"}
	}},
	// The target's organisation has no VAT number (BR-S-02): its credit
	// notes have no structured document either, the owner's 409 proving it
	// reaches them.
	{route: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/facturx", ownerStatus: 409, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/facturx",
			path: "/v1/invoices/" + id.cancelled + "/credit_notes/" + id.creditNote + "/facturx"}
	}},
	{route: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/cii.xml", ownerStatus: 409, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/cii.xml",
			path: "/v1/invoices/" + id.cancelled + "/credit_notes/" + id.creditNote + "/cii.xml"}
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
	{route: "PATCH /v1/invoices/{invoice_id}/payer", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}/payer", path: "/v1/invoices/" + id.issued + "/payer", body: `{"name":"Jean Martin"}`}
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
	// The victim's intent (its link's, created) waits for nothing: its
	// owner's 409 proves the route reaches it, and changes nothing.
	{route: "POST /v1/payment_intents/{intent_id}/resolve", ownerStatus: 409, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/payment_intents/{intent_id}/resolve", path: "/v1/payment_intents/" + id.intent + "/resolve", body: `{"outcome":"not_received"}`}
	}},
	{route: "POST /v1/refunds", ownerStatus: 201, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/refunds", body: refundBody(id.paid, 100, "Geste commercial")}
	}},
	// The trail of the victim's invoice: another tenant reads it as the trail
	// of an invoice that does not exist (empty), never its entries.
	{route: "GET /v1/audit_logs", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/audit_logs", query: "resource_id=" + id.invoice}
	}},
	{route: "GET /v1/refunds", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/refunds", query: "payment_intent_id=" + id.paid}
	}},
	// Unfiltered by payment: the organisation's list, whose empty first
	// page is still its organisation's 404.
	{route: "GET /v1/refunds", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/refunds", query: "status=requires_action"}
	}},
	{route: "GET /v1/refunds/{refund_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/refunds/{refund_id}", path: "/v1/refunds/" + id.refund}
	}},
	{route: "POST /v1/refunds/{refund_id}/confirm", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/refunds/{refund_id}/confirm", path: "/v1/refunds/" + id.refund + "/confirm"}
	}},
	{route: "POST /v1/refunds/{refund_id}/cancel", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/refunds/{refund_id}/cancel", path: "/v1/refunds/" + id.refund + "/cancel"}
	}},
	{route: "GET /v1/payment_intents/{intent_id}/refunds", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payment_intents/{intent_id}/refunds", path: "/v1/payment_intents/" + id.paid + "/refunds"}
	}},
	{route: "GET /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription}
	}},
	{route: "PATCH /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription, body: `{"description":"mine"}`}
	}},
	{route: "DELETE /v1/webhook_subscriptions/{subscription_id}", ownerStatus: 204, build: func(id targetIDs) exchange {
		return exchange{method: "DELETE", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + id.subscription}
	}},
	{route: "POST /v1/webhook_subscriptions/{subscription_id}/rotate_secret", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/rotate_secret", path: "/v1/webhook_subscriptions/" + id.subscription + "/rotate_secret"}
	}},
	{route: "POST /v1/webhook_subscriptions/{subscription_id}/test", ownerStatus: 202, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/test", path: "/v1/webhook_subscriptions/" + id.subscription + "/test"}
	}},
	{route: "GET /v1/webhook_subscriptions/{subscription_id}/deliveries", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}/deliveries", path: "/v1/webhook_subscriptions/" + id.subscription + "/deliveries"}
	}},
	{route: "GET /v1/webhook_deliveries/{delivery_id}", ownerStatus: 200, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/webhook_deliveries/{delivery_id}", path: "/v1/webhook_deliveries/" + id.delivery}
	}},
	{route: "POST /v1/portfolios", ownerStatus: 201, entity: true, byEntityOnly: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/portfolios", body: `{"name":"Crédit PME","currency":"EUR"}`}
	}},
	{route: "GET /v1/portfolios", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/portfolios"}
	}},
	{route: "GET /v1/portfolios/{portfolio_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + id.portfolio}
	}},
	{route: "PATCH /v1/portfolios/{portfolio_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "PATCH", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + id.portfolio, body: `{"name":"Renamed"}`}
	}},
	{route: "POST /v1/portfolios/{portfolio_id}/fundings", ownerStatus: 201, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/portfolios/{portfolio_id}/fundings", path: "/v1/portfolios/" + id.portfolio + "/fundings", body: `{"amount":10.00}`}
	}},
	{route: "POST /v1/payments", ownerStatus: 201, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/payments", body: orderBody(id.portfolio, "12.50")}
	}},
	{route: "GET /v1/payments", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payments", query: "portfolioId=" + id.portfolio}
	}},
	{route: "GET /v1/payments/{payment_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "GET", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id.order}
	}},
	{route: "PUT /v1/payments/{payment_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "PUT", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id.order, body: `{"amount":20.00}`}
	}},
	{route: "PUT /v1/payments/{payment_id}/status", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "PUT", route: "/v1/payments/{payment_id}/status", path: "/v1/payments/" + id.order + "/status", body: `{"status":"PROCESSING"}`}
	}},
	{route: "DELETE /v1/payments/{payment_id}", ownerStatus: 200, entity: true, build: func(id targetIDs) exchange {
		return exchange{method: "DELETE", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id.order}
	}},
	// The owner's delivery (a test ping) is pending or succeeded: 409, which
	// still proves the owner reaches it.
	{route: "POST /v1/webhook_deliveries/{delivery_id}/retry", ownerStatus: 409, build: func(id targetIDs) exchange {
		return exchange{method: "POST", route: "/v1/webhook_deliveries/{delivery_id}/retry", path: "/v1/webhook_deliveries/" + id.delivery + "/retry"}
	}},
}

// ownScopeRoutes name no tenant resource: they act on the caller's own
// partner only (its organisation list and creation, its branding, its
// webhook subscriptions), so there is no victim id to send them. Every other
// authenticated route must have a row in tenancyRoutes.
var ownScopeRoutes = map[string]string{
	"POST /v1/organizations":         "creates in the caller's own partner",
	"GET /v1/organizations":          "lists the caller's own partner's organisations",
	"GET /v1/branding":               "the caller's own partner branding",
	"PUT /v1/branding":               "the caller's own partner branding",
	"POST /v1/webhook_subscriptions": "creates in the caller's own partner",
	"GET /v1/webhook_subscriptions":  "lists the caller's own partner's subscriptions",
}

// TestTenancyTableCoversEveryRoute: every authenticated route of
// template.yaml is in the table above or, naming no tenant resource, in
// ownScopeRoutes; a new route without a row fails here.
func TestTenancyTableCoversEveryRoute(t *testing.T) {
	inTable := map[string]bool{}
	for _, c := range tenancyRoutes {
		inTable[c.route] = true
	}
	// Public routes: the token endpoint, and the payment page, whose token
	// is its only key (TestPaymentPageUnknownToken).
	if missing := uncoveredRoutes(t, func(rk, path string) bool {
		return strings.HasPrefix(path, "/v1/") && rk != "POST /v1/auth/token"
	}, inTable, ownScopeRoutes); len(missing) > 0 {
		t.Fatalf("routes missing from the tenancy table (or in both it and ownScopeRoutes): %v", missing)
	}
}

// uncoveredRoutes lists, sorted, the template's routes that pick selects
// and that are in neither inTable nor own, or in both.
func uncoveredRoutes(t *testing.T, pick func(routeKey, path string) bool, inTable map[string]bool, own map[string]string) []string {
	t.Helper()
	var missing []string
	for _, rk := range templateRoutes(t) {
		_, path, _ := strings.Cut(rk, " ")
		if !pick(rk, path) {
			continue
		}
		if _, isOwn := own[rk]; isOwn == inTable[rk] {
			missing = append(missing, rk)
		}
	}
	sort.Strings(missing)
	return missing
}

// attacker is one caller that must not reach the victim's resources.
type attacker struct {
	name  string
	token string
	// entity: the X-Entity-Id it sends — "victim" (the target's organisation,
	// or the missing one for the reference), an organisation id of its own
	// (the victim's ids then come in the path, query or body), or "" none.
	entity string
	// onOrgRoutesOnly: the caller is the victim's own partner acting through
	// another of its organisations; partner-level resources (webhook
	// subscriptions) are its own whatever the header, so it skips them.
	onOrgRoutesOnly bool
}

// TestOtherTenantsGetNotFound attacks every route of the table as another
// partner (its partner token and an organisation admin of its own) and as
// every role of a sibling organisation of the same partner, each with and
// without an X-Entity-Id naming the victim; another partner also names its
// own organisation while sending the victim's ids, and the victim's partner
// names the sibling organisation while sending the victim organisation's ids. Each answer must be byte for
// byte the answer to the same request with ids that do not exist (only the
// request id differs), must not mention a victim id, and the victim's items
// in the table must be unchanged afterwards: nothing read, nothing written.
func TestOtherTenantsGetNotFound(t *testing.T) {
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
	orgToken := func(token, org, role string) string {
		c := newClient(token, org, role)
		return w.token(c["client_id"].(string), c["client_secret"].(string))
	}
	var attackers []attacker
	orgB1Admin := orgToken(partnerB, orgB1, "admin")
	for _, e := range []string{"", "victim"} {
		attackers = append(attackers, attacker{name: "another partner", token: partnerB, entity: e},
			attacker{name: "another partner's organisation admin", token: orgB1Admin, entity: e})
	}
	attackers = append(attackers, attacker{name: "another partner", token: partnerB, entity: orgB1},
		attacker{name: "the victim's partner", token: partnerA, entity: orgA2, onOrgRoutesOnly: true})
	for _, role := range []string{"admin", "finance_manager", "portfolio_manager", "analyst"} {
		tok := orgToken(partnerA, orgA2, role)
		attackers = append(attackers, attacker{name: "sibling organisation " + role, token: tok},
			attacker{name: "sibling organisation " + role, token: tok, entity: "victim"})
	}
	snap := newTableSnapshot(t, w)

	for _, c := range tenancyRoutes {
		t.Run(c.route, func(t *testing.T) {
			target := newTarget(t, w, partnerA, orgA1, newClient(partnerA, orgA1, "analyst")["client_id"].(string), c.route, hookSink.URL)
			missing := targetIDs{portfolio: "portfolio-01900000-0000-7000-8000-000000000000", order: "payment-01900000-0000-7000-8000-000000000000",
				org: "org-01900000-0000-7000-8000-000000000000", client: "cli-01900000-0000-7000-8000-000000000000",
				dept: "dept-01900000-0000-7000-8000-000000000000", account: "ba-01900000-0000-7000-8000-000000000000",
				invoice: "inv-01900000-0000-7000-8000-000000000000", issued: "inv-01900000-0000-7000-8000-000000000001",
				link: "pl-01900000-0000-7000-8000-000000000000", intent: "pi-01900000-0000-7000-8000-000000000000",
				subscription: "whsub-01900000-0000-7000-8000-000000000000", delivery: "whd-01900000-0000-5000-8000-000000000000",
				paid: "pi-01900000-0000-7000-8000-000000000001", paidInvoice: "inv-01900000-0000-7000-8000-000000000002", refund: missingRefundID,
				cancelled: "inv-01900000-0000-7000-8000-000000000003", creditNote: "AV-2026-99999"}
			victimIDs := []string{target.org, target.client, target.dept, target.account, target.invoice, target.issued,
				target.link, target.intent, target.subscription, target.delivery, target.paid, target.paidInvoice, target.refund,
				target.portfolio, target.order, target.cancelled}
			wt := &world{t: t, app: w.app, srv: w.srv, clock: w.clock, faults: w.faults, validator: w.validator, seen: w.seen}

			before := snap.take(t, victimIDs)
			for _, a := range attackers {
				if a.onOrgRoutesOnly && strings.Contains(c.route, "/v1/webhook_") || c.byEntityOnly && a.entity != "victim" {
					continue
				}
				name := a.name + ", no X-Entity-Id"
				switch a.entity {
				case "":
				case "victim":
					name = a.name + ", X-Entity-Id of the victim"
				default:
					name = a.name + ", X-Entity-Id of " + a.entity + " with the victim's ids"
				}
				send := func(id targetIDs) answer {
					ex := c.build(id)
					ex.header, ex.status = bearer(a.token), -1
					switch a.entity {
					case "":
					case "victim":
						ex.header["X-Entity-Id"] = id.org
					default:
						ex.header["X-Entity-Id"] = a.entity
					}
					return wt.do(ex)
				}
				ref, got := send(missing), send(target)
				switch {
				case ref.status/100 == 2 && (c.build(target).method != "GET" || a.entity == "victim"):
					t.Errorf("%s: a write with ids that do not exist answered %d: %s", name, ref.status, ref.body)
				case ref.status/100 != 2 && ref.status != 400 && ref.status != 403 && ref.status != 404 && ref.status != 422:
					t.Errorf("%s: ids that do not exist answered %d: %s", name, ref.status, ref.body)
				}
				if !sameAnswer(got, ref) {
					t.Errorf("%s: answer %d %s differs from the one for ids that do not exist %d %s", name, got.status, got.body, ref.status, ref.body)
				}
				for _, id := range victimIDs {
					if id != "" && strings.Contains(string(got.body), id) {
						t.Errorf("%s: the answer names the victim's %s: %s", name, id, got.body)
					}
				}
			}
			if diff := snap.take(t, victimIDs).diff(before); diff != "" {
				t.Errorf("the victim's items changed under the attackers' requests:\n%s", diff)
			}
			// Positive control: the owner reaches it, so the answers above mean something.
			ex := c.build(target)
			ex.header, ex.status = bearer(partnerA), c.ownerStatus
			if c.entity {
				ex.header["X-Entity-Id"] = target.org
			}
			wt.do(ex)
		})
	}
	// Every request leaves an API call (the snapshot leaves them out): an
	// attacker's is kept under the attacker's own partner, never in the
	// victim's log, which holds the owner's requests only.
	w.waitDrained(t, 60*time.Second, "AuditQueue", "AuditDLQ")
	owner, cursor := 0, ""
	for {
		p, err := w.app.Store.ListAPICalls(context.Background(), "ptn-1", orgA1, apicall.Query{Page: listing.Query{Page: 1, Size: 100, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			if c.ClientID != "ptn-1-client" {
				t.Errorf("the victim's API call log holds a call of %s (%s %d)", c.ClientID, c.Route, c.Status)
			}
			owner++
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if owner < len(tenancyRoutes) {
		t.Errorf("the victim's API call log holds %d calls, fewer than the owner's %d positive controls", owner, len(tenancyRoutes))
	}
}

// newTarget builds, in the organisation org of the partner whose token is
// token, the resources a request of route aims at: always a department with
// accounts, a draft invoice, an issued one with a payment link; for the
// routes that need them, a webhook subscription with a delivery (to
// hookURL; removed when the test ends), a settled payment with a refund
// waiting for the organisation, a funded portfolio with a pending order.
func newTarget(t *testing.T, w *world, token, org, client, route, hookURL string) targetIDs {
	t.Helper()
	target := targetIDs{org: org, client: client}
	target.dept, target.account = newDepartmentWithAccounts(t, w, token, org)
	target.invoice = w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(token, "X-Entity-Id", org),
		body: seedInvoice(target.dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
	target.issued = w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(token, "X-Entity-Id", org),
		body: seedInvoice(target.dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + target.issued + "/issue",
		header: bearer(token, "X-Entity-Id", org), status: 200})
	lk := w.do(exchange{method: "POST", route: "/v1/payment_links", header: bearer(token, "X-Entity-Id", org),
		body: linkBody(target.issued, `,"amount":200`), status: 201}).json(t) // leaves room for the owner's control link
	target.link, target.intent = lk["id"].(string), lk["payment_intent_id"].(string)
	if strings.Contains(route, "webhook") {
		// A subscription per case (one case deletes it), removed after.
		target.subscription = w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(token),
			body: `{"url":"` + hookURL + `","events":["*"]}`, status: 201}).json(t)["id"].(string)
		target.delivery = w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/test",
			path: "/v1/webhook_subscriptions/" + target.subscription + "/test", header: bearer(token), status: 202}).json(t)["id"].(string)
		sub := target.subscription
		t.Cleanup(func() {
			w.doAny(exchange{method: "DELETE", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + sub, header: bearer(token)})
		})
	}
	if strings.Contains(route, "refunds") {
		// A payment settled at the bank, and a refund of it that the
		// bank cannot pay out: it waits for the organisation, so its
		// owner can still confirm or cancel it.
		victim := &invoiceWorld{world: w, token: token, org: org, dept: target.dept}
		target.paidInvoice, target.paid = victim.paidIntent(t, ibanRefundRequiresOrg)
		target.refund = victim.createRefund(refundBody(target.paid, 1000, "Remise"), 201).json(t)["id"].(string)
		victim.waitRefund(t, target.refund, "requires_action")
	}
	if strings.Contains(route, "credit_notes") {
		target.cancelled = w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(token, "X-Entity-Id", org),
			body: seedInvoice(target.dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
		w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + target.cancelled + "/issue",
			header: bearer(token, "X-Entity-Id", org), status: 200})
		c := w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/cancel", path: "/v1/invoices/" + target.cancelled + "/cancel",
			header: bearer(token, "X-Entity-Id", org), status: 200}).json(t)
		target.creditNote = c["credit_notes"].([]any)[0].(map[string]any)["number"].(string)
	}
	if strings.Contains(route, "/v1/payments") || strings.Contains(route, "/v1/portfolios") {
		target.portfolio, target.order = newFundedOrder(t, w, token, org)
	}
	return target
}

// sameAnswer compares two answers but for their request ids.
func sameAnswer(a, b answer) bool {
	strip := func(x answer) string {
		var m map[string]any
		if err := json.Unmarshal(x.body, &m); err != nil {
			return string(x.body)
		}
		delete(m, "request_id")
		delete(m, "requestId") // payment orders (seed 003)
		if e, ok := m["error"].(map[string]any); ok {
			delete(e, "request_id")
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	return a.status == b.status && strip(a) == strip(b)
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

// TestSiblingAdminCannotRedirectPayouts is the attack found in review: an
// admin of organisation A2 naming its sibling A1 in X-Entity-Id tried to add
// a default bank account to A1's department (A1's invoices would then be
// paid into A2's IBAN), and to read and change A1's departments and KYC.
// Every attempt is a 404, and A1's department, accounts and KYC read back
// unchanged by A1's partner.
func TestSiblingAdminCannotRedirectPayouts(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	victim := w.createOrg(partner, orgBody("A1"))
	sibling := w.createOrg(partner, orgBody("A2"))
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + sibling + "/api_clients",
		header: bearer(partner), body: `{"role":"admin"}`, status: 201}).json(t)
	admin := w.token(c["client_id"].(string), c["client_secret"].(string))
	dept, _ := newDepartmentWithAccounts(t, w, partner, victim)

	read := func() []string {
		var out []string
		for _, p := range []string{deptPath(dept), deptPath(dept, "/bank_accounts"), deptPath(dept, "/kyc")} {
			a := w.do(exchange{method: "GET", route: "/v1/departments/{dept_id}" + strings.TrimPrefix(p, deptPath(dept)), path: p, header: bearer(partner), status: 200})
			out = append(out, string(a.body))
		}
		return out
	}
	before := read()
	attacks := []exchange{
		{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"),
			body: `{"iban":"FR7630004000031234567890143","bic":"BNPAFRPPXXX","account_name":"Pirate","is_default":true}`},
		{method: "GET", route: "/v1/departments/{dept_id}", path: deptPath(dept)},
		{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(dept), body: `{"name":"Pirate"}`},
		{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts")},
		{method: "GET", route: "/v1/departments/{dept_id}/kyc", path: deptPath(dept, "/kyc")},
		{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(dept, "/kyc/documents"),
			body: `{"type":"rib","file_name":"rib.pdf","content_type":"application/pdf","content_base64":"` + pdf("rib") + `"}`},
	}
	for _, ex := range attacks {
		ex.header, ex.status = bearer(admin, "X-Entity-Id", victim), 404
		if code := w.do(ex).errCode(t); code != "not_found" {
			t.Errorf("%s %s: code %s, want not_found", ex.method, ex.route, code)
		}
	}
	after := read()
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("the victim's data changed:\nwas %s\nnow %s", before[i], after[i])
		}
	}
}

// TestPortfolioManagerWithManyPortfoliosGetsAToken: the portfolio list stays
// on the client's record, so the largest one allowed (100 ids of 64
// characters, 6.5 KB) still yields a token the API accepts.
func TestPortfolioManagerWithManyPortfoliosGetsAToken(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Portefeuilles"))
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("%064d", i)
	}
	list, _ := json.Marshal(ids)
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(partner), body: `{"role":"portfolio_manager","portfolio_ids":` + string(list) + `}`, status: 201}).json(t)
	if got := len(c["portfolio_ids"].([]any)); got != 100 {
		t.Fatalf("portfolio_ids kept: %d, want 100", got)
	}
	tok := w.token(c["client_id"].(string), c["client_secret"].(string))
	if tok == "" {
		t.Fatal("no token")
	}
	w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer(tok), status: 200})
}

// TestForeignCursorsAreRefused: a next_cursor is bound to the list (and so
// the tenant) it came from. Replayed by another partner or a sibling
// organisation, with or without X-Entity-Id, it is answered exactly like a
// forged one and never reads the victim's items.
func TestForeignCursorsAreRefused(t *testing.T) {
	w := newWorld(t)
	partnerA := w.token("ptn-1-client", partnerSecret)
	partnerB := w.token("ptn-2-client", partnerSecret)
	victim := w.createOrg(partnerA, orgBody("A1"))
	w.createOrg(partnerA, orgBody("A1 bis"))
	sibling := w.createOrg(partnerA, orgBody("A2"))
	orgB := w.createOrg(partnerB, orgBody("B1"))
	w.createOrg(partnerB, orgBody("B2"))
	dept, _ := newDepartmentWithAccounts(t, w, partnerA, victim)
	for i := 0; i < 3; i++ {
		w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(partnerA, "X-Entity-Id", victim), body: seedInvoice(dept, "2030-01-01"), status: 201})
	}
	cursor := func(route, query string, header map[string]string) string {
		a := w.do(exchange{method: "GET", route: route, query: query, header: header, status: 200})
		next, _ := a.json(t)["pagination"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			t.Fatalf("%s: no next_cursor in %s", route, a.body)
		}
		return next
	}
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + sibling + "/api_clients",
		header: bearer(partnerA), body: `{"role":"admin"}`, status: 201}).json(t)
	siblingAdmin := w.token(c["client_id"].(string), c["client_secret"].(string))

	// The victim's API call log (its invoices' creations) and the
	// partner's own (its organisations' creations), read by the route.
	callsOf := func(h map[string]string) string {
		var next string
		waitFor(t, 30*time.Second, func() (bool, string) {
			a := w.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_type=api_call&page_size=1", header: h, status: 200})
			next, _ = a.json(t)["pagination"].(map[string]any)["next_cursor"].(string)
			return next != "", "no next_cursor in the API call log yet"
		})
		return next
	}
	victimOrg := bearer(partnerA, "X-Entity-Id", victim)
	lists := []struct {
		route, query string
		cursor       string
		callers      []map[string]string
	}{
		{"/v1/invoices", "", cursor("/v1/invoices", "page_size=1", victimOrg), []map[string]string{
			bearer(partnerB, "X-Entity-Id", orgB), bearer(partnerB, "X-Entity-Id", victim),
			bearer(siblingAdmin), bearer(siblingAdmin, "X-Entity-Id", victim), bearer(partnerA, "X-Entity-Id", sibling)}},
		{"/v1/organizations", "", cursor("/v1/organizations", "page_size=1", bearer(partnerA)), []map[string]string{bearer(partnerB)}},
		{"/v1/audit_logs", "resource_type=api_call&", callsOf(victimOrg), []map[string]string{
			bearer(partnerB, "X-Entity-Id", orgB), bearer(siblingAdmin), bearer(partnerA, "X-Entity-Id", sibling), bearer(partnerA)}},
		{"/v1/audit_logs", "resource_type=api_call&", callsOf(bearer(partnerA)), []map[string]string{
			bearer(partnerB), bearer(siblingAdmin), bearer(partnerA, "X-Entity-Id", victim)}},
	}
	for _, l := range lists {
		for _, h := range l.callers {
			ref := w.do(exchange{method: "GET", route: l.route, query: l.query + "page_size=1&cursor=" + url.QueryEscape("eyJQSyI6IngifQ"), header: h, status: -1})
			got := w.do(exchange{method: "GET", route: l.route, query: l.query + "page_size=1&cursor=" + url.QueryEscape(l.cursor), header: h, status: -1})
			if got.status/100 == 2 || !sameAnswer(got, ref) {
				t.Errorf("%s with another tenant's cursor (%v): %d %s; a forged cursor gets %d %s", l.route, h["X-Entity-Id"], got.status, got.body, ref.status, ref.body)
			}
		}
	}
}

// TestForeignIdsInBodies: ids of another tenant inside a body — KYC
// documents and the RIB's account of another department, a webhook
// subscription narrowed to another partner's organisation — are answered
// exactly like ids that do not exist, and nothing is written.
func TestForeignIdsInBodies(t *testing.T) {
	w := newWorld(t)
	partnerA := w.token("ptn-1-client", partnerSecret)
	partnerB := w.token("ptn-2-client", partnerSecret)
	victim := w.createOrg(partnerA, orgBody("A1"))
	sibling := w.createOrg(partnerA, orgBody("A2"))
	victimDept, victimAccount := newDepartmentWithAccounts(t, w, partnerA, victim)
	ownDept, _ := newDepartmentWithAccounts(t, w, partnerA, sibling)
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + sibling + "/api_clients",
		header: bearer(partnerA), body: `{"role":"admin"}`, status: 201}).json(t)
	siblingAdmin := w.token(c["client_id"].(string), c["client_secret"].(string))
	upload := func(token, dept, typ string) string {
		return w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(dept, "/kyc/documents"), header: bearer(token),
			body: `{"type":"` + typ + `","file_name":"d.pdf","content_type":"application/pdf","content_base64":"` + pdf(typ) + `"}`, status: 201}).json(t)["id"].(string)
	}
	victimRIB := upload(partnerA, victimDept, "rib")
	ownID, ownAct := upload(siblingAdmin, ownDept, "identity_document"), upload(siblingAdmin, ownDept, "regisseur_appointment")
	kyc := func(rib, account string) string {
		return `{"representative":{"first_name":"Marie","last_name":"Durand","role":"regisseur","date_of_birth":"1975-06-15"},` +
			`"bank_account_id":"` + account + `","documents":[{"type":"rib","document_id":"` + rib + `"},` +
			`{"type":"identity_document","document_id":"` + ownID + `"},{"type":"regisseur_appointment","document_id":"` + ownAct + `"}]}`
	}
	const missingDoc, missingAccount = "kycdoc-01900000-0000-7000-8000-000000000000", "ba-01900000-0000-7000-8000-000000000000"
	snap := newTableSnapshot(t, w)
	victimIDs := []string{victim, victimDept, victimAccount, victimRIB}
	before := snap.take(t, victimIDs)

	pairs := []struct {
		name      string
		got, want exchange
	}{
		{"KYC naming the victim's RIB document",
			exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(ownDept, "/kyc"), header: bearer(siblingAdmin), body: kyc(victimRIB, "")},
			exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(ownDept, "/kyc"), header: bearer(siblingAdmin), body: kyc(missingDoc, "")}},
		{"KYC naming the victim's bank account",
			exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(ownDept, "/kyc"), header: bearer(siblingAdmin), body: kyc(upload(siblingAdmin, ownDept, "rib"), victimAccount)},
			exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(ownDept, "/kyc"), header: bearer(siblingAdmin), body: kyc(upload(siblingAdmin, ownDept, "rib"), missingAccount)}},
		{"webhook subscription narrowed to another partner's organisation",
			exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(partnerB), body: `{"url":"https://example.com/h","events":["*"],"organization_ids":["` + victim + `"]}`},
			exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(partnerB), body: `{"url":"https://example.com/h","events":["*"],"organization_ids":["org-01900000-0000-7000-8000-000000000000"]}`}},
	}
	for _, p := range pairs {
		p.got.status, p.want.status = -1, -1
		ref, got := w.do(p.want), w.do(p.got)
		if ref.status != 422 && ref.status != 404 {
			t.Errorf("%s: ids that do not exist answered %d %s", p.name, ref.status, ref.body)
		}
		if !sameAnswer(got, ref) {
			t.Errorf("%s: %d %s; ids that do not exist get %d %s", p.name, got.status, got.body, ref.status, ref.body)
		}
	}
	if diff := snap.take(t, victimIDs).diff(before); diff != "" {
		t.Errorf("the victim's items changed:\n%s", diff)
	}
}
