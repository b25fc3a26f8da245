package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/money"
)

var dashFormKey = regexp.MustCompile(`name="form_key" value="([^"]+)"`)

// formKeyOf is the key of the first form of a page that changes something.
func formKeyOf(t *testing.T, a answer) string {
	t.Helper()
	m := dashFormKey.FindSubmatch(a.body)
	if m == nil {
		t.Fatalf("no form_key field in the page: %s", a.body)
	}
	return string(m[1])
}

// Refunds from the dashboard: the payment's page shows what is still
// refundable and the form; a refund is accepted by the API's service with
// the API's rules (an amount above what is refundable, a malformed one:
// the page again with the reason, nothing created); a form sent twice —
// again, or twice at once — refunds once; an analyst sees no form and may
// not post one; a refund waiting for the organisation is confirmed from
// the page.
func TestDashboardRefunds(t *testing.T) {
	iw := newInvoiceWorld(t)
	w := iw.world
	inv, pi := iw.paidIntent(t, ibanRefundSucceeds)
	finance := iw.newClient(t, "finance_manager")
	s := w.signIn(finance.id, finance.secret)
	base := "/dashboard/organizations/" + iw.org
	intentRoute := "/dashboard/organizations/{org_id}/payment_intents/{intent_id}"
	refundRoute := "/dashboard/organizations/{org_id}/payment_intents/{intent_id}/refunds"

	// The invoice links its payment; the payment's page offers the whole
	// amount.
	invPage := w.page("GET", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", base+"/invoices/"+inv, s, nil, nil, 200)
	if !strings.Contains(string(invPage.body), `href="`+base+`/payment_intents/`+pi+`"`) || !strings.Contains(string(invPage.body), "Payment links") {
		t.Errorf("the invoice's page does not link its payment or list its links: %s", invPage.body)
	}
	page := w.page("GET", intentRoute, base+"/payment_intents/"+pi, s, nil, nil, 200)
	for _, want := range []string{"Refund this payment", `value="422,00"`, money.FormatEUR(42200), "succeeded"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("the payment's page lacks %q: %s", want, page.body)
		}
	}
	csrf := csrfOf(t, page)
	refunds := func() []string { ids, _ := iw.listRefunds("payment_intent_id=" + pi); return ids }

	// Refused: the page again, naming the reason; nothing created.
	for _, c := range []struct {
		amount string
		status int
		want   string
	}{
		{"douze", 422, "amount must be a positive amount in euros"},
		{"-5", 422, "amount must be a positive amount in euros"},
		{"12,345", 422, "at most 2 decimals"},
		{"422,01", 422, "amount is above what is refundable: 42200 of 42200"},
		{strings.Repeat("9", 40), 422, "amount must be a positive amount in euros"},
	} {
		a := w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", s,
			url.Values{"csrf": {csrf}, "form_key": {formKeyOf(t, page)}, "amount": {c.amount}, "reason": {injected}}, nil, c.status)
		if !strings.Contains(string(a.body), c.want) || !strings.Contains(string(a.body), `role="alert"`) {
			t.Errorf("amount %q: %d, want the page with %q: %s", c.amount, a.status, c.want, a.body)
		}
		escapedOnly(t, "the refund form sent back", a)
	}
	if got := refunds(); len(got) != 0 {
		t.Fatalf("refused forms created refunds: %v", got)
	}

	// Accepted, then sent again with its key: one refund, and the second
	// answer leads where the first did.
	key := formKeyOf(t, page)
	form := url.Values{"csrf": {csrf}, "form_key": {key}, "amount": {"12,50"}, "reason": {"Geste commercial " + injected}}
	first := w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", s, form, nil, 303)
	again := w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", s, form, nil, 303)
	if loc := first.header.Get("Location"); loc != base+"/payment_intents/"+pi || again.header.Get("Location") != loc {
		t.Errorf("Locations %q then %q, want both the payment's page", loc, again.header.Get("Location"))
	}
	got := refunds()
	if len(got) != 1 {
		t.Fatalf("a form sent twice made %d refunds: %v", len(got), got)
	}
	if r := iw.refund(got[0]); r["amount"] != 1250.0 || r["reason"] != "Geste commercial "+injected {
		t.Errorf("the refund is %v %q, want 1250 and the reason as typed", r["amount"], r["reason"])
	}
	// The same key with other values is refused, and acts on nothing.
	form.Set("amount", "20")
	w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", s, form, nil, 422)

	// A double click: two submissions of one form at once refund once.
	page = w.page("GET", intentRoute, base+"/payment_intents/"+pi, s, nil, nil, 200)
	twice := url.Values{"csrf": {csrf}, "form_key": {formKeyOf(t, page)}, "amount": {"1"}}
	var wg sync.WaitGroup
	answers := make([]answer, 2)
	for i := range answers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			answers[i] = w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", s, twice, nil, -1)
		}(i)
	}
	wg.Wait()
	for _, a := range answers {
		if a.status != 303 {
			t.Errorf("a double click answered %d: %s", a.status, a.body)
		}
	}
	if got := refunds(); len(got) != 2 {
		t.Fatalf("a double click: %d refunds in all, want 2: %v", len(got), got)
	}
	r := iw.waitRefund(t, got[0], "succeeded")
	page = w.page("GET", intentRoute, base+"/payment_intents/"+pi, s, nil, nil, 200)
	for _, want := range []string{got[0], money.FormatEUR(1250), "Geste commercial &lt;script&gt;", money.FormatEUR(42200 - 1250 - 100)} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("after the refunds the payment's page lacks %q (refund %v): %s", want, r["status"], page.body)
		}
	}
	escapedOnly(t, "the payment's refunds", page)

	// An analyst reads the page without the form, and may not post it.
	analyst := iw.newClient(t, "analyst")
	as := w.signIn(analyst.id, analyst.secret)
	ap := w.page("GET", intentRoute, base+"/payment_intents/"+pi, as, nil, nil, 200)
	if strings.Contains(string(ap.body), "Refund this payment") || !strings.Contains(string(ap.body), got[0]) {
		t.Errorf("the analyst's view of the payment: %s", ap.body)
	}
	w.page("POST", refundRoute, base+"/payment_intents/"+pi+"/refunds", as, url.Values{"csrf": {csrfOf(t, ap)}, "amount": {"1"}}, nil, 403)
	if n := len(refunds()); n != 2 {
		t.Errorf("after the analyst's post: %d refunds, want 2", n)
	}

	// A payment not settled cannot be refunded: no form, and a post is the
	// API's 409 on the page.
	open := iw.issuedInvoice(t)
	link := iw.link(linkBody(open, ""), 201).json(t)
	openPI := link["payment_intent_id"].(string)
	op := w.page("GET", intentRoute, base+"/payment_intents/"+openPI, s, nil, nil, 200)
	if strings.Contains(string(op.body), "Refund this payment") {
		t.Errorf("an open payment offers a refund: %s", op.body)
	}
	if a := w.page("POST", refundRoute, base+"/payment_intents/"+openPI+"/refunds", s, url.Values{"csrf": {csrf}, "amount": {"1"}}, nil, 409); !strings.Contains(string(a.body), "only a succeeded payment can be refunded") {
		t.Errorf("refund of an open payment: %s", a.body)
	}

	// A refund the provider cannot pay out waits for the organisation: the
	// refunds page filters it, and the payment's page confirms it.
	_, waiting := iw.paidIntent(t, ibanRefundRequiresOrg)
	wp := w.page("GET", intentRoute, base+"/payment_intents/"+waiting, s, nil, nil, 200)
	w.page("POST", refundRoute, base+"/payment_intents/"+waiting+"/refunds", s, url.Values{"csrf": {csrf}, "form_key": {formKeyOf(t, wp)}, "amount": {"100"}}, nil, 303)
	ids, _ := iw.listRefunds("payment_intent_id=" + waiting)
	if len(ids) != 1 {
		t.Fatalf("refunds of the waiting payment: %v", ids)
	}
	iw.waitRefund(t, ids[0], "requires_action")
	list := w.page("GET", "/dashboard/organizations/{org_id}/refunds", base+"/refunds?status=requires_action", s, nil, nil, 200)
	if !strings.Contains(string(list.body), ids[0]) || strings.Contains(string(list.body), got[0]) {
		t.Errorf("the refunds waiting for the organisation: %s", list.body)
	}
	w.page("GET", "/dashboard/organizations/{org_id}/refunds", base+"/refunds?status=done", s, nil, nil, 422)
	wp = w.page("GET", intentRoute, base+"/payment_intents/"+waiting, s, nil, nil, 200)
	if !strings.Contains(string(wp.body), "Confirm paid") {
		t.Fatalf("a refund waiting for the organisation has no Confirm button: %s", wp.body)
	}
	confirm := url.Values{"csrf": {csrf}, "form_key": {formKeyOf(t, wp)}}
	w.page("POST", "/dashboard/organizations/{org_id}/refunds/{refund_id}/confirm", base+"/refunds/"+ids[0]+"/confirm", s, confirm, nil, 303)
	// Sent again with its key: where the first led, not the API's 409.
	w.page("POST", "/dashboard/organizations/{org_id}/refunds/{refund_id}/confirm", base+"/refunds/"+ids[0]+"/confirm", s, confirm, nil, 303)
	if r := iw.refund(ids[0]); r["status"] != "succeeded" {
		t.Errorf("the confirmed refund is %v", r["status"])
	}
}

// Payment links from the dashboard: the list filtered as the API's, a
// link's page, and Deactivate, which a resubmission does not turn into
// an error; the invoice filters beyond the status.
func TestDashboardPaymentLinksAndInvoiceFilters(t *testing.T) {
	iw := newInvoiceWorld(t)
	w := iw.world
	s := w.signIn("ptn-1-client", partnerSecret)
	base := "/dashboard/organizations/" + iw.org
	inv := iw.issuedInvoice(t)
	l1 := iw.link(linkBody(inv, `,"amount":200`), 201).json(t)
	l2 := iw.link(linkBody(inv, `,"amount":300`), 201).json(t)
	other := iw.issuedInvoice(t)
	l3 := iw.link(linkBody(other, `,"amount":400`), 201).json(t)
	id := func(l map[string]any) string { return l["id"].(string) }

	listRoute := "/dashboard/organizations/{org_id}/payment_links"
	all := w.page("GET", listRoute, base+"/payment_links", s, nil, nil, 200)
	for _, l := range []map[string]any{l1, l2, l3} {
		if !strings.Contains(string(all.body), `href="`+base+`/payment_links/`+id(l)+`"`) {
			t.Errorf("the links page lacks %s: %s", id(l), all.body)
		}
	}
	of := w.page("GET", listRoute, base+"/payment_links?invoice_id="+inv, s, nil, nil, 200)
	if strings.Contains(string(of.body), id(l3)) || !strings.Contains(string(of.body), id(l1)) || !strings.Contains(string(of.body), id(l2)) {
		t.Errorf("the links of one invoice: %s", of.body)
	}
	w.page("GET", listRoute, base+"/payment_links?status=paid", s, nil, nil, 422)
	invPage := w.page("GET", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", base+"/invoices/"+inv, s, nil, nil, 200)
	if !strings.Contains(string(invPage.body), id(l1)) || strings.Contains(string(invPage.body), id(l3)) {
		t.Errorf("the invoice's links panel: %s", invPage.body)
	}

	linkRoute := "/dashboard/organizations/{org_id}/payment_links/{link_id}"
	lp := w.page("GET", linkRoute, base+"/payment_links/"+id(l1), s, nil, nil, 200)
	for _, want := range []string{l1["payment_page_url"].(string), money.FormatEUR(200), "Deactivate", l1["payment_intent_id"].(string)} {
		if !strings.Contains(string(lp.body), want) {
			t.Errorf("the link's page lacks %q: %s", want, lp.body)
		}
	}
	form := url.Values{"csrf": {csrfOf(t, lp)}, "form_key": {formKeyOf(t, lp)}}
	deactivate := "/dashboard/organizations/{org_id}/payment_links/{link_id}/deactivate"
	w.page("POST", deactivate, base+"/payment_links/"+id(l1)+"/deactivate", s, form, nil, 303)
	w.page("POST", deactivate, base+"/payment_links/"+id(l1)+"/deactivate", s, form, nil, 303)
	if got := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}", path: "/v1/payment_links/" + id(l1), header: iw.h(), status: 200}).json(t); got["status"] != "deactivated" {
		t.Errorf("the deactivated link is %v", got["status"])
	}
	// Without its key, a second deactivation is the API's 409.
	w.page("POST", deactivate, base+"/payment_links/"+id(l1)+"/deactivate", s, url.Values{"csrf": {form.Get("csrf")}}, nil, 409)
	lp = w.page("GET", linkRoute, base+"/payment_links/"+id(l1), s, nil, nil, 200)
	if strings.Contains(string(lp.body), ">Deactivate</button>") || !strings.Contains(string(lp.body), "no longer takes a payment") {
		t.Errorf("a deactivated link's page: %s", lp.body)
	}
	active := w.page("GET", listRoute, base+"/payment_links?status=active&invoice_id="+inv, s, nil, nil, 200)
	if strings.Contains(string(active.body), id(l1)) || !strings.Contains(string(active.body), id(l2)) {
		t.Errorf("active links: %s", active.body)
	}

	// Invoice filters, as the API's.
	invoices := "/dashboard/organizations/{org_id}/invoices"
	payer := iw.create(strings.Replace(seedInvoice(iw.dept, "2031-06-15"), "jean.dupont@example.com", "marie.curie@example.com", 1), 201).json(t)
	if !strings.Contains(seedInvoice(iw.dept, "2031-06-15"), "jean.dupont@example.com") {
		t.Fatalf("the seed invoice's payer changed: %s", seedInvoice(iw.dept, "2031-06-15"))
	}
	for _, c := range []struct {
		query    string
		in, out  []string
		selected string
	}{
		{query: "payer_email=marie.curie%40example.com", in: []string{payer["id"].(string)}, out: []string{inv, other}},
		{query: "due_date_from=2031-06-01&due_date_to=2031-06-30", in: []string{payer["id"].(string)}, out: []string{inv}},
		{query: "status=issued&department_id=" + iw.dept, in: []string{inv, other}, out: []string{payer["id"].(string)}},
		{query: "created_from=" + iw.clock.Now().UTC().Format(time.DateOnly), in: []string{inv, payer["id"].(string)}},
		{query: "created_to=2020-01-01", out: []string{inv, payer["id"].(string)}},
	} {
		a := w.page("GET", invoices, base+"/invoices?"+c.query, s, nil, nil, 200)
		for _, id := range c.in {
			if !strings.Contains(string(a.body), base+"/invoices/"+id) {
				t.Errorf("%s: %s missing", c.query, id)
			}
		}
		for _, id := range c.out {
			if strings.Contains(string(a.body), base+"/invoices/"+id) {
				t.Errorf("%s: %s listed", c.query, id)
			}
		}
	}
	for _, c := range []struct{ query, param string }{
		{"due_date_from=31%2F12%2F2030", "due_date_from"}, {"created_to=yesterday", "created_to"},
	} {
		a := w.page("GET", invoices, base+"/invoices?"+c.query, s, nil, nil, 422)
		if !strings.Contains(string(a.body), c.param) {
			t.Errorf("%s: the 422 page does not name %s: %s", c.query, c.param, a.body)
		}
	}
}

type apiClient struct{ id, secret string }

// newClient creates an API client of the organisation with the role.
func (iw *invoiceWorld) newClient(t *testing.T, role string) apiClient {
	t.Helper()
	c := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
		header: bearer(iw.token), body: `{"role":"` + role + `"}`, status: 201}).json(t)
	return apiClient{id: c["client_id"].(string), secret: c["client_secret"].(string)}
}
