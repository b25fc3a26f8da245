package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// pdfText is the text of a PDF as poppler's pdftotext reads it (make test
// installs poppler-utils: infra/ci/need-doctools.sh).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (make test installs poppler-utils)", err)
	}
	return string(out)
}

// An issued invoice's documents, through the API: the PDF in French and in
// English, the Factur-X PDF and its CII XML, each as kept at the issue —
// the same bytes after a payment and after the payer is rectified; a draft
// has none (409); a language the document does not have is a 422 naming
// lang.
func TestInvoiceDocuments(t *testing.T) {
	iw := newInvoiceWorld(t)
	docRoute := func(kind string) string { return "/v1/invoices/{invoice_id}/" + kind }
	get := func(id, kind, query string, status int) answer {
		return iw.do(exchange{method: "GET", route: docRoute(kind), path: "/v1/invoices/" + id + "/" + kind, query: query, header: iw.h(), status: status})
	}
	draft := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)
	for _, kind := range []string{"pdf", "facturx", "cii.xml"} {
		if a := get(draft["id"].(string), kind, "", 409); !strings.Contains(string(a.body), "a draft has no document") {
			t.Errorf("%s of a draft: %s", kind, a.body)
		}
	}
	// A private payer without an address: the PDF, and no structured
	// document (EN 16931 wants the buyer's address), the 409 saying so.
	noAddress := strings.Replace(seedInvoice(iw.dept, "2030-03-31"),
		`"address": {"line1": "15 rue de la Paix", "postal_code": "69002", "city": "Lyon", "country": "FR"}`, `"address": null`, 1)
	if noAddress == seedInvoice(iw.dept, "2030-03-31") {
		t.Fatal("the seed invoice's payer address changed")
	}
	private := iw.create(noAddress, 201).json(t)["id"].(string)
	iw.action(private, "issue", 200)
	if a := get(private, "pdf", "", 200); !bytes.HasPrefix(a.body, []byte("%PDF-")) {
		t.Error("no PDF for a payer without an address")
	}
	for _, kind := range []string{"facturx", "cii.xml"} {
		if a := get(private, kind, "", 409); !strings.Contains(string(a.body), "payer.address") {
			t.Errorf("%s of an invoice without the payer's address: %s", kind, a.body)
		}
	}

	inv, _ := iw.paidIntent(t, ibanRefundSucceeds)
	number := iw.invoice(inv)["invoice_number"].(string)

	fr := get(inv, "pdf", "", 200)
	if ct := fr.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(fr.body, []byte("%PDF-")) {
		t.Fatalf("the PDF: %s, %q…", ct, fr.body[:min(len(fr.body), 16)])
	}
	if cd := fr.header.Get("Content-Disposition"); cd != `inline; filename=`+number+`.pdf` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := fr.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q", cc)
	}
	text := pdfText(t, fr.body)
	for _, want := range []string{"FACTURE", number, "Mairie de Lyon", "Jean Dupont", "422,00", "SIRET"} {
		if !strings.Contains(text, want) {
			t.Errorf("the French PDF lacks %q:\n%s", want, text)
		}
	}
	en := pdfText(t, get(inv, "pdf", "lang=en", 200).body)
	if !strings.Contains(en, "INVOICE") || !strings.Contains(en, number) {
		t.Errorf("the English PDF:\n%s", en)
	}
	fx := get(inv, "facturx", "", 200)
	if !bytes.HasPrefix(fx.body, []byte("%PDF-")) || !bytes.Contains(fx.body, []byte("factur-x.xml")) || !bytes.Contains(fx.body, []byte("/AFRelationship /Alternative")) {
		t.Errorf("the Factur-X PDF embeds no factur-x.xml of relationship Alternative")
	}
	cii := get(inv, "cii.xml", "", 200)
	if cii.header.Get("Content-Type") != "application/xml" || !bytes.Contains(cii.body, []byte("CrossIndustryInvoice")) || !bytes.Contains(cii.body, []byte(number)) {
		t.Errorf("the CII: %s %s", cii.header.Get("Content-Type"), cii.body)
	}
	for _, c := range []struct{ kind, query string }{{"pdf", "lang=de"}, {"facturx", "lang=en"}, {"cii.xml", "lang=en"}} {
		if a := get(inv, c.kind, c.query, 422); !strings.Contains(string(a.body), `"param":"lang"`) {
			t.Errorf("%s?%s: %s", c.kind, c.query, a.body)
		}
	}

	// Paid since its issue, then its payer rectified: its documents are
	// those of the issue, byte for byte.
	iw.rectify(inv, `{"name":"Jeanne Dupont"}`, 200)
	for kind, before := range map[string][]byte{"pdf": fr.body, "facturx": fx.body, "cii.xml": cii.body} {
		if after := get(inv, kind, "", 200); !bytes.Equal(after.body, before) {
			t.Errorf("the %s changed after the issue", kind)
		}
	}
	if strings.Contains(pdfText(t, get(inv, "pdf", "", 200).body), "Jeanne") {
		t.Error("the PDF shows the rectified payer: it is not the document issued")
	}

	// The payer's page links the same PDF, in its language.
	open := iw.issuedInvoice(t)
	page := iw.link(linkBody(open, ""), 201).json(t)["payment_page_url"].(string)
	token := page[strings.LastIndex(page, "/")+1:]
	html := iw.do(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token, status: 200}).body
	href := "/p/" + token + "/invoice.pdf?lang=fr"
	if !bytes.Contains(html, []byte(`href="`+href+`"`)) {
		t.Fatalf("the payment page does not link the invoice's PDF %s", href)
	}
	payer := iw.do(exchange{method: "GET", route: "/p/{token}/invoice.pdf", path: "/p/" + token + "/invoice.pdf", query: "lang=fr", status: 200})
	if !bytes.Equal(payer.body, get(open, "pdf", "", 200).body) {
		t.Error("the payer's PDF is not the one the API serves")
	}
	payerEN := iw.do(exchange{method: "GET", route: "/p/{token}/invoice.pdf", path: "/p/" + token + "/invoice.pdf", query: "lang=en", status: 200})
	if !bytes.Equal(payerEN.body, get(open, "pdf", "lang=en", 200).body) {
		t.Error("the payer's English PDF is not the one the API serves")
	}
	iw.do(exchange{method: "GET", route: "/p/{token}/invoice.pdf", path: "/p/" + token[:len(token)-4] + "AAAA/invoice.pdf", status: 404})

	// The dashboard's invoice page links the same PDF.
	session := iw.signIn("ptn-1-client", partnerSecret)
	base := "/dashboard/organizations/" + iw.org + "/invoices/"
	dash := iw.page("GET", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", base+open, session, nil, nil, 200)
	if !bytes.Contains(dash.body, []byte(`href="`+base+open+`/pdf"`)) {
		t.Errorf("the dashboard's invoice page does not link its PDF")
	}
	pdfRoute := "/dashboard/organizations/{org_id}/invoices/{invoice_id}/pdf"
	if a := iw.page("GET", pdfRoute, base+open+"/pdf?lang=en", session, nil, nil, 200); !bytes.Equal(a.body, get(open, "pdf", "lang=en", 200).body) {
		t.Error("the dashboard's English PDF is not the API's")
	}
	if a := iw.page("GET", pdfRoute, base+draft["id"].(string)+"/pdf", session, nil, nil, 409); !strings.Contains(string(a.body), "a draft has no document") {
		t.Errorf("a draft's PDF in the dashboard: %s", a.body)
	}
}

// Cancelling an issued invoice makes its credit note: the next number of
// the organisation's own series for the year, the whole total credited,
// its PDF naming the invoice it cancels; cancellations at once take
// numbers without gap or duplicate; a draft's cancellation makes none.
func TestCancellingAnIssuedInvoiceMakesItsCreditNote(t *testing.T) {
	iw := newInvoiceWorld(t)
	year := iw.clock.Now().In(paris).Year()
	draft := iw.create(seedInvoice(iw.dept, "2030-03-31"), 201).json(t)["id"].(string)
	if c := iw.action(draft, "cancel", 200).json(t); c["credit_notes"] != nil {
		t.Errorf("a draft's cancellation made credit notes: %v", c["credit_notes"])
	}
	inv := iw.issuedInvoice(t)
	number := iw.invoice(inv)["invoice_number"].(string)
	c := iw.action(inv, "cancel", 200).json(t)
	notes, _ := c["credit_notes"].([]any)
	if len(notes) != 1 {
		t.Fatalf("credit notes %v", c["credit_notes"])
	}
	cn := notes[0].(map[string]any)
	want := fmt.Sprintf("AV-%d-00001", year)
	if cn["number"] != want || cn["amount"] != 42200.0 || cn["reason"] != "Annulation de la facture "+number {
		t.Errorf("credit note %v, want %s of 42200 cancelling %s", cn, want, number)
	}
	route := "/v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/pdf"
	pdf := iw.do(exchange{method: "GET", route: route, path: "/v1/invoices/" + inv + "/credit_notes/" + want + "/pdf", header: iw.h(), status: 200})
	text := pdfText(t, pdf.body)
	for _, w := range []string{"AVOIR", want, number, "422,00"} {
		if !strings.Contains(strings.ToUpper(text), strings.ToUpper(w)) {
			t.Errorf("the credit note lacks %q:\n%s", w, text)
		}
	}
	if en := pdfText(t, iw.do(exchange{method: "GET", route: route, path: "/v1/invoices/" + inv + "/credit_notes/" + want + "/pdf", query: "lang=en", header: iw.h(), status: 200}).body); !strings.Contains(strings.ToUpper(en), "CREDIT NOTE") {
		t.Errorf("the English credit note:\n%s", en)
	}
	iw.do(exchange{method: "GET", route: route, path: "/v1/invoices/" + inv + "/credit_notes/AV-1999-00001/pdf", header: iw.h(), status: 404})
	// The invoice's own documents stay those of its issue.
	iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}/pdf", path: "/v1/invoices/" + inv + "/pdf", header: iw.h(), status: 200})

	const n = 6
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, iw.issuedInvoice(t))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var numbers []string
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := retryBusy(func() answer {
				return iw.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/cancel", path: "/v1/invoices/" + id + "/cancel",
					header: iw.h("Idempotency-Key", "cancel-"+id), status: -1})
			})
			if a.status != 200 {
				t.Errorf("cancel %s: %d %s", id, a.status, a.body)
				return
			}
			mu.Lock()
			numbers = append(numbers, a.json(t)["credit_notes"].([]any)[0].(map[string]any)["number"].(string))
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(numbers)
	for i, got := range numbers {
		if w := fmt.Sprintf("AV-%d-%05d", year, i+2); got != w {
			t.Fatalf("credit note numbers %v: position %d is %s, want %s", numbers, i, got, w)
		}
	}
}
