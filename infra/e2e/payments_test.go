package e2e

import (
	"fmt"
	html2 "html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/aiiasandbox"
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
	l := iw.link(linkBody(inv, `,"amount":10000,"expires_at":"`+expires+`"`), 201).json(t)
	var fields []string
	for k := range l {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	if got := strings.Join(fields, ","); got != seedLinkFields {
		t.Errorf("link fields %s, want %s", got, seedLinkFields)
	}
	if l["amount"] != 10000.0 || l["status"] != "active" || l["currency"] != "EUR" || l["expires_at"] != expires {
		t.Errorf("link = %v", l)
	}
	page := l["payment_page_url"].(string)
	if strings.Contains(page, l["id"].(string)) || len(page[strings.LastIndex(page, "/")+1:]) < 22 {
		t.Errorf("page URL %s must carry an unguessable token, not the link id", page)
	}
	// The intent exists, created, for the link's amount.
	pi := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + l["payment_intent_id"].(string), header: iw.h(), status: 200}).json(t)
	if pi["status"] != "created" || pi["amount"] != 10000.0 || pi["payment_link_id"] != l["id"] {
		t.Errorf("intent = %v", pi)
	}
	intents := iw.do(exchange{method: "GET", route: "/v1/payment_intents", query: "invoice_id=" + inv, header: iw.h(), status: 200}).json(t)["data"].([]any)
	if len(intents) != 1 {
		t.Errorf("%d intents for the invoice, want 1", len(intents))
	}
	// Amounts beyond what active links leave (32 200), too small, zero; bad methods, URL and dates.
	for body, param := range map[string]string{
		linkBody(inv, `,"amount":32201`): "amount",
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
	iw.link(`{"invoice_id":"`+inv+`","payment_methods":["sepa_credit"],"amount":200,"return_url":"http://127.0.0.1:8080/done"}`, 201)
	// Without an amount a link takes what is left; then nothing is left.
	if rest := iw.link(linkBody(inv, ""), 201).json(t); rest["amount"] != 32000.0 {
		t.Errorf("the rest = %v, want 32000", rest["amount"])
	}
	iw.link(linkBody(inv, ""), 409)
	// Nor can the invoice be cancelled while links are open.
	iw.action(inv, "cancel", 409)
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
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + l2["payment_intent_id"].(string), header: iw.h(), status: 200}).json(t)["status"]; got != "cancelled" {
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
	iw := newInvoiceWorld(t)
	w := iw.world
	// A real page's token with one character changed opens nothing either.
	page := iw.link(linkBody(iw.issuedInvoice(t), ""), 201).json(t)["payment_page_url"].(string)
	token := []byte(page[strings.LastIndex(page, "/")+1:])
	if token[len(token)-3] == 'A' {
		token[len(token)-3] = 'B'
	} else {
		token[len(token)-3] = 'A'
	}
	w.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + string(token), status: 404})
	for _, ex := range []exchange{
		{method: "GET", route: "/p/{token}", path: "/p/not-a-real-token", status: 404},
		{method: "GET", route: "/p/{token}/return", path: "/p/not-a-real-token/return", status: 404},
		{method: "GET", route: "/p/{token}/status", path: "/p/not-a-real-token/status", status: 404},
		{method: "POST", route: "/p/{token}/pay", path: "/p/not-a-real-token/pay", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "csrf=x&method=sepa_credit", status: 403},
	} {
		w.do(ex)
	}
}

// The heart of the product, end to end: a payer opens the link, pays by SEPA
// at the sandbox bank, comes back, and the invoice becomes paid without
// anyone touching it — through the event router, the poll queue and the
// poller, on the real engines.
func TestPayerPaysInvoiceEndToEnd(t *testing.T) {
	iw := newInvoiceWorld(t)
	pay := func(iban, decision string) (invoiceID, intentID, token string) {
		invoiceID = iw.issuedInvoice(t)
		l := iw.link(linkBody(invoiceID, ""), 201).json(t)
		token = iw.payAtBank(t, l["payment_page_url"].(string), iban, decision)
		return invoiceID, l["payment_intent_id"].(string), token
	}

	// Success: …0123.
	inv, pi, token := pay("FR7612345678901234567890123", "authorize")
	got := iw.waitIntent(t, pi, "succeeded")
	if got["aiia_status"] != "settled" || got["completed_at"] == nil || got["aiia_transaction_id"] == "" || got["selected_payment_method"] != "sepa_credit" {
		t.Errorf("succeeded intent = %v", got)
	}
	invoice := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv, header: iw.h(), status: 200}).json(t)
	if invoice["status"] != "paid" || invoice["amount_paid"] != 42200.0 || invoice["amount_due"] != 0.0 {
		t.Errorf("invoice after payment: status %v paid %v due %v", invoice["status"], invoice["amount_paid"], invoice["amount_due"])
	}
	if page := iw.do(exchange{method: "GET", route: "/p/{token}/return", path: "/p/" + token + "/return", status: 200}).body; !strings.Contains(string(page), "Paiement reçu") {
		t.Errorf("return page does not say Paiement reçu")
	}
	// Paying again is impossible: the link is completed.
	iw.do(exchange{method: "GET", route: "/p/{token}/status", path: "/p/" + token + "/status", status: 200})

	// Failure: …0124, insufficient funds; the invoice stays unpaid.
	inv2, pi2, _ := pay("FR7612345678901234567890124", "authorize")
	failed := iw.waitIntent(t, pi2, "failed")
	if !strings.Contains(fmt.Sprint(failed["failure_reason"]), "fonds insuffisants") || failed["aiia_status"] != "rejected" {
		t.Errorf("failed intent = %v", failed)
	}
	if st := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv2, header: iw.h(), status: 200}).json(t)["status"]; st != "issued" {
		t.Errorf("invoice after a failed payment: %v", st)
	}
	// The page in English, a cross-site form post, a JSON body.
	if body := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, query: "lang=en", status: 200}).body; !strings.Contains(string(body), "Payment received") {
		t.Errorf("English page of a paid link lacks 'Payment received'")
	}
	iw.do(exchange{method: "POST", route: "/p/{token}/pay", path: "/p/" + token + "/pay", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"},
		body: "csrf=x&method=sepa_credit", status: 403})
	iw.do(exchange{method: "POST", route: "/p/{token}/pay", path: "/p/" + token + "/pay", header: map[string]string{"Content-Type": "application/json"}, body: `{"method":"sepa_credit"}`, status: 415})
	// The failed payment's link can be deactivated (its intent stays failed),
	// which frees the amount for a new link the payer can use.
	failedLink := failed["payment_link_id"].(string)
	iw.do(exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + failedLink + "/deactivate", header: iw.h(), status: 200})
	if st := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + pi2, header: iw.h(), status: 200}).json(t)["status"]; st != "failed" {
		t.Errorf("the failed intent became %v", st)
	}
	iw.link(linkBody(inv2, ""), 201)
}

// The schedule expires links past their time: the intent is cancelled, the
// amount is free again, and the page says the link is inactive.
func TestPaymentLinksExpire(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	soon := iw.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	l := iw.link(linkBody(inv, `,"expires_at":"`+soon+`"`), 201).json(t)
	iw.link(linkBody(inv, ""), 409) // the whole amount is reserved
	fire := func() {
		resp, err := iw.srv.Client().Post(iw.srv.URL+"/_local/schedules/SchedulerFunction", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	fire()
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}", path: "/v1/payment_links/" + l["id"].(string), header: iw.h(), status: 200}).json(t)["status"]; got != "active" {
		t.Fatalf("before its time the link is %v", got)
	}
	iw.clock.Advance(2 * time.Hour)
	iw.token = iw.world.token("ptn-1-client", partnerSecret)
	fire()
	fire() // twice: nothing changes twice
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}", path: "/v1/payment_links/" + l["id"].(string), header: iw.h(), status: 200}).json(t)["status"]; got != "expired" {
		t.Errorf("after its time the link is %v", got)
	}
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + l["payment_intent_id"].(string), header: iw.h(), status: 200}).json(t)["status"]; got != "cancelled" {
		t.Errorf("its intent is %v", got)
	}
	page := l["payment_page_url"].(string)
	if body := iw.do(exchange{method: "GET", route: "/p/{token}", path: page[strings.Index(page, "/p/"):], status: 200}).body; !strings.Contains(string(body), "inactif") {
		t.Errorf("the expired link's page does not say it is inactive")
	}
	iw.link(linkBody(inv, ""), 201) // the amount is free again
}

// payAtBank does what a payer does on the page and at the sandbox bank, and
// returns the page's token.
func (iw *invoiceWorld) payAtBank(t *testing.T, pageURL, iban, decision string) string {
	t.Helper()
	return iw.world.payAtBankShowing(t, pageURL, iban, decision, "Payer par virement", "FAC-", "Mairie de Lyon")
}

// payAtBankShowing is payAtBank for any organisation's page, which must
// show each of shows.
func (w *world) payAtBankShowing(t *testing.T, pageURL, iban, decision string, shows ...string) string {
	t.Helper()
	noFollow := *w.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	token := pageURL[strings.LastIndex(pageURL, "/")+1:]
	html := w.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
	for _, want := range shows {
		if !strings.Contains(string(html), want) {
			t.Errorf("payment page lacks %q", want)
		}
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(html)
	if csrf == nil {
		t.Fatalf("no CSRF field on the page")
	}
	// A forged form is refused.
	w.do(exchange{method: "POST", route: "/p/{token}/pay", path: "/p/" + token + "/pay", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf=forged&method=sepa_credit", status: 403})
	resp, err := noFollow.PostForm(w.srv.URL+"/p/"+token+"/pay", url.Values{"csrf": {string(csrf[1])}, "method": {"sepa_credit"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	flow := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || flow == "" {
		t.Fatalf("pay: status %d, Location %q", resp.StatusCode, flow)
	}
	back := submitBankPage(t, &noFollow, flow, url.Values{"iban": {iban}, "decision": {decision}})
	if loc := back.Header.Get("Location"); !strings.Contains(loc, "/p/"+token+"/return") {
		t.Fatalf("the bank sends the payer back to %q", loc)
	}
	return token
}

// Two payers settle one invoice at the same moment, through two links that
// split its amount: both payments land, and amount_paid is exactly the total.
func TestConcurrentPayersOfOneInvoice(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	a := iw.link(linkBody(inv, `,"amount":21100`), 201).json(t)
	b := iw.link(linkBody(inv, ""), 201).json(t) // the rest: 21 100
	iw.link(linkBody(inv, `,"amount":200`), 409) // nothing left to ask for
	var wg sync.WaitGroup
	for _, l := range []map[string]any{a, b} {
		wg.Add(1)
		go func(page string) {
			defer wg.Done()
			iw.payAtBank(t, page, "FR7612345678901234567890123", "authorize")
		}(l["payment_page_url"].(string))
	}
	wg.Wait()
	waitFor(t, 30*time.Second, func() (bool, string) {
		got := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv, header: iw.h(), status: 200}).json(t)
		return got["status"] == "paid" && got["amount_paid"] == 42200.0 && got["amount_due"] == 0.0,
			fmt.Sprintf("invoice %v, paid %v, due %v", got["status"], got["amount_paid"], got["amount_due"])
	})
}

// The bank answers 500s, 429s and malformed bodies for a while: the poller
// retries, nothing is applied twice, and the payment lands once.
func TestBankFaultsDuringPolling(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	l := iw.link(linkBody(inv, ""), 201).json(t)
	// The status reads fail first: 3 × 500 (the client's own retries absorb
	// them within one poll), then 3 × malformed answers, then a 429.
	var fs []aiiasandbox.Fault
	for _, kind := range []string{"500", "500", "500", "malformed", "malformed", "malformed", "429"} {
		fs = append(fs, aiiasandbox.Fault{Kind: kind, Match: "GET /payments"})
	}
	iw.sandbox.InjectFaults(fs...)
	iw.payAtBank(t, l["payment_page_url"].(string), "FR7612345678901234567890123", "authorize")
	waitFor(t, 60*time.Second, func() (bool, string) {
		got := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv, header: iw.h(), status: 200}).json(t)
		return got["status"] == "paid" && got["amount_paid"] == 42200.0, fmt.Sprintf("invoice %v, paid %v", got["status"], got["amount_paid"])
	})
}

// The sandbox's card simulator: test cards approve or decline at once, any
// other number is refused (no real card data is taken in the sandbox).
func TestCardPaymentsInTheSandbox(t *testing.T) {
	iw := newInvoiceWorld(t)
	payByCard := func(number string) (invoiceID string, page []byte, status int) {
		invoiceID = iw.issuedInvoice(t)
		l := iw.link(linkBody(invoiceID, ""), 201).json(t)
		token := l["payment_page_url"].(string)[strings.LastIndex(l["payment_page_url"].(string), "/")+1:]
		html := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
		csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(html)
		if !strings.Contains(string(html), "card-number") {
			t.Fatalf("the sandbox page offers no card form")
		}
		noFollow := *iw.srv.Client()
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.PostForm(iw.srv.URL+"/p/"+token+"/pay", url.Values{"csrf": {string(csrf[1])}, "method": {"card"},
			"card_number": {number}, "card_exp_month": {"12"}, "card_exp_year": {"2099"}, "card_cvc": {"123"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page, _ = io.ReadAll(resp.Body)
		return invoiceID, page, resp.StatusCode
	}
	status := func(inv string) any {
		return iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv, header: iw.h(), status: 200}).json(t)["status"]
	}
	inv, _, code := payByCard("4242 4242 4242 4242")
	if code != http.StatusSeeOther || status(inv) != "paid" {
		t.Errorf("approved test card: status %d, invoice %v", code, status(inv))
	}
	inv, _, code = payByCard("4000000000000002")
	if code != http.StatusSeeOther || status(inv) != "issued" {
		t.Errorf("declined test card: status %d, invoice %v", code, status(inv))
	}
	inv, page, code := payByCard("5555555555554444") // a valid number, but not a sandbox test card
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(page), "4242") || status(inv) != "issued" {
		t.Errorf("non-test card: status %d, invoice %v", code, status(inv))
	}
	_, page, code = payByCard("4242424242424241") // fails Luhn
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(page), "not valid") {
		t.Errorf("invalid number: status %d", code)
	}
	// The same answer, checked against the OpenAPI document.
	invoiceID := iw.issuedInvoice(t)
	l := iw.link(linkBody(invoiceID, ""), 201).json(t)
	token := l["payment_page_url"].(string)[strings.LastIndex(l["payment_page_url"].(string), "/")+1:]
	html := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(html)
	iw.do(exchange{method: "POST", route: "/p/{token}/pay", path: "/p/" + token + "/pay", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf=" + string(csrf[1]) + "&method=card&card_number=1234&card_exp_month=12&card_exp_year=2099&card_cvc=123", status: 422})
}

// The guide's SDK samples create links without return_url: the link is
// created, paid like any other, and its final page is the hosted page's own
// confirmation, with no link back anywhere.
func TestALinkWithoutReturnURLEndsOnItsOwnPage(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	l := iw.link(`{"invoice_id":"`+inv+`","payment_methods":["sepa_credit","card"]}`, 201).json(t)
	token := iw.payAtBank(t, l["payment_page_url"].(string), "FR7612345678901234567890123", "authorize")
	var page string
	waitFor(t, 30*time.Second, func() (bool, string) {
		page = string(iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body)
		return strings.Contains(page, "Paiement reçu"), "the page does not say the payment was received yet"
	})
	if strings.Contains(page, `<a href="http`) {
		t.Fatalf("the final page links somewhere: %s", page)
	}
}

// submitBankPage opens a page of the sandbox bank (the payer's
// authorisation, the refund account's collection) and posts its form with
// values, as the payer's browser does, without following the redirect.
func submitBankPage(t *testing.T, noFollow *http.Client, pageURL string, values url.Values) *http.Response {
	t.Helper()
	page, err := noFollow.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindSubmatch(body)
	if page.StatusCode != http.StatusOK || action == nil {
		t.Fatalf("bank page %s: %d, without a form: %s", pageURL, page.StatusCode, body)
	}
	target, _ := url.Parse(pageURL)
	target, _ = target.Parse(html2.UnescapeString(string(action[1])))
	back, err := noFollow.PostForm(target.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	return back
}
