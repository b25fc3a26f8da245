package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The payers' GDPR rights (personal-data.md): export, erasure and
// rectification, through the gateway, every answer checked against the
// OpenAPI document.

const (
	exportRoute  = "/v1/organizations/{org_id}/data_subjects/export"
	eraseRoute   = "/v1/organizations/{org_id}/data_subjects/erase"
	rectifyRoute = "/v1/invoices/{invoice_id}/payer"
	seedEmail    = "jean.dupont@example.com"
)

var erasedEmail = regexp.MustCompile(`^erased-[0-9a-f]{12}@invalid$`)

func (iw *invoiceWorld) export(email string, status int, query ...string) answer {
	q := "email=" + url.QueryEscape(email)
	for _, x := range query {
		q += "&" + x
	}
	return iw.do(exchange{method: "GET", route: exportRoute, path: "/v1/organizations/" + iw.org + "/data_subjects/export", query: q,
		header: bearer(iw.token), status: status})
}

func (iw *invoiceWorld) erase(body string, status int) answer {
	return iw.do(exchange{method: "POST", route: eraseRoute, path: "/v1/organizations/" + iw.org + "/data_subjects/erase",
		header: bearer(iw.token), body: body, status: status})
}

func (iw *invoiceWorld) rectify(id, body string, status int) answer {
	return iw.do(exchange{method: "PATCH", route: rectifyRoute, path: "/v1/invoices/" + id + "/payer", header: iw.h(), body: body, status: status})
}

func eraseBody(email, reason string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "reason": reason})
	return string(b)
}

// ids lists the "id" of each object of the list at key.
func ids(m map[string]any, key string) []string {
	out := []string{}
	list, _ := m[key].([]any)
	for _, x := range list {
		if o, ok := x.(map[string]any); ok {
			out = append(out, fmt.Sprint(o["id"]))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A paid invoice of the guide's payer, refunded in part with a reason that
// names the payer, and a draft of the same payer written in other case:
// the export finds both invoices, the intent, the refund, the link and
// their audit entries; the erasure anonymises the payer everywhere while
// the numbers, amounts, dates and statuses stay, reading the invoice back
// through the API shows it; a second export holds nothing personal, a
// second erasure changes nothing, and the erasure is in the audit trail by
// the email's hash only.
func TestGDPRExportEraseEndToEnd(t *testing.T) {
	iw := newInvoiceWorld(t)
	paid, intent := iw.paidIntent(t, ibanRefundSucceeds)
	ref := iw.createRefund(refundBody(intent, 10000, "Geste commercial pour Jean Dupont (jean.dupont@example.com)"), 201).json(t)
	iw.waitRefund(t, ref["id"].(string), "succeeded")
	draft := iw.create(strings.Replace(seedInvoice(iw.dept, "2030-03-31"), seedEmail, "Jean.Dupont@Example.COM", 1), 201).json(t)["id"].(string)
	// Another payer of the organisation, untouched by all of this.
	other := iw.create(strings.NewReplacer(seedEmail, "marie.curie@example.com", "Jean Dupont", "Marie Curie").Replace(seedInvoice(iw.dept, "2030-03-31")), 201).json(t)["id"].(string)
	before := iw.invoice(paid)

	// Access: both invoices of the payer, with their payments and trail.
	var ex map[string]any
	waitFor(t, refundWaitLimit, func() (bool, string) {
		ex = iw.export(" JEAN.DUPONT@example.com", 200).json(t)
		found := map[string]bool{}
		for _, e := range ex["audit_logs"].([]any) {
			found[fmt.Sprint(e.(map[string]any)["resource_id"])] = true
		}
		return found[paid] && found[intent] && found[ref["id"].(string)], fmt.Sprintf("audit entries of %v", keysOfBool(found))
	})
	if got := ids(ex, "invoices"); len(got) != 2 || !contains(got, paid) || !contains(got, draft) {
		t.Errorf("exported invoices %v, want %s and %s", got, paid, draft)
	}
	if got := ids(ex, "payment_intents"); len(got) != 1 || got[0] != intent {
		t.Errorf("exported intents %v, want [%s]", got, intent)
	}
	if got := ids(ex, "refunds"); len(got) != 1 || got[0] != ref["id"] {
		t.Errorf("exported refunds %v, want [%s]", got, ref["id"])
	}
	if got := ids(ex, "payment_links"); len(got) != 1 {
		t.Errorf("exported links %v, want the paid invoice's", got)
	}
	if pg := ex["pagination"].(map[string]any); pg["total_items"] != 2.0 || ex["erased_at"] != nil {
		t.Errorf("export pagination %v, erased_at %v", pg, ex["erased_at"])
	}
	if strings.Contains(fmt.Sprint(ex["invoices"]), "Marie Curie") {
		t.Error("the export holds another payer's invoice")
	}
	// Paged by invoice, with a cursor.
	first := iw.export(seedEmail, 200, "page_size=1").json(t)
	next, _ := first["pagination"].(map[string]any)["next_cursor"].(string)
	second := iw.export(seedEmail, 200, "page_size=1", "cursor="+url.QueryEscape(next)).json(t)
	if a, b := ids(first, "invoices"), ids(second, "invoices"); len(a) != 1 || len(b) != 1 || a[0] == b[0] {
		t.Errorf("pages by cursor: %v then %v", a, b)
	}

	// Erasure.
	er := iw.erase(eraseBody("JEAN.DUPONT@EXAMPLE.COM", "Demande RGPD du 2 février 2024"), 200).json(t)
	if er["invoices_anonymized"] != 2.0 || er["refunds_anonymized"] != 1.0 || er["has_more"] != false {
		t.Errorf("erasure = %v", er)
	}
	hash, _ := er["email_sha256"].(string)
	if hash != ex["email_sha256"] || len(hash) != 64 {
		t.Errorf("erasure hash %q, export hash %v", hash, ex["email_sha256"])
	}
	after := iw.invoice(paid)
	payer := after["payer"].(map[string]any)
	if payer["name"] != "Anonymisé" || !erasedEmail.MatchString(fmt.Sprint(payer["email"])) || payer["address"] != nil || payer["erased_at"] == nil {
		t.Errorf("erased payer = %v", payer)
	}
	for _, f := range []string{"invoice_number", "status", "total_amount", "amount_paid", "amount_due", "total_vat", "due_date", "issue_date", "created_at", "line_items", "seller"} {
		if fmt.Sprint(after[f]) != fmt.Sprint(before[f]) {
			t.Errorf("%s changed by the erasure: %v, was %v", f, after[f], before[f])
		}
	}
	if r := iw.refund(ref["id"].(string)); r["reason"] != "Geste commercial pour Anonymisé ("+payer["email"].(string)+")" || r["amount"] != 10000.0 || r["status"] != "succeeded" {
		t.Errorf("erased refund = %v / %v / %v", r["reason"], r["amount"], r["status"])
	}
	if p := iw.invoice(draft)["payer"].(map[string]any); p["name"] != "Anonymisé" || p["email"] != payer["email"] {
		t.Errorf("the draft's payer = %v, want the same placeholder %v", p, payer["email"])
	}
	if p := iw.invoice(other)["payer"].(map[string]any); p["name"] != "Marie Curie" {
		t.Errorf("another payer was erased: %v", p)
	}
	// Nothing personal is left to export; the erasure is remembered.
	again := iw.export(seedEmail, 200)
	for _, s := range []string{"Dupont", "dupont", "15 rue de la Paix"} {
		if strings.Contains(string(again.body), s) {
			t.Errorf("the export after erasure still holds %q: %s", s, again.body)
		}
	}
	if m := again.json(t); len(ids(m, "invoices")) != 0 || m["erased_at"] == nil {
		t.Errorf("export after erasure: invoices %v, erased_at %v", ids(m, "invoices"), m["erased_at"])
	}
	if twice := iw.erase(eraseBody(seedEmail, "encore"), 200).json(t); twice["invoices_anonymized"] != 0.0 || twice["refunds_anonymized"] != 0.0 {
		t.Errorf("a second erasure changed %v", twice)
	}
	// The erased payer's invoice can no longer be rectified.
	iw.rectify(paid, `{"name":"Jean Dupont"}`, 409)
	// The audit trail records the erasure under the hash, without the email.
	waitFor(t, refundWaitLimit, func() (bool, string) {
		a := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_type=data_subject&resource_id=" + hash, header: iw.h(), status: 200})
		if strings.Contains(strings.ToLower(string(a.body)), "dupont") {
			t.Fatalf("the erasure's audit entry holds the payer: %s", a.body)
		}
		return strings.Contains(string(a.body), `"action":"erased"`), "no erasure entry yet: " + string(a.body)
	})
}

func keysOfBool(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ",")
}

// Rectification: an issued invoice's payer is corrected, the amounts stay,
// and the payer index follows the email (the old address exports nothing,
// the new one the invoice).
func TestGDPRRectifyPayer(t *testing.T) {
	iw := newInvoiceWorld(t)
	id := iw.issuedInvoice(t)
	before := iw.invoice(id)
	got := iw.rectify(id, `{"name":"Jean Martin","email":"jean.martin@example.com"}`, 200).json(t)
	p := got["payer"].(map[string]any)
	if p["name"] != "Jean Martin" || p["email"] != "jean.martin@example.com" || p["address"] == nil {
		t.Errorf("rectified payer = %v", p)
	}
	for _, f := range []string{"invoice_number", "status", "total_amount", "amount_due", "due_date", "issue_date"} {
		if fmt.Sprint(got[f]) != fmt.Sprint(before[f]) {
			t.Errorf("%s changed: %v, was %v", f, got[f], before[f])
		}
	}
	iw.export(seedEmail, 404)
	if m := iw.export("jean.martin@example.com", 200).json(t); len(ids(m, "invoices")) != 1 {
		t.Errorf("export of the new email: %v", ids(m, "invoices"))
	}
	// A cancelled invoice's payer may be rectified too.
	draft := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)
	iw.action(draft, "cancel", 200)
	iw.rectify(draft, `{"address":{"line1":"2 rue Neuve","postal_code":"69001","city":"Lyon","country":"FR"}}`, 200)
	// Bad input.
	if a := iw.rectify(id, `{"email":"pas une adresse"}`, 422); a.errParam(t) != "email" {
		t.Errorf("bad email: param %s", a.errParam(t))
	}
	if a := iw.rectify(id, `{"name":"A","nickname":"x"}`, 422); a.errParam(t) != "nickname" {
		t.Errorf("unknown field: %s", a.body)
	}
	iw.rectify(id, `{}`, 400)
	if a := iw.create(strings.Replace(seedInvoice(iw.dept, "2030-03-31"), `"email": "jean.dupont@example.com",`, `"email": "jean.dupont@example.com", "erased_at": "2024-01-01T00:00:00Z",`, 1), 422); a.errParam(t) != "payer.erased_at" {
		t.Errorf("a payer created as erased: %s", a.body)
	}
	iw.rectify("inv-01900000-0000-7000-8000-000000000000", `{"name":"X Y"}`, 404)
	// The trail holds the rectification.
	waitFor(t, refundWaitLimit, func() (bool, string) {
		a := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_id=" + id + "&action=payer_rectified", header: iw.h(), status: 200})
		return strings.Contains(string(a.body), `"event_type":"invoice.payer_rectified"`), string(a.body)
	})
}

// Bad input and other tenants: unknown and malformed emails, unknown
// fields, page sizes; another partner, a sibling organisation's admin and
// an organisation analyst get 404 or 403, and the victim's payer is intact
// when read back.
func TestGDPRBadInputAndTenants(t *testing.T) {
	iw := newInvoiceWorld(t)
	id := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)

	if a := iw.export("nobody@example.com", 404); a.errParam(t) != "email" {
		t.Errorf("unknown email: %s", a.body)
	}
	if a := iw.erase(eraseBody("nobody@example.com", "RGPD"), 404); a.errParam(t) != "email" {
		t.Errorf("unknown email: %s", a.body)
	}
	for _, bad := range []string{"", "jean.dupont", "Jean <jean@example.com>"} {
		if a := iw.export(bad, 422); a.errParam(t) != "email" {
			t.Errorf("export of %q: %s", bad, a.body)
		}
		if a := iw.erase(eraseBody(bad, "RGPD"), 422); a.errParam(t) != "email" {
			t.Errorf("erasure of %q: %s", bad, a.body)
		}
	}
	if a := iw.erase(eraseBody(seedEmail, ""), 422); a.errParam(t) != "reason" {
		t.Errorf("no reason: %s", a.body)
	}
	if a := iw.erase(`{"email":"`+seedEmail+`","reason":"RGPD","scope":"all"}`, 422); a.errParam(t) != "scope" {
		t.Errorf("unknown field: %s", a.body)
	}
	if a := iw.export(seedEmail, 422, "page_size=26"); a.errParam(t) != "page_size" {
		t.Errorf("page_size 26: %s", a.body)
	}
	if a := iw.export(seedEmail, 422, "cursor=eyJQSyI6IngifQ"); a.errParam(t) != "cursor" {
		t.Errorf("forged cursor: %s", a.body)
	}

	// Other tenants.
	victimPath := func(what string) string { return "/v1/organizations/" + iw.org + "/data_subjects/" + what }
	partnerB := iw.world.token("ptn-2-client", partnerSecret)
	sibling := iw.world.createOrg(iw.token, orgBody("Sœur"))
	client := func(org, role string) string {
		c := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			header: bearer(iw.token), body: `{"role":"` + role + `"}`, status: 201}).json(t)
		return iw.world.token(c["client_id"].(string), c["client_secret"].(string))
	}
	siblingAdmin, analyst := client(sibling, "admin"), client(iw.org, "analyst")
	for _, h := range []map[string]string{bearer(partnerB), bearer(partnerB, "X-Entity-Id", iw.org), bearer(siblingAdmin), bearer(siblingAdmin, "X-Entity-Id", iw.org)} {
		iw.do(exchange{method: "GET", route: exportRoute, path: victimPath("export"), query: "email=" + seedEmail, header: h, status: 404})
		iw.do(exchange{method: "POST", route: eraseRoute, path: victimPath("erase"), body: eraseBody(seedEmail, "RGPD"), header: h, status: 404})
		// A partner token without X-Entity-Id names no organisation: 400.
		status := 404
		if h["X-Entity-Id"] == "" && h["Authorization"] == "Bearer "+partnerB {
			status = 400
		}
		iw.do(exchange{method: "PATCH", route: rectifyRoute, path: "/v1/invoices/" + id + "/payer", body: `{"name":"Pirate"}`, header: h, status: status})
	}
	iw.do(exchange{method: "GET", route: exportRoute, path: victimPath("export"), query: "email=" + seedEmail, header: bearer(analyst), status: 403})
	iw.do(exchange{method: "POST", route: eraseRoute, path: victimPath("erase"), body: eraseBody(seedEmail, "RGPD"), header: bearer(analyst), status: 403})
	iw.do(exchange{method: "PATCH", route: rectifyRoute, path: "/v1/invoices/" + id + "/payer", body: `{"name":"Pirate"}`, header: bearer(analyst), status: 403})
	if p := iw.invoice(id)["payer"].(map[string]any); p["name"] != "Jean Dupont" || p["email"] != seedEmail || p["erased_at"] != nil {
		t.Errorf("the victim's payer changed: %v", p)
	}
	if m := iw.export(seedEmail, 200).json(t); len(ids(m, "invoices")) != 1 || m["erased_at"] != nil {
		t.Errorf("the victim's payer after the attacks: %v", m)
	}
}
