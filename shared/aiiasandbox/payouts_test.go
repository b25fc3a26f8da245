package aiiasandbox

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/apperr"
)

func payoutInput(requestID, iban string) aiia.PayoutInput {
	return aiia.PayoutInput{RequestID: requestID, AccountID: "sandbox-treasury-1", Amount: 150000, Currency: "EUR",
		IBAN: iban, Name: "SARL Les Vergers", Message: "PAY-2026-001", RedirectURL: "https://back-office.example.fr/payouts"}
}

// Every outcome of a payout, driven by the beneficiary's test IBAN and the
// holder's decision, read back through the real client.
func TestPayoutOutcomes(t *testing.T) {
	cases := []struct {
		name, iban, decision string
		wantCode             string
		wantState            aiia.PayoutState
		wantReason           string
	}{
		{"executed", "FR7612345678901234567890123", "authorize", "Executed", aiia.PayoutSucceeded, ""},
		{"any other IBAN", "FR7630006000011234567890189", "authorize", "Executed", aiia.PayoutSucceeded, ""},
		{"insufficient funds", "FR7612345678901234567890124", "authorize", "Failed", aiia.PayoutFailed, "fonds insuffisants"},
		{"blocked", "FR7612345678901234567890125", "authorize", "Failed", aiia.PayoutFailed, "compte du bénéficiaire bloqué"},
		{"refused by the holder", "FR7612345678901234567890123", "refuse", "Rejected", aiia.PayoutFailed, "refusé par le titulaire du compte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, Options{AuthorizeDelay: time.Minute})
			ctx := context.Background()
			p, err := w.c.CreatePayout(ctx, payoutInput("po-"+tc.name, tc.iban))
			if err != nil {
				t.Fatal(err)
			}
			if p.State() != aiia.PayoutAwaitingAuthorization || !strings.HasPrefix(p.AuthorizationURL, w.ts.URL+"/payout-authorizations/") {
				t.Fatalf("created = %+v", p)
			}
			got, err := w.c.GetPayout(ctx, p.AccountID, p.ID)
			if err != nil || got.Status != aiia.PayoutCreated || got.Terminal {
				t.Fatalf("before authorisation = %+v, %v", got, err)
			}
			if page := w.openFlow(p.AuthorizationURL); !strings.Contains(page, "SARL Les Vergers") || !strings.Contains(page, "500,00") {
				t.Fatalf("the page does not show the payout:\n%s", page)
			}
			resp := w.submit(p.AuthorizationURL, "", tc.decision)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://back-office.example.fr/payouts?authorizationId=") {
				t.Fatalf("submit = %d %q", resp.StatusCode, loc)
			}
			if tc.decision == "authorize" {
				if got, _ = w.c.GetPayout(ctx, p.AccountID, p.ID); got.Status != "Authorized" || got.State() != aiia.PayoutPending {
					t.Fatalf("right after authorisation = %+v", got)
				}
				w.clk.add(time.Minute)
			}
			got, err = w.c.GetPayout(ctx, p.AccountID, p.ID)
			if err != nil || got.Status != tc.wantCode || !got.Terminal || got.State() != tc.wantState || got.FailureReason != tc.wantReason {
				t.Fatalf("final = %+v, %v; want %s %s %q", got, err, tc.wantCode, tc.wantState, tc.wantReason)
			}
			// Decided: the page cannot decide again.
			if resp := w.submit(p.AuthorizationURL, "", "authorize"); resp.StatusCode != http.StatusConflict {
				t.Fatalf("second decision = %d", resp.StatusCode)
			}
		})
	}
}

func TestPayoutExpiresWithoutAuthorization(t *testing.T) {
	w := newWorld(t, Options{FlowTTL: time.Hour})
	ctx := context.Background()
	p, err := w.c.CreatePayout(ctx, payoutInput("po-expire", "FR7612345678901234567890123"))
	if err != nil {
		t.Fatal(err)
	}
	w.clk.add(time.Hour + time.Second)
	got, err := w.c.GetPayout(ctx, p.AccountID, p.ID)
	if err != nil || got.Status != "Expired" || got.State() != aiia.PayoutFailed {
		t.Fatalf("after the TTL = %+v, %v", got, err)
	}
}

// The same request id creates one payout and one authorisation, even when
// the answer was lost between the two calls.
func TestPayoutIdempotent(t *testing.T) {
	w := newWorld(t, Options{})
	ctx := context.Background()
	a, err := w.c.CreatePayout(ctx, payoutInput("po-same", "FR7612345678901234567890123"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.c.CreatePayout(ctx, payoutInput("po-same", "FR7612345678901234567890123"))
	if err != nil || b.ID != a.ID || b.AuthorizationURL != a.AuthorizationURL {
		t.Fatalf("replay = %+v, %v; first %+v", b, err, a)
	}
	n, m := w.count(kindPayout), w.count(kindAuthorization)
	if n != 1 || m != 1 {
		t.Fatalf("%d payouts, %d authorisations; want 1 and 1", n, m)
	}
}

// What the real service would refuse, the sandbox refuses too.
func TestPayoutValidation(t *testing.T) {
	w := newWorld(t, Options{})
	ctx := context.Background()
	in := payoutInput("po-unknown-account", "FR7612345678901234567890123")
	in.AccountID = "someone-elses-account"
	if _, err := w.c.CreatePayout(ctx, in); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown account: %v", err)
	}
	tok := w.token()
	for name, body := range map[string]string{
		"no destination": `{"payment":{"amount":{"value":10.00,"currency":"EUR"},"destination":{"name":"X"},"message":"m","transactionText":"t"},"redirectUrl":"https://x.example/"}`,
		"USD":            `{"payment":{"amount":{"value":10.00,"currency":"USD"},"destination":{"iban":{"ibanNumber":"FR7612345678901234567890123"},"name":"X"},"message":"m","transactionText":"t"},"redirectUrl":"https://x.example/"}`,
		"zero":           `{"payment":{"amount":{"value":0,"currency":"EUR"},"destination":{"iban":{"ibanNumber":"FR7612345678901234567890123"},"name":"X"},"message":"m","transactionText":"t"},"redirectUrl":"https://x.example/"}`,
		"relative URL":   `{"payment":{"amount":{"value":10.00,"currency":"EUR"},"destination":{"iban":{"ibanNumber":"FR7612345678901234567890123"},"name":"X"},"message":"m","transactionText":"t"},"redirectUrl":"/back"}`,
		"unknown field":  `{"payment":{"amount":{"value":10.00,"currency":"EUR"},"destination":{"iban":{"ibanNumber":"FR7612345678901234567890123"},"name":"X"},"message":"m","transactionText":"t","extra":1},"redirectUrl":"https://x.example/"}`,
	} {
		if code, out := w.raw("POST", "/v2/accounts/sandbox-treasury-1/payments", tok, "application/json", body); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, code, out)
		}
	}
	if code, _ := w.raw("POST", "/v2/accounts/sandbox-treasury-1/payments", "", "application/json", `{}`); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	// A payout of one account is not readable through another.
	p, err := w.c.CreatePayout(ctx, payoutInput("po-mine", "FR7612345678901234567890123"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.GetPayout(ctx, "sandbox-treasury-2", p.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("through another account: %v", err)
	}
}
