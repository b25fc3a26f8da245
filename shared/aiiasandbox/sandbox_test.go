package aiiasandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/apperr"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is a sandbox behind an httptest server, the real shared/aiia
// client pointed at it, and a browser that does not follow redirects.
type world struct {
	t       *testing.T
	s       *Server
	ts      *httptest.Server
	c       *aiia.Client
	clk     *clock
	browser *http.Client
	posts   atomic.Int64 // POST /payments requests that reached the sandbox
	store   *countingStore
}

// testStore makes each world's Store: a MemoryStore, unless
// TestOnDynamoDB is running the tests again on the deployed store.
var testStore = func(*testing.T) Store { return NewMemoryStore() }

// countingStore counts the records a world creates, by kind, whatever
// the store underneath.
type countingStore struct {
	Store
	mu  sync.Mutex
	ids map[string]map[string]bool
}

func (c *countingStore) Create(ctx context.Context, kind, id string, v any, created, expires time.Time) error {
	err := c.Store.Create(ctx, kind, id, v, created, expires)
	if err == nil {
		c.mu.Lock()
		if c.ids[kind] == nil {
			c.ids[kind] = map[string]bool{}
		}
		c.ids[kind][id] = true
		c.mu.Unlock()
	}
	return err
}

func (c *countingStore) Delete(ctx context.Context, kind, id string) error {
	err := c.Store.Delete(ctx, kind, id)
	if err == nil {
		c.mu.Lock()
		delete(c.ids[kind], id)
		c.mu.Unlock()
	}
	return err
}

// count is the number of records of a kind the world's sandbox holds.
func (w *world) count(kind string) int {
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	return len(w.store.ids[kind])
}

func newWorld(t *testing.T, opts Options) *world {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.now
	}
	w := &world{t: t, clk: clk}
	if opts.Store == nil {
		w.store = &countingStore{Store: testStore(t), ids: map[string]map[string]bool{}}
		opts.Store = w.store
	}
	w.s = New(opts)
	w.ts = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/payments" {
			w.posts.Add(1)
		}
		w.s.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.ts.Close)
	w.browser = w.ts.Client()
	w.browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.c = aiia.New(w.s.ClientConfig(w.ts.URL), w.ts.Client(), clk.now)
	return w
}

func (w *world) destination() string {
	w.t.Helper()
	d, err := w.c.CreateDestination(context.Background(), aiia.DestinationInput{
		RequestID: "dest-" + w.t.Name(), IBAN: "FR76 3000 6000 0112 3456 7890 189", BIC: "AGRIFRPP", Name: "Régie des eaux de Lyon",
	})
	if err != nil {
		w.t.Fatalf("CreateDestination: %v", err)
	}
	return d.ID
}

func paymentInput(requestID, destinationID string) aiia.PaymentInput {
	return aiia.PaymentInput{
		RequestID: requestID, DestinationID: destinationID, Amount: 42220, Currency: "EUR",
		Reference: aiia.Reference("FAC-2026-00001"), EndToEndID: aiia.EndToEndID("pi-456def78-90ab-cdef-1234-567890abcdef"),
		RedirectURL: "https://pay.modupay.test/p/abc?lang=fr", PayerEmail: "payeur@example.fr",
		EndUserID: "payer_0123456789abcdef0123456789abcdef",
	}
}

// The payment contract as the provider enforces it, sent raw (the client
// checks the same before any call): endUser with its id for an unlicensed
// tenant, a reference of at least one character, a redirect URL registered
// for the client; each refusal the provider's 400 naming the property, and
// nothing created.
func TestPaymentContractIsEnforced(t *testing.T) {
	w := newWorld(t, Options{RedirectPrefixes: []string{"https://pay.modupay.test/p/"}})
	tok := w.token()
	dest := w.destination()
	body := func(edit func(map[string]any)) string {
		b := map[string]any{"paymentRail": "FrenchSepaCreditTransfer", "destinationId": dest, "redirectUrl": "https://pay.modupay.test/p/abc",
			"amount": 422.2, "currency": "EUR", "reference": "FAC 2026 00001", "endUser": map[string]any{"id": "payer_1", "email": "p@example.fr"}}
		if edit != nil {
			edit(b)
		}
		return mustJSON(b)
	}
	for _, c := range []struct {
		name, property string
		edit           func(map[string]any)
	}{
		{"no endUser", "EndUser.Id", func(b map[string]any) { delete(b, "endUser") }},
		{"endUser without its id", "EndUser.Id", func(b map[string]any) { b["endUser"] = map[string]any{"email": "p@example.fr"} }},
		{"an empty reference", "Reference", func(b map[string]any) { b["reference"] = "" }},
		{"a blank reference", "Reference", func(b map[string]any) { b["reference"] = "  " }},
		{"a redirect not registered", "RedirectUrl", func(b map[string]any) { b["redirectUrl"] = "https://evil.example/p/abc" }},
		{"a redirect beside the registered one", "RedirectUrl", func(b map[string]any) { b["redirectUrl"] = "https://pay.modupay.test/admin" }},
	} {
		status, out := w.raw("POST", "/payments", tok, "application/json", body(c.edit))
		if status != 400 || !strings.Contains(out, "INVALID_INPUT") || !strings.Contains(out, "property: "+c.property) {
			t.Errorf("%s: %d %s, want a 400 on %s", c.name, status, out, c.property)
		}
	}
	if n := w.posts.Load(); n != 6 {
		t.Errorf("%d POST /payments seen, want the 6 refused", n)
	}
	if status, out := w.raw("POST", "/payments", tok, "application/json", body(nil)); status != 200 || !strings.Contains(out, "paymentId") {
		t.Errorf("the payment as the contract wants it: %d %s", status, out)
	}
}

func (w *world) payment(requestID string) aiia.Payment {
	w.t.Helper()
	p, err := w.c.CreatePayment(context.Background(), paymentInput(requestID, w.destination()))
	if err != nil {
		w.t.Fatalf("CreatePayment: %v", err)
	}
	return p
}

func (w *world) get(id string) aiia.Payment {
	w.t.Helper()
	p, err := w.c.GetPayment(context.Background(), id)
	if err != nil {
		w.t.Fatalf("GetPayment: %v", err)
	}
	return p
}

// openFlow GETs the authorisation page.
func (w *world) openFlow(flowURL string) string {
	w.t.Helper()
	resp, err := w.browser.Get(flowURL)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		w.t.Fatalf("GET %s = %d %s", flowURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// submit POSTs the page's form as a browser would.
func (w *world) submit(flowURL, iban, decision string) *http.Response {
	w.t.Helper()
	resp, err := w.browser.PostForm(flowURL, url.Values{"iban": {iban}, "decision": {decision}})
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestPaymentOutcomesDrivenByThePayer(t *testing.T) {
	tests := []struct {
		name, iban, decision string
		wantCode, wantAiia   string
		wantIntent, wantWhy  string
	}{
		{"success IBAN", "FR7612345678901234567890123", "authorize", "PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", ""},
		{"success IBAN typed with spaces", "fr76 1234 5678 9012 3456 7890 123", "authorize", "PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", ""},
		{"insufficient funds", "FR7612345678901234567890124", "authorize", "FAILED", "rejected", "failed", "fonds insuffisants"},
		{"account blocked", "FR7612345678901234567890125", "authorize", "FAILED", "rejected", "failed", "compte bloqué"},
		{"any other IBAN succeeds", "FR7630006000011234567890189", "authorize", "PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", ""},
		{"payer refuses", "FR7612345678901234567890123", "refuse", "CANCELLED", "rejected", "failed", "refusé par le payeur"},
		{"debited only", "FR7612345678901234567890129", "authorize", "PAYMENT_EXECUTED_DEBITED", "settled", "succeeded", ""},
		{"lost at the provider", "FR7612345678901234567890130", "authorize", "UNKNOWN", "", "requires_action", "la banque ne donne plus l'état du virement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Options{})
			p := w.payment("pay-1")
			if p.Status != aiia.PaymentPreparing || !strings.HasPrefix(p.FlowURL, w.ts.URL+"/flow/") {
				t.Fatalf("created payment = %+v", p)
			}
			if got := w.get(p.ID).Status; got != "PREPARING" {
				t.Fatalf("status before the page = %s, want PREPARING", got)
			}

			page := w.openFlow(p.FlowURL)
			for _, want := range []string{"422,20", "Régie des eaux de Lyon", "FR76•••", "FAC 2026 00001",
				`value="FR7612345678901234567890123"`, "Autoriser le virement", "Refuser", `<form method="post"`} {
				if !strings.Contains(page, want) {
					t.Errorf("authorisation page lacks %q", want)
				}
			}
			if strings.Contains(page, "<script") {
				t.Errorf("the page must work without JavaScript")
			}
			if got := w.get(p.ID).Status; got != "AUTHORIZING" {
				t.Fatalf("status with the page open = %s, want AUTHORIZING", got)
			}

			resp := w.submit(p.FlowURL, tt.iban, tt.decision)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("submit = %d, want 303", resp.StatusCode)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if loc.Host != "pay.modupay.test" || loc.Path != "/p/abc" || loc.Query().Get("paymentId") != p.ID || loc.Query().Get("lang") != "fr" {
				t.Errorf("redirect = %s, want the redirect URL with paymentId=%s", loc, p.ID)
			}
			if len(loc.Query()) != 2 {
				t.Errorf("the redirect carries more than paymentId: %s (the outcome must be read from the API)", loc.RawQuery)
			}

			got := w.get(p.ID)
			st, known := aiia.MapPaymentStatus(got.Status)
			if got.Status != tt.wantCode || st.AiiaStatus != tt.wantAiia || st.IntentStatus != tt.wantIntent || !st.Final || !known {
				t.Fatalf("final status %s → %+v, want %s → %s/%s", got.Status, st, tt.wantCode, tt.wantAiia, tt.wantIntent)
			}
			if got.FailureReason != tt.wantWhy {
				t.Errorf("failure reason = %q, want %q", got.FailureReason, tt.wantWhy)
			}
			if got.Amount != 42220 || got.Currency != "EUR" {
				t.Errorf("amount = %d %s", got.Amount, got.Currency)
			}

			// The page cannot be used twice.
			if again := w.submit(p.FlowURL, tt.iban, "authorize"); again.StatusCode != http.StatusConflict {
				t.Errorf("second submit = %d, want 409", again.StatusCode)
			}
			if w.get(p.ID).Status != tt.wantCode {
				t.Errorf("a second submit changed the status")
			}
		})
	}
}

func TestStatusProgressionOverDelays(t *testing.T) {
	w := newWorld(t, Options{AuthorizeDelay: 2 * time.Second, SettleDelay: 6 * time.Second})
	p := w.payment("pay-1")
	w.openFlow(p.FlowURL)
	w.submit(p.FlowURL, "FR7612345678901234567890123", "authorize")
	steps := []struct {
		after            time.Duration
		code, aiia, want string
		final            bool
	}{
		{0, "PROVIDER_PROCESSING", "initiated", "processing", false},
		{1999 * time.Millisecond, "PROVIDER_PROCESSING", "initiated", "processing", false},
		{time.Millisecond, "INITIATED", "authorized", "processing", false},
		{3 * time.Second, "INITIATED", "authorized", "processing", false},
		{3*time.Second - time.Millisecond, "INITIATED", "authorized", "processing", false},
		{time.Millisecond, "PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", true},
		{time.Hour, "PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", true},
	}
	for i, st := range steps {
		w.clk.add(st.after)
		got := w.get(p.ID)
		m, _ := aiia.MapPaymentStatus(got.Status)
		if got.Status != st.code || m.AiiaStatus != st.aiia || m.IntentStatus != st.want || m.Final != st.final {
			t.Errorf("step %d: %s → %+v, want %s → %s/%s/%v", i, got.Status, m, st.code, st.aiia, st.want, st.final)
		}
		if got.UpdatedAt.After(w.clk.now()) {
			t.Errorf("step %d: updated in the future: %v", i, got.UpdatedAt)
		}
	}

	// A failing IBAN fails after the authorisation delay.
	f := w.payment("pay-2")
	w.submit(f.FlowURL, "FR7612345678901234567890124", "authorize")
	if got := w.get(f.ID).Status; got != "PROVIDER_PROCESSING" {
		t.Errorf("failing payment right after authorisation = %s", got)
	}
	w.clk.add(2 * time.Second)
	if got := w.get(f.ID); got.Status != "FAILED" || got.FailureReason != "fonds insuffisants" {
		t.Errorf("failing payment after the delay = %+v", got)
	}
}

func TestFlowExpires(t *testing.T) {
	w := newWorld(t, Options{FlowTTL: time.Minute})
	p := w.payment("pay-1")
	w.clk.add(time.Minute)
	got := w.get(p.ID)
	if got.Status != "AUTHORIZATION_FLOW_INCOMPLETE" {
		t.Fatalf("status after the TTL = %s", got.Status)
	}
	if m, _ := aiia.MapPaymentStatus(got.Status); m.IntentStatus != "failed" || !m.Final {
		t.Errorf("expired flow maps to %+v", m)
	}
	if page := w.openFlow(p.FlowURL); !strings.Contains(page, "expiré") {
		t.Errorf("expired page does not say so")
	}
	if resp := w.submit(p.FlowURL, "FR7612345678901234567890123", "authorize"); resp.StatusCode != http.StatusConflict {
		t.Errorf("submit after expiry = %d, want 409", resp.StatusCode)
	}
}

func TestFlowFormErrors(t *testing.T) {
	w := newWorld(t, Options{})
	p := w.payment("pay-1")
	for _, tt := range []struct{ iban, decision string }{{"", "authorize"}, {"not an iban", "authorize"}, {"FR7612345678901234567890123", ""}} {
		if resp := w.submit(p.FlowURL, tt.iban, tt.decision); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("submit(%q, %q) = %d, want 422", tt.iban, tt.decision, resp.StatusCode)
		}
	}
	if got := w.get(p.ID).Status; got != "PREPARING" {
		t.Errorf("status after invalid submits = %s, want PREPARING (nothing decided)", got)
	}
	resp, err := w.browser.Get(w.ts.URL + "/flow/nope")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown flow = %v, %v", resp, err)
	}
}

func (w *world) pay(requestID, iban string) aiia.Payment {
	w.t.Helper()
	p := w.payment(requestID)
	w.submit(p.FlowURL, iban, "authorize")
	return w.get(p.ID)
}

func TestRefunds(t *testing.T) {
	w := newWorld(t, Options{RefundDelay: 4 * time.Second})
	ctx := context.Background()

	pending := w.payment("pay-pending")
	_, err := w.c.CreateRefund(ctx, pending.ID, aiia.RefundInput{RequestID: "ref-0", Amount: 100})
	if got := apperr.CodeOf(err); got != apperr.Conflict {
		t.Fatalf("refund of an uncredited payment: %v, want Conflict", err)
	}

	p := w.pay("pay-1", "FR7612345678901234567890123")
	if p.Status != "PAYMENT_EXECUTED_CREDITED" {
		t.Fatalf("payment = %s", p.Status)
	}
	rf, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-1", Amount: 10000, Reason: "Remise commerciale de 100€"})
	if err != nil {
		t.Fatalf("CreateRefund: %v", err)
	}
	steps := []struct {
		after  time.Duration
		code   string
		status string
		final  bool
	}{
		{0, "PREPARING", "pending", false},
		{2 * time.Second, "PENDING", "pending", false},
		{2 * time.Second, "PAYMENT_EXECUTED_DEBITED", "succeeded", true},
	}
	for i, st := range steps {
		w.clk.add(st.after)
		got, err := w.c.GetRefund(ctx, rf.ID)
		if err != nil {
			t.Fatal(err)
		}
		status, final, known := aiia.MapRefundStatus(got.Status)
		if got.Status != st.code || status != st.status || final != st.final || !known || got.Amount != 10000 || got.PaymentID != p.ID {
			t.Errorf("step %d: refund = %+v → %s/%v, want %s → %s/%v", i, got, status, final, st.code, st.status, st.final)
		}
	}

	// The same RequestID is the same refund; the rest of the payment can be
	// refunded, not a cent more.
	again, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-1", Amount: 10000, Reason: "Remise commerciale de 100€"})
	if err != nil || again.ID != rf.ID {
		t.Fatalf("replayed refund = %+v, %v; want %s", again, err, rf.ID)
	}
	_, err = w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-2", Amount: 32221, Reason: aiia.RefundReasonOrderCancelled})
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Param != "amount" {
		t.Fatalf("over-refund: %v, want Invalid on amount", err)
	}
	rest, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-3", Amount: 32220, Reason: aiia.RefundReasonOrderCancelled})
	if err != nil {
		t.Fatalf("refund of the rest: %v", err)
	}

	// A forced failure frees the amount again.
	postJSON(t, w.ts.URL+"/_sandbox/refunds/"+rest.ID+"/status", `{"code":"FAILED","reason":"compte clôturé"}`, http.StatusNoContent)
	got, err := w.c.GetRefund(ctx, rest.ID)
	if err != nil || got.Status != "FAILED" || got.FailureReason != "compte clôturé" {
		t.Fatalf("forced refund = %+v, %v", got, err)
	}
	if _, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-4", Amount: 32220}); err != nil {
		t.Fatalf("refund after a failed one: %v", err)
	}

	if _, err := w.c.GetRefund(ctx, "nope"); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("unknown refund: %v", err)
	}
	if _, err := w.c.CreateRefund(ctx, "nope", aiia.RefundInput{RequestID: "ref-5", Amount: 1}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("refund of an unknown payment: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	w := newWorld(t, Options{})
	ctx := context.Background()
	dest := w.destination()
	if again := w.destination(); again != dest {
		t.Errorf("same destination RequestID gave %s then %s", dest, again)
	}
	in := paymentInput("pay-1", dest)
	p1, err := w.c.CreatePayment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := w.c.CreatePayment(ctx, in)
	if err != nil || p2.ID != p1.ID || p2.FlowURL != p1.FlowURL {
		t.Fatalf("replay = %+v, %v; want payment %s", p2, err, p1.ID)
	}
	changed := in
	changed.Amount = 50000
	if _, err := w.c.CreatePayment(ctx, changed); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("same RequestID, other body: %v, want Conflict", err)
	}
	other := in
	other.RequestID = "pay-2"
	p3, err := w.c.CreatePayment(ctx, other)
	if err != nil || p3.ID == p1.ID {
		t.Fatalf("new RequestID = %+v, %v; want a new payment", p3, err)
	}
	if n := w.paymentCount(); n != 2 {
		t.Fatalf("%d payments, want 2", n)
	}
}

func (w *world) paymentCount() int { return w.count(kindPayment) }

func TestFaultInjection(t *testing.T) {
	tests := []struct {
		name      string
		faults    []Fault
		wantErr   apperr.Code // of the first call
		wantCalls int         // POST /payments requests the sandbox saw
	}{
		{"500 before processing is retried", []Fault{{Kind: FaultServerError, Match: "POST /payments"}}, "", 2},
		{"answer lost after processing: the retry gets the same payment", []Fault{{Kind: FaultServerErrorAfter, Match: "POST /payments"}}, "", 2},
		{"429 twice then success", []Fault{{Kind: FaultRateLimited, Match: "POST /payments"}, {Kind: FaultRateLimited, Match: "POST /payments"}}, "", 3},
		{"500 three times is Transient", []Fault{{Kind: FaultServerError, Match: "POST /payments"}, {Kind: FaultServerError, Match: "POST /payments"}, {Kind: FaultServerError, Match: "POST /payments"}}, apperr.Unavailable, 3},
		{"malformed answer is Transient", []Fault{{Kind: FaultMalformed, Match: "POST /payments"}}, apperr.Unavailable, 1},
		{"429 asking for a long wait is Transient", []Fault{{Kind: FaultRateLimited, Match: "POST /payments", RetryAfter: 60}}, apperr.Unavailable, 1},
		{"token endpoint failure is retried", []Fault{{Kind: FaultServerError, Match: "POST /oauth2/token"}}, "", 2}, // a 401, then the retry with a new token
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, Options{})
			dest := w.destination()
			if tt.faults[0].Match == "POST /oauth2/token" {
				w.s.ExpireTokens() // the client must fetch a token again, and meets the fault
			}
			w.s.InjectFaults(tt.faults...)
			in := paymentInput("pay-1", dest)
			before := w.postCount()
			p, err := w.c.CreatePayment(context.Background(), in)
			if got := apperr.CodeOf(err); (tt.wantErr == "") != (err == nil) || (err != nil && got != tt.wantErr) {
				t.Fatalf("CreatePayment = %+v, %v; want %q", p, err, tt.wantErr)
			}
			if got := w.postCount() - before; got != tt.wantCalls {
				t.Errorf("POST /payments seen %d times, want %d", got, tt.wantCalls)
			}
			// Whatever happened, retrying with the same RequestID ends with
			// exactly one payment.
			w.s.ClearFaults()
			p2, err := w.c.CreatePayment(context.Background(), in)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if p.ID != "" && p2.ID != p.ID {
				t.Errorf("retry gave payment %s, first call %s", p2.ID, p.ID)
			}
			if n := w.paymentCount(); n != 1 {
				t.Errorf("%d payments, want exactly 1", n)
			}
		})
	}
}

func (w *world) postCount() int { return int(w.posts.Load()) }

func TestTimeoutThenRetryPaysOnce(t *testing.T) {
	w := newWorld(t, Options{})
	cfg := w.s.ClientConfig(w.ts.URL)
	cfg.Timeout = 100 * time.Millisecond
	c := aiia.New(cfg, w.ts.Client(), w.clk.now)
	dest := w.destination()
	w.s.InjectFaults(Fault{Kind: FaultSlow, Match: "POST /payments", DelayMS: 300})
	in := paymentInput("pay-slow", dest)
	if _, err := c.CreatePayment(context.Background(), in); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("slow answer: %v, want Transient", err)
	}
	// The caller retries (a worker would) until Aiia answers: 409 while the
	// first request is in flight, then its cached answer.
	var p aiia.Payment
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		p, err = c.CreatePayment(context.Background(), in)
		if err == nil {
			break
		}
		if apperr.CodeOf(err) != apperr.Unavailable || time.Now().After(deadline) {
			t.Fatalf("retry: %v", err)
		}
	}
	if n := w.paymentCount(); n != 1 || p.ID == "" {
		t.Fatalf("%d payments (%+v), want exactly 1", n, p)
	}
}

func TestFailEvery(t *testing.T) {
	w := newWorld(t, Options{FailEvery: 3})
	p := w.pay("pay-1", "FR7612345678901234567890124")
	for range 5 {
		if got := w.get(p.ID); got.Status != "FAILED" {
			t.Fatalf("status = %s", got.Status)
		}
	}
}

func TestTokenExpiryIsTransparent(t *testing.T) {
	w := newWorld(t, Options{TokenTTL: time.Hour})
	p := w.payment("pay-1")
	w.s.ExpireTokens()
	w.get(p.ID)
	w.clk.add(2 * time.Hour) // the sandbox expires it; the client replaced it before
	w.get(p.ID)
	postJSON(t, w.ts.URL+"/_sandbox/tokens/expire", ``, http.StatusNoContent)
	w.get(p.ID)
}

func TestForceEveryPaymentStatus(t *testing.T) {
	w := newWorld(t, Options{})
	p := w.payment("pay-1")
	for _, code := range aiia.PaymentCodes() {
		postJSON(t, w.ts.URL+"/_sandbox/payments/"+p.ID+"/status", `{"code":"`+code+`","reason":"forcé","detailsCode":"X"}`, http.StatusNoContent)
		got := w.get(p.ID)
		if got.Status != code || got.FailureReason != "forcé" {
			t.Errorf("forced %s, read %+v", code, got)
		}
	}
	postJSON(t, w.ts.URL+"/_sandbox/payments/"+p.ID+"/status", `{"code":"PAID"}`, http.StatusBadRequest)
	postJSON(t, w.ts.URL+"/_sandbox/payments/nope/status", `{"code":"FAILED"}`, http.StatusNotFound)
	// A forced payment no longer takes the payer's decision.
	if resp := w.submit(p.FlowURL, "FR7612345678901234567890123", "authorize"); resp.StatusCode != http.StatusConflict {
		t.Errorf("submit on a forced payment = %d, want 409", resp.StatusCode)
	}
}

func TestFaultRoute(t *testing.T) {
	w := newWorld(t, Options{})
	p := w.payment("pay-1")
	postJSON(t, w.ts.URL+"/_sandbox/faults", `{"faults":[{"kind":"500","match":"GET /payments"},{"kind":"500","match":"GET /payments"},{"kind":"500","match":"GET /payments"}]}`, http.StatusNoContent)
	if _, err := w.c.GetPayment(context.Background(), p.ID); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("GetPayment through three 500s: %v, want Transient", err)
	}
	postJSON(t, w.ts.URL+"/_sandbox/faults", `{"kind":"malformed","match":"GET /payments"}`, http.StatusNoContent)
	if _, err := w.c.GetPayment(context.Background(), p.ID); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("GetPayment with a malformed answer: %v, want Transient", err)
	}
	postJSON(t, w.ts.URL+"/_sandbox/faults", `{"kind":"500"}`, http.StatusNoContent)
	req, _ := http.NewRequest(http.MethodDelete, w.ts.URL+"/_sandbox/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /_sandbox/faults = %v, %v", resp, err)
	}
	w.get(p.ID)
	postJSON(t, w.ts.URL+"/_sandbox/faults", `{"kind":"explode"}`, http.StatusBadRequest)
}

// The sandbox enforces the rail's rules itself, for clients other than
// shared/aiia (which refuses these before calling).
func TestSandboxValidatesRequests(t *testing.T) {
	w := newWorld(t, Options{})
	dest := w.destination()
	tok := w.token()
	valid := map[string]any{
		"paymentRail": "FrenchSepaCreditTransfer", "destinationId": dest, "redirectUrl": "https://x.test/r",
		"amount": 2, "currency": "EUR", "reference": "FAC 2026 00001", "endToEndId": "E2E", "endUser": map[string]any{"id": "payer_1"},
	}
	tests := []struct {
		name     string
		edit     func(map[string]any)
		status   int
		property string
	}{
		{"valid", func(map[string]any) {}, 200, ""},
		{"amount as a string", func(m map[string]any) { m["amount"] = "2.50" }, 200, ""},
		{"below 2", func(m map[string]any) { m["amount"] = 1.99 }, 400, "Amount"},
		{"fraction of a cent", func(m map[string]any) { m["amount"] = 2.001 }, 400, "Amount"},
		{"USD", func(m map[string]any) { m["currency"] = "USD" }, 400, "Currency"},
		{"reference with hyphens", func(m map[string]any) { m["reference"] = "FAC-2026-00001" }, 400, "Reference"},
		{"no reference", func(m map[string]any) { delete(m, "reference") }, 400, "Reference"},
		{"long end-to-end", func(m map[string]any) { m["endToEndId"] = strings.Repeat("e", 36) }, 400, "EndToEndId"},
		{"other rail", func(m map[string]any) { m["paymentRail"] = "SepaCreditTransfer" }, 400, "PaymentRail"},
		{"unknown destination", func(m map[string]any) { m["destinationId"] = "nope" }, 400, "DestinationId"},
		{"no redirect", func(m map[string]any) { delete(m, "redirectUrl") }, 400, "RedirectUrl"},
		{"unknown field", func(m map[string]any) { m["creditorIban"] = "FR76" }, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range valid {
				m[k] = v
			}
			tt.edit(m)
			body, _ := json.Marshal(m)
			status, out := w.raw("POST", "/payments", tok, "application/json", string(body))
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, out)
			}
			if tt.status == 400 {
				var eb aiia.ErrorBody
				if err := json.Unmarshal([]byte(out), &eb); err != nil || len(eb.Errors.Error) != 1 || eb.Errors.Error[0].ReasonCode != "INVALID_INPUT" {
					t.Fatalf("error body = %s", out)
				}
				if tt.property != "" && !strings.HasSuffix(eb.Errors.Error[0].Description, "property: "+tt.property) {
					t.Errorf("description = %q, want property %s", eb.Errors.Error[0].Description, tt.property)
				}
			}
		})
	}

	// Payment shape, as AcceptPaymentOutput.
	status, out := w.raw("POST", "/payments", tok, "application/json", mustJSON(valid))
	var created map[string]string
	json.Unmarshal([]byte(out), &created)
	status, out = w.raw("GET", "/payments/"+created["paymentId"], tok, "", "")
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); status != 200 || err != nil {
		t.Fatalf("GET payment = %d %s", status, out)
	}
	for _, k := range []string{"paymentId", "destinationId", "paymentRail", "amount", "currency", "createdDate", "status", "reference", "endToEndId"} {
		if _, ok := got[k]; !ok {
			t.Errorf("payment lacks %s: %s", k, out)
		}
	}
	st, _ := got["status"].(map[string]any)
	for _, k := range []string{"code", "lastUpdated", "events"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status lacks %s: %s", k, out)
		}
	}

	// Authentication.
	if status, _ := w.raw("GET", "/payments/"+created["paymentId"], "wrong", "", ""); status != 401 {
		t.Errorf("wrong token = %d, want 401", status)
	}
	if status, _ := w.raw("POST", "/oauth2/token", "", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_assertion_type="+
		url.QueryEscape(aiia.AssertionType)+"&client_assertion="+w.assertion()); status != 400 {
		t.Errorf("form-encoded token request = %d, want 400", status)
	}
	if status, _ := w.raw("POST", "/oauth2/token", "", "application/json", `{"grant_type":"client_credentials","client_id":"modupay-sandbox","client_secret":"nope"}`); status != 401 {
		t.Errorf("wrong secret = %d, want 401", status)
	}
	if status, _ := w.raw("GET", "/nowhere", tok, "", ""); status != 404 {
		t.Errorf("unknown route = %d, want 404", status)
	}
}

// assertion is a client assertion for this world's sandbox, signed by
// its registered key at the sandbox's clock.
func (w *world) assertion() string {
	w.t.Helper()
	k, err := aiia.ParseClientKey(w.s.ClientConfig(w.ts.URL).ClientKey)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := k.Assertion(DefaultClientID, w.ts.URL+"/oauth2/token", w.clk.now())
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (w *world) token() string {
	w.t.Helper()
	_, out := w.raw("POST", "/oauth2/token", "", "application/json", mustJSON(map[string]string{"grant_type": "client_credentials",
		"client_assertion_type": aiia.AssertionType, "client_assertion": w.assertion(), "scope": "ob_accept_payments"}))
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 {
		w.t.Fatalf("token answer = %s", out)
	}
	return tr.AccessToken
}

func (w *world) raw(method, path, token, contentType, body string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := w.ts.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func postJSON(t *testing.T, u, body string, want int) {
	t.Helper()
	resp, err := http.Post(u, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s = %d, want %d", u, resp.StatusCode, want)
	}
}

func TestStartAndIndex(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if s.URL() != base || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, Start = %q", s.URL(), base)
	}
	c := aiia.New(s.ClientConfig(base), nil, nil)
	d, err := c.CreateDestination(context.Background(), aiia.DestinationInput{RequestID: "d", IBAN: "FR7630006000011234567890189", Name: "Régie"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePayment(context.Background(), paymentInput("p", d.ID))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.FlowURL, base+"/flow/") {
		t.Errorf("flowUrl = %s, want under %s", p.FlowURL, base)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), p.ID) {
		t.Errorf("index does not list the payment")
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv(aiia.EnvClientID, "")
	t.Setenv(aiia.EnvClientSecret, "")
	t.Setenv(EnvAuthorizeDelay, "0")
	t.Setenv(EnvSettleDelay, "1500ms")
	t.Setenv(EnvRefundDelay, "bad")
	t.Setenv(EnvFailEvery, "4")
	o := OptionsFromEnv()
	want := DefaultOptions()
	want.AuthorizeDelay, want.SettleDelay, want.FailEvery = 0, 1500*time.Millisecond, 4
	if o.ClientID != want.ClientID || o.ClientSecret != want.ClientSecret || o.AuthorizeDelay != want.AuthorizeDelay ||
		o.SettleDelay != want.SettleDelay || o.RefundDelay != want.RefundDelay || o.FailEvery != want.FailEvery {
		t.Fatalf("OptionsFromEnv = %+v, want %+v", o, want)
	}
}

// The token endpoint verifies client assertions as the provider does:
// only its client's, signed by the registered certificate's key, for this
// token URL, in date, once. A client secret is refused where an assertion
// is required. Each refusal is a 401 saying why.
func TestClientAssertionsAreVerified(t *testing.T) {
	w := newWorld(t, Options{})
	reg, err := aiia.ParseClientKey(w.s.ClientConfig(w.ts.URL).ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := aiia.NewClientKey(DefaultClientID, aiia.MinKeyBits, w.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	aud := w.ts.URL + "/oauth2/token"
	now := w.clk.now()
	sign := func(key *aiia.ClientKey, kid string, method jwt.SigningMethod, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		var k any = key.Private
		if method == jwt.SigningMethodHS256 {
			k = []byte("a shared secret")
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": DefaultClientID, "sub": DefaultClientID, "aud": aud, "iat": now.Unix(),
			"exp": now.Add(5 * time.Minute).Unix(), "jti": fmt.Sprintf("jti-%d", time.Now().UnixNano())}
		if edit != nil {
			edit(c)
		}
		return c
	}
	post := func(body map[string]string) (int, string) {
		body["grant_type"] = "client_credentials"
		return w.raw("POST", "/oauth2/token", "", "application/json", mustJSON(body))
	}
	withAssertion := func(a string) (int, string) {
		return post(map[string]string{"client_assertion_type": aiia.AssertionType, "client_assertion": a})
	}
	good := sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(nil))
	if status, out := withAssertion(good); status != 200 || !strings.Contains(out, "access_token") {
		t.Fatalf("a valid assertion: %d %s", status, out)
	}
	if status, out := withAssertion(good); status != 401 || !strings.Contains(out, "used before") {
		t.Errorf("the same assertion again (a replay): %d %s", status, out)
	}
	skewed := sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) {
		c["iat"], c["exp"] = now.Add(20*time.Second).Unix(), now.Add(5*time.Minute).Unix()
	}))
	if status, out := withAssertion(skewed); status != 200 {
		t.Errorf("a client clock 20 s ahead (within the leeway): %d %s", status, out)
	}
	for _, c := range []struct{ name, assertion, why string }{
		{"signed by another key", sign(other, reg.KeyID, jwt.SigningMethodRS256, claims(nil)), "signature"},
		{"another certificate's kid", sign(other, other.KeyID, jwt.SigningMethodRS256, claims(nil)), "kid"},
		{"HS256 with a guessed secret", sign(reg, reg.KeyID, jwt.SigningMethodHS256, claims(nil)), "signing method"},
		{"expired", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		})), "expired"},
		{"from a clock 2 minutes ahead", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(2*time.Minute).Unix(), now.Add(7*time.Minute).Unix()
		})), "before issued"},
		{"living a day", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(24 * time.Hour).Unix() })), "longer"},
		{"without exp", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "exp"},
		{"without jti", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { delete(c, "jti") })), "jti"},
		{"for another audience", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { c["aud"] = "https://auth.example" })), "audience"},
		{"of another client", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { c["iss"], c["sub"] = "other", "other" })), "issuer"},
		{"sub not the client", sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(func(c jwt.MapClaims) { c["sub"] = "someone" })), "subject"},
		{"not a JWT", "not.a.jwt", "malformed"},
	} {
		if status, out := withAssertion(c.assertion); status != 401 || !strings.Contains(out, c.why) {
			t.Errorf("%s: %d %s, want a 401 saying %q", c.name, status, out, c.why)
		}
	}
	// Where an assertion is required, a secret is no way in.
	for name, body := range map[string]map[string]string{
		"the former default secret": {"client_id": DefaultClientID, "client_secret": "modupay-sandbox-secret"},
		"a secret beside a valid assertion": {"client_id": DefaultClientID, "client_secret": "x", "client_assertion_type": aiia.AssertionType,
			"client_assertion": sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(nil))},
		"no credentials":          {},
		"an assertion of no type": {"client_assertion": sign(reg, reg.KeyID, jwt.SigningMethodRS256, claims(nil))},
	} {
		if status, out := post(body); status != 401 {
			t.Errorf("%s: %d %s, want 401", name, status, out)
		}
	}
	// The client with another key is refused (an operator's error, not a
	// partner's); with the registered one it is served.
	cfg := w.s.ClientConfig(w.ts.URL)
	_, otherPEM, err := aiia.NewClientKey(DefaultClientID, aiia.MinKeyBits, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientKey = otherPEM
	if _, err := aiia.New(cfg, w.ts.Client(), w.clk.now).GetPayment(context.Background(), "p-1"); apperr.CodeOf(err) != apperr.Internal ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("a client signing with an unregistered key: %v", err)
	}
}

// A sandbox given a client secret (a stage whose stack has no key yet)
// takes client_id + client_secret, and no assertion.
func TestSecretModeSandbox(t *testing.T) {
	w := newWorld(t, Options{ClientSecret: "stage-secret"})
	if cfg := w.s.ClientConfig(w.ts.URL); cfg.ClientKey != "" || cfg.ClientSecret != "stage-secret" {
		t.Fatalf("client config %+v", cfg)
	}
	if status, out := w.raw("POST", "/oauth2/token", "", "application/json",
		`{"grant_type":"client_credentials","client_id":"modupay-sandbox","client_secret":"stage-secret"}`); status != 200 {
		t.Errorf("the stage's secret: %d %s", status, out)
	}
	k, _, err := aiia.NewClientKey(DefaultClientID, aiia.MinKeyBits, w.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.Assertion(DefaultClientID, w.ts.URL+"/oauth2/token", w.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := w.raw("POST", "/oauth2/token", "", "application/json",
		mustJSON(map[string]string{"grant_type": "client_credentials", "client_assertion_type": aiia.AssertionType, "client_assertion": a})); status != 401 {
		t.Errorf("an assertion nobody registered: %d, want 401", status)
	}
	if _, err := w.c.CreateDestination(context.Background(), aiia.DestinationInput{RequestID: "d", IBAN: "FR7630006000011234567890189", Name: "Régie"}); err != nil {
		t.Errorf("the client in secret mode: %v", err)
	}
}

// Refunds without a settlement account, as the provider documents them:
// the payer's account when the bank reported it, a collection flow when
// it did not; each route only in its status, the redirect URL registered,
// the flow expiring.
func TestRefundPaymentRails(t *testing.T) {
	ctx := context.Background()
	t.Run("no settlement account", func(t *testing.T) {
		w := newWorld(t, Options{RefundDelay: 4 * time.Second, NoSettlementAccount: true})
		p := w.pay("pay-1", "FR7612345678901234567890123")
		rf, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-1", Amount: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.c.RefundSourceAccounts(ctx, rf.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("rails of a PREPARING refund: %v, want the provider's invalid-state refusal", err)
		}
		w.clk.add(2 * time.Second)
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsAvailable {
			t.Fatalf("refund = %s, want PAYMENT_RAILS_AVAILABLE", got.Status)
		}
		w.clk.add(time.Hour)
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsAvailable {
			t.Fatalf("an available refund moved on its own: %s", got.Status)
		}
		rails, err := w.c.RefundSourceAccounts(ctx, rf.ID)
		if err != nil || len(rails) != 1 || rails[0].PaymentRail != "FrenchSepaCreditTransfer" || rails[0].IBAN != "FR7612345678901234567890123" {
			t.Fatalf("rails = %+v, %v", rails, err)
		}
		if _, err := w.c.CollectRefundAccount(ctx, rf.ID, aiia.CollectInput{RequestID: "c-1", RedirectURL: "https://pay.modupay.test/p/refund-account"}); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("collecting the account of an available refund: %v", err)
		}
		if _, err := w.c.RefundSourceAccounts(ctx, "nope"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("rails of an unknown refund: %v", err)
		}
	})
	t.Run("account collected from the payer", func(t *testing.T) {
		w := newWorld(t, Options{RefundDelay: 4 * time.Second, RedirectPrefixes: []string{"https://pay.modupay.test/p/"}})
		p := w.pay("pay-1", "FR7612345678901234567890131")
		rf, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-1", Amount: 10000})
		if err != nil {
			t.Fatal(err)
		}
		w.clk.add(2 * time.Second)
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsUnavailable {
			t.Fatalf("refund = %s, want PAYMENT_RAILS_UNAVAILABLE", got.Status)
		}
		if _, err := w.c.RefundSourceAccounts(ctx, rf.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("rails of an unavailable refund: %v", err)
		}
		redirect := "https://pay.modupay.test/p/refund-account?lang=fr"
		// Sent raw (the client checks expiry and language first).
		tok := w.token()
		in2 := func(d time.Duration) string { return w.clk.now().Add(d).Format(time.RFC3339) }
		for _, c := range []struct{ name, property, body string }{
			{"a redirect not registered", "RedirectUrl", `{"redirectUrl":"https://evil.test/p/x"}`},
			{"no redirect", "RedirectUrl", `{}`},
			{"an expiry beyond a week", "ExpiryDate", `{"redirectUrl":"` + redirect + `","expiryDate":"` + in2(8*24*time.Hour) + `"}`},
			{"an expiry past", "ExpiryDate", `{"redirectUrl":"` + redirect + `","expiryDate":"` + in2(-time.Minute) + `"}`},
			{"a language of 3 letters", "Language", `{"redirectUrl":"` + redirect + `","language":"fra"}`},
		} {
			status, out := w.raw("POST", "/refunds/"+rf.ID+"/payment-rails", tok, "application/json", c.body)
			if status != 400 || !strings.Contains(out, "property: "+c.property) {
				t.Errorf("%s: %d %s, want a 400 on %s", c.name, status, out, c.property)
			}
		}
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsUnavailable {
			t.Fatalf("a refused collection moved the refund: %s", got.Status)
		}
		flow, err := w.c.CollectRefundAccount(ctx, rf.ID, aiia.CollectInput{RequestID: "c-1", RedirectURL: redirect, Language: "fr", ExpiresAt: w.clk.now().Add(72 * time.Hour)})
		if err != nil || !strings.HasPrefix(flow, w.ts.URL+"/payment-rails/start/") {
			t.Fatalf("flow = %q, %v", flow, err)
		}
		if again, err := w.c.CollectRefundAccount(ctx, rf.ID, aiia.CollectInput{RequestID: "c-1", RedirectURL: redirect, Language: "fr", ExpiresAt: w.clk.now().Add(72 * time.Hour)}); err != nil || again != flow {
			t.Errorf("a retried collection = %q, %v; want the same flow", again, err)
		}
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundCapturingSourceAccount {
			t.Fatalf("refund = %s, want CAPTURING_SOURCE_ACCOUNT", got.Status)
		}
		if resp := w.form(flow, url.Values{"iban": {"FR7630006000011234567890188"}, "owner": {"Jeanne Martin"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("an IBAN failing MOD 97: %d", resp.StatusCode)
		}
		if resp := w.form(flow, url.Values{"iban": {"FR7630006000011234567890189"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("no holder: %d", resp.StatusCode)
		}
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundCapturingSourceAccount {
			t.Fatalf("a refused form moved the refund: %s", got.Status)
		}
		w.clk.add(time.Minute)
		resp := w.form(flow, url.Values{"iban": {"fr76 3000 6000 0112 3456 7890 189"}, "owner": {"Jeanne Martin"}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "https://pay.modupay.test/p/refund-account?lang=fr&refundId="+rf.ID {
			t.Fatalf("connect = %d %q", resp.StatusCode, loc)
		}
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsAvailable {
			t.Fatalf("refund = %s, want PAYMENT_RAILS_AVAILABLE", got.Status)
		}
		rails, err := w.c.RefundSourceAccounts(ctx, rf.ID)
		if err != nil || len(rails) != 1 || !rails[0].SEPA() || rails[0].IBAN != "FR7630006000011234567890189" || rails[0].AccountOwner != "Jeanne Martin" {
			t.Fatalf("rails = %+v, %v", rails, err)
		}
		if resp := w.form(flow, url.Values{"iban": {"FR7612345678901234567890123"}, "owner": {"Mallory"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("a second account on a used flow: %d", resp.StatusCode)
		}
		if rails, _ := w.c.RefundSourceAccounts(ctx, rf.ID); len(rails) != 1 || rails[0].IBAN != "FR7630006000011234567890189" {
			t.Errorf("the connected account changed: %+v", rails)
		}
	})
	t.Run("flow expires unused", func(t *testing.T) {
		w := newWorld(t, Options{})
		p := w.pay("pay-1", "FR7612345678901234567890131")
		rf, err := w.c.CreateRefund(ctx, p.ID, aiia.RefundInput{RequestID: "ref-1", Amount: 10000})
		if err != nil {
			t.Fatal(err)
		}
		flow, err := w.c.CollectRefundAccount(ctx, rf.ID, aiia.CollectInput{RequestID: "c-1", RedirectURL: "https://pay.modupay.test/p/x"})
		if err != nil {
			t.Fatal(err)
		}
		w.clk.add(48*time.Hour + time.Second)
		if got, _ := w.c.GetRefund(ctx, rf.ID); got.Status != aiia.RefundPaymentRailsUnavailable {
			t.Fatalf("after the flow's 48 hours: %s", got.Status)
		}
		if resp := w.form(flow, url.Values{"iban": {"FR7630006000011234567890189"}, "owner": {"Jeanne Martin"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("an expired flow took an account: %d", resp.StatusCode)
		}
		if _, err := w.c.CollectRefundAccount(ctx, rf.ID, aiia.CollectInput{RequestID: "c-2", RedirectURL: "https://pay.modupay.test/p/x"}); err != nil {
			t.Errorf("a new flow after expiry: %v", err)
		}
	})
}

// form posts a form as the payer's browser.
func (w *world) form(u string, v url.Values) *http.Response {
	w.t.Helper()
	resp, err := w.browser.PostForm(u, v)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
