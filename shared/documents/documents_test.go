package documents_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/objects"
	"github.com/modupay/modupay/shared/organization"
)

// issued is a one-line issued invoice, as the service issues it.
func issued(t *testing.T) invoice.Invoice {
	t.Helper()
	var q money.Quantity
	var r money.Rate
	_ = q.UnmarshalJSON([]byte("125"))
	_ = r.UnmarshalJSON([]byte("5.5"))
	tot, err := money.Compute([]money.Line{{Quantity: q, UnitPrice: 320, Rate: r}})
	if err != nil {
		t.Fatal(err)
	}
	return invoice.Invoice{ID: "inv-1", PartnerID: "ptn", OrgID: "org-1", InvoiceNumber: "FAC-2026-00042", Status: invoice.StatusIssued, Currency: "EUR",
		IssueDate: "2026-04-15", DueDate: "2026-05-15", UpdatedAt: time.Date(2026, 4, 15, 9, 30, 0, 0, time.UTC), Version: 2, DocumentsVersion: 2,
		Payer: invoice.Payer{Name: "Jean Dupont", Address: &organization.Address{Line1: "15 rue de la Paix", PostalCode: "69002", City: "Lyon", Country: "FR"}},
		Seller: invoice.Seller{Name: "Ville de Lyon", LegalName: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
			Address: organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}},
		BankAccount:  &invoice.BankDetails{IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP", AccountName: "Régie Eau Lyon"},
		LineItems:    []invoice.LineItem{{Description: "Consommation eau", Quantity: q, UnitPrice: 320, VATRate: r, NetAmount: tot.LineNet[0]}},
		VATBreakdown: []invoice.VATLine{{VATRate: r, NetAmount: tot.ByRate[0].NetAmount, VATAmount: tot.ByRate[0].VATAmount}},
		TotalNet:     tot.Net, TotalVAT: tot.VAT, TotalAmount: tot.Gross, AmountDue: tot.Gross}
}

// Kept at the issue, each document reads back as written; keeping again
// (a retried issue) writes nothing new; later changes to the invoice read
// the same bytes; a draft, an invoice issued before documents were kept
// and a language a document lacks are refused.
func TestKeepAndRead(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	k := documents.Keeper{Objects: objects.Dir{Root: root}}
	inv := issued(t)
	if lacked, err := k.Keep(ctx, inv); err != nil || lacked != nil {
		t.Fatal(lacked, err)
	}
	read := func(inv invoice.Invoice, kind documents.Kind, lang string) documents.Document {
		t.Helper()
		d, err := k.Read(ctx, inv, kind, lang)
		if err != nil {
			t.Fatalf("%s %s: %v", kind, lang, err)
		}
		return d
	}
	fr, en, fx, cii := read(inv, documents.PDF, ""), read(inv, documents.PDF, "en"), read(inv, documents.FacturX, "fr"), read(inv, documents.CII, "")
	for name, d := range map[string]documents.Document{"fr": fr, "en": en, "facturx": fx} {
		if !bytes.HasPrefix(d.Body, []byte("%PDF-")) || d.ContentType != "application/pdf" || d.FileName != "FAC-2026-00042.pdf" {
			t.Errorf("%s: %s %s %q", name, d.ContentType, d.FileName, d.Body[:8])
		}
	}
	if bytes.Equal(fr.Body, en.Body) || bytes.Equal(fr.Body, fx.Body) {
		t.Error("the French PDF is also the English or the Factur-X one")
	}
	if !bytes.Contains(cii.Body, []byte("FAC-2026-00042")) || cii.FileName != "FAC-2026-00042.xml" || cii.ContentType != "application/xml" {
		t.Errorf("cii: %s %s", cii.FileName, cii.ContentType)
	}
	files, _ := filepath.Glob(filepath.Join(root, "invoices", "ptn", "org-1", "inv-1", "v2", "*"))
	if len(files) != 4 {
		t.Errorf("kept %v, want 4 files", files)
	}
	// A retried issue keeps again: nothing replaced.
	info, _ := os.Stat(files[0])
	if _, err := k.Keep(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(files[0]); !again.ModTime().Equal(info.ModTime()) {
		t.Error("a second keep rewrote a document")
	}
	// Paid and its payer renamed since: the documents of the issue.
	later := inv
	later.Status, later.AmountPaid, later.Payer.Name, later.Version = invoice.StatusPaid, inv.TotalAmount, "Jeanne Martin", 5
	if !bytes.Equal(read(later, documents.PDF, "fr").Body, fr.Body) {
		t.Error("the PDF read for the invoice as it is now differs from the issued one")
	}

	draft := inv
	draft.Status, draft.DocumentsVersion = invoice.StatusDraft, 0
	old := inv
	old.DocumentsVersion = 0
	for name, c := range map[string]struct {
		inv         invoice.Invoice
		kind        documents.Kind
		lang, param string
		code        apperr.Code
	}{
		"draft":              {draft, documents.PDF, "", "", apperr.Conflict},
		"issued before":      {old, documents.PDF, "", "", apperr.Conflict},
		"german":             {inv, documents.PDF, "de", "lang", apperr.Invalid},
		"english factur-x":   {inv, documents.FacturX, "en", "lang", apperr.Invalid},
		"english structured": {inv, documents.CII, "en", "lang", apperr.Invalid},
	} {
		_, err := k.Read(ctx, c.inv, c.kind, c.lang)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != c.code || ae.Param != c.param {
			t.Errorf("%s: %v, want %s on %q", name, err, c.code, c.param)
		}
	}
	// A document named by an issue yet missing from the store is ours:
	// never a 404 that would hide it.
	lost := inv
	lost.DocumentsVersion = 9
	if _, err := k.Read(ctx, lost, documents.PDF, "fr"); err == nil || apperr.CodeOf(err) == apperr.NotFound {
		t.Errorf("a missing kept document: %v", err)
	}
}

// An invoice that cannot make a valid EN 16931 document (a private payer
// without an address) keeps its PDFs; its structured documents are a 409
// naming what it lacked.
func TestKeepWithoutAStructuredDocument(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	k := documents.Keeper{Objects: objects.Dir{Root: root}}
	inv := issued(t)
	inv.Payer.Address = nil
	lacked, err := k.Keep(ctx, inv)
	if err != nil || len(lacked) != 1 || lacked[0] != "payer.address (BR-10, BR-11)" {
		t.Fatalf("lacked %v, %v", lacked, err)
	}
	inv.DocumentsLacked = lacked
	if files, _ := filepath.Glob(filepath.Join(root, "invoices", "*", "*", "*", "*", "*")); len(files) != 2 {
		t.Errorf("kept %v, want the two PDFs", files)
	}
	if d, err := k.Read(ctx, inv, documents.PDF, "en"); err != nil || !bytes.HasPrefix(d.Body, []byte("%PDF-")) {
		t.Errorf("the English PDF: %v", err)
	}
	for _, kind := range []documents.Kind{documents.FacturX, documents.CII} {
		_, err := k.Read(ctx, inv, kind, "")
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Conflict || !bytes.Contains([]byte(ae.Message), []byte("payer.address")) {
			t.Errorf("%s: %v, want a 409 naming payer.address", kind, err)
		}
	}
}

type brands struct{ partner, org branding.Branding }

func (b brands) Brandings(context.Context, string, string) (branding.Branding, branding.Branding, error) {
	return b.partner, b.org, nil
}

// The documents wear the organisation's display name, else the partner's,
// else the seller's legal name: read once, at the issue.
func TestKeepWearsTheWhiteLabel(t *testing.T) {
	ctx := context.Background()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is missing: make test installs poppler-utils")
	}
	for _, c := range []struct {
		name  string
		b     brands
		brand string
	}{
		{"the organisation's", brands{branding.Branding{DisplayName: "Partenaire SaaS"}, branding.Branding{DisplayName: "Eau du Grand Lyon"}}, "Eau du Grand Lyon"},
		{"the partner's", brands{partner: branding.Branding{DisplayName: "Partenaire SaaS"}}, "Partenaire SaaS"},
		{"none", brands{}, "Mairie de Lyon"},
	} {
		k := documents.Keeper{Objects: objects.Dir{Root: t.TempDir()}, Brands: c.b}
		inv := issued(t)
		if _, err := k.Keep(ctx, inv); err != nil {
			t.Fatal(err)
		}
		d, err := k.Read(ctx, inv, documents.PDF, "fr")
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "doc.pdf")
		if err := os.WriteFile(f, d.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "-l", "1", f, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if first := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]; !strings.Contains(first, c.brand) {
			t.Errorf("%s: the document opens with %q, want %q", c.name, first, c.brand)
		}
	}
}

// pdfText is the text of a PDF, by poppler's pdftotext.
func pdfText(t *testing.T, body []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is missing: make test installs poppler-utils")
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// A credit note of an issued invoice keeps the invoice's four documents
// under its number — the PDF in French and in English, the Factur-X and
// the CII XML of a credit note (381) naming the invoice; only the
// invoice's own credit notes read back.
func TestKeepAndReadCreditNote(t *testing.T) {
	ctx := context.Background()
	k := documents.Keeper{Objects: objects.Dir{Root: t.TempDir()}}
	orig := issued(t)
	cn := invoice.CreditNote{Number: "AV-2026-00007", IssueDate: "2026-04-20", Amount: orig.TotalAmount,
		Reason: "Annulation de la facture " + orig.InvoiceNumber, CreatedAt: time.Date(2026, 4, 20, 8, 0, 0, 0, time.UTC)}
	if err := k.KeepCredit(ctx, orig, cn); err != nil {
		t.Fatal(err)
	}
	inv := orig
	inv.Status, inv.CreditNotes = invoice.StatusCancelled, []invoice.CreditNote{cn}
	fr, err := k.ReadCredit(ctx, inv, cn.Number, documents.PDF, "")
	if err != nil || !bytes.HasPrefix(fr.Body, []byte("%PDF-")) || fr.FileName != "AV-2026-00007.pdf" {
		t.Fatalf("%v %s", err, fr.FileName)
	}
	out := pdfText(t, fr.Body)
	for _, want := range []string{"AV-2026-00007", orig.InvoiceNumber, "Annulation"} {
		if !strings.Contains(out, want) {
			t.Errorf("the credit note lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "remboursé au payeur") {
		t.Errorf("a cancellation's credit note says it was refunded:\n%s", out)
	}
	if en, err := k.ReadCredit(ctx, inv, cn.Number, documents.PDF, "en"); err != nil || bytes.Equal(en.Body, fr.Body) {
		t.Errorf("the English credit note: %v", err)
	}
	fx, err := k.ReadCredit(ctx, inv, cn.Number, documents.FacturX, "")
	if err != nil || !bytes.HasPrefix(fx.Body, []byte("%PDF-")) || !bytes.Contains(fx.Body, []byte("factur-x.xml")) || fx.FileName != "AV-2026-00007.pdf" {
		t.Errorf("the credit note's Factur-X: %v %s", err, fx.FileName)
	}
	x, err := k.ReadCredit(ctx, inv, cn.Number, documents.CII, "")
	if err != nil || x.FileName != "AV-2026-00007.xml" || x.ContentType != "application/xml" {
		t.Fatalf("the credit note's CII: %v %+v", err, x.FileName)
	}
	for _, want := range []string{"<ram:TypeCode>381</ram:TypeCode>", "<ram:IssuerAssignedID>" + orig.InvoiceNumber + "</ram:IssuerAssignedID>",
		fmt.Sprintf("<ram:DuePayableAmount>%d.%02d</ram:DuePayableAmount>", orig.TotalAmount/100, orig.TotalAmount%100)} {
		if !bytes.Contains(x.Body, []byte(want)) {
			t.Errorf("the credit note's CII lacks %s:\n%s", want, x.Body)
		}
	}
	if _, err := k.ReadCredit(ctx, inv, cn.Number, documents.CII, "en"); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("an English CII: %v", err)
	}
	if _, err := k.ReadCredit(ctx, inv, "AV-2026-00008", documents.PDF, ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another number: %v", err)
	}
	if _, err := k.ReadCredit(ctx, orig, cn.Number, documents.PDF, ""); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("an invoice without that credit note: %v", err)
	}
}

// A refund's credit note states the amount refunded and leaves nothing
// due; two credit notes of one invoice rendered under one number (a refund
// and the next, racing for it) keep their own files, and the one recorded
// reads back its own amount, never the loser's.
func TestRefundCreditNotesKeepTheirOwnFiles(t *testing.T) {
	ctx := context.Background()
	k := documents.Keeper{Objects: objects.Dir{Root: t.TempDir()}}
	orig := issued(t)
	at := time.Date(2026, 4, 22, 8, 0, 0, 0, time.UTC)
	loser := invoice.CreditNote{Number: "AV-2026-00003", IssueDate: "2026-04-22", Amount: 1000, Reason: "Remboursement", RefundID: "re_loser", CreatedAt: at}
	winner := invoice.CreditNote{Number: "AV-2026-00003", IssueDate: "2026-04-22", Amount: 2345, Reason: "Remboursement", RefundID: "re_winner", CreatedAt: at}
	for _, cn := range []invoice.CreditNote{loser, winner} {
		if err := k.KeepCredit(ctx, orig, cn); err != nil {
			t.Fatal(err)
		}
	}
	inv := orig
	inv.CreditNotes = []invoice.CreditNote{winner}
	d, err := k.ReadCredit(ctx, inv, winner.Number, documents.PDF, "")
	if err != nil {
		t.Fatal(err)
	}
	out := pdfText(t, d.Body)
	if !strings.Contains(out, "23,45") || strings.Contains(out, "10,00") || !strings.Contains(out, "re_winner") || !strings.Contains(out, "remboursé au payeur") {
		t.Errorf("the recorded credit note does not read its own refund:\n%s", out)
	}
	x, err := k.ReadCredit(ctx, inv, winner.Number, documents.CII, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<ram:TotalPrepaidAmount>23.45</ram:TotalPrepaidAmount>", "<ram:DuePayableAmount>0.00</ram:DuePayableAmount>"} {
		if !bytes.Contains(x.Body, []byte(want)) {
			t.Errorf("the refund's credit note CII lacks %s:\n%s", want, x.Body)
		}
	}
}

// An invoice that lacked what EN 16931 requires makes credit notes with
// PDFs only: their structured documents are the invoice's 409.
func TestCreditNoteOfAnInvoiceWithoutAStructuredDocument(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	k := documents.Keeper{Objects: objects.Dir{Root: root}}
	inv := issued(t)
	inv.Payer.Address = nil
	inv.DocumentsLacked = []string{"payer.address (BR-10, BR-11)"}
	cn := invoice.CreditNote{Number: "AV-2026-00001", IssueDate: "2026-04-22", Amount: 500, Reason: "Remboursement", RefundID: "re_1", CreatedAt: time.Now()}
	if err := k.KeepCredit(ctx, inv, cn); err != nil {
		t.Fatal(err)
	}
	inv.CreditNotes = []invoice.CreditNote{cn}
	if files, _ := filepath.Glob(filepath.Join(root, "invoices", "*", "*", "*", "credit", "*", "*", "*")); len(files) != 2 {
		t.Errorf("kept %v, want the two PDFs", files)
	}
	if _, err := k.ReadCredit(ctx, inv, cn.Number, documents.PDF, "en"); err != nil {
		t.Error(err)
	}
	for _, kind := range []documents.Kind{documents.FacturX, documents.CII} {
		if _, err := k.ReadCredit(ctx, inv, cn.Number, kind, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("%s: %v, want a 409", kind, err)
		}
	}
}
