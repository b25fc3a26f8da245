package e2e

import (
	"sort"
	"strings"
	"testing"
)

const seedLinkFields = "amount,created_at,currency,expires_at,id,invoice_id,payment_intent_id,payment_page_url,qr_code_data,status"

func (iw *invoiceWorld) issuedInvoice(t *testing.T) string {
	t.Helper()
	id := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)
	iw.action(id, "issue", 200)
	return id
}

func (iw *invoiceWorld) link(body string, status int) answer {
	return iw.do(exchange{method: "POST", route: "/v1/payment_links", header: iw.h(), body: body, status: status})
}

func linkBody(invoiceID string, extra string) string {
	return `{"invoice_id":"` + invoiceID + `","payment_methods":["sepa_credit","card"],"return_url":"https://votreapp.fr/payment/success"` + extra + `}`
}

func TestPaymentLinks(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	// Seed 000, step 3: exactly the seed's fields.
	expires := iw.day(60) + "T23:59:59Z"
	l := iw.link(linkBody(inv, `,"expires_at":"`+expires+`"`), 201).json(t)
	var fields []string
	for k := range l {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	if got := strings.Join(fields, ","); got != seedLinkFields {
		t.Errorf("link fields %s, want %s", got, seedLinkFields)
	}
	if l["amount"] != 42200.0 || l["status"] != "active" || l["currency"] != "EUR" || l["expires_at"] != expires {
		t.Errorf("link = %v", l)
	}
	page := l["payment_page_url"].(string)
	if strings.Contains(page, l["id"].(string)) || len(page[strings.LastIndex(page, "/")+1:]) < 22 {
		t.Errorf("page URL %s must carry an unguessable token, not the link id", page)
	}
	// The intent exists, created, for the link's amount.
	pi := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + l["payment_intent_id"].(string), header: iw.h(), status: 200}).json(t)
	if pi["status"] != "created" || pi["amount"] != 42200.0 || pi["payment_link_id"] != l["id"] {
		t.Errorf("intent = %v", pi)
	}
	intents := iw.do(exchange{method: "GET", route: "/v1/payment_intents", query: "invoice_id=" + inv, header: iw.h(), status: 200}).json(t)["data"].([]any)
	if len(intents) != 1 {
		t.Errorf("%d intents for the invoice, want 1", len(intents))
	}
	// A partial amount; a too large one; bad methods, URL and dates.
	if p := iw.link(linkBody(inv, `,"amount":10000`), 201).json(t); p["amount"] != 10000.0 {
		t.Errorf("partial link = %v", p)
	}
	for body, param := range map[string]string{
		linkBody(inv, `,"amount":42201`): "amount",
		linkBody(inv, `,"amount":150`):   "amount",
		linkBody(inv, `,"amount":0`):     "amount",
		`{"invoice_id":"` + inv + `","payment_methods":["cash"],"return_url":"https://a.fr/"}`:              "payment_methods",
		`{"invoice_id":"` + inv + `","payment_methods":[],"return_url":"https://a.fr/"}`:                    "payment_methods",
		`{"invoice_id":"` + inv + `","payment_methods":["sepa_credit"],"return_url":"http://a.fr/"}`:        "return_url",
		`{"invoice_id":"` + inv + `","payment_methods":["sepa_credit"],"return_url":"javascript:alert(1)"}`: "return_url",
		linkBody(inv, `,"expires_at":"2020-01-01T00:00:00Z"`):                                               "expires_at",
		linkBody(inv, `,"expires_at":"2099-01-01T00:00:00Z"`):                                               "expires_at",
		linkBody("inv-missing", ""): "invoice_id",
	} {
		if a := iw.link(body, 422); a.errParam(t) != param {
			t.Errorf("%s: param %q, want %q (%s)", body, a.errParam(t), param, a.body)
		}
	}
	// The sandbox accepts a local return URL (partners' development servers).
	iw.link(`{"invoice_id":"`+inv+`","payment_methods":["sepa_credit"],"return_url":"http://127.0.0.1:8080/done"}`, 201)
	// Only open invoices get links.
	draft := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)
	iw.link(linkBody(draft, ""), 409)

	// While links are active the account they pay into cannot be deleted.
	acct := iw.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(iw.dept, "/bank_accounts"), header: bearer(iw.token),
		body: `{"iban":"FR1420041010050500013M02606","bic":"PSSTFRPPXXX","account_name":"Compte 2","is_default":true}`, status: 201}).json(t)["id"].(string)
	inv2 := iw.issuedInvoice(t) // paid into the new default account
	l2 := iw.link(linkBody(inv2, ""), 201).json(t)
	first := iw.do(exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(iw.dept, "/bank_accounts"), header: bearer(iw.token), status: 200}).json(t)["data"].([]any)[0].(map[string]any)["id"].(string)
	iw.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", first), header: bearer(iw.token), body: `{"is_default":true}`, status: 200})
	iw.do(exchange{method: "DELETE", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", acct), header: bearer(iw.token), status: 409})
	// Deactivation cancels the intent and releases the account.
	d := iw.do(exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + l2["id"].(string) + "/deactivate", header: iw.h(), status: 200}).json(t)
	if d["status"] != "deactivated" {
		t.Errorf("deactivated link = %v", d)
	}
	iw.do(exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + l2["id"].(string) + "/deactivate", header: iw.h(), status: 409})
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + l2["payment_intent_id"].(string), header: iw.h(), status: 200}).json(t)["status"]; got != "canceled" {
		t.Errorf("intent after deactivation: %v", got)
	}
	iw.do(exchange{method: "DELETE", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", acct), header: bearer(iw.token), status: 204})
	// Lists.
	all := iw.do(exchange{method: "GET", route: "/v1/payment_links", query: "invoice_id=" + inv, header: iw.h(), status: 200}).json(t)["data"].([]any)
	if len(all) != 3 {
		t.Errorf("%d links for the invoice, want 3", len(all))
	}
	if got := len(iw.do(exchange{method: "GET", route: "/v1/payment_links", query: "status=deactivated", header: iw.h(), status: 200}).json(t)["data"].([]any)); got != 1 {
		t.Errorf("%d deactivated links, want 1", got)
	}
	iw.do(exchange{method: "GET", route: "/v1/payment_links", query: "status=paid", header: iw.h(), status: 422})
	iw.do(exchange{method: "GET", route: "/v1/payment_intents", header: iw.h(), status: 422})
}

// An unknown or guessed token opens nothing: the page says so, the JSON route
// is a 404, and the form cannot be posted.
func TestPaymentPageUnknownToken(t *testing.T) {
	w := newWorld(t)
	for _, ex := range []exchange{
		{method: "GET", route: "/p/{token}", path: "/p/not-a-real-token", status: 404},
		{method: "GET", route: "/p/{token}/return", path: "/p/not-a-real-token/return", status: 404},
		{method: "GET", route: "/p/{token}/status", path: "/p/not-a-real-token/status", status: 404},
		{method: "POST", route: "/p/{token}/pay", path: "/p/not-a-real-token/pay", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "csrf=x&method=sepa_credit", status: 403},
	} {
		w.do(ex)
	}
}
