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

// A payment whose refund the provider can neither pay out nor name the
// account of (PAYMENT_RAILS_UNAVAILABLE).
const ibanRefundAccountUnknown = "FR7612345678901234567890131"

// A refund Aiia does not pay out and whose payer's account it does not
// know: ModuPay opens Aiia's flow where the payer connects the account to
// refund and gives its link to the partner (next_action url); once the
// payer connected one, the refund names it (pay_payer_account, event
// refund.next_action_changed); the organisation pays it and confirms.
func TestRefundAccountCollectedFromThePayer(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second}, Timeout: time.Second}})
	iw := invoiceWorldOn(t, w)
	rcv := newReceiver(t, nil)
	w.subscribe(iw.token, rcv.url(), "refund.next_action_changed")

	inv, pi := iw.paidIntent(t, ibanRefundAccountUnknown)
	r := iw.createRefund(refundBody(pi, 10000, "Remise"), 201).json(t)
	id := r["id"].(string)
	var next map[string]any
	waitFor(t, refundWaitLimit, func() (bool, string) {
		r = iw.refund(id)
		next, _ = r["next_action"].(map[string]any)
		return r["status"] == "requires_action" && next["url"] != nil, fmt.Sprintf("refund %s is %v, next_action %v", id, r["status"], next)
	})
	flow := next["url"].(string)
	if next["type"] != "collect_payer_account" || next["payer_account"] != nil || next["expires_at"] == nil {
		t.Errorf("a refund whose payer's account is unknown: %v", next)
	}
	// The payer's data cannot be erased while their refund is owed.
	if a := iw.erase(eraseBody(seedEmail, "RGPD"), 409); !strings.Contains(errMessage(t, a), id) {
		t.Errorf("erasure while the refund waits: %s", a.body)
	}
	noFollow := *w.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	back := submitBankPage(t, &noFollow, flow, url.Values{"iban": {"FR76 3000 6000 0112 3456 7890 189"}, "owner": {"Jeanne Martin"}})
	loc := back.Header.Get("Location")
	if back.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, w.srv.URL+"/p/refund-account") {
		t.Fatalf("the flow sends the payer back to %d %q", back.StatusCode, loc)
	}
	thanks := string(iw.do(exchange{method: "GET", route: "/p/refund-account", path: loc[len(w.srv.URL):], status: 200}).body)
	if !strings.Contains(thanks, "Compte transmis") || strings.Contains(thanks, id) {
		t.Errorf("the payer's page once the account is sent:\n%s", thanks)
	}

	waitFor(t, refundWaitLimit, func() (bool, string) {
		r = iw.refund(id)
		next, _ = r["next_action"].(map[string]any)
		return next["type"] == "pay_payer_account", fmt.Sprintf("refund %s next_action %v", id, next)
	})
	acct, _ := next["payer_account"].(map[string]any)
	if r["status"] != "requires_action" || acct["iban"] != "FR7630006000011234567890189" || acct["account_holder_name"] != "Jeanne Martin" || next["url"] != nil {
		t.Errorf("the refund once the payer connected an account: %v", r)
	}
	waitFor(t, refundWaitLimit, func() (bool, string) {
		for _, req := range rcv.requests() {
			var env struct {
				Type string `json:"event_type"`
				Data struct {
					RefundID string `json:"refund_id"`
					Previous string `json:"previous_next_action_type"`
					Next     string `json:"next_action_type"`
				} `json:"data"`
			}
			if json.Unmarshal(req.body, &env) == nil && env.Type == "refund.next_action_changed" && env.Data.RefundID == id &&
				env.Data.Previous == "collect_payer_account" && env.Data.Next == "pay_payer_account" {
				return true, ""
			}
		}
		var got []string
		for _, req := range rcv.requests() {
			got = append(got, string(req.body))
		}
		return false, "no refund.next_action_changed collect → pay received: " + strings.Join(got, "\n")
	})
	done := iw.refundAction(id, "confirm", 200).json(t)
	if done["status"] != "succeeded" || done["next_action"] != nil {
		t.Errorf("confirmed refund = %v", done)
	}
	iw.wantRefundCreditNote(t, inv, done, 1)
	w.waitDrained(t, refundWaitLimit, "AiiaPollQueue", "AiiaPollDLQ")
}
