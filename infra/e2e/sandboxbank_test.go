package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/wiring"
)

// The sandbox stage as deployed: the app's Aiia client talks to
// SandboxBankFunction behind the API under /sandbox-bank/, whose records
// are in the stack's SandboxBankTable (DynamoDB Local here), with the
// bank's real delays; a payer gets the integration guide's test IBAN
// outcomes, and the invoice is paid without anyone touching it.
func TestDeployedSandboxBank(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, deployedBank: true})
	iw := invoiceWorldOn(t, w)
	pay := func(iban string) (invoiceID, intentID string) {
		invoiceID = iw.issuedInvoice(t)
		l := iw.link(linkBody(invoiceID, ""), 201).json(t)
		iw.payAtBank(t, l["payment_page_url"].(string), iban, "authorize")
		return invoiceID, l["payment_intent_id"].(string)
	}
	okInvoice, okIntent := pay("FR7612345678901234567890123")
	koInvoice, koIntent := pay("FR7612345678901234567890124")
	// …0128: the bank is unavailable to the first status reads; the poller
	// retries and the payment lands.
	_, flakyIntent := pay("FR7612345678901234567890128")
	if got := iw.waitIntent(t, okIntent, "succeeded"); got["aiia_status"] != "settled" {
		t.Errorf("succeeded intent = %v", got)
	}
	if inv := iw.invoice(okInvoice); inv["status"] != "paid" {
		t.Errorf("invoice after payment: %v", inv["status"])
	}
	if got := iw.waitIntent(t, koIntent, "failed"); !strings.Contains(fmt.Sprint(got["failure_reason"]), "fonds insuffisants") {
		t.Errorf("failed intent = %v", got)
	}
	if got := iw.waitIntent(t, flakyIntent, "succeeded"); got["aiia_status"] != "settled" {
		t.Errorf("intent paid from …0128 = %v", got)
	}
	if inv := iw.invoice(koInvoice); inv["status"] != "issued" {
		t.Errorf("invoice after a failed payment: %v", inv["status"])
	}
	// The payments are the gateway-served bank's (this world has no other),
	// kept in its table.
	awsCfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	bank := aiiasandbox.DynamoStore{DB: wiring.NewDynamoDB(awsCfg, w.cfg.DynamoDBEndpoint), Table: w.cfg.SandboxBankTable}
	n := 0
	if err := bank.Recent(context.Background(), "payment", 10, func([]byte) error { n++; return nil }); err != nil || n != 3 {
		t.Errorf("the bank's table holds %d payments (%v), want 3", n, err)
	}
	// The bank authenticates the stack's client: other credentials are refused.
	token := iw.doRaw(t, "/sandbox-bank/oauth2/token", `{"grant_type":"client_credentials","client_id":"modupay-sandbox","client_secret":"modupay-sandbox-secret"}`)
	if token != 401 {
		t.Errorf("the repository's default credentials got %d, want 401", token)
	}
}

// doRaw POSTs JSON outside the OpenAPI document (the sandbox bank is
// not ModuPay's API) and returns its status.
func (w *world) doRaw(t *testing.T, path, body string) int {
	t.Helper()
	resp, err := w.srv.Client().Post(w.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
