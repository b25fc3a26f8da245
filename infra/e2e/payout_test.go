package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/wiring"
)

// approveKYC submits the department's KYC in the sandbox, which approves it.
func (iw *invoiceWorld) approveKYC(t *testing.T) {
	t.Helper()
	docs := []string{}
	for _, typ := range []string{"rib", "identity_document", "regisseur_appointment"} {
		id := iw.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(iw.dept, "/kyc/documents"), header: bearer(iw.token),
			body: `{"type":"` + typ + `","file_name":"` + typ + `.pdf","content_type":"application/pdf","content_base64":"` + pdf(typ) + `"}`, status: 201}).json(t)["id"].(string)
		docs = append(docs, `{"type":"`+typ+`","document_id":"`+id+`"}`)
	}
	k := iw.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(iw.dept, "/kyc"), header: bearer(iw.token),
		body: `{"representative":{"first_name":"Marie","last_name":"Durand","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[` + strings.Join(docs, ",") + `]}`, status: 201}).json(t)
	if k["status"] != "approved" {
		t.Fatalf("sandbox KYC = %v", k)
	}
}

func (iw *invoiceWorld) department(t *testing.T) map[string]any {
	t.Helper()
	return iw.do(exchange{method: "GET", route: "/v1/departments/{dept_id}", path: deptPath(iw.dept), header: bearer(iw.token), status: 200}).json(t)
}

func (iw *invoiceWorld) account(t *testing.T, id string) map[string]any {
	t.Helper()
	return iw.do(exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", id),
		header: bearer(iw.token), status: 200}).json(t)
}

// invoiceAccount issues a new invoice and returns the bank account its
// details name, and the account a new payment link for it pays into.
func (iw *invoiceWorld) invoiceAccount(t *testing.T) (onInvoice, ofLink string) {
	t.Helper()
	id := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)
	inv := iw.action(id, "issue", 200).json(t)
	onInvoice = inv["bank_account"].(map[string]any)["bank_account_id"].(string)
	l := iw.link(linkBody(id, ""), 201).json(t)
	link, err := iw.app.Store.GetLink(context.Background(), "ptn-1", iw.org, l["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return onInvoice, link.BankAccountID
}

// waitAudit waits until the organisation's audit trail holds an entry of
// each type, and returns the entries.
func (iw *invoiceWorld) waitAudit(t *testing.T, types ...string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	waitFor(t, 30*time.Second, func() (bool, string) {
		es, err := iw.app.Store.ListAuditEntries(context.Background(), "ptn-1", iw.org)
		if err != nil {
			return false, err.Error()
		}
		got = map[string][]string{}
		for _, e := range es {
			got[e.EventType] = append(got[e.EventType], string(e.Changes))
		}
		for _, typ := range types {
			if len(got[typ]) == 0 {
				return false, "no audit entry " + typ + " yet"
			}
		}
		return true, ""
	})
	return got
}

// The payout-redirection attack: on a department whose KYC is approved, an
// organisation admin adds an account as the default. Payments keep going to
// the verified account until the new one is verified by an operator; then
// the payout account moves, with its events, and is onboarded at Aiia.
func TestNewDefaultIsNotPaidBeforeVerification(t *testing.T) {
	iw := newInvoiceWorld(t)
	ctx := context.Background()
	before := iw.department(t)
	old := before["default_bank_account_id"].(string)
	if before["payout_bank_account_id"] != old || iw.account(t, old)["status"] != "pending_verification" {
		t.Fatalf("before the KYC: department %v, account %v; want the first account as payout, pending the KYC", before, iw.account(t, old))
	}
	iw.approveKYC(t)
	if st := iw.account(t, old)["status"]; st != "verified" {
		t.Fatalf("the KYC's approval left the RIB's account %v", st)
	}

	cli := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
		header: bearer(iw.token), body: `{"role":"admin"}`, status: 201}).json(t)
	admin := iw.world.token(cli["client_id"].(string), cli["client_secret"].(string))
	added := iw.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(iw.dept, "/bank_accounts"), header: bearer(admin),
		body: `{"iban":"FR7630006000011234567890189","bic":"AGRIFRPPXXX","account_name":"Compte PENDING","is_default":true}`, status: 201}).json(t)
	newID := added["id"].(string)
	if added["status"] != "pending_verification" || added["is_default"] != true {
		t.Fatalf("new default = %v", added)
	}
	d := iw.department(t)
	if d["default_bank_account_id"] != newID || d["payout_bank_account_id"] != old {
		t.Fatalf("department default %v payout %v; want %s and still %s", d["default_bank_account_id"], d["payout_bank_account_id"], newID, old)
	}
	if inv, link := iw.invoiceAccount(t); inv != old || link != old {
		t.Errorf("invoice pays %s, link pays %s: want the verified %s, not the pending %s", inv, link, old, newID)
	}
	// The payout account cannot be deleted while payments go to it.
	iw.do(exchange{method: "DELETE", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", old), header: bearer(admin), status: 409})
	audit := iw.waitAudit(t, "bank_account.created", "bank_account.default_changed")
	if ch := strings.Join(audit["bank_account.default_changed"], " "); !strings.Contains(ch, newID) || !strings.Contains(ch, old) {
		t.Errorf("default_changed audit = %s, want the previous default, the new one and the payout account", ch)
	}
	if len(audit["bank_account.payout_changed"]) != 0 {
		t.Errorf("the payout account moved before verification: %v", audit["bank_account.payout_changed"])
	}

	// An operator verifies the account (operator bank-account-decide).
	ops := &department.Service{Store: iw.app.Store, Now: iw.clock.Now, NewID: wiring.NewID}
	reviewer := event.Actor{ID: "reviewer", Type: "operator"}
	if _, err := ops.DecideAccount(ctx, "ptn-2", iw.dept, newID, true, nil, reviewer); err == nil {
		t.Error("another partner's account was decided")
	}
	a, err := ops.DecideAccount(ctx, "ptn-1", iw.dept, newID, true, nil, reviewer)
	if err != nil || a.Status != "verified" {
		t.Fatalf("decide: %+v, %v", a, err)
	}
	if _, err := ops.DecideAccount(ctx, "ptn-1", iw.dept, newID, true, nil, reviewer); err == nil {
		t.Error("a verified account was decided again")
	}
	if d := iw.department(t); d["payout_bank_account_id"] != newID || d["default_bank_account_id"] != newID {
		t.Errorf("after verification: default %v payout %v, want %s", d["default_bank_account_id"], d["payout_bank_account_id"], newID)
	}
	if inv, link := iw.invoiceAccount(t); inv != newID || link != newID {
		t.Errorf("after verification the invoice pays %s and the link %s, want %s", inv, link, newID)
	}
	audit = iw.waitAudit(t, "bank_account.status_changed", "bank_account.payout_changed")
	if ch := strings.Join(audit["bank_account.payout_changed"], " "); !strings.Contains(ch, newID) || !strings.Contains(ch, old) {
		t.Errorf("payout_changed audit = %s", ch)
	}
	// The new payout account is onboarded at Aiia through the event router and the worker.
	waitFor(t, 30*time.Second, func() (bool, string) {
		a, err := iw.app.Store.GetBankAccount(ctx, "ptn-1", iw.dept, newID)
		if err != nil {
			return false, err.Error()
		}
		return a.AiiaDestinationID != "", "the new payout account has no Aiia destination yet"
	})
	// The old account is no longer the payout account, but links still pay into it.
	iw.do(exchange{method: "DELETE", route: "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}", path: deptPath(iw.dept, "/bank_accounts/", old), header: bearer(admin), status: 409})
}

// The sandbox decides accounts of an approved department at once, by their
// holder name: verified (the payout account moves with the default),
// REJECT (rejected, never the payout account nor, once known, the default).
func TestSandboxVerifiesAccountsByName(t *testing.T) {
	iw := newInvoiceWorld(t)
	iw.approveKYC(t)
	old := iw.department(t)["payout_bank_account_id"].(string)
	create := func(iban, name string, isDefault bool) map[string]any {
		return iw.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(iw.dept, "/bank_accounts"), header: bearer(iw.token),
			body: fmt.Sprintf(`{"iban":"%s","bic":"BNPAFRPPXXX","account_name":"%s","is_default":%v}`, iban, name, isDefault), status: 201}).json(t)
	}
	rejected := create("FR7610107001011234567890129", "Compte REJECT", true)
	if rejected["status"] != "rejected" {
		t.Errorf("REJECT account = %v", rejected)
	}
	if d := iw.department(t); d["payout_bank_account_id"] != old {
		t.Errorf("a rejected default became the payout account: %v", d)
	}
	spare := create("FR7630004000031234567890143", "Compte annexe", false)
	if spare["status"] != "verified" || spare["is_default"] != false {
		t.Errorf("plain account = %v", spare)
	}
	route := "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}"
	iw.do(exchange{method: "PATCH", route: route, path: deptPath(iw.dept, "/bank_accounts/", rejected["id"].(string)), header: bearer(iw.token), body: `{"is_default":false}`, status: 422})
	// A verified account made the default is paid at once.
	iw.do(exchange{method: "PATCH", route: route, path: deptPath(iw.dept, "/bank_accounts/", spare["id"].(string)), header: bearer(iw.token), body: `{"is_default":true}`, status: 200})
	if d := iw.department(t); d["payout_bank_account_id"] != spare["id"] || d["default_bank_account_id"] != spare["id"] {
		t.Errorf("after making the verified account the default: %v", d)
	}
	// A rejected account cannot become the default again.
	iw.do(exchange{method: "PATCH", route: route, path: deptPath(iw.dept, "/bank_accounts/", rejected["id"].(string)), header: bearer(iw.token), body: `{"is_default":true}`, status: 409})
	got := iw.waitAudit(t, "bank_account.status_changed", "bank_account.default_changed", "bank_account.payout_changed")
	if !slices.ContainsFunc(got["bank_account.status_changed"], func(c string) bool { return strings.Contains(c, "rejected") }) {
		t.Errorf("no status_changed to rejected in %v", got["bank_account.status_changed"])
	}
}
