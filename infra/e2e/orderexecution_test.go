package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/wiring"
)

const executionAccount = `{"accountId":"sandbox-treasury-1","redirectUrl":"https://back-office.example.fr/payouts"}`

func executedOrderBody(portfolio, amount, iban string) string {
	return `{"fundingType":"CREDIT","amount":` + amount + `,"currency":"EUR","portfolioId":"` + portfolio + `",
	"beneficiary":{"name":"SARL Les Vergers","accountNumber":"` + iban + `","bankName":"Banque Test","bankCode":"AGRIFRPP"},
	"paymentMethod":"BANK_TRANSFER","executionDate":"2030-01-02T09:00:00.000Z"}`
}

// waitOrder waits until cond holds of the order (as GET answers it).
func (o orders) waitOrder(t *testing.T, id, what string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	var d map[string]any
	waitFor(t, refundWaitLimit, func() (bool, string) {
		d = data(t, o.get(id, 200))
		return cond(d), fmt.Sprintf("order %s: %v, execution %v; want %s", id, d["status"], d["execution"], what)
	})
	return d
}

func execution(d map[string]any) map[string]any {
	e, _ := d["execution"].(map[string]any)
	return e
}

// authorize submits the bank's authorisation page as the account holder.
func (w *world) authorize(t *testing.T, authorizationURL, decision string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := c.Get(authorizationURL)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", authorizationURL, err, page)
	}
	page.Body.Close()
	resp, err := c.PostForm(authorizationURL, url.Values{"decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://back-office.example.fr/payouts?authorizationId=") {
		t.Fatalf("authorisation %s: %d %q", decision, resp.StatusCode, loc)
	}
}

// TestOrdersExecutedThroughTheProvider: in a portfolio with an execution
// account, approved EUR orders to an IBAN become payouts at the sandbox
// bank; the account holder authorises (or refuses) each at the bank; the
// bank's answer, driven by the beneficiary's test IBAN, completes or fails
// the order with actor "system" and moves the funds; nobody may confirm
// or fail it by hand meanwhile; the partner is told by webhook that an
// authorisation is needed; a failed order retried is a new payout; an
// order that is not executable is confirmed by hand as the seed documents.
func TestOrdersExecutedThroughTheProvider(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: time.Second}})
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Financière Exécution"))
	o := orders{w: w, header: bearer(partner, "X-Entity-Id", org)}
	rcv := newReceiver(t, nil)
	w.subscribe(partner, rcv.url(), "payment_order.authorization_required", "payment_order.status_changed")

	pf := o.portfolio(t, `{"name":"Crédit PME","currency":"EUR","executionAccount":`+executionAccount+`}`, "10000.00")
	if acc, _ := o.funds(t, pf)["executionAccount"].(map[string]any); acc["provider"] != "AIIA" || acc["accountId"] != "sandbox-treasury-1" {
		t.Fatalf("executionAccount = %v", acc)
	}

	type order struct {
		iban, decision, status, notes string
		id                            string
	}
	cases := []*order{
		{iban: "FR7612345678901234567890123", decision: "authorize", status: "COMPLETED", notes: "Executed by the bank (Executed)"},
		{iban: "FR76 1234 5678 9012 3456 7890 124", decision: "authorize", status: "FAILED", notes: "fonds insuffisants"},
		{iban: "FR7612345678901234567890125", decision: "authorize", status: "FAILED", notes: "compte du bénéficiaire bloqué"},
		{iban: "FR7612345678901234567890123", decision: "refuse", status: "FAILED", notes: "refusé par le titulaire du compte"},
	}
	for _, c := range cases {
		c.id = data(t, o.create(executedOrderBody(pf, "1500.00", c.iban), 201))["id"].(string)
		if got := o.setStatus(c.id, "PROCESSING", "OK", 200).json(t)["data"].(map[string]any)["status"]; got != "PROCESSING" {
			t.Fatalf("approve: %v", got)
		}
	}
	funds := o.funds(t, pf)
	if funds["availableFunds"] != 4000.0 || funds["reservedFunds"] != 6000.0 {
		t.Fatalf("after 4 approvals: available %v reserved %v", funds["availableFunds"], funds["reservedFunds"])
	}
	for _, c := range cases {
		d := o.waitOrder(t, c.id, "AUTHORIZATION_REQUIRED", func(d map[string]any) bool {
			e := execution(d)
			return e != nil && e["status"] == "AUTHORIZATION_REQUIRED"
		})
		e := execution(d)
		if d["status"] != "PROCESSING" || e["provider"] != "AIIA" || e["providerStatus"] != "Created" || e["providerPaymentId"] == nil ||
			!strings.HasPrefix(fmt.Sprint(e["authorizationUrl"]), "http") {
			t.Fatalf("awaiting authorisation: %v %v", d["status"], e)
		}
		// The bank decides now, not a client.
		for _, to := range []string{"COMPLETED", "FAILED"} {
			if code, fields := familyError(t, o.setStatus(c.id, to, "à la main", 400)); code != "INVALID_STATUS_TRANSITION" || len(fields) != 1 || fields[0] != "status" {
				t.Fatalf("manual %s: %s %v", to, code, fields)
			}
		}
		w.authorize(t, e["authorizationUrl"].(string), c.decision)
	}
	for _, c := range cases {
		d := o.waitOrder(t, c.id, c.status, func(d map[string]any) bool { return d["status"] == c.status })
		hist := d["statusHistory"].([]any)
		last := hist[len(hist)-1].(map[string]any)
		e := execution(d)
		if last["actor"] != "system" || last["status"] != c.status || !strings.Contains(fmt.Sprint(last["notes"]), c.notes) {
			t.Errorf("%s: last history entry %v, want system %s %q", c.iban, last, c.status, c.notes)
		}
		if e["authorizationUrl"] != nil || (c.status == "COMPLETED") != (e["status"] == "EXECUTED") || (c.status == "FAILED") != (e["status"] == "FAILED") {
			t.Errorf("%s: execution %v", c.iban, e)
		}
		if (c.status == "COMPLETED") != (d["completedAt"] != nil) {
			t.Errorf("%s: completedAt %v", c.iban, d["completedAt"])
		}
	}
	funds = o.funds(t, pf)
	if funds["availableFunds"] != 8500.0 || funds["reservedFunds"] != 0.0 || funds["spentFunds"] != 1500.0 || funds["totalFunded"] != 10000.0 {
		t.Fatalf("after the bank's answers: %v", funds)
	}

	// The order that failed for insufficient funds is retried to another
	// IBAN: approved again, it is a new payout.
	failed := cases[1]
	before := execution(data(t, o.get(failed.id, 200)))
	o.setStatus(failed.id, "PENDING", "Nouvel essai", 200)
	if d := data(t, o.get(failed.id, 200)); d["execution"] != nil {
		t.Fatalf("a retried order keeps its old execution: %v", d["execution"])
	}
	o.update(failed.id, `{"beneficiary":{"name":"SARL Les Vergers","accountNumber":"FR7612345678901234567890123","bankName":"Banque Test","bankCode":"AGRIFRPP"}}`, 200)
	o.setStatus(failed.id, "PROCESSING", "", 200)
	d := o.waitOrder(t, failed.id, "a new authorisation", func(d map[string]any) bool {
		e := execution(d)
		return e != nil && e["status"] == "AUTHORIZATION_REQUIRED"
	})
	if execution(d)["providerPaymentId"] == before["providerPaymentId"] {
		t.Fatalf("the retry reused payout %v", before["providerPaymentId"])
	}
	w.authorize(t, execution(d)["authorizationUrl"].(string), "authorize")
	o.waitOrder(t, failed.id, "COMPLETED", func(d map[string]any) bool { return d["status"] == "COMPLETED" })

	// An account the organisation has not connected: the provider refuses
	// the payout; the order fails and its funds come back.
	o.w.do(exchange{method: "PATCH", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + pf, header: o.h(),
		body: `{"executionAccount":{"accountId":"not-connected","redirectUrl":"https://back-office.example.fr/payouts"}}`, status: 200})
	refused := data(t, o.create(executedOrderBody(pf, "100.00", "FR7612345678901234567890123"), 201))["id"].(string)
	o.setStatus(refused, "PROCESSING", "", 200)
	d = o.waitOrder(t, refused, "FAILED", func(d map[string]any) bool { return d["status"] == "FAILED" })
	if hist := d["statusHistory"].([]any); !strings.Contains(fmt.Sprint(hist[len(hist)-1]), "the provider refused the payout") {
		t.Fatalf("refused payout: %v", hist[len(hist)-1])
	}

	// Not executable: an account number that is not an IBAN, or no
	// execution account any more. Confirmed by hand, as the seed shows.
	o.w.do(exchange{method: "PATCH", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + pf, header: o.h(), body: `{"executionAccount":null}`, status: 200})
	if got := o.funds(t, pf); got["executionAccount"] != nil {
		t.Fatalf("executionAccount after null: %v", got["executionAccount"])
	}
	for _, iban := range []string{"00012345678", "FR7612345678901234567890123"} {
		id := data(t, o.create(executedOrderBody(pf, "10.00", iban), 201))["id"].(string)
		o.setStatus(id, "PROCESSING", "", 200)
		if d := data(t, o.get(id, 200)); d["execution"] != nil {
			t.Fatalf("%s: executed %v", iban, d["execution"])
		}
		o.setStatus(id, "COMPLETED", "Virement confirmé", 200)
	}
	funds = o.funds(t, pf)
	if funds["availableFunds"] != 6980.0 || funds["spentFunds"] != 3020.0 || funds["reservedFunds"] != 0.0 {
		t.Fatalf("at the end: %v", funds)
	}

	// The partner was told each time an authorisation was needed (five
	// payouts; the refused one never asked), with the URL, and of every
	// status change: 4 × 2, the retry's 3, the refused payout's 2, the two
	// orders confirmed by hand 2 × 2.
	waitFor(t, refundWaitLimit, func() (bool, string) {
		byType := map[string]int{}
		for _, r := range rcv.requests() {
			var ev struct {
				Type string         `json:"event_type"`
				Data map[string]any `json:"data"`
			}
			if json.Unmarshal(r.body, &ev) == nil {
				if ev.Type == "payment_order.authorization_required" && !strings.HasPrefix(fmt.Sprint(ev.Data["authorizationUrl"]), "http") {
					return false, "authorization_required without its URL: " + string(r.body)
				}
				byType[ev.Type]++
			}
		}
		return byType["payment_order.authorization_required"] == 5 && byType["payment_order.status_changed"] == 17,
			fmt.Sprintf("webhooks received: %v", byType)
	})
}

// The execution account is checked as any other field.
func TestExecutionAccountValidation(t *testing.T) {
	_, _, _, o := newOrdersWorld(t, "Financière Contrôles")
	for _, tc := range []struct{ body, field string }{
		{`{"name":"A","currency":"CDF","executionAccount":` + executionAccount + `}`, "executionAccount"},
		{`{"name":"A","currency":"EUR","executionAccount":{"accountId":"","redirectUrl":"https://x.example/"}}`, "executionAccount.accountId"},
		{`{"name":"A","currency":"EUR","executionAccount":{"accountId":"a b","redirectUrl":"https://x.example/"}}`, "executionAccount.accountId"},
		{`{"name":"A","currency":"EUR","executionAccount":{"accountId":"acc","redirectUrl":"/back"}}`, "executionAccount.redirectUrl"},
		{`{"name":"A","currency":"EUR","executionAccount":{"provider":"STRIPE","accountId":"acc","redirectUrl":"https://x.example/"}}`, "executionAccount.provider"},
		{`{"name":"A","currency":"EUR","executionAccount":"sandbox-treasury-1"}`, "executionAccount"},
	} {
		a := o.w.do(exchange{method: "POST", route: "/v1/portfolios", header: o.h(), body: tc.body, status: 400})
		if code, fields := familyError(t, a); code != "INVALID_PORTFOLIO_DATA" || len(fields) == 0 || fields[0] != tc.field {
			t.Errorf("%s: %s %v, want %s", tc.body, code, fields, tc.field)
		}
	}
	ids, _ := listPortfolios(t, o)
	if len(ids) != 0 {
		t.Fatalf("refused portfolios were written: %v", ids)
	}
}

func listPortfolios(t *testing.T, o orders) ([]string, map[string]any) {
	t.Helper()
	m := o.w.do(exchange{method: "GET", route: "/v1/portfolios", header: o.h(), status: 200}).json(t)
	var ids []string
	for _, x := range m["data"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	meta, _ := m["meta"].(map[string]any)
	return ids, meta
}

// The execution account decides where a portfolio's orders are paid from:
// nobody outside the organisation's finance roles may change it. Another
// partner, a sibling organisation's admin (with and without the victim's
// X-Entity-Id) get 404; the victim's own portfolio manager and analyst 403;
// and the victim's portfolio reads back unchanged after each attempt.
func TestExecutionAccountCannotBeRedirected(t *testing.T) {
	w, partner, org, victim := newOrdersWorld(t, "Financière Victime")
	pf := victim.portfolio(t, `{"name":"Crédit PME","currency":"EUR","executionAccount":`+executionAccount+`}`, "")
	sibling := w.createOrg(partner, orgBody("Financière Voisine"))
	siblingAdmin := orgClient(t, w, partner, sibling, `{"role":"admin"}`)
	otherPartner := w.token("ptn-2-client", partnerSecret)
	w.createOrg(otherPartner, orgBody("Financière Ailleurs"))
	redirect := `{"executionAccount":{"accountId":"sandbox-treasury-2","redirectUrl":"https://attacker.example/"}}`
	patch := func(o orders, status int) {
		t.Helper()
		o.w.do(exchange{method: "PATCH", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + pf, header: o.h(), body: redirect, status: status})
	}
	for name, attempt := range map[string]func(){
		"another partner with the victim's X-Entity-Id": func() { patch(orders{w: w, header: bearer(otherPartner, "X-Entity-Id", org)}, 404) },
		"a sibling's admin":                             func() { patch(siblingAdmin, 404) },
		"a sibling's admin naming the victim":           func() { patch(orders{w: w, header: siblingAdmin.h("X-Entity-Id", org)}, 404) },
		"the victim's portfolio manager": func() {
			patch(orgClient(t, w, partner, org, `{"role":"portfolio_manager"}`), 403)
		},
		"the victim's analyst": func() { patch(orgClient(t, w, partner, org, `{"role":"analyst"}`), 403) },
	} {
		attempt()
		acc, _ := victim.funds(t, pf)["executionAccount"].(map[string]any)
		if acc["accountId"] != "sandbox-treasury-1" || acc["redirectUrl"] != "https://back-office.example.fr/payouts" {
			t.Fatalf("%s changed the execution account: %v", name, acc)
		}
	}
}
