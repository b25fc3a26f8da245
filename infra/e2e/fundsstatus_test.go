package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/wiring"
)

// The sandbox's test IBANs for the provider's last words: a payment whose
// bank confirms only the debit, and one the provider loses track of.
const (
	ibanDebitedOnly = "FR7612345678901234567890129"
	ibanUnknown     = "FR7612345678901234567890130"
)

// Aiia documents PAYMENT_EXECUTED_DEBITED and PAYMENT_EXECUTED_CREDITED as
// successful and final, and stops following a payment there: a payment that
// ends at DEBITED pays its invoice (funds_status debited), one credited says
// so (credited). One that ends UNKNOWN is neither paid nor failed: the
// intent requires_action with its event, the invoice is unchanged, the
// payer's page says not to pay again, and nothing is paid later.
func TestWhatThePaymentProviderSaysLast(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second}, Timeout: time.Second}})
	iw := invoiceWorldOn(t, w)
	rcv := newReceiver(t, nil)
	w.subscribe(iw.token, rcv.url(), "payment_intent.status_changed")

	inv, pi := iw.paidIntent(t, ibanDebitedOnly)
	if got := iw.intent(pi); got["funds_status"] != "debited" || got["aiia_status"] != "settled" || got["completed_at"] == nil {
		t.Errorf("a payment executed, debited only: %v", got)
	}
	if got := iw.invoice(inv); got["status"] != "paid" || got["amount_paid"] != seedInvoiceTotal {
		t.Errorf("the invoice of a payment debited only: %v, paid %v", got["status"], got["amount_paid"])
	}
	_, credited := iw.paidIntent(t, ibanRefundSucceeds)
	if got := iw.intent(credited); got["funds_status"] != "credited" {
		t.Errorf("a payment credited: funds_status %v", got["funds_status"])
	}

	lostInv := iw.issuedInvoice(t)
	l := iw.link(linkBody(lostInv, ""), 201).json(t)
	page := l["payment_page_url"].(string)
	w.payAtBankShowing(t, page, ibanUnknown, "authorize", "Payer par virement", "FAC-")
	lost := iw.waitIntent(t, l["payment_intent_id"].(string), "requires_action")
	if !strings.HasPrefix(fmt.Sprint(lost["failure_reason"]), "payment_unknown_at_provider") || lost["funds_status"] != nil || lost["completed_at"] != nil {
		t.Errorf("a payment lost at the provider: %v", lost)
	}
	if got := iw.invoice(lostInv); got["status"] != "issued" || got["amount_paid"] != 0.0 {
		t.Errorf("the invoice of a payment lost at the provider: %v, paid %v", got["status"], got["amount_paid"])
	}
	token := page[strings.LastIndex(page, "/")+1:]
	html := string(iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body)
	if !strings.Contains(html, "ne payez pas une seconde fois") || strings.Contains(html, `data-poll="`) {
		t.Errorf("the payer's page of a payment lost at the provider:\n%s", html)
	}
	// Its event says so; and it stays so: the poller stopped following it
	// (its queue holds nothing, nothing parked in the DLQ), so no later
	// answer pays the invoice behind the organisation's back.
	waitFor(t, refundWaitLimit, func() (bool, string) {
		for _, r := range rcv.requests() {
			var env struct {
				Data struct {
					Previous string `json:"previous_status"`
					Current  string `json:"current_status"`
					Intent   struct {
						ID string `json:"id"`
					} `json:"payment_intent"`
				} `json:"data"`
			}
			if json.Unmarshal(r.body, &env) == nil && env.Data.Intent.ID == lost["id"] && env.Data.Previous == "processing" && env.Data.Current == "requires_action" {
				return true, ""
			}
		}
		return false, "no payment_intent.status_changed processing → requires_action received"
	})
	w.waitDrained(t, refundWaitLimit, "AiiaPollQueue", "AiiaPollDLQ")
	if got := iw.intent(lost["id"].(string)); got["status"] != "requires_action" || got["updated_at"] != lost["updated_at"] {
		t.Errorf("the lost payment changed afterwards: %v", got)
	}

	// The organisation finds the amount on its statement and says so: the
	// invoice is paid as by a confirmed transfer, once.
	lostID := lost["id"].(string)
	for _, body := range []string{`{}`, `{"outcome":"paid"}`, `{"outcome":"received","extra":1}`} {
		if a := iw.resolve(lostID, body, 422); a.errParam(t) != "outcome" && a.errParam(t) != "extra" {
			t.Errorf("resolve %s: %s", body, a.body)
		}
	}
	iw.resolve(credited, `{"outcome":"received"}`, 409) // succeeded: the bank decided
	got := iw.resolve(lostID, `{"outcome":"received"}`, 200).json(t)
	if got["status"] != "succeeded" || got["funds_status"] != "credited" || got["failure_reason"] != "" || got["completed_at"] == nil {
		t.Errorf("resolved received: %v", got)
	}
	if inv := iw.invoice(lostInv); inv["status"] != "paid" || inv["amount_paid"] != seedInvoiceTotal {
		t.Errorf("the invoice of a payment found on the statement: %v, paid %v", inv["status"], inv["amount_paid"])
	}
	if a := iw.resolve(lostID, `{"outcome":"not_received"}`, 409); !strings.Contains(errMessage(t, a), "succeeded") {
		t.Errorf("resolved twice: %s", a.body)
	}
	if inv := iw.invoice(lostInv); inv["amount_paid"] != seedInvoiceTotal {
		t.Errorf("a second resolution moved the invoice: %v", inv["amount_paid"])
	}

	// Another, not on the statement: it fails, and the payer can be asked
	// again on a new link.
	otherInv := iw.issuedInvoice(t)
	ol := iw.link(linkBody(otherInv, ""), 201).json(t)
	w.payAtBankShowing(t, ol["payment_page_url"].(string), ibanUnknown, "authorize", "Payer par virement", "FAC-")
	other := iw.waitIntent(t, ol["payment_intent_id"].(string), "requires_action")
	failed := iw.resolve(other["id"].(string), `{"outcome":"not_received"}`, 200).json(t)
	if failed["status"] != "failed" || !strings.HasPrefix(fmt.Sprint(failed["failure_reason"]), "payment_unknown_at_provider: the organization found no such transfer") {
		t.Errorf("resolved not received: %v", failed)
	}
	if inv := iw.invoice(otherInv); inv["status"] != "issued" || inv["amount_paid"] != 0.0 {
		t.Errorf("the invoice of a payment not received: %v, paid %v", inv["status"], inv["amount_paid"])
	}
	iw.do(exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + ol["id"].(string) + "/deactivate", header: iw.h(), status: 200})
	iw.link(linkBody(otherInv, ""), 201)

	// Two people resolve one payment at once, each their way: one is
	// recorded, the other is told; the invoice moves once.
	raceInv := iw.issuedInvoice(t)
	rl := iw.link(linkBody(raceInv, ""), 201).json(t)
	w.payAtBankShowing(t, rl["payment_page_url"].(string), ibanUnknown, "authorize", "Payer par virement", "FAC-")
	raced := iw.waitIntent(t, rl["payment_intent_id"].(string), "requires_action")["id"].(string)
	statuses := make(chan int, 2)
	var wg sync.WaitGroup
	for _, outcome := range []string{"received", "not_received"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- iw.doAny(exchange{method: "POST", route: "/v1/payment_intents/{intent_id}/resolve", path: "/v1/payment_intents/" + raced + "/resolve",
				header: iw.h(), body: `{"outcome":"` + outcome + `"}`}).status
		}()
	}
	wg.Wait()
	close(statuses)
	var got200, got409 int
	for st := range statuses {
		switch st {
		case 200:
			got200++
		case 409:
			got409++
		}
	}
	final := iw.intent(raced)
	after := iw.invoice(raceInv)
	if got200 != 1 || got409 != 1 || (final["status"] == "succeeded") != (after["amount_paid"] == seedInvoiceTotal) ||
		(final["status"] != "succeeded" && final["status"] != "failed") {
		t.Errorf("two resolutions at once: %d × 200, %d × 409; intent %v, invoice paid %v", got200, got409, final["status"], after["amount_paid"])
	}
}

func (iw *invoiceWorld) resolve(intentID, body string, status int) answer {
	return iw.do(exchange{method: "POST", route: "/v1/payment_intents/{intent_id}/resolve", path: "/v1/payment_intents/" + intentID + "/resolve",
		header: iw.h(), body: body, status: status})
}
