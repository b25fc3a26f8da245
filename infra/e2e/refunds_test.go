package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/wiring"
)

// The sandbox's test IBANs (shared/aiiasandbox): each pays; their refunds
// succeed, fail (the payer's account was closed since) or wait for the
// organisation (Aiia cannot pay them out: requires_action).
const (
	ibanRefundSucceeds    = "FR7612345678901234567890123"
	ibanRefundFails       = "FR7612345678901234567890126"
	ibanRefundRequiresOrg = "FR7612345678901234567890127"
	missingRefundID       = "ref-01900000-0000-7000-8000-000000000000"
	missingIntentID       = "pi-01900000-0000-7000-8000-000000000000"
	seedRefundLineFields  = "amount,completed_at,created_at,id,reason,status"
	seedInvoiceTotal      = 42200.0
	refundWaitLimit       = 30 * time.Second
	refundRoute           = "/v1/refunds"
	refundByIDRoute       = "/v1/refunds/{refund_id}"
	intentRefundsRoute    = "/v1/payment_intents/{intent_id}/refunds"
)

// paidIntent issues an invoice of the seed (422,00 €), has the payer pay
// its whole amount from iban at the sandbox bank, and waits until the
// poller has settled it.
func (iw *invoiceWorld) paidIntent(t *testing.T, iban string) (invoiceID, intentID string) {
	t.Helper()
	invoiceID = iw.issuedInvoice(t)
	l := iw.link(linkBody(invoiceID, ""), 201).json(t)
	iw.world.payAtBankShowing(t, l["payment_page_url"].(string), iban, "authorize", "Payer par virement", "FAC-")
	intentID = l["payment_intent_id"].(string)
	iw.waitIntent(t, intentID, "succeeded")
	return invoiceID, intentID
}

// paidByCard issues an invoice and has the payer pay it with the sandbox's
// approved test card: the intent succeeds at once.
func (iw *invoiceWorld) paidByCard(t *testing.T) (invoiceID, intentID string) {
	t.Helper()
	invoiceID = iw.issuedInvoice(t)
	l := iw.link(linkBody(invoiceID, ""), 201).json(t)
	page := l["payment_page_url"].(string)
	token := page[strings.LastIndex(page, "/")+1:]
	html := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(html)
	if csrf == nil {
		t.Fatal("no CSRF field on the page")
	}
	noFollow := *iw.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(iw.srv.URL+"/p/"+token+"/pay", url.Values{"csrf": {string(csrf[1])}, "method": {"card"},
		"card_number": {"4242424242424242"}, "card_exp_month": {"12"}, "card_exp_year": {"2099"}, "card_cvc": {"123"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("card payment: status %d", resp.StatusCode)
	}
	intentID = l["payment_intent_id"].(string)
	iw.waitIntent(t, intentID, "succeeded")
	return invoiceID, intentID
}

func (iw *invoiceWorld) intent(id string) map[string]any {
	return iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + id, header: iw.h(), status: 200}).json(iw.t)
}

func (iw *invoiceWorld) invoice(id string) map[string]any {
	return iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id, header: iw.h(), status: 200}).json(iw.t)
}

func (iw *invoiceWorld) waitIntent(t *testing.T, id, status string) map[string]any {
	t.Helper()
	var pi map[string]any
	waitFor(t, refundWaitLimit, func() (bool, string) {
		pi = iw.intent(id)
		return pi["status"] == status, fmt.Sprintf("intent %s is %v (aiia %v), want %s", id, pi["status"], pi["aiia_status"], status)
	})
	return pi
}

// createRefund is POST /v1/refunds as the partner, acting on its
// organisation; kv are more headers.
func (iw *invoiceWorld) createRefund(body string, status int, kv ...string) answer {
	return iw.do(exchange{method: "POST", route: refundRoute, header: iw.h(kv...), body: body, status: status})
}

func refundBody(intentID string, amount int64, reason string) string {
	b, _ := json.Marshal(map[string]any{"payment_intent_id": intentID, "amount": amount, "reason": reason})
	return string(b)
}

func (iw *invoiceWorld) refund(id string) map[string]any {
	return iw.do(exchange{method: "GET", route: refundByIDRoute, path: "/v1/refunds/" + id, header: iw.h(), status: 200}).json(iw.t)
}

// waitRefund waits until the poller has moved the refund to status.
func (iw *invoiceWorld) waitRefund(t *testing.T, id, status string) map[string]any {
	t.Helper()
	var r map[string]any
	waitFor(t, refundWaitLimit, func() (bool, string) {
		r = iw.refund(id)
		return r["status"] == status, fmt.Sprintf("refund %s is %v (failure_reason %q), want %s", id, r["status"], r["failure_reason"], status)
	})
	return r
}

func (iw *invoiceWorld) refundAction(id, what string, status int, kv ...string) answer {
	return iw.do(exchange{method: "POST", route: "/v1/refunds/{refund_id}/" + what, path: "/v1/refunds/" + id + "/" + what, header: iw.h(kv...), status: status})
}

// intentRefunds is GET /v1/payment_intents/{id}/refunds, raw.
func (iw *invoiceWorld) intentRefunds(id string) []map[string]any {
	a := iw.do(exchange{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + id + "/refunds", header: iw.h(), status: 200})
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		iw.t.Fatal(err)
	}
	return out.Data
}

// listRefunds is GET /v1/refunds?query: the refunds' ids and the pagination.
func (iw *invoiceWorld) listRefunds(query string) (ids []string, pagination map[string]any) {
	a := iw.do(exchange{method: "GET", route: refundRoute, query: query, header: iw.h(), status: 200})
	var out struct {
		Data       []map[string]any `json:"data"`
		Pagination map[string]any   `json:"pagination"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		iw.t.Fatal(err)
	}
	ids = []string{}
	for _, r := range out.Data {
		ids = append(ids, r["id"].(string))
	}
	return ids, out.Pagination
}

// walkRefunds follows next_cursor from the first page of query to the end.
func (iw *invoiceWorld) walkRefunds(t *testing.T, query string) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for pages = 1; pages <= 20; pages++ {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page, pg := iw.listRefunds(q)
		ids = append(ids, page...)
		next, _ := pg["next_cursor"].(string)
		if pg["has_more"] != (next != "") {
			t.Errorf("%s: has_more %v with next_cursor %v", q, pg["has_more"], pg["next_cursor"])
		}
		if next == "" {
			return ids, pages
		}
		cursor = next
	}
	t.Fatalf("%s: more than 20 pages", query)
	return nil, 0
}

// wantRefundCreditNote checks the credit note the succeeded refund r made
// on invoice inv, its nth: in the invoice's credit_notes with the refund's
// id and amount, its PDF stating the amount refunded, its CII a credit note
// (381) of the invoice with nothing due.
func (iw *invoiceWorld) wantRefundCreditNote(t *testing.T, inv string, r map[string]any, nth int) {
	t.Helper()
	number, _ := r["credit_note_number"].(string)
	notes, _ := iw.invoice(inv)["credit_notes"].([]any)
	if number == "" || len(notes) != nth {
		t.Errorf("refund %v: credit note %q, the invoice's %v; want its %dth", r["id"], number, notes, nth)
		return
	}
	cn, _ := notes[nth-1].(map[string]any)
	if cn["number"] != number || cn["refund_id"] != r["id"] || cn["amount"] != r["amount"] || !strings.HasPrefix(fmt.Sprint(cn["reason"]), "Remboursement de la facture ") {
		t.Errorf("credit note %v of refund %v", cn, r)
	}
	base := "/v1/invoices/" + inv + "/credit_notes/" + number
	route := "/v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/"
	euros := strings.Replace(fmt.Sprintf("%.2f", r["amount"].(float64)/100), ".", ",", 1)
	if text := pdfText(t, iw.do(exchange{method: "GET", route: route + "pdf", path: base + "/pdf", header: iw.h(), status: 200}).body); !strings.Contains(text, number) ||
		!strings.Contains(text, euros) || !strings.Contains(text, fmt.Sprint(r["id"])) {
		t.Errorf("credit note %s's PDF lacks its number, %s or its refund:\n%s", number, euros, text)
	}
	cii := iw.do(exchange{method: "GET", route: route + "cii.xml", path: base + "/cii.xml", header: iw.h(), status: 200}).body
	for _, want := range []string{"<ram:TypeCode>381</ram:TypeCode>", "<ram:DuePayableAmount>0.00</ram:DuePayableAmount>", number} {
		if !strings.Contains(string(cii), want) {
			t.Errorf("credit note %s's CII lacks %s", number, want)
		}
	}
	if fx := iw.do(exchange{method: "GET", route: route + "facturx", path: base + "/facturx", header: iw.h(), status: 200}).body; !bytes.Contains(fx, []byte("factur-x.xml")) {
		t.Errorf("credit note %s's Factur-X embeds no factur-x.xml", number)
	}
}

func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func errMessage(t *testing.T, a answer) string {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// The seed's refunds, end to end (seed 000, "Remboursements" and "Impact
// sur la facture"): a paid invoice is refunded in part with a reason, in
// another part, then in full for the rest without an amount; each refund
// is executed at the sandbox bank by the poller and reaches succeeded;
// the intent and the invoice follow each step, nothing more can be
// refunded, the intent's list has the seed's six fields, the organisation's
// list filters and pages, and the partner's endpoint receives refund.created
// and refund.status_changed for each.
func TestRefundsEndToEnd(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: time.Second}})
	iw := invoiceWorldOn(t, w)
	rcv := newReceiver(t, nil)
	sub := w.subscribe(iw.token, rcv.url(), "refund.created", "refund.status_changed")

	inv, pi := iw.paidIntent(t, ibanRefundSucceeds)
	if got := iw.invoice(inv); got["status"] != "paid" || got["amount_paid"] != seedInvoiceTotal {
		t.Fatalf("invoice before refunds: %v, paid %v", got["status"], got["amount_paid"])
	}

	type step struct {
		body          string
		amount        float64
		reason        string
		intentStatus  string
		refunded      float64
		invoiceStatus string
		invoicePaid   float64
	}
	steps := []step{
		{body: refundBody(pi, 10000, "Remise commerciale de 100€"), amount: 10000, reason: "Remise commerciale de 100€",
			intentStatus: "partially_refunded", refunded: 10000, invoiceStatus: "partially_paid", invoicePaid: 32200},
		{body: refundBody(pi, 5000, "Geste commercial"), amount: 5000, reason: "Geste commercial",
			intentStatus: "partially_refunded", refunded: 15000, invoiceStatus: "partially_paid", invoicePaid: 27200},
		// Without amount, the rest: 27 200.
		{body: `{"payment_intent_id":"` + pi + `","reason":"Facture annulée suite à erreur de facturation"}`, amount: 27200,
			reason: "Facture annulée suite à erreur de facturation", intentStatus: "refunded", refunded: seedInvoiceTotal, invoiceStatus: "issued", invoicePaid: 0},
	}
	var refunds []map[string]any
	for i, s := range steps {
		iw.clock.Advance(time.Second) // timestamps are whole seconds: one refund per second
		created := iw.createRefund(s.body, 201).json(t)
		id, _ := created["id"].(string)
		if !strings.HasPrefix(id, "ref-") || created["status"] != "pending" || created["amount"] != s.amount || created["reason"] != s.reason ||
			created["payment_intent_id"] != pi || created["invoice_id"] != inv || created["currency"] != "EUR" || created["payment_method"] != "sepa_credit" ||
			created["completed_at"] != nil || created["next_action"] != nil || created["failure_reason"] != "" {
			t.Errorf("refund %d as created: %v", i+1, created)
		}
		done := iw.waitRefund(t, id, "succeeded")
		if done["completed_at"] == nil || done["amount"] != s.amount || done["created_at"] != created["created_at"] {
			t.Errorf("refund %d succeeded: %v", i+1, done)
		}
		refunds = append(refunds, done)
		got := iw.intent(pi)
		if got["status"] != s.intentStatus || got["refunded_amount"] != s.refunded || got["amount"] != seedInvoiceTotal {
			t.Errorf("after refund %d the intent is %v, refunded %v; want %s, %v", i+1, got["status"], got["refunded_amount"], s.intentStatus, s.refunded)
		}
		gotInv := iw.invoice(inv)
		if gotInv["status"] != s.invoiceStatus || gotInv["amount_paid"] != s.invoicePaid || gotInv["amount_due"] != seedInvoiceTotal-s.invoicePaid {
			t.Errorf("after refund %d the invoice is %v, paid %v, due %v; want %s, %v", i+1, gotInv["status"], gotInv["amount_paid"], gotInv["amount_due"], s.invoiceStatus, s.invoicePaid)
		}
		// Its credit note: the invoice's next, for the amount refunded.
		iw.wantRefundCreditNote(t, inv, done, i+1)
	}
	// Nothing is left: one more refund is a 409 that says so.
	if a := iw.createRefund(`{"payment_intent_id":"`+pi+`"}`, 409); a.errCode(t) != "conflict" || !strings.Contains(errMessage(t, a), "nothing is left to refund") ||
		!strings.Contains(errMessage(t, a), "refundable 0 of 42200") {
		t.Errorf("a refund of a refunded payment: %s", a.body)
	}
	if got := iw.intent(pi); got["refunded_amount"] != seedInvoiceTotal || got["status"] != "refunded" {
		t.Errorf("the refused refund changed the intent: %v", got)
	}

	// The intent's refunds: exactly the seed's six fields, oldest first.
	lines := iw.intentRefunds(pi)
	if len(lines) != len(refunds) {
		t.Fatalf("%d refunds listed for the intent, want %d", len(lines), len(refunds))
	}
	for i, l := range lines {
		if keysOf(l) != seedRefundLineFields {
			t.Errorf("refund line fields %s, want the seed's %s", keysOf(l), seedRefundLineFields)
		}
		r := refunds[i]
		for _, k := range strings.Split(seedRefundLineFields, ",") {
			if fmt.Sprint(l[k]) != fmt.Sprint(r[k]) {
				t.Errorf("line %d %s = %v; the refund says %v", i+1, k, l[k], r[k])
			}
		}
	}

	// A second payment, from the IBAN whose refunds wait for the
	// organisation: its refund stays in requires_action, for the filters.
	inv2, pi2 := iw.paidIntent(t, ibanRefundRequiresOrg)
	iw.clock.Advance(time.Second)
	waiting := iw.createRefund(refundBody(pi2, 2000, "Trop-perçu"), 201).json(t)
	iw.waitRefund(t, waiting["id"].(string), "requires_action")
	refunds = append(refunds, iw.refund(waiting["id"].(string)))
	id := func(i int) string { return refunds[i]["id"].(string) }
	created := func(i int) string { return url.QueryEscape(refunds[i]["created_at"].(string)) }
	if got := iw.invoice(inv2); got["status"] != "paid" || got["amount_paid"] != seedInvoiceTotal {
		t.Errorf("a refund waiting for the organisation changed the invoice: %v, paid %v", got["status"], got["amount_paid"])
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{id(0), id(1), id(2), id(3)}},
		{"status=succeeded", []string{id(0), id(1), id(2)}},
		{"status=requires_action", []string{id(3)}},
		{"status=failed", []string{}},
		{"payment_intent_id=" + pi, []string{id(0), id(1), id(2)}},
		{"payment_intent_id=" + pi2, []string{id(3)}},
		{"payment_intent_id=" + pi2 + "&status=succeeded", []string{}},
		{"created_from=" + created(1) + "&created_to=" + created(2), []string{id(1), id(2)}},
		{"created_from=" + created(2), []string{id(2), id(3)}},
		{"created_to=" + created(0), []string{id(0)}},
		{"payment_intent_id=" + pi + "&created_from=" + created(1), []string{id(1), id(2)}},
		{"status=succeeded&created_to=" + created(1), []string{id(0), id(1)}},
	} {
		got, pg := iw.listRefunds(c.query)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("GET /v1/refunds?%s = %v, want %v", c.query, got, c.want)
		}
		if pg["has_more"] != false || pg["next_cursor"] != nil {
			t.Errorf("GET /v1/refunds?%s: one page, yet %v", c.query, pg)
		}
		// Page by page, the same refunds in the same order.
		if walked, pages := iw.walkRefunds(t, c.query+"&page_size=1"); fmt.Sprint(walked) != fmt.Sprint(c.want) || (len(c.want) > 0 && pages != len(c.want)) {
			t.Errorf("GET /v1/refunds?%s page by page = %v in %d pages, want %v", c.query, walked, pages, c.want)
		}
	}
	if got, pg := iw.listRefunds("page=2&page_size=3"); fmt.Sprint(got) != fmt.Sprint([]string{id(3)}) || pg["has_more"] != false || pg["page"] != 2.0 {
		t.Errorf("page 2 of 3 = %v %v", got, pg)
	}
	if got, pg := iw.listRefunds("payment_intent_id=" + pi + "&page=2&page_size=2"); fmt.Sprint(got) != fmt.Sprint([]string{id(2)}) || pg["has_more"] != false {
		t.Errorf("the intent's page 2 of 2 = %v %v", got, pg)
	}
	for query, param := range map[string]string{
		"status=paid":             "status",
		"created_from=2024-02-01": "created_from",
		"created_to=yesterday":    "created_to",
		"created_from=" + created(2) + "&created_to=" + created(0): "created_to",
		"page_size=101":           "page_size",
		"cursor=bm90LWEtY3Vyc29y": "cursor",
		"payment_intent_id=" + pi + "&cursor=bm90LWEtY3Vyc29y": "cursor",
	} {
		if a := iw.do(exchange{method: "GET", route: refundRoute, query: query, header: iw.h(), status: 422}); a.errParam(t) != param {
			t.Errorf("GET /v1/refunds?%s: param %q, want %q (%s)", query, a.errParam(t), param, a.body)
		}
	}
	if a := iw.do(exchange{method: "GET", route: refundRoute, query: "payment_intent_id=" + missingIntentID, header: iw.h(), status: 404}); a.errCode(t) != "not_found" {
		t.Errorf("the refunds of an intent that does not exist: %s", a.body)
	}

	// Webhooks: refund.created for each, refund.status_changed for each
	// move (pending → succeeded; pending → requires_action), signed.
	secret := sub["secret"].(string)
	want := map[string]string{}
	for i, r := range refunds {
		want["refund.created "+id(i)] = "created"
		want["refund.status_changed "+id(i)] = "pending→" + r["status"].(string)
	}
	waitFor(t, refundWaitLimit, func() (bool, string) {
		n := len(rcv.requests())
		return n >= len(want), fmt.Sprintf("%d refund webhooks received, want %d", n, len(want))
	})
	got := map[string]string{}
	for _, r := range rcv.requests() {
		if !standardValid(t, r, secret) {
			t.Errorf("a refund webhook whose signature does not verify: %s", r.body)
		}
		var env struct {
			EventType string `json:"event_type"`
			OrgID     string `json:"organization_id"`
			Data      struct {
				RefundID string         `json:"refund_id"`
				IntentID string         `json:"payment_intent_id"`
				Previous string         `json:"previous_status"`
				Current  string         `json:"current_status"`
				Refund   map[string]any `json:"refund"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		if env.OrgID != iw.org || env.Data.Refund["id"] != env.Data.RefundID || env.Data.IntentID != env.Data.Refund["payment_intent_id"] {
			t.Errorf("refund webhook %s", r.body)
		}
		key := env.EventType + " " + env.Data.RefundID
		if env.EventType == "refund.created" {
			got[key] = "created"
		} else {
			got[key] = env.Data.Previous + "→" + env.Data.Current
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refund webhooks received %v, want %v", got, want)
	}
	if n := len(rcv.requests()); n != len(want) {
		t.Errorf("%d refund webhooks, want %d: one per event", n, len(want))
	}
	for _, typ := range []string{"refund.created", "refund.status_changed"} {
		waitFor(t, refundWaitLimit, func() (bool, string) {
			ds := w.deliveries(iw.token, sub["id"].(string), "event_type="+typ+"&status=succeeded")
			return len(ds) == len(refunds), fmt.Sprintf("%d succeeded deliveries of %s, want %d", len(ds), typ, len(refunds))
		})
	}
}

// A refund that fails at the bank (the payer's account was closed since)
// ends failed with the bank's reason and gives its amount back.
func TestRefundFailedAtTheBank(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv, pi := iw.paidIntent(t, ibanRefundFails)
	r := iw.createRefund(`{"payment_intent_id":"`+pi+`","reason":"Annulation"}`, 201).json(t)
	if r["amount"] != seedInvoiceTotal {
		t.Fatalf("a refund without amount is %v, want the whole payment", r["amount"])
	}
	failed := iw.waitRefund(t, r["id"].(string), "failed")
	if !strings.Contains(fmt.Sprint(failed["failure_reason"]), "clôturé") || failed["completed_at"] == nil {
		t.Errorf("failed refund = %v", failed)
	}
	if got := iw.intent(pi); got["status"] != "succeeded" || got["refunded_amount"] != 0.0 {
		t.Errorf("after a failed refund the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if got := iw.invoice(inv); got["status"] != "paid" || got["amount_paid"] != seedInvoiceTotal {
		t.Errorf("after a failed refund the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
	// Its amount is free again: the same refund is accepted.
	again := iw.createRefund(refundBody(pi, 42200, "Annulation"), 201).json(t)
	iw.waitRefund(t, again["id"].(string), "failed")
	iw.refundAction(r["id"].(string), "confirm", 409)
	iw.refundAction(r["id"].(string), "cancel", 409)
}

// A refund that Aiia cannot pay out waits for the organisation, with the
// action it expects: the organisation confirms it paid the payer itself
// (succeeded, with the effects of any refund), or cancels it (cancelled,
// its amount given back).
func TestRefundRequiresAction(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv, pi := iw.paidIntent(t, ibanRefundRequiresOrg)
	r := iw.createRefund(refundBody(pi, 10000, "Remise"), 201).json(t)
	id := r["id"].(string)
	waiting := iw.waitRefund(t, id, "requires_action")
	next, _ := waiting["next_action"].(map[string]any)
	if next["type"] != "pay_payer_account" || !strings.Contains(fmt.Sprint(next["message"]), "/v1/refunds/"+id+"/confirm") || waiting["completed_at"] != nil {
		t.Errorf("refund waiting for the organisation = %v", waiting)
	}
	// The account to pay is the one the payment came from, as Aiia names it
	// (GET /refunds/{id}/payment-rails).
	if acct, _ := next["payer_account"].(map[string]any); acct["iban"] != ibanRefundRequiresOrg || next["url"] != nil {
		t.Errorf("the payer's account to pay: %v", next)
	}
	// It holds its amount: 32 200 are left, not one cent more.
	if a := iw.createRefund(refundBody(pi, 32201, ""), 422); a.errParam(t) != "amount" || !strings.Contains(errMessage(t, a), "32200") {
		t.Errorf("above what is left: %s", a.body)
	}
	if got := iw.intent(pi); got["status"] != "succeeded" || got["refunded_amount"] != 0.0 {
		t.Errorf("while the refund waits the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if waiting["credit_note_number"] != nil {
		t.Errorf("a refund waiting for the organisation has a credit note: %v", waiting)
	}
	// The organisation paid the payer itself: it confirms, and the refund
	// makes its credit note.
	done := iw.refundAction(id, "confirm", 200).json(t)
	if done["status"] != "succeeded" || done["completed_at"] == nil || done["next_action"] != nil {
		t.Errorf("confirmed refund = %v", done)
	}
	iw.wantRefundCreditNote(t, inv, done, 1)
	if got := iw.intent(pi); got["status"] != "partially_refunded" || got["refunded_amount"] != 10000.0 {
		t.Errorf("after the confirmation the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if got := iw.invoice(inv); got["status"] != "partially_paid" || got["amount_paid"] != 32200.0 {
		t.Errorf("after the confirmation the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
	iw.refundAction(id, "confirm", 409)
	iw.refundAction(id, "cancel", 409)

	// Another, cancelled: its amount is given back.
	other := iw.createRefund(refundBody(pi, 5000, "Erreur"), 201).json(t)
	oid := other["id"].(string)
	iw.waitRefund(t, oid, "requires_action")
	cancelled := iw.refundAction(oid, "cancel", 200).json(t)
	if cancelled["status"] != "cancelled" || cancelled["completed_at"] == nil || cancelled["next_action"] != nil {
		t.Errorf("cancelled refund = %v", cancelled)
	}
	iw.refundAction(oid, "cancel", 409)
	iw.refundAction(oid, "confirm", 409)
	if got := iw.intent(pi); got["status"] != "partially_refunded" || got["refunded_amount"] != 10000.0 {
		t.Errorf("after the cancellation the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if got := iw.invoice(inv); got["status"] != "partially_paid" || got["amount_paid"] != 32200.0 {
		t.Errorf("after the cancellation the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
	// The whole 32 200 is refundable again.
	if a := iw.createRefund(refundBody(pi, 32201, ""), 422); !strings.Contains(errMessage(t, a), "32200") {
		t.Errorf("above what is left after the cancellation: %s", a.body)
	}
	again := iw.createRefund(refundBody(pi, 5000, "Erreur, bis"), 201).json(t)
	iw.waitRefund(t, again["id"].(string), "requires_action")
	statuses := []string{}
	for _, l := range iw.intentRefunds(pi) {
		statuses = append(statuses, fmt.Sprint(l["status"]))
	}
	if fmt.Sprint(statuses) != "[succeeded cancelled requires_action]" {
		t.Errorf("the intent's refunds: %v", statuses)
	}
}

// A card payment is refunded by the card processor, through the poller.
func TestRefundOfACardPayment(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv, pi := iw.paidByCard(t)
	r := iw.createRefund(refundBody(pi, 12345, "Remboursement carte"), 201).json(t)
	if r["payment_method"] != "card" {
		t.Errorf("card refund = %v", r)
	}
	done := iw.waitRefund(t, r["id"].(string), "succeeded")
	if done["completed_at"] == nil || done["failure_reason"] != "" {
		t.Errorf("card refund succeeded = %v", done)
	}
	if got := iw.intent(pi); got["status"] != "partially_refunded" || got["refunded_amount"] != 12345.0 {
		t.Errorf("after the card refund the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if got := iw.invoice(inv); got["status"] != "partially_paid" || got["amount_paid"] != seedInvoiceTotal-12345 {
		t.Errorf("after the card refund the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
}

// Fifty refunds of one payment at once, of which only ten fit: exactly ten
// are accepted, every other answer states what is still refundable, and
// the refunds read back never exceed the payment, before and after the
// poller executed them.
func TestRefundsConcurrentRequests(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv, pi := iw.paidIntent(t, ibanRefundSucceeds)
	const n, amount, fit = 50, 4000, 10 // 10 × 4 000 ≤ 42 200 < 11 × 4 000
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = iw.createRefund(refundBody(pi, amount, fmt.Sprint("concurrent ", i)), -1)
		}()
	}
	close(start)
	wg.Wait()
	accepted := map[string]bool{}
	for i, a := range answers {
		switch a.status {
		case 201:
			accepted[a.json(t)["id"].(string)] = true
		case 409, 422:
			if msg := errMessage(t, a); !strings.Contains(msg, "2200 of 42200") {
				t.Errorf("request %d: %d %q does not state what is refundable (2200 of 42200)", i, a.status, msg)
			}
		default:
			t.Errorf("request %d: %d %s", i, a.status, a.body)
		}
	}
	if len(accepted) != fit {
		t.Errorf("%d refunds accepted, want exactly %d", len(accepted), fit)
	}
	readBack := func() (sum float64) {
		lines := iw.intentRefunds(pi)
		for _, l := range lines {
			if !accepted[l["id"].(string)] || l["amount"] != float64(amount) {
				t.Errorf("a refund that was not accepted, or of another amount: %v", l)
			}
			sum += l["amount"].(float64)
		}
		if len(lines) != len(accepted) {
			t.Errorf("%d refunds read back, %d accepted", len(lines), len(accepted))
		}
		if sum > seedInvoiceTotal {
			t.Errorf("refunds of %v for a payment of %v", sum, seedInvoiceTotal)
		}
		return sum
	}
	readBack()
	if ids, _ := iw.walkRefunds(t, "page_size=7"); len(ids) != len(accepted) {
		t.Errorf("the organisation lists %d refunds, want %d", len(ids), len(accepted))
	}
	for id := range accepted {
		iw.waitRefund(t, id, "succeeded")
	}
	sum := readBack()
	if got := iw.intent(pi); got["refunded_amount"] != sum || got["status"] != "partially_refunded" {
		t.Errorf("after the refunds the intent is %v, refunded %v; want partially_refunded, %v", got["status"], got["refunded_amount"], sum)
	}
	if got := iw.invoice(inv); got["amount_paid"] != seedInvoiceTotal-sum || got["status"] != "partially_paid" {
		t.Errorf("after the refunds the invoice is %v, paid %v; want partially_paid, %v", got["status"], got["amount_paid"], seedInvoiceTotal-sum)
	}
	// What is left is still exactly refundable.
	if a := iw.createRefund(refundBody(pi, 2201, ""), 422); !strings.Contains(errMessage(t, a), "2200 of 42200") {
		t.Errorf("above what is left: %s", a.body)
	}
	iw.createRefund(refundBody(pi, 2200, ""), 201)
}

// Bad requests are refused with a 4xx naming the field and change nothing;
// another organisation's ids are answered like ids that do not exist; a
// repeated Idempotency-Key makes one refund; an analyst may not refund.
func TestRefundBadInput(t *testing.T) {
	iw := newInvoiceWorld(t)
	_, pi := iw.paidIntent(t, ibanRefundSucceeds)
	unpaid := iw.link(linkBody(iw.issuedInvoice(t), ""), 201).json(t)["payment_intent_id"].(string)

	state := func() string {
		intentBody := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + pi, header: iw.h(), status: 200}).body
		lines := iw.do(exchange{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + pi + "/refunds", header: iw.h(), status: 200}).body
		all, _ := iw.listRefunds("")
		unpaidBody := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + unpaid, header: iw.h(), status: 200}).body
		return fmt.Sprintf("%s\n%s\n%v\n%s", intentBody, lines, all, unpaidBody)
	}
	before := state()
	if !strings.Contains(before, `"data":[]`) {
		t.Fatalf("refunds before any: %s", before)
	}
	long := strings.Repeat("a", 501)
	for _, c := range []struct {
		name, body string
		status     int
		param      string
		says       string
	}{
		{"amount 0", `{"payment_intent_id":"` + pi + `","amount":0}`, 422, "amount", "positive"},
		{"a negative amount", `{"payment_intent_id":"` + pi + `","amount":-100}`, 422, "amount", "positive"},
		{"an amount in euros", `{"payment_intent_id":"` + pi + `","amount":100.5}`, 422, "amount", "integer"},
		{"an amount as a string", `{"payment_intent_id":"` + pi + `","amount":"100"}`, 422, "amount", "integer"},
		{"above what is refundable", `{"payment_intent_id":"` + pi + `","amount":42201}`, 422, "amount", "42200 of 42200"},
		{"a reason of 501 characters", `{"payment_intent_id":"` + pi + `","amount":100,"reason":"` + long + `"}`, 422, "reason", "500"},
		{"a reason with a control character", `{"payment_intent_id":"` + pi + `","amount":100,"reason":"a\u0007b"}`, 422, "reason", "control"},
		{"an unknown field", `{"payment_intent_id":"` + pi + `","amount":100,"currency":"EUR"}`, 422, "currency", "unknown"},
		{"a field in the wrong case", `{"Payment_Intent_Id":"` + pi + `","amount":100}`, 422, "Payment_Intent_Id", "unknown"},
		{"no payment_intent_id", `{"amount":100}`, 422, "payment_intent_id", "required"},
		{"an empty body object", `{}`, 422, "payment_intent_id", "required"},
		{"a payment_intent_id that is a number", `{"payment_intent_id":12}`, 422, "payment_intent_id", "string"},
		{"malformed JSON", `{"payment_intent_id":"` + pi + `",`, 400, "", "malformed"},
		{"two JSON values", `{"payment_intent_id":"` + pi + `"}{}`, 400, "", "single"},
		{"an unpaid intent", `{"payment_intent_id":"` + unpaid + `","amount":100}`, 409, "", "only a succeeded payment"},
		{"an intent that does not exist", `{"payment_intent_id":"` + missingIntentID + `","amount":100}`, 404, "", "payment intent not found"},
	} {
		a := iw.createRefund(c.body, c.status)
		if a.status/100 != 4 {
			continue
		}
		param := ""
		if e, _ := a.json(t)["error"].(map[string]any); e["param"] != nil {
			param = fmt.Sprint(e["param"])
		}
		if param != c.param || !strings.Contains(errMessage(t, a), c.says) {
			t.Errorf("%s: %d param %q message %q; want param %q and a message saying %q", c.name, a.status, param, errMessage(t, a), c.param, c.says)
		}
	}
	iw.do(exchange{method: "POST", route: refundRoute, header: bearer(iw.token, "X-Entity-Id", iw.org, "Content-Type", "text/plain"),
		body: `{"payment_intent_id":"` + pi + `"}`, status: 415})
	iw.do(exchange{method: "POST", route: refundRoute, header: bearer(iw.token), body: `{"payment_intent_id":"` + pi + `"}`, status: 400})
	for _, ex := range []exchange{
		{method: "GET", route: refundByIDRoute, path: "/v1/refunds/" + missingRefundID},
		{method: "POST", route: "/v1/refunds/{refund_id}/confirm", path: "/v1/refunds/" + missingRefundID + "/confirm"},
		{method: "POST", route: "/v1/refunds/{refund_id}/cancel", path: "/v1/refunds/" + missingRefundID + "/cancel"},
		{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + missingIntentID + "/refunds"},
	} {
		ex.header, ex.status = iw.h(), 404
		if a := iw.do(ex); a.errCode(t) != "not_found" {
			t.Errorf("%s %s: %s", ex.method, ex.path, a.body)
		}
	}
	if after := state(); after != before {
		t.Errorf("refused refunds changed something:\nbefore %s\nafter  %s", before, after)
	}

	// Another partner's refund and paid intent, and another organisation of
	// the same partner: answered exactly like ids that do not exist.
	other := invoiceWorldFor(t, iw.world, "ptn-2-client")
	_, foreignIntent := other.paidIntent(t, ibanRefundRequiresOrg)
	foreignRefund := other.createRefund(refundBody(foreignIntent, 1000, "Étranger"), 201).json(t)["id"].(string)
	other.waitRefund(t, foreignRefund, "requires_action")
	foreignUnpaid := other.link(linkBody(other.issuedInvoice(t), ""), 201).json(t)["payment_intent_id"].(string)
	sibling := iw.createOrg(iw.token, orgBody("Sœur"))
	foreignState := func() string {
		return fmt.Sprint(other.intent(foreignIntent), other.refund(foreignRefund), other.intentRefunds(foreignIntent))
	}
	foreignBefore := foreignState()
	for _, headers := range []map[string]string{iw.h(), bearer(iw.token, "X-Entity-Id", sibling)} {
		for _, pair := range []struct{ got, want exchange }{
			{exchange{method: "POST", route: refundRoute, body: refundBody(foreignIntent, 100, "")},
				exchange{method: "POST", route: refundRoute, body: refundBody(missingIntentID, 100, "")}},
			{exchange{method: "POST", route: refundRoute, body: `{"payment_intent_id":"` + foreignUnpaid + `"}`},
				exchange{method: "POST", route: refundRoute, body: `{"payment_intent_id":"` + missingIntentID + `"}`}},
			{exchange{method: "POST", route: refundRoute, body: `{"payment_intent_id":"` + pi + `"}`}, // own org's intent through the sibling
				exchange{method: "POST", route: refundRoute, body: `{"payment_intent_id":"` + missingIntentID + `"}`}},
			{exchange{method: "GET", route: refundByIDRoute, path: "/v1/refunds/" + foreignRefund},
				exchange{method: "GET", route: refundByIDRoute, path: "/v1/refunds/" + missingRefundID}},
			{exchange{method: "POST", route: "/v1/refunds/{refund_id}/confirm", path: "/v1/refunds/" + foreignRefund + "/confirm"},
				exchange{method: "POST", route: "/v1/refunds/{refund_id}/confirm", path: "/v1/refunds/" + missingRefundID + "/confirm"}},
			{exchange{method: "POST", route: "/v1/refunds/{refund_id}/cancel", path: "/v1/refunds/" + foreignRefund + "/cancel"},
				exchange{method: "POST", route: "/v1/refunds/{refund_id}/cancel", path: "/v1/refunds/" + missingRefundID + "/cancel"}},
			{exchange{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + foreignIntent + "/refunds"},
				exchange{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + missingIntentID + "/refunds"}},
			{exchange{method: "GET", route: refundRoute, query: "payment_intent_id=" + foreignIntent},
				exchange{method: "GET", route: refundRoute, query: "payment_intent_id=" + missingIntentID}},
		} {
			if headers["X-Entity-Id"] == iw.org && strings.Contains(pair.got.body, pi) {
				continue // the organisation's own intent, through its own organisation
			}
			pair.got.header, pair.want.header, pair.got.status, pair.want.status = headers, headers, 404, 404
			got, want := iw.do(pair.got), iw.do(pair.want)
			if !sameAnswer(got, want) {
				t.Errorf("%s %s%s as %s: %s; an id that does not exist gets %s", pair.got.method, pair.got.path, pair.got.body, headers["X-Entity-Id"], got.body, want.body)
			}
			for _, id := range []string{foreignIntent, foreignRefund, foreignUnpaid, pi} {
				if strings.Contains(string(got.body), id) {
					t.Errorf("the answer names %s: %s", id, got.body)
				}
			}
		}
	}
	if after := foreignState(); after != foreignBefore {
		t.Errorf("the other partner's refund changed:\nbefore %s\nafter  %s", foreignBefore, after)
	}
	if after := state(); after != before {
		t.Errorf("requests with foreign ids changed something:\nbefore %s\nafter  %s", before, after)
	}

	// An analyst reads refunds but may not make, confirm or cancel one.
	c := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
		header: bearer(iw.token), body: `{"role":"analyst"}`, status: 201}).json(t)
	analyst := iw.world.token(c["client_id"].(string), c["client_secret"].(string))
	for _, ex := range []exchange{
		{method: "POST", route: refundRoute, body: refundBody(pi, 100, "analyste")},
		{method: "POST", route: refundRoute, body: `{"payment_intent_id":"` + pi + `"}`},
		{method: "POST", route: "/v1/refunds/{refund_id}/confirm", path: "/v1/refunds/" + missingRefundID + "/confirm"},
		{method: "POST", route: "/v1/refunds/{refund_id}/cancel", path: "/v1/refunds/" + missingRefundID + "/cancel"},
	} {
		ex.header, ex.status = bearer(analyst), 403
		if a := iw.do(ex); a.errCode(t) != "forbidden" {
			t.Errorf("analyst %s %s: %s", ex.method, ex.route, a.body)
		}
	}
	iw.do(exchange{method: "GET", route: refundRoute, header: bearer(analyst), status: 200})
	iw.do(exchange{method: "GET", route: intentRefundsRoute, path: "/v1/payment_intents/" + pi + "/refunds", header: bearer(analyst), status: 200})
	if after := state(); after != before {
		t.Errorf("the analyst's requests changed something:\nbefore %s\nafter  %s", before, after)
	}

	// The same Idempotency-Key twice: one refund, the same answer.
	body := refundBody(pi, 1500, "Doublon")
	first := iw.createRefund(body, 201, "Idempotency-Key", "rf-key-1")
	replay := iw.createRefund(body, 201, "Idempotency-Key", "rf-key-1")
	if replay.header.Get("Idempotent-Replayed") != "true" || string(replay.body) != string(first.body) {
		t.Errorf("replay: header %q, body %s; first %s", replay.header.Get("Idempotent-Replayed"), replay.body, first.body)
	}
	if a := iw.createRefund(refundBody(pi, 1600, "Doublon"), 422, "Idempotency-Key", "rf-key-1"); a.errCode(t) != "idempotency_key_reused" {
		t.Errorf("the key with another body: %s", a.body)
	}
	lines := iw.intentRefunds(pi)
	if len(lines) != 1 || lines[0]["id"] != first.json(t)["id"] || lines[0]["amount"] != 1500.0 {
		t.Errorf("after a replayed request the intent's refunds are %v", lines)
	}
	// 500 characters is the limit, counted as characters, not bytes.
	if r := iw.createRefund(refundBody(pi, 100, strings.Repeat("é", 500)), 201).json(t); len([]rune(r["reason"].(string))) != 500 {
		t.Errorf("a reason of 500 characters came back as %d", len([]rune(r["reason"].(string))))
	}
}

// The poll message of a refund delivered four times at once while the bank
// is still executing it: the bank is asked once (the rest of the payment is
// still refundable there afterwards), the refund succeeds once, and the
// intent and the invoice count it once.
func TestRefundFollowedOnceDespiteDuplicates(t *testing.T) {
	w := newWorldWith(t, worldOptions{bank: &aiiasandbox.Options{RefundDelay: 2 * time.Second}})
	iw := invoiceWorldOn(t, w)
	inv, pi := iw.paidIntent(t, ibanRefundSucceeds)
	id := iw.createRefund(refundBody(pi, 10000, "Doublons"), 201).json(t)["id"].(string)
	cfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	q := sqsClient(cfg, w)
	body, _ := json.Marshal(map[string]any{"kind": "refund", "partner_id": "ptn-1", "organization_id": iw.org, "refund_id": id, "attempt": 0, "since": w.clock.Now()})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(w.queues["AiiaPollQueue"]), MessageBody: aws.String(string(body))}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	iw.waitRefund(t, id, "succeeded")
	w.waitDrained(t, refundWaitLimit, "AiiaPollQueue", "AiiaPollDLQ")
	if got := iw.intent(pi); got["status"] != "partially_refunded" || got["refunded_amount"] != 10000.0 {
		t.Errorf("after duplicate polls the intent is %v, refunded %v", got["status"], got["refunded_amount"])
	}
	if got := iw.invoice(inv); got["status"] != "partially_paid" || got["amount_paid"] != 32200.0 {
		t.Errorf("after duplicate polls the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
	if lines := iw.intentRefunds(pi); len(lines) != 1 {
		t.Errorf("%d refunds for one request", len(lines))
	}
	// Had the bank been asked for the refund more than once, it would
	// refuse the rest as exceeding the payment.
	rest := iw.createRefund(`{"payment_intent_id":"`+pi+`"}`, 201).json(t)
	if done := iw.waitRefund(t, rest["id"].(string), "succeeded"); done["amount"] != 32200.0 {
		t.Errorf("the rest = %v", done)
	}
	if got := iw.invoice(inv); got["status"] != "issued" || got["amount_paid"] != 0.0 {
		t.Errorf("after the whole refund the invoice is %v, paid %v", got["status"], got["amount_paid"])
	}
}

// The hosted page of a link whose payment was refunded, even in part, says
// so and offers nothing to pay; paying through it again leads back there.
func TestRefundedLinkPageIsClosed(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	l := iw.link(linkBody(inv, ""), 201).json(t)
	page := l["payment_page_url"].(string)
	token := page[strings.LastIndex(page, "/")+1:]
	pi := l["payment_intent_id"].(string)
	// The form's CSRF value as the payer's browser holds it from before paying.
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body)
	if csrf == nil {
		t.Fatal("no CSRF field on the unpaid page")
	}
	iw.world.payAtBankShowing(t, page, ibanRefundSucceeds, "authorize", "Payer par virement", "FAC-")
	iw.waitIntent(t, pi, "succeeded")
	before := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
	if !bytes.Contains(before, []byte("Paiement reçu")) {
		t.Fatalf("paid page before the refund:\n%s", before)
	}

	iw.waitRefund(t, iw.createRefund(refundBody(pi, 100, "Geste"), 201).json(t)["id"].(string), "succeeded")
	for _, c := range []struct{ route, path, want string }{
		{"/p/{token}", "/p/" + token, "Paiement remboursé"},
		{"/p/{token}", "/p/" + token + "?lang=en", "Payment refunded"},
		{"/p/{token}/return", "/p/" + token + "/return", "Paiement remboursé"},
	} {
		body := iw.do(exchange{method: "GET", route: c.route, path: c.path, status: 200}).body
		if !bytes.Contains(body, []byte(c.want)) || bytes.Contains(body, []byte(`name="csrf"`)) || bytes.Contains(body, []byte("Paiement reçu")) {
			t.Errorf("GET %s after a refund does not say %q or still offers to pay:\n%s", c.path, c.want, body)
		}
	}
	form := url.Values{"method": {"sepa_credit"}, "csrf": {string(csrf[1])}}
	noFollow := *iw.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(iw.srv.URL+"/p/"+token+"/pay", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Refused as every closed link is: back to the status page (which says
	// refunded), never on to the bank.
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/p/"+token+"/return") {
		t.Errorf("paying a refunded link again: status %d to %q, want 303 to its status page", resp.StatusCode, loc)
	}
	if got := iw.intent(pi); got["status"] != "partially_refunded" || got["refunded_amount"] != 100.0 {
		t.Errorf("intent after the refused payment: %v, refunded %v", got["status"], got["refunded_amount"])
	}
}
