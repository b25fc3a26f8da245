package aiia

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

// fakeAiia is a scripted Aiia: each "METHOD /path" answers from its queue
// of replies, then from its default; every request is recorded.
type fakeAiia struct {
	t          *testing.T
	mu         sync.Mutex
	tokens     int
	tokenTTL   int64
	nextToken  int
	valid      map[string]bool
	queue      map[string][]reply
	defaults   map[string]reply
	requests   []recorded
	tokenReply *reply
}

type reply struct {
	status int
	body   string
	header map[string]string
	delay  time.Duration
}

type recorded struct {
	method, path string
	header       http.Header
	body         string
}

func newFake(t *testing.T) (*fakeAiia, *httptest.Server) {
	f := &fakeAiia{t: t, tokenTTL: 3600, valid: map[string]bool{}, queue: map[string][]reply{}, defaults: map[string]reply{}}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts
}

func (f *fakeAiia) on(key string, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue[key] = append(f.queue[key], rs...)
}

func (f *fakeAiia) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	key := r.Method + " " + r.URL.EscapedPath()
	f.requests = append(f.requests, recorded{r.Method, r.URL.EscapedPath(), r.Header.Clone(), string(body)})
	if key == "POST /oauth2/token" {
		f.tokens++
		if f.tokenReply != nil {
			rp := *f.tokenReply
			f.mu.Unlock()
			write(w, rp)
			return
		}
		f.nextToken++
		tok := "tok-" + string(rune('0'+f.nextToken))
		f.valid[tok] = true
		ttl := f.tokenTTL
		f.mu.Unlock()
		write(w, reply{status: 200, body: `{"access_token":"` + tok + `","token_type":"Bearer","expires_in":` + itoa(ttl) + `}`})
		return
	}
	if !f.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		f.mu.Unlock()
		write(w, reply{status: 401, body: `{"Errors":{"Error":[{"Source":"Accept Payments API","ReasonCode":"UNAUTHORIZED","Description":"token expired","Recoverable":false}]}}`})
		return
	}
	var rp reply
	if q := f.queue[key]; len(q) > 0 {
		rp, f.queue[key] = q[0], q[1:]
	} else if d, ok := f.defaults[key]; ok {
		rp = d
	} else {
		rp = reply{status: 404, body: `{"Errors":{"Error":[{"ReasonCode":"RESOURCE_NOT_FOUND","Description":"no route"}]}}`}
	}
	f.mu.Unlock()
	if rp.delay > 0 {
		select {
		case <-time.After(rp.delay):
		case <-r.Context().Done():
			return
		}
	}
	write(w, rp)
}

func write(w http.ResponseWriter, rp reply) {
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (f *fakeAiia) apiRequests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if r.path != "/oauth2/token" {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeAiia) tokenCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newTestClient builds a client on ts whose backoff records its waits
// instead of sleeping and has no jitter.
func newTestClient(ts *httptest.Server, clk *clock) (*Client, *[]time.Duration) {
	c := New(Config{BaseURL: ts.URL + "/", ClientID: "id", ClientSecret: "secret", Timeout: 2 * time.Second}, ts.Client(), clk.now)
	var waits []time.Duration
	var mu sync.Mutex
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func(time.Duration) time.Duration { return 0 }
	return c, &waits
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

const paymentJSON = `{"paymentId":"p-1","destinationId":"d-1","paymentRail":"FrenchSepaCreditTransfer","amount":422.2,"currency":"EUR",
 "createdDate":"2026-03-02T09:00:00Z","status":{"code":"PAYMENT_EXECUTED_CREDITED","lastUpdated":"2026-03-02T09:05:00.5+00:00",
 "events":[{"event":"PREPARING","timestamp":"2026-03-02T09:00:00Z"}]},"reference":"FAC 2026 00001","unknownField":{"x":1}}`

func validPayment() PaymentInput {
	return PaymentInput{
		RequestID: "req-1", DestinationID: "d-1", Amount: 42220, Currency: "EUR",
		Reference: "FAC 2026 00001", EndToEndID: "pi456def78", RedirectURL: "https://pay.modupay.fr/p/abc?x=1",
		PayerEmail: "payeur@example.fr", EndUserID: "payer_0123456789abcdef0123456789abcdef",
	}
}

func TestNoNetworkAtConstruction(t *testing.T) {
	f, ts := newFake(t)
	New(Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "s"}, ts.Client(), nil)
	if got := f.tokenCalls(); got != 0 {
		t.Fatalf("token calls at construction = %d, want 0", got)
	}
}

func TestTokenCachingAndRefresh(t *testing.T) {
	f, ts := newFake(t)
	f.defaults["GET /payments/p-1"] = reply{status: 200, body: paymentJSON}
	clk := newClock()
	c, _ := newTestClient(ts, clk)
	ctx := context.Background()

	get := func() {
		t.Helper()
		if _, err := c.GetPayment(ctx, "p-1"); err != nil {
			t.Fatalf("GetPayment: %v", err)
		}
	}
	get()
	get()
	if got, want := f.tokenCalls(), 1; got != want {
		t.Fatalf("token calls after two requests = %d, want %d (cached)", got, want)
	}
	clk.add(58 * time.Minute)
	get()
	if got, want := f.tokenCalls(), 1; got != want {
		t.Fatalf("token calls 58 min later = %d, want %d", got, want)
	}
	clk.add(90 * time.Second) // 59.5 min: inside the last minute, replaced early
	get()
	if got, want := f.tokenCalls(), 2; got != want {
		t.Fatalf("token calls near expiry = %d, want %d", got, want)
	}

	// Aiia forgets the token (rotation, restart): one 401, a new token, the retry succeeds.
	f.mu.Lock()
	f.valid = map[string]bool{}
	f.mu.Unlock()
	get()
	if got, want := f.tokenCalls(), 3; got != want {
		t.Fatalf("token calls after a 401 = %d, want %d", got, want)
	}
	reqs := f.apiRequests()
	if got, want := reqs[len(reqs)-1].header.Get("Authorization"), "Bearer tok-3"; got != want {
		t.Fatalf("Authorization after refresh = %q, want %q", got, want)
	}
}

func TestUnauthorizedTwiceIsInternal(t *testing.T) {
	f, ts := newFake(t)
	c, _ := newTestClient(ts, newClock())
	// Every token is refused: the handler never marks it valid.
	f.tokenReply = &reply{status: 200, body: `{"access_token":"never-valid","token_type":"Bearer","expires_in":3600}`}
	_, err := c.GetPayment(context.Background(), "p-1")
	if got, want := apperr.CodeOf(err), apperr.Internal; got != want {
		t.Fatalf("code = %s (%v), want %s", got, err, want)
	}
	if got, want := f.tokenCalls(), 2; got != want {
		t.Fatalf("token calls = %d, want %d (one refresh only)", got, want)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		want  apperr.Code
	}{
		{"credentials refused", reply{status: 401, body: `{"error":"invalid_client"}`}, apperr.Internal},
		{"bad request", reply{status: 400, body: `{"Errors":{"Error":[{"ReasonCode":"FORMAT_ERROR"}]}}`}, apperr.Internal},
		{"server error", reply{status: 503, body: ``}, apperr.Unavailable},
		{"no token", reply{status: 200, body: `{"token_type":"Bearer"}`}, apperr.Unavailable},
		{"not json", reply{status: 200, body: `<html>`}, apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ts := newFake(t)
			f.tokenReply = &tt.reply
			c, _ := newTestClient(ts, newClock())
			_, err := c.GetPayment(context.Background(), "p-1")
			if got := apperr.CodeOf(err); got != tt.want {
				t.Fatalf("code = %s (%v), want %s", got, err, tt.want)
			}
			if ae, _ := apperr.As(err); ae.Op != "aiia.payments.get" {
				t.Errorf("op = %q, want aiia.payments.get", ae.Op)
			}
			if len(f.apiRequests()) != 0 {
				t.Errorf("an API request was sent without a token")
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	c := New(Config{}, nil, nil)
	_, err := c.GetPayment(context.Background(), "p-1")
	if got, want := apperr.CodeOf(err), apperr.Internal; got != want {
		t.Fatalf("code = %s (%v), want %s", got, err, want)
	}
}

func TestRequestShapes(t *testing.T) {
	f, ts := newFake(t)
	f.defaults["POST /payments"] = reply{status: 200, body: `{"paymentId":"p-1","flowUrl":"https://connect.aiia.eu/start/x"}`}
	f.defaults["GET /payments/p%2F1"] = reply{status: 200, body: strings.Replace(paymentJSON, `"p-1"`, `"p/1"`, 1)}
	f.defaults["POST /payments/p-1/refunds"] = reply{status: 200, body: `{"refundId":"r-1"}`}
	f.defaults["GET /refunds/r-1"] = reply{status: 200, body: `{"refundId":"r-1","paymentId":"p-1","amount":"100.00","currency":"EUR","reason":"ORDER_CANCELLED",
		"status":{"code":"FAILED","lastUpdated":"2026-03-02T10:00:00","details":{"code":"X","reason":"compte clôturé"}}}`}
	f.defaults["POST /destinations"] = reply{status: 200, body: `{"destinationId":"d-1"}`}
	clk := newClock()
	c, _ := newTestClient(ts, clk)
	ctx := context.Background()

	dest, err := c.CreateDestination(ctx, DestinationInput{RequestID: "dest-req", IBAN: "fr76 1234 5678 9012 3456 7890 123", BIC: "bnpafrpp", Name: " Régie des eaux "})
	if err != nil || dest.ID != "d-1" {
		t.Fatalf("CreateDestination = %+v, %v", dest, err)
	}
	p, err := c.CreatePayment(ctx, validPayment())
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if want := (Payment{ID: "p-1", Status: PaymentPreparing, FlowURL: "https://connect.aiia.eu/start/x", Amount: 42220, Currency: "EUR", UpdatedAt: clk.now()}); p != want {
		t.Errorf("CreatePayment = %+v, want %+v", p, want)
	}
	got, err := c.GetPayment(ctx, "p/1")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if want := (Payment{ID: "p/1", Status: PaymentExecutedCredited, Amount: 42220, Currency: "EUR", UpdatedAt: time.Date(2026, 3, 2, 9, 5, 0, 500e6, time.UTC)}); got != want {
		t.Errorf("GetPayment = %+v, want %+v", got, want)
	}
	rf, err := c.CreateRefund(ctx, "p-1", RefundInput{RequestID: "ref-req", Amount: 10000, Reason: "Facture annulée suite à erreur"})
	if err != nil || rf != (Refund{ID: "r-1", PaymentID: "p-1", Status: RefundPreparing, Amount: 10000}) {
		t.Fatalf("CreateRefund = %+v, %v", rf, err)
	}
	if _, err := c.CreateRefund(ctx, "p-1", RefundInput{RequestID: "ref-req-2", Amount: 5, Reason: RefundReasonGoodsReturned}); err != nil {
		t.Fatalf("CreateRefund with an Aiia reason: %v", err)
	}
	gr, err := c.GetRefund(ctx, "r-1")
	if err != nil || gr != (Refund{ID: "r-1", PaymentID: "p-1", Status: RefundFailed, Amount: 10000, FailureReason: "compte clôturé"}) {
		t.Fatalf("GetRefund = %+v, %v", gr, err)
	}

	wantBodies := []struct {
		method, path, requestID string
		body                    map[string]any
	}{
		{"POST", "/destinations", "dest-req", map[string]any{"name": "Régie des eaux", "iban": "FR7612345678901234567890123", "bic": "BNPAFRPP"}},
		{"POST", "/payments", "req-1", map[string]any{
			"paymentRail": "FrenchSepaCreditTransfer", "destinationId": "d-1", "redirectUrl": "https://pay.modupay.fr/p/abc?x=1",
			"amount": 422.20, "currency": "EUR", "reference": "FAC 2026 00001", "endToEndId": "pi456def78",
			"endUser": map[string]any{"id": "payer_0123456789abcdef0123456789abcdef", "email": "payeur@example.fr"},
		}},
		{"GET", "/payments/p%2F1", "", nil},
		{"POST", "/payments/p-1/refunds", "ref-req", map[string]any{"amount": 100.0, "currency": "EUR", "reason": "ORDER_CANCELLED", "clientAssignedReference": "Facture annulée suite à erreur"}},
		{"POST", "/payments/p-1/refunds", "ref-req-2", map[string]any{"amount": 0.05, "currency": "EUR", "reason": "GOODS_RETURNED"}},
		{"GET", "/refunds/r-1", "", nil},
	}
	reqs := f.apiRequests()
	if len(reqs) != len(wantBodies) {
		t.Fatalf("%d API requests, want %d", len(reqs), len(wantBodies))
	}
	for i, w := range wantBodies {
		r := reqs[i]
		if r.method != w.method || r.path != w.path {
			t.Errorf("request %d = %s %s, want %s %s", i, r.method, r.path, w.method, w.path)
		}
		if got, want := r.header.Get("Authorization"), "Bearer tok-1"; got != want {
			t.Errorf("request %d Authorization = %q, want %q", i, got, want)
		}
		if got := r.header.Get("X-Request-Id"); got != w.requestID {
			t.Errorf("request %d X-Request-Id = %q, want %q", i, got, w.requestID)
		}
		if w.body == nil {
			if r.body != "" {
				t.Errorf("request %d has a body: %s", i, r.body)
			}
			continue
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("request %d Content-Type = %q", i, got)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("request %d body: %v", i, err)
		}
		if !reflect.DeepEqual(got, w.body) {
			t.Errorf("request %d body = %v, want %v", i, got, w.body)
		}
	}
	// The amount is written exactly, never through a float.
	if !strings.Contains(reqs[1].body, `"amount":422.20`) {
		t.Errorf("payment body %s does not carry amount 422.20", reqs[1].body)
	}
	// The token request.
	f.mu.Lock()
	tok := f.requests[0]
	f.mu.Unlock()
	var tb map[string]string
	if err := json.Unmarshal([]byte(tok.body), &tb); err != nil || tb["grant_type"] != "client_credentials" || tb["client_id"] != "id" || tb["client_secret"] != "secret" {
		t.Errorf("token request body = %s (%v)", tok.body, err)
	}
}

func TestErrorMapping(t *testing.T) {
	aiiaErr := func(rc, desc, details string) string {
		return `{"Errors":{"Error":[{"Source":"Accept Payments API","ReasonCode":"` + rc + `","Description":"` + desc + `","Recoverable":false,"Details":"` + details + `"}]}}`
	}
	tests := []struct {
		name      string
		replies   []reply
		wantCode  apperr.Code
		wantParam string
		wantMsg   string
		wantCalls int
	}{
		{"invalid input names the field", []reply{{status: 400, body: aiiaErr("INVALID_INPUT", "Validation error occurred for the property: RedirectUrl", "The RedirectUrl field is required.")}},
			apperr.Invalid, "redirect_url", "Aiia: Validation error occurred for the property: RedirectUrl: The RedirectUrl field is required.", 1},
		{"nested property", []reply{{status: 400, body: aiiaErr("INVALID_INPUT", "Validation error occurred for the property: EndUser.Email", "")}},
			apperr.Invalid, "end_user.email", "", 1},
		{"short shape Code/Message", []reply{{status: 400, body: `{"Errors":{"Error":[{"Code":"INVALID_INPUT","Message":"amount too low"}]}}`}},
			apperr.Invalid, "", "Aiia: amount too low", 1},
		{"invalid state", []reply{{status: 400, body: aiiaErr("RESOURCE_IN_INVALID_STATE", "payment is not credited", "")}}, apperr.Conflict, "", "Aiia: payment is not credited", 1},
		{"provider down", []reply{{status: 400, body: aiiaErr("PROVIDER_TEMPORARILY_UNAVAILABLE", "bank down", "")}}, apperr.Unavailable, "", "", 1},
		{"not found", []reply{{status: 404, body: aiiaErr("RESOURCE_NOT_FOUND", "Destination not found", "")}}, apperr.NotFound, "", "Aiia: Destination not found", 1},
		{"forbidden", []reply{{status: 403, body: aiiaErr("FORBIDDEN", "refunds are not enabled", "")}}, apperr.Conflict, "", "Aiia: refunds are not enabled", 1},
		{"request id reused", []reply{{status: 422, body: aiiaErr("INVALID_INPUT", "X-Request-Id reused", "")}}, apperr.Conflict, "", "", 1},
		{"unexpected 4xx", []reply{{status: 415, body: ``}}, apperr.Internal, "", "internal error", 1},
		{"500 three times", []reply{{status: 500}, {status: 502}, {status: 503}}, apperr.Unavailable, "", "", 3},
		{"500 then success", []reply{{status: 500, body: aiiaErr("INTERNAL_ERROR", "x", "")}, {status: 200, body: `{"paymentId":"p-1","flowUrl":"u"}`}}, "", "", "", 2},
		{"409 in flight then the cached answer", []reply{{status: 409}, {status: 200, body: `{"paymentId":"p-1","flowUrl":"u"}`}}, "", "", "", 2},
		{"malformed json", []reply{{status: 200, body: `{"paymentId":`}}, apperr.Unavailable, "", "", 1},
		{"html instead of json", []reply{{status: 200, body: `<html>maintenance</html>`}}, apperr.Unavailable, "", "", 1},
		{"no payment id", []reply{{status: 200, body: `{"flowUrl":"u"}`}}, apperr.Unavailable, "", "", 1},
		{"429 then success", []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, {status: 200, body: `{"paymentId":"p-1","flowUrl":"u"}`}}, "", "", "", 2},
		{"429 three times", []reply{{status: 429}, {status: 429}, {status: 429}}, apperr.Unavailable, "", "", 3},
		{"429 asking for too long", []reply{{status: 429, header: map[string]string{"Retry-After": "30"}}}, apperr.Unavailable, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ts := newFake(t)
			f.on("POST /payments", tt.replies...)
			c, _ := newTestClient(ts, newClock())
			p, err := c.CreatePayment(context.Background(), validPayment())
			if tt.wantCode == "" {
				if err != nil || p.ID != "p-1" {
					t.Fatalf("CreatePayment = %+v, %v; want success", p, err)
				}
			} else {
				ae, ok := apperr.As(err)
				if !ok {
					t.Fatalf("err = %v, want an apperr", err)
				}
				if ae.Code != tt.wantCode {
					t.Errorf("code = %s (%v), want %s", ae.Code, err, tt.wantCode)
				}
				if ae.Param != tt.wantParam {
					t.Errorf("param = %q, want %q", ae.Param, tt.wantParam)
				}
				if tt.wantMsg != "" && ae.Message != tt.wantMsg {
					t.Errorf("message = %q, want %q", ae.Message, tt.wantMsg)
				}
				if ae.Op != "aiia.payments.create" {
					t.Errorf("op = %q", ae.Op)
				}
			}
			reqs := f.apiRequests()
			if len(reqs) != tt.wantCalls {
				t.Fatalf("%d calls, want %d", len(reqs), tt.wantCalls)
			}
			for i, r := range reqs {
				if got := r.header.Get("X-Request-Id"); got != "req-1" {
					t.Errorf("attempt %d X-Request-Id = %q, want req-1 (the same on every retry)", i, got)
				}
			}
		})
	}
}

func TestBackoffWaits(t *testing.T) {
	tests := []struct {
		name    string
		replies []reply
		want    []time.Duration
	}{
		{"Retry-After seconds honoured", []reply{{status: 429, header: map[string]string{"Retry-After": "2"}}, {status: 200, body: `{"paymentId":"p","flowUrl":"u"}`}}, []time.Duration{2 * time.Second}},
		{"Retry-After date honoured", []reply{{status: 503, header: map[string]string{"Retry-After": "Mon, 02 Mar 2026 09:00:01 GMT"}}, {status: 200, body: `{"paymentId":"p","flowUrl":"u"}`}}, []time.Duration{time.Second}},
		{"exponential without Retry-After", []reply{{status: 429}, {status: 429}, {status: 429}}, []time.Duration{125 * time.Millisecond, 250 * time.Millisecond}},
		{"too long a Retry-After is not waited", []reply{{status: 429, header: map[string]string{"Retry-After": "3600"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ts := newFake(t)
			f.on("POST /payments", tt.replies...)
			c, waits := newTestClient(ts, newClock())
			c.CreatePayment(context.Background(), validPayment())
			if !reflect.DeepEqual(*waits, tt.want) {
				t.Fatalf("waits = %v, want %v", *waits, tt.want)
			}
		})
	}
}

func TestRealBackoffIsBounded(t *testing.T) {
	f, ts := newFake(t)
	f.on("POST /payments", reply{status: 429}, reply{status: 503}, reply{status: 500})
	c := New(Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "s"}, ts.Client(), nil)
	start := time.Now()
	_, err := c.CreatePayment(context.Background(), validPayment())
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("err = %v, want Transient", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("three attempts took %v", d)
	}
}

func TestTimeoutsAndConnectionErrors(t *testing.T) {
	t.Run("slow answer", func(t *testing.T) {
		f, ts := newFake(t)
		f.on("GET /payments/p-1", reply{status: 200, body: paymentJSON, delay: time.Second})
		c, _ := newTestClient(ts, newClock())
		c.cfg.Timeout = 50 * time.Millisecond
		_, err := c.GetPayment(context.Background(), "p-1")
		if got, want := apperr.CodeOf(err), apperr.Unavailable; got != want {
			t.Fatalf("code = %s (%v), want %s", got, err, want)
		}
		if n := len(f.apiRequests()); n != 1 {
			t.Errorf("%d attempts, want 1 (a timeout is not retried within the call)", n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := New(Config{BaseURL: "http://" + addr, ClientID: "id", ClientSecret: "s"}, nil, nil)
		var waits int
		c.sleep = func(ctx context.Context, d time.Duration) error { waits++; return nil }
		_, err = c.GetPayment(context.Background(), "p-1")
		if got, want := apperr.CodeOf(err), apperr.Unavailable; got != want {
			t.Fatalf("code = %s (%v), want %s", got, err, want)
		}
		if waits != maxAttempts-1 {
			t.Errorf("waited %d times, want %d", waits, maxAttempts-1)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		_, ts := newFake(t)
		c, _ := newTestClient(ts, newClock())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.GetPayment(ctx, "p-1")
		if got, want := apperr.CodeOf(err), apperr.Unavailable; got != want {
			t.Fatalf("code = %s (%v), want %s", got, err, want)
		}
	})
}

func TestValidationBeforeAnyCall(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*PaymentInput)
		param string
	}{
		{"no request id", func(p *PaymentInput) { p.RequestID = " " }, "request_id"},
		{"no destination", func(p *PaymentInput) { p.DestinationID = "" }, "destination_id"},
		{"not EUR", func(p *PaymentInput) { p.Currency = "USD" }, "currency"},
		{"lower-case eur", func(p *PaymentInput) { p.Currency = "eur" }, "currency"},
		{"below 2 euros", func(p *PaymentInput) { p.Amount = 199 }, "amount"},
		{"negative", func(p *PaymentInput) { p.Amount = -500 }, "amount"},
		{"reference with a hyphen", func(p *PaymentInput) { p.Reference = "FAC-2026-00001" }, "reference"},
		{"reference too long", func(p *PaymentInput) { p.Reference = strings.Repeat("A", 23) }, "reference"},
		{"reference with an accent", func(p *PaymentInput) { p.Reference = "Facture é" }, "reference"},
		{"end-to-end id too long", func(p *PaymentInput) { p.EndToEndID = strings.Repeat("1", 36) }, "end_to_end_id"},
		{"end-to-end id outside SEPA characters", func(p *PaymentInput) { p.EndToEndID = "id_1" }, "end_to_end_id"},
		{"relative redirect", func(p *PaymentInput) { p.RedirectURL = "/p/abc" }, "redirect_url"},
		{"bad email", func(p *PaymentInput) { p.PayerEmail = "nobody" }, "payer_email"},
		// Aiia requires at least one character, and endUser with its id for
		// an unlicensed tenant; the id is a pseudonym, never the address.
		{"empty reference", func(p *PaymentInput) { p.Reference = "" }, "reference"},
		{"blank reference", func(p *PaymentInput) { p.Reference = "   " }, "reference"},
		{"no end user id", func(p *PaymentInput) { p.EndUserID = "" }, "end_user_id"},
		{"the email as end user id", func(p *PaymentInput) { p.EndUserID = "payeur@example.fr" }, "end_user_id"},
		{"end user id too long", func(p *PaymentInput) { p.EndUserID = strings.Repeat("x", 65) }, "end_user_id"},
	}
	f, ts := newFake(t)
	c, _ := newTestClient(ts, newClock())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validPayment()
			tt.edit(&in)
			_, err := c.CreatePayment(context.Background(), in)
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.Invalid || ae.Param != tt.param {
				t.Fatalf("err = %v, want Invalid on %s", err, tt.param)
			}
		})
	}
	okCases := map[string]func(*PaymentInput){
		"exactly 2 euros":         func(p *PaymentInput) { p.Amount = 200 },
		"22-character reference":  func(p *PaymentInput) { p.Reference = strings.Repeat("A", 22) },
		"35-character end-to-end": func(p *PaymentInput) { p.EndToEndID = strings.Repeat("1", 35) },
		"no end-to-end id":        func(p *PaymentInput) { p.EndToEndID = "" },
		"no payer email":          func(p *PaymentInput) { p.PayerEmail = "" },
	}
	for name, edit := range okCases {
		in := validPayment()
		edit(&in)
		if err := in.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	destCases := []struct {
		name  string
		in    DestinationInput
		param string
	}{
		{"no request id", DestinationInput{IBAN: "FR7612345678901234567890123", Name: "R"}, "request_id"},
		{"bad iban", DestinationInput{RequestID: "r", IBAN: "FR76 12", Name: "R"}, "iban"},
		{"bad bic", DestinationInput{RequestID: "r", IBAN: "FR7612345678901234567890123", BIC: "BNP", Name: "R"}, "bic"},
		{"no name", DestinationInput{RequestID: "r", IBAN: "FR7612345678901234567890123"}, "name"},
	}
	for _, tt := range destCases {
		_, err := c.CreateDestination(context.Background(), tt.in)
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Param != tt.param {
			t.Errorf("destination %s: err = %v, want Invalid on %s", tt.name, err, tt.param)
		}
	}
	refundCases := []struct {
		name      string
		paymentID string
		in        RefundInput
		param     string
	}{
		{"no payment", "", RefundInput{RequestID: "r", Amount: 1}, "payment_id"},
		{"no request id", "p", RefundInput{Amount: 1}, "request_id"},
		{"zero", "p", RefundInput{RequestID: "r"}, "amount"},
	}
	for _, tt := range refundCases {
		_, err := c.CreateRefund(context.Background(), tt.paymentID, tt.in)
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Invalid || ae.Param != tt.param {
			t.Errorf("refund %s: err = %v, want Invalid on %s", tt.name, err, tt.param)
		}
	}
	for _, id := range []string{"", "  "} {
		if _, err := c.GetPayment(context.Background(), id); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("GetPayment(%q) = %v, want Invalid", id, err)
		}
		if _, err := c.GetRefund(context.Background(), id); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("GetRefund(%q) = %v, want Invalid", id, err)
		}
	}
	if n := f.tokenCalls() + len(f.apiRequests()); n != 0 {
		t.Fatalf("%d requests sent for invalid input, want 0", n)
	}
}

func TestMalformedStatusAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		want apperr.Code
	}{
		{"fine", paymentJSON, ""},
		{"no status code", `{"paymentId":"p-1","amount":1,"currency":"EUR","status":{}}`, apperr.Unavailable},
		{"fraction of a cent", `{"paymentId":"p-1","amount":1.234,"currency":"EUR","status":{"code":"PREPARING"}}`, apperr.Unavailable},
		{"amount is text", `{"paymentId":"p-1","amount":"abc","currency":"EUR","status":{"code":"PREPARING"}}`, apperr.Unavailable},
		{"odd dates are ignored", `{"paymentId":"p-1","amount":2,"currency":"EUR","createdDate":"yesterday","status":{"code":"PREPARING","lastUpdated":null}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ts := newFake(t)
			f.on("GET /payments/p-1", reply{status: 200, body: tt.body})
			c, _ := newTestClient(ts, newClock())
			_, err := c.GetPayment(context.Background(), "p-1")
			if got := apperr.CodeOf(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	f, ts := newFake(t)
	f.defaults["GET /payments/p-1"] = reply{status: 200, body: paymentJSON}
	c, _ := newTestClient(ts, newClock())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetPayment(context.Background(), "p-1")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.tokenCalls(); got != 1 {
		t.Fatalf("token calls = %d, want 1", got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvBaseURL, "https://api.example")
	t.Setenv(EnvTokenURL, "")
	t.Setenv(EnvClientID, "cid")
	t.Setenv(EnvClientSecret, "cs")
	t.Setenv(EnvTimeout, "3s")
	got := ConfigFromEnv()
	want := Config{BaseURL: "https://api.example", ClientID: "cid", ClientSecret: "cs", Timeout: 3 * time.Second}
	if got != want {
		t.Fatalf("ConfigFromEnv = %+v, want %+v", got, want)
	}
	if c := New(got, nil, nil); c.cfg.TokenURL != "https://api.example/oauth2/token" {
		t.Errorf("default token URL = %q", c.cfg.TokenURL)
	}
}
