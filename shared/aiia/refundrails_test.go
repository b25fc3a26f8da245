package aiia

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

func TestRefundPaymentRails(t *testing.T) {
	f, ts := newFake(t)
	c, _ := newTestClient(ts, newClock())
	ctx := context.Background()
	f.defaults["GET /refunds/r-1/payment-rails"] = reply{status: 200, body: `[{"paymentRail":"UkFasterPayments","sortCode":"123456","accountNumber":"1"},
		{"paymentRail":"FrenchSepaCreditTransfer","iban":"fr76 3000 6000 0112 3456 7890 189"},{"paymentRail":"SepaCreditTransfer","iban":"DE89370400440532013000","accountOwner":"Jeanne Martin"}]`}
	got, err := c.RefundSourceAccounts(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].SEPA() || !got[1].SEPA() || got[1].IBAN != "FR7630006000011234567890189" || got[2].AccountOwner != "Jeanne Martin" {
		t.Fatalf("rails %+v", got)
	}
	f.defaults["GET /refunds/r-2/payment-rails"] = reply{status: 400, body: `{"Errors":{"Error":[{"Source":"Accept Payments API","ReasonCode":"INVALID_STATE","Description":"not PAYMENT_RAILS_AVAILABLE","Recoverable":false}]}}`}
	if _, err := c.RefundSourceAccounts(ctx, "r-2"); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a refund without rails: %v (%s)", err, apperr.CodeOf(err))
	}
	f.defaults["GET /refunds/r-3/payment-rails"] = reply{status: 200, body: `[{"iban":"FR7630006000011234567890189"}]`}
	if _, err := c.RefundSourceAccounts(ctx, "r-3"); err == nil || !apperr.Retryable(err) {
		t.Errorf("a rail without its kind is a malformed answer: %v", err)
	}
	if _, err := c.RefundSourceAccounts(ctx, " "); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("no id: %v", err)
	}
}

func TestCollectRefundAccount(t *testing.T) {
	f, ts := newFake(t)
	c, _ := newTestClient(ts, newClock())
	ctx := context.Background()
	f.defaults["POST /refunds/r-1/payment-rails"] = reply{status: 200, body: `{"flowUrl":"https://aiia.example/payment-rails/start/r-1"}`}
	exp := newClock().now().Add(72 * time.Hour)
	url, err := c.CollectRefundAccount(ctx, "r-1", CollectInput{RequestID: "collect-rf1", RedirectURL: "https://pay.modupay.fr/p/refund-account", Language: "fr", ExpiresAt: exp})
	if err != nil || url != "https://aiia.example/payment-rails/start/r-1" {
		t.Fatalf("flow %q %v", url, err)
	}
	req := f.requests[len(f.requests)-1]
	var body map[string]any
	if err := json.Unmarshal([]byte(req.body), &body); err != nil {
		t.Fatal(err)
	}
	if req.header.Get("X-Request-Id") != "collect-rf1" || body["redirectUrl"] != "https://pay.modupay.fr/p/refund-account" || body["language"] != "fr" ||
		body["expiryDate"] != exp.Format(time.RFC3339) {
		t.Errorf("request %v %v", req.header, body)
	}
	n := len(f.requests)
	for name, in := range map[string]CollectInput{
		"no request id":     {RedirectURL: "https://x.fr/"},
		"relative redirect": {RequestID: "a", RedirectURL: "/p/x"},
		"language":          {RequestID: "a", RedirectURL: "https://x.fr/", Language: "fra"},
		"expiry past":       {RequestID: "a", RedirectURL: "https://x.fr/", ExpiresAt: newClock().now().Add(-time.Minute)},
		"expiry over 7 d":   {RequestID: "a", RedirectURL: "https://x.fr/", ExpiresAt: newClock().now().Add(8 * 24 * time.Hour)},
	} {
		if _, err := c.CollectRefundAccount(ctx, "r-1", in); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(f.requests) != n {
		t.Errorf("refused requests reached the provider")
	}
	f.defaults["POST /refunds/r-2/payment-rails"] = reply{status: 200, body: `{}`}
	if _, err := c.CollectRefundAccount(ctx, "r-2", CollectInput{RequestID: "b", RedirectURL: "https://x.fr/"}); err == nil || !apperr.Retryable(err) {
		t.Errorf("no flowUrl is malformed: %v", err)
	}
}
