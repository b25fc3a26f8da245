package aiiabank

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// bank is the sandbox bank behind a server, the real client, and Refunds
// over them, on one clock.
type bank struct {
	t       *testing.T
	clk     *clock
	ts      *httptest.Server
	c       *aiia.Client
	refunds Refunds
	browser *http.Client
}

const redirect = "https://pay.modupay.test/p/refund-account"

func newBank(t *testing.T, opts aiiasandbox.Options) *bank {
	clk := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	opts.Now = clk.now
	opts.RedirectPrefixes = []string{"https://pay.modupay.test/p/"}
	s := aiiasandbox.New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c := aiia.New(s.ClientConfig(ts.URL), ts.Client(), clk.now)
	browser := ts.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &bank{t: t, clk: clk, ts: ts, c: c, browser: browser, refunds: Refunds{Provider: c, CollectRedirectURL: redirect, Now: clk.now}}
}

// paid is a succeeded intent paid from iban, as the poller leaves it.
func (b *bank) paid(iban string) payment.Intent {
	b.t.Helper()
	ctx := context.Background()
	d, err := b.c.CreateDestination(ctx, aiia.DestinationInput{RequestID: "dest-" + iban, IBAN: "FR7630006000011234567890189", Name: "Régie des eaux"})
	if err != nil {
		b.t.Fatal(err)
	}
	p, err := b.c.CreatePayment(ctx, aiia.PaymentInput{RequestID: "pay-" + iban, DestinationID: d.ID, Amount: 42220, Currency: "EUR", Reference: "FAC 2026 00001",
		RedirectURL: "https://pay.modupay.test/p/tok/return", EndUserID: "payer_0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.t.Fatal(err)
	}
	b.form(p.FlowURL, url.Values{"iban": {iban}, "decision": {"authorize"}})
	got, err := b.c.GetPayment(ctx, p.ID)
	if err != nil {
		b.t.Fatal(err)
	}
	st, _ := aiia.MapPaymentStatus(got.Status)
	if st.IntentStatus != payment.IntentSucceeded {
		b.t.Fatalf("payment %s", got.Status)
	}
	done := b.clk.now()
	return payment.Intent{ID: "pi-1", Status: payment.IntentSucceeded, Amount: 42220, AiiaTransactionID: p.ID, FundsStatus: st.Funds, CompletedAt: &done}
}

func (b *bank) form(u string, v url.Values) int {
	b.t.Helper()
	resp, err := b.browser.PostForm(u, v)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// follow runs Create then State as the refund service does, keeping what
// it records (the provider's id, the next action).
func (b *bank) follow(r *refund.Refund, pi payment.Intent) refund.Execution {
	b.t.Helper()
	var ex refund.Execution
	var err error
	if r.ProviderID == "" {
		ex, err = b.refunds.Create(context.Background(), *r, pi)
	} else {
		ex, err = b.refunds.State(context.Background(), *r, pi)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	r.ProviderID, r.NextAction = ex.ProviderID, ex.NextAction
	return ex
}

func TestRefundsWithoutASettlementAccount(t *testing.T) {
	b := newBank(t, aiiasandbox.Options{RefundDelay: 2 * time.Second, NoSettlementAccount: true})
	pi := b.paid("FR7612345678901234567890123")
	r := refund.Refund{ID: "rf-1", Amount: 10000}
	if ex := b.follow(&r, pi); ex.Status != refund.StatusPending || ex.ProviderID == "" {
		t.Fatalf("created: %+v", ex)
	}
	b.clk.add(time.Second)
	ex := b.follow(&r, pi)
	a := ex.NextAction
	if ex.Status != refund.StatusRequiresAction || ex.Awaiting || a == nil || a.Type != "pay_payer_account" || a.PayerAccount == nil ||
		a.PayerAccount.IBAN != "FR7612345678901234567890123" || a.URL != "" {
		t.Fatalf("execution %+v, action %+v", ex, a)
	}
	if !strings.Contains(a.Message, "100,00") || !strings.Contains(a.Message, "/v1/refunds/rf-1/confirm") || strings.Contains(a.Message, "FR7612345678901234567890123") {
		t.Errorf("message %q: the amount and the routes, the IBAN only masked", a.Message)
	}
}

func TestRefundAccountCollectedFromThePayer(t *testing.T) {
	b := newBank(t, aiiasandbox.Options{RefundDelay: 2 * time.Second})
	pi := b.paid("FR7612345678901234567890131")
	r := refund.Refund{ID: "rf-1", Amount: 10000}
	b.follow(&r, pi)
	b.clk.add(time.Second)
	ex := b.follow(&r, pi)
	a := ex.NextAction
	if ex.Status != refund.StatusRequiresAction || !ex.Awaiting || a == nil || a.Type != "collect_payer_account" || a.URL == "" || a.ExpiresAt == nil ||
		!a.ExpiresAt.Equal(b.clk.now().Add(CollectWindow)) || a.PayerAccount != nil {
		t.Fatalf("execution %+v, action %+v", ex, a)
	}
	// Followed again: the same flow, not a second one.
	b.clk.add(time.Minute)
	if again := b.follow(&r, pi); again.Code != aiia.RefundCapturingSourceAccount || !again.Awaiting || again.NextAction != a {
		t.Fatalf("followed again: %+v", again)
	}
	if code := b.form(a.URL, url.Values{"iban": {"FR7630006000011234567890189"}, "owner": {"Jeanne Martin"}}); code != http.StatusSeeOther {
		t.Fatalf("the payer connects an account: %d", code)
	}
	ex = b.follow(&r, pi)
	if ex.Awaiting || ex.NextAction == nil || ex.NextAction.Type != "pay_payer_account" || ex.NextAction.PayerAccount == nil ||
		*ex.NextAction.PayerAccount != (refund.PayerAccount{IBAN: "FR7630006000011234567890189", AccountHolderName: "Jeanne Martin"}) {
		t.Fatalf("after the payer connected: %+v %+v", ex, ex.NextAction)
	}
}

func TestRefundAccountFlowClosesUnused(t *testing.T) {
	b := newBank(t, aiiasandbox.Options{})
	pi := b.paid("FR7612345678901234567890131")
	r := refund.Refund{ID: "rf-1", Amount: 10000}
	b.follow(&r, pi)
	opened := b.follow(&r, pi)
	if !opened.Awaiting || opened.NextAction.URL == "" {
		t.Fatalf("opened: %+v", opened)
	}
	b.clk.add(CollectWindow + time.Second)
	ex := b.follow(&r, pi)
	if ex.Awaiting || ex.Status != refund.StatusRequiresAction || ex.NextAction.Type != "collect_payer_account" || ex.NextAction.URL != "" ||
		!strings.Contains(ex.NextAction.Message, "did not connect") {
		t.Fatalf("closed: %+v %+v", ex, ex.NextAction)
	}
}

// A payment Aiia saw debited, never credited: Aiia would refuse its
// refund, so none is asked until the credit comes; after CreditWait the
// organisation pays it. A credit that comes meanwhile lets it through.
func TestRefundOfAPaymentNotCredited(t *testing.T) {
	b := newBank(t, aiiasandbox.Options{})
	pi := b.paid("FR7612345678901234567890129")
	if pi.FundsStatus != aiia.FundsDebited {
		t.Fatalf("funds %s", pi.FundsStatus)
	}
	r := refund.Refund{ID: "rf-1", Amount: 10000}
	ex := b.follow(&r, pi)
	if ex.Status != refund.StatusPending || ex.ProviderID != "" || ex.Code != "awaiting_credit" {
		t.Fatalf("before the wait: %+v", ex)
	}
	b.clk.add(DefaultCreditWait)
	ex = b.follow(&r, pi)
	if ex.Status != refund.StatusRequiresAction || ex.ProviderID != "" || ex.NextAction == nil || ex.NextAction.Type != "pay_payer_account" ||
		ex.NextAction.PayerAccount != nil || !strings.Contains(ex.NextAction.Message, "never credited") {
		t.Fatalf("after the wait: %+v %+v", ex, ex.NextAction)
	}

	pi2 := b.paid("FR7612345678901234567890129 ")
	req, _ := http.NewRequest("POST", b.ts.URL+"/_sandbox/payments/"+pi2.AiiaTransactionID+"/status", strings.NewReader(`{"code":"PAYMENT_EXECUTED_CREDITED"}`))
	if resp, err := b.ts.Client().Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("force credited: %v %v", resp, err)
	}
	r2 := refund.Refund{ID: "rf-2", Amount: 10000}
	if ex := b.follow(&r2, pi2); ex.Status != refund.StatusPending || ex.ProviderID == "" {
		t.Fatalf("a payment credited since is refunded at Aiia: %+v", ex)
	}
}
