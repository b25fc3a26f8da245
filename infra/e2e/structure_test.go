package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/wiring"
)

// The integration guide's quickstart, steps 3 to 6, verbatim but for the host.
const (
	seedDepartment = `{
    "name": "Régie de l'Eau",
    "code": "REG-EAU-001",
    "description": "Gestion des factures d'eau potable"
  }`
	seedBankAccount = `{
    "iban": "FR7612345678901234567890123",
    "bic": "BNPAFRPPXXX",
    "account_name": "Compte Régie Eau",
    "bank_name": "BNP Paribas",
    "is_default": true
  }`
)

func deptPath(id string, rest ...string) string {
	return "/v1/departments/" + id + strings.Join(rest, "")
}

func TestQuickstartSteps3To6(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	org := w.do(exchange{method: "POST", route: "/v1/organizations", header: bearer(tok), body: seedOrganization, status: 201}).json(t)
	warnings := fmt.Sprint(org["warnings"])
	if !strings.Contains(warnings, "siret") || !strings.Contains(warnings, "vat_number") {
		t.Errorf("sandbox warnings = %v, want the seed's SIRET and VAT checksum failures", org["warnings"])
	}
	orgID := org["id"].(string)
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(tok), body: seedDepartment, status: 201}).json(t)
	deptID := dept["id"].(string)
	if dept["code"] != "REG-EAU-001" || dept["kyc_status"] != "not_submitted" {
		t.Errorf("department = %v", dept)
	}
	acct := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(deptID, "/bank_accounts"),
		header: bearer(tok), body: seedBankAccount, status: 201}).json(t)
	if acct["is_default"] != true || acct["iban"] != "FR7612345678901234567890123" || !strings.Contains(fmt.Sprint(acct["warnings"]), "sandbox_test_iban") {
		t.Errorf("bank account = %v", acct)
	}
	// Step 6 sends the bank account body to the KYC route: a 422 naming what KYC needs.
	a := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(deptID, "/kyc"), header: bearer(tok), body: seedBankAccount, status: 422})
	if a.errParam(t) != "representative" || !strings.Contains(string(a.body), "documents") {
		t.Errorf("step 6: %s", a.body)
	}
	// A duplicate code is a 409 on code, case-insensitively.
	if a := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(tok), body: `{"name":"Autre","code":"reg-eau-001"}`, status: 409}); a.errParam(t) != "code" {
		t.Errorf("duplicate code: %s", a.body)
	}
	// Codes move with PATCH: the new one is claimed, the old one freed.
	other := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(tok), body: `{"name":"Cantines","code":"SRV-CANT"}`, status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(other), header: bearer(tok), body: `{"code":"REG-EAU-001"}`, status: 409})
	w.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(other), header: bearer(tok), body: `{"code":"SRV-CANTINES"}`, status: 200})
	w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(tok), body: `{"name":"Reprise","code":"srv-cant"}`, status: 201})
	w.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(other), header: bearer(tok), body: `{}`, status: 400})
	w.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(other), header: bearer(tok), body: `{"code":"bad code!"}`, status: 422})
	// Organisation PATCH: the sandbox warns about a VAT number failing its key; the SIRET cannot change.
	a = w.do(exchange{method: "PATCH", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + orgID, header: bearer(tok), body: `{"name":"Ville de Lyon","vat_number":"FR21216901234"}`, status: 200})
	if m := a.json(t); m["name"] != "Ville de Lyon" || !strings.Contains(fmt.Sprint(m["warnings"]), "vat_number") {
		t.Errorf("organisation PATCH: %s", a.body)
	}
	w.do(exchange{method: "PATCH", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + orgID, header: bearer(tok), body: `{"siret":"21750001600019"}`, status: 422})
	w.do(exchange{method: "PATCH", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + orgID, header: bearer(tok), body: `{"vat_number":"FR72217500016"}`, status: 422})
}

func pdf(extra string) string {
	return base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n" + extra + "\n%%EOF\n"))
}

func TestKYCSubmissionAndSandboxDecisions(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	orgID := w.createOrg(tok, seedOrganization)
	newDept := func(code string) string {
		d := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
			header: bearer(tok), body: `{"name":"Régie ` + code + `","code":"` + code + `"}`, status: 201}).json(t)
		return d["id"].(string)
	}
	upload := func(dept, typ string, status int, body ...string) string {
		b := `{"type":"` + typ + `","file_name":"` + typ + `.pdf","content_type":"application/pdf","content_base64":"` + pdf(typ) + `"}`
		if len(body) > 0 {
			b = body[0]
		}
		a := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(dept, "/kyc/documents"), header: bearer(tok), body: b, status: status})
		if status != 201 {
			return ""
		}
		return a.json(t)["id"].(string)
	}
	submission := func(dept, lastName string) string {
		docs := []string{}
		for _, typ := range []string{"rib", "identity_document", "regisseur_appointment"} {
			docs = append(docs, `{"type":"`+typ+`","document_id":"`+upload(dept, typ, 201)+`"}`)
		}
		return `{"representative":{"first_name":"Marie","last_name":"` + lastName + `","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[` + strings.Join(docs, ",") + `]}`
	}
	submit := func(dept, body string, status int) answer {
		return w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc", path: deptPath(dept, "/kyc"), header: bearer(tok), body: body, status: status})
	}
	getKYC := func(dept string) map[string]any {
		return w.do(exchange{method: "GET", route: "/v1/departments/{dept_id}/kyc", path: deptPath(dept, "/kyc"), header: bearer(tok), status: 200}).json(t)
	}

	// Without a bank account there is nothing for the RIB to prove.
	d1 := newDept("D1")
	if got := getKYC(d1)["status"]; got != "not_submitted" {
		t.Errorf("fresh KYC status = %v", got)
	}
	submit(d1, submission(d1, "Durand"), 409)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(d1, "/bank_accounts"), header: bearer(tok), body: seedBankAccount, status: 201})
	k := submit(d1, submission(d1, "Durand"), 201).json(t)
	if k["status"] != "approved" || k["decided_at"] == nil {
		t.Errorf("sandbox default decision = %v", k)
	}
	submit(d1, submission(d1, "Durand"), 409) // already approved
	dept := w.do(exchange{method: "GET", route: "/v1/departments/{dept_id}", path: deptPath(d1), header: bearer(tok), status: 200}).json(t)
	if dept["kyc_status"] != "approved" {
		t.Errorf("department kyc_status = %v", dept["kyc_status"])
	}
	// The approval onboards the default account at Aiia (the sandbox) as a
	// payee, through the event router and the worker; its destination id is kept.
	waitFor(t, 30*time.Second, func() (bool, string) {
		a, err := w.app.Store.GetBankAccount(context.Background(), "ptn-1", d1, dept["default_bank_account_id"].(string))
		if err != nil {
			return false, err.Error()
		}
		return a.AiiaDestinationID != "", "the account has no Aiia destination yet"
	})

	d2 := newDept("D2")
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(d2, "/bank_accounts"), header: bearer(tok), body: seedBankAccount, status: 201})
	k = submit(d2, submission(d2, "Reject"), 201).json(t)
	if k["status"] != "rejected" || !strings.Contains(fmt.Sprint(k["rejection_reasons"]), "document_unreadable") {
		t.Errorf("sandbox REJECT = %v", k)
	}
	k = submit(d2, submission(d2, "Pending"), 201).json(t) // a rejected KYC can be submitted again
	if k["status"] != "pending" {
		t.Errorf("sandbox PENDING = %v", k)
	}
	submit(d2, submission(d2, "Durand"), 409) // already pending

	// A reviewer decides a pending KYC (production's path; the operator command calls this).
	reviews := &department.Service{Store: w.app.Store, Now: w.clock.Now, NewID: wiring.NewID}
	if _, err := reviews.DecideKYC(context.Background(), "ptn-1", d2, false, nil, event.Actor{ID: "reviewer", Type: "operator"}); err == nil {
		t.Error("a rejection without reasons was accepted")
	}
	if _, err := reviews.DecideKYC(context.Background(), "ptn-2", d2, true, nil, event.Actor{ID: "reviewer", Type: "operator"}); err == nil {
		t.Error("another partner's department was decided")
	}
	if k, err := reviews.DecideKYC(context.Background(), "ptn-1", d2, true, nil, event.Actor{ID: "reviewer", Type: "operator"}); err != nil || k.Status != "approved" {
		t.Errorf("decide: %+v, %v", k, err)
	}
	if got := getKYC(d2)["status"]; got != "approved" {
		t.Errorf("after the decision: %v", got)
	}
	if _, err := reviews.DecideKYC(context.Background(), "ptn-1", d2, true, nil, event.Actor{ID: "reviewer", Type: "operator"}); err == nil {
		t.Error("an approved KYC was decided again")
	}

	// Bad submissions and documents, each naming its field.
	d3 := newDept("D3")
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(d3, "/bank_accounts"), header: bearer(tok), body: seedBankAccount, status: 201})
	rib := upload(d3, "rib", 201)
	id := upload(d3, "identity_document", 201)
	for body, param := range map[string]string{
		`{"representative":{"first_name":"M","last_name":"D","role":"legal_representative","date_of_birth":"1975-06-15"},"documents":[{"type":"rib","document_id":"` + rib + `"}]}`:                                              "representative.role",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"2015-06-15"},"documents":[{"type":"rib","document_id":"` + rib + `"}]}`:                                                         "representative.date_of_birth",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"15/06/1975"},"documents":[{"type":"rib","document_id":"` + rib + `"}]}`:                                                         "representative.date_of_birth",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[{"type":"rib","document_id":"` + rib + `"},{"type":"identity_document","document_id":"` + id + `"}]}`: "documents",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[{"type":"kbis_extract","document_id":"` + rib + `"}]}`:                                                "documents[0].type",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[{"type":"rib","document_id":"doc-nope"}]}`:                                                            "documents[0].document_id",
		`{"representative":{"first_name":"M","last_name":"D","role":"regisseur","date_of_birth":"1975-06-15"},"documents":[]}`:                                                                                                   "documents",
	} {
		if a := submit(d3, body, 422); a.errParam(t) != param {
			t.Errorf("%s: param %q, want %q", body, a.errParam(t), param)
		}
	}
	big := base64.StdEncoding.EncodeToString(append([]byte("%PDF-1.4\n"), make([]byte, 300<<10)...))
	for body, param := range map[string]string{
		`{"type":"passport","file_name":"a.pdf","content_type":"application/pdf","content_base64":"` + pdf("x") + `"}`:     "type",
		`{"type":"rib","file_name":"a.exe","content_type":"application/x-msdownload","content_base64":"` + pdf("x") + `"}`: "content_type",
		`{"type":"rib","file_name":"a.png","content_type":"image/png","content_base64":"` + pdf("x") + `"}`:                "content_base64",
		`{"type":"rib","file_name":"a.pdf","content_type":"application/pdf","content_base64":"%%%"}`:                       "content_base64",
		`{"type":"rib","file_name":"../a.pdf","content_type":"application/pdf","content_base64":"` + pdf("x") + `"}`:       "file_name",
		`{"type":"rib","file_name":"a.pdf","content_type":"application/pdf","content_base64":"` + big + `"}`:               "content_base64",
	} {
		if a := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(d3, "/kyc/documents"), header: bearer(tok), body: body, status: 422}); a.errParam(t) != param {
			t.Errorf("upload %.80s: param %q, want %q", body, a.errParam(t), param)
		}
	}
}

func TestBankAccountDefaultsAndDeletion(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	orgID := w.createOrg(tok, orgBody("Banque"))
	deptID := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + orgID + "/departments",
		header: bearer(tok), body: `{"name":"Régie","code":"R1"}`, status: 201}).json(t)["id"].(string)
	create := func(body string, status int) map[string]any {
		a := w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(deptID, "/bank_accounts"), header: bearer(tok), body: body, status: status})
		return a.json(t)
	}
	account := func(iban string, isDefault bool) string {
		return fmt.Sprintf(`{"iban":"%s","bic":"BNPAFRPPXXX","account_name":"Compte","is_default":%v}`, iban, isDefault)
	}
	// Real French IBANs (valid mod-97 and RIB key).
	ibans := []string{"FR1420041010050500013M02606", "FR7630006000011234567890189", "FR7610107001011234567890129", "FR7630004000031234567890143"}
	first := create(account(ibans[0], false), 201)
	if first["is_default"] != true {
		t.Fatalf("the first account must become the default: %v", first)
	}
	second := create(account(ibans[1], false), 201)
	if second["is_default"] != false {
		t.Errorf("second account without is_default: %v", second)
	}
	create(account(ibans[0], false), 409) // same IBAN twice in a department
	for body, param := range map[string]string{
		account("FR1420041010050500013M02607", false):                                  "iban",
		account("DE89370400440532013000", false):                                       "bic",
		`{"iban":"` + ibans[2] + `","bic":"BNPAFRPP","account_name":""}`:               "account_name",
		`{"iban":"` + ibans[2] + `","bic":"BNPA","account_name":"x"}`:                  "bic",
		`{"iban":"","bic":"BNPAFRPPXXX","account_name":"x"}`:                           "iban",
		`{"iban":"` + ibans[2] + `","bic":"BNPAFRPPXXX","account_name":"x","extra":1}`: "extra",
	} {
		if a := create(body, 422); fmt.Sprint(a["error"].(map[string]any)["param"]) != param {
			t.Errorf("%s: %v, want param %s", body, a, param)
		}
	}

	// Concurrent "make me default" creations: all succeed, exactly one default.
	var wg sync.WaitGroup
	for _, iban := range ibans[2:] {
		wg.Add(1)
		go func(iban string) {
			defer wg.Done()
			w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(deptID, "/bank_accounts"), header: bearer(tok), body: account(iban, true), status: 201})
		}(iban)
	}
	wg.Wait()
	list := w.do(exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(deptID, "/bank_accounts"), header: bearer(tok), status: 200}).json(t)["data"].([]any)
	defaults, defaultID := 0, ""
	for _, it := range list {
		a := it.(map[string]any)
		if a["is_default"] == true {
			defaults++
			defaultID = a["id"].(string)
		}
		if iban := a["iban"].(string); !strings.HasSuffix(iban, iban[len(iban)-4:]) || strings.Count(iban, "•") == 0 {
			t.Errorf("listed IBAN %q is not masked", iban)
		}
	}
	if len(list) != 4 || defaults != 1 {
		t.Fatalf("%d accounts, %d defaults; want 4 and exactly 1", len(list), defaults)
	}

	path := func(id string) string { return deptPath(deptID, "/bank_accounts/", id) }
	route := "/v1/departments/{dept_id}/bank_accounts/{bank_account_id}"
	// The default cannot be deleted; another can; is_default false is refused.
	w.do(exchange{method: "DELETE", route: route, path: path(defaultID), header: bearer(tok), status: 409})
	w.do(exchange{method: "PATCH", route: route, path: path(defaultID), header: bearer(tok), body: `{"is_default":false}`, status: 422})
	firstID := first["id"].(string)
	got := w.do(exchange{method: "PATCH", route: route, path: path(firstID), header: bearer(tok), body: `{"is_default":true,"account_name":"Compte principal"}`, status: 200}).json(t)
	if got["is_default"] != true || got["account_name"] != "Compte principal" {
		t.Errorf("make default: %v", got)
	}
	deletedIBAN := w.do(exchange{method: "GET", route: route, path: path(defaultID), header: bearer(tok), status: 200}).json(t)["iban"].(string)
	w.do(exchange{method: "DELETE", route: route, path: path(defaultID), header: bearer(tok), status: 204})
	w.do(exchange{method: "GET", route: route, path: path(defaultID), header: bearer(tok), status: 404})
	full := w.do(exchange{method: "GET", route: route, path: path(firstID), header: bearer(tok), status: 200}).json(t)
	if full["iban"] != ibans[0] || full["is_default"] != true {
		t.Errorf("single account: %v", full)
	}
	// The IBAN of a deleted account can be added again.
	create(account(deletedIBAN, false), 201)
}
