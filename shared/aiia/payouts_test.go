package aiia

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
)

func validPayout() PayoutInput {
	return PayoutInput{RequestID: "payment-1-0", AccountID: "acc/1", Amount: 150000, Currency: "EUR", IBAN: "fr76 1234 5678 9012 3456 7890 123",
		Name: "SARL Les Vergers", Address: "1 rue des Pommiers, 69001 Lyon", Message: "PAY-2026-001 Deuxième tranche crédit équipement", RedirectURL: "https://back-office.example.fr/payouts"}
}

// The payout is created, then its authorisation, each with its own stable
// request id, in Aiia's Gen A shapes; the status is read with terminal.
func TestPayoutShapes(t *testing.T) {
	f, ts := newFake(t)
	f.defaults["POST /v2/accounts/acc%2F1/payments"] = reply{status: 200, body: `{"paymentId":"po-1"}`}
	f.defaults["POST /v2/accounts/acc%2F1/payment-authorizations"] = reply{status: 200, body: `{"authorizationId":"au-1","authorizationUrl":"https://app.aiia.eu/authorize/au-1"}`}
	f.defaults["GET /v2/accounts/acc%2F1/payments/po-1"] = reply{status: 200, body: `{"paymentId":"po-1","status":{"paymentStatusCode":"Failed","terminal":true,"details":{"code":"X","reason":"fonds insuffisants"}}}`}
	c, _ := newTestClient(ts, newClock())
	ctx := context.Background()
	p, err := c.CreatePayout(ctx, validPayout())
	if want := (Payout{ID: "po-1", AccountID: "acc/1", Status: PayoutCreated, AuthorizationURL: "https://app.aiia.eu/authorize/au-1"}); err != nil || p != want {
		t.Fatalf("CreatePayout = %+v, %v; want %+v", p, err, want)
	}
	if p.State() != PayoutAwaitingAuthorization {
		t.Errorf("a created payout is %s", p.State())
	}
	got, err := c.GetPayout(ctx, "acc/1", "po-1")
	if want := (Payout{ID: "po-1", AccountID: "acc/1", Status: "Failed", Terminal: true, FailureReason: "fonds insuffisants"}); err != nil || got != want {
		t.Fatalf("GetPayout = %+v, %v; want %+v", got, err, want)
	}
	reqs := f.apiRequests()
	want := []struct {
		path, requestID string
		body            map[string]any
	}{
		{"/v2/accounts/acc%2F1/payments", "payment-1-0", map[string]any{"payment": map[string]any{
			"amount":      map[string]any{"value": 1500.0, "currency": "EUR"},
			"destination": map[string]any{"iban": map[string]any{"ibanNumber": "FR7612345678901234567890123"}, "name": "SARL Les Vergers", "address": "1 rue des Pommiers, 69001 Lyon"},
			"message":     "PAY-2026-001 Deuxième tranche crédit équipement", "transactionText": "PAY-2026-001 Deuxième tranche crédi",
		}, "redirectUrl": "https://back-office.example.fr/payouts"}},
		{"/v2/accounts/acc%2F1/payment-authorizations", "payment-1-0-authorization", map[string]any{"paymentIds": []any{"po-1"},
			"redirectUrl": "https://back-office.example.fr/payouts", "culture": "fr-FR"}},
		{"/v2/accounts/acc%2F1/payments/po-1", "", nil},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, w := range want {
		r := reqs[i]
		if r.path != w.path || r.header.Get("X-Request-Id") != w.requestID {
			t.Errorf("request %d = %s %q, want %s %q", i, r.path, r.header.Get("X-Request-Id"), w.path, w.requestID)
		}
		var body map[string]any
		if w.body != nil {
			if err := json.Unmarshal([]byte(r.body), &body); err != nil || !reflect.DeepEqual(body, w.body) {
				t.Errorf("request %d body = %s, want %v", i, r.body, w.body)
			}
		}
	}
	if !strings.Contains(reqs[0].body, `"value":1500.00`) {
		t.Errorf("the amount is not written exactly: %s", reqs[0].body)
	}
}

func TestPayoutState(t *testing.T) {
	for _, tt := range []struct {
		code     string
		terminal bool
		want     PayoutState
	}{
		{"Created", false, PayoutAwaitingAuthorization},
		{"Authorized", false, PayoutPending},
		{"SomethingNew", false, PayoutPending},
		{"Executed", true, PayoutSucceeded},
		{"Booked", true, PayoutSucceeded},
		{"Failed", true, PayoutFailed},
		{"Rejected", true, PayoutFailed},
		{"Expired", true, PayoutFailed},
		{"SomethingNew", true, PayoutFailed},
		// Not final until Aiia says terminal, whatever the code.
		{"Executed", false, PayoutPending},
	} {
		if got := (Payout{Status: tt.code, Terminal: tt.terminal}).State(); got != tt.want {
			t.Errorf("%s terminal=%v: %s, want %s", tt.code, tt.terminal, got, tt.want)
		}
	}
}

func TestPayoutValidationAndMalformedAnswers(t *testing.T) {
	f, ts := newFake(t)
	c, _ := newTestClient(ts, newClock())
	ctx := context.Background()
	for param, change := range map[string]func(*PayoutInput){
		"request_id":   func(p *PayoutInput) { p.RequestID = " " },
		"account_id":   func(p *PayoutInput) { p.AccountID = "" },
		"currency":     func(p *PayoutInput) { p.Currency = "CDF" },
		"amount":       func(p *PayoutInput) { p.Amount = 0 },
		"iban":         func(p *PayoutInput) { p.IBAN = "5555666777" },
		"name":         func(p *PayoutInput) { p.Name = "" },
		"message":      func(p *PayoutInput) { p.Message = strings.Repeat("x", 141) },
		"redirect_url": func(p *PayoutInput) { p.RedirectURL = "/back" },
	} {
		in := validPayout()
		change(&in)
		if _, err := c.CreatePayout(ctx, in); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), param) {
			t.Errorf("%s: %v", param, err)
		}
	}
	if n := len(f.apiRequests()); n != 0 {
		t.Fatalf("%d requests sent for invalid payouts", n)
	}
	// Answers Aiia could not have meant: transient, so the poller asks again.
	f.on("POST /v2/accounts/acc%2F1/payments", reply{status: 200, body: `{}`})
	if _, err := c.CreatePayout(ctx, validPayout()); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("no paymentId: %v", err)
	}
	f.on("POST /v2/accounts/acc%2F1/payments", reply{status: 200, body: `{"paymentId":"po-1"}`})
	f.on("POST /v2/accounts/acc%2F1/payment-authorizations", reply{status: 200, body: `{"authorizationId":"au-1"}`})
	if _, err := c.CreatePayout(ctx, validPayout()); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("no authorizationUrl: %v", err)
	}
	f.on("GET /v2/accounts/acc%2F1/payments/po-1", reply{status: 200, body: `{"paymentId":"po-1","status":{}}`})
	if _, err := c.GetPayout(ctx, "acc/1", "po-1"); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("no status: %v", err)
	}
	// The account is not the client's: Aiia's 404 is final.
	f.on("POST /v2/accounts/acc%2F1/payments", reply{status: 404, body: `{"Errors":{"Error":[{"ReasonCode":"NOT_FOUND","Description":"Account not found"}]}}`})
	if _, err := c.CreatePayout(ctx, validPayout()); apperr.CodeOf(err) != apperr.NotFound || apperr.Retryable(err) {
		t.Errorf("unknown account: %v", err)
	}
}
