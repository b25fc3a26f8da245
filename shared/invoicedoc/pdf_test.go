package invoicedoc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

// issued is an issued invoice of n lines at 5.5 % and 20 %, built through
// money.Compute as the invoice service builds them.
func issued(t testing.TB, n int, desc func(i int) string) invoice.Invoice {
	t.Helper()
	inv := invoice.Invoice{InvoiceNumber: "FAC-2026-000042", Status: invoice.StatusIssued, Currency: "EUR",
		IssueDate: "2026-04-15", DueDate: "2026-05-15", PaymentTerms: "Paiement à 30 jours",
		Payer: invoice.Payer{Type: invoice.PayerBusiness, Name: "Boulangerie Dupont SARL", SIREN: "732829320", VATNumber: "FR44732829320",
			Address: &organization.Address{Line1: "15 rue de la Paix", PostalCode: "69002", City: "Lyon", Country: "FR"}},
		OperationCategory: invoice.OperationServices, ServiceDate: "2026-03-31", VATOnDebits: true,
		DeliveryAddress: &organization.Address{Line1: "Quai Perrache", PostalCode: "69002", City: "Lyon", Country: "FR"},
		Seller: invoice.Seller{Name: "Ville de Lyon", LegalName: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
			Address: organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}, Department: "Régie de l'Eau"},
		BankAccount: &invoice.BankDetails{IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP", AccountName: "Régie Eau Lyon"},
	}
	var lines []money.Line
	for i := 0; i < n; i++ {
		var q money.Quantity
		var r money.Rate
		_ = q.UnmarshalJSON([]byte("125"))
		rate := "5.5"
		if i%2 == 1 {
			rate = "20"
		}
		_ = r.UnmarshalJSON([]byte(rate))
		inv.LineItems = append(inv.LineItems, invoice.LineItem{Description: desc(i), Quantity: q, UnitPrice: 320, VATRate: r})
		lines = append(lines, money.Line{Quantity: q, UnitPrice: 320, Rate: r})
	}
	tot, err := money.Compute(lines)
	if err != nil {
		t.Fatal(err)
	}
	for i := range inv.LineItems {
		inv.LineItems[i].NetAmount = tot.LineNet[i]
	}
	for _, v := range tot.ByRate {
		inv.VATBreakdown = append(inv.VATBreakdown, invoice.VATLine{VATRate: v.Rate, NetAmount: v.NetAmount, VATAmount: v.VATAmount})
	}
	inv.TotalNet, inv.TotalVAT, inv.TotalAmount, inv.AmountDue = tot.Net, tot.VAT, tot.Gross, tot.Gross
	return inv
}

// text is the document's text as a PDF reader extracts it (poppler's
// pdftotext), one string per page.
func text(t *testing.T, pdf []byte) []string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if testing.Short() {
			t.Skip("-short: reading the PDF needs poppler-utils' pdftotext; make test installs it")
		}
		t.Fatal("pdftotext is missing: install Debian's poppler-utils (make test does it when run as root)")
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext cannot read the document: %v", err)
	}
	return strings.Split(strings.TrimRight(string(out), "\f"), "\f")
}

// pdfinfo is the document's metadata as poppler's pdfinfo prints it.
func pdfinfo(t *testing.T, pdf []byte) string {
	t.Helper()
	text(t, pdf) // the same tool set: skips or fails the same way
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	return string(out)
}

// keep writes the document and a picture of its first page (pdftoppm) for
// review under .artifacts/documents.
func keep(t *testing.T, name string, pdf []byte) {
	t.Helper()
	dir := filepath.Join("..", "..", ".artifacts", "documents")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if tool, err := exec.LookPath("pdftoppm"); err == nil {
		if out, err := exec.Command(tool, "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", file, strings.TrimSuffix(file, ".pdf")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
	}
}

func TestDocumentStatesEveryMandatoryMention(t *testing.T) {
	inv := issued(t, 2, func(i int) string { return []string{"Consommation eau T1 2024", "Abonnement compteur"}[i] })
	pdf, err := PDF(Input{Invoice: inv, PaymentURL: "https://pay.modupay.fr/p/abc", Created: time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "invoice-1-page", pdf)
	pages := text(t, pdf)
	all := strings.Join(pages, "\n")
	squash := regexp.MustCompile(`\s+`).ReplaceAllString(all, " ")
	for _, want := range []string{
		// The seller: legal name, address, SIREN and SIRET, VAT number.
		"Mairie de Lyon", "1 Place de la Comédie", "69001 Lyon", "SIREN 216901234", "SIRET 21690123400019", "FR21216901234",
		// The buyer.
		"Facturé à", "Boulangerie Dupont SARL", "15 rue de la Paix", "69002 Lyon",
		// Number and dates.
		"FACTURE", "FAC-2026-000042", "Date d'émission : 15/04/2026", "Date d'échéance : 15/05/2026",
		// Lines: quantity, unit price HT, VAT rate, amount HT.
		"Consommation eau T1 2024", "Abonnement compteur", "125", "3,20 €", "5,5 %", "20 %", "400,00 €",
		// Totals HT, VAT per rate, TTC.
		"Total HT 800,00 €", "TVA 5,5 % (sur 400,00 €) 22,00 €", "TVA 20 % (sur 400,00 €) 80,00 €", "Total TTC 902,00 €",
		// The buyer's SIREN and VAT number, the delivery address, the reform's
		// mentions: operation category, service date, VAT on debits.
		"SIREN 732829320", "FR44732829320", "Livré à", "Quai Perrache",
		"Catégorie de l'opération : prestation de services", "Date de la livraison ou de la prestation : 31/03/2026", "d'après les débits",
		// Terms, penalties, the 40 € indemnity (a business buyer), no discount.
		"Conditions de paiement : Paiement à 30 jours", "Escompte pour paiement anticipé : néant", "majoré de 10 points", "40 €", "D441-5",
		// How to pay.
		"https://pay.modupay.fr/p/abc", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP", "Référence à indiquer : FAC-2026-000042",
		"Page 1 / 1",
	} {
		if !strings.Contains(squash, strings.ReplaceAll(want, "\u00a0", " ")) && !strings.Contains(squash, want) {
			t.Errorf("the document lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("document text:\n%s", all)
	}
	// A consumer (not a business): no B2B penalty mentions.
	inv.Payer.Type, inv.Payer.SIREN, inv.Payer.VATNumber = invoice.PayerIndividual, "", ""
	pdf, err = PDF(Input{Invoice: inv})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(text(t, pdf), " "); strings.Contains(s, "D441-5") || strings.Contains(s, "Escompte") {
		t.Error("a consumer's invoice states the business-to-business penalties")
	}
}

func TestLongInvoicesRunOverPagesWithTheirHeaders(t *testing.T) {
	long := strings.Repeat("Entretien du réseau d'eau potable — secteur Croix-Rousse, ", 8)
	inv := issued(t, 200, func(i int) string { return fmt.Sprintf("%03d %s", i+1, long) })
	pdf, err := PDF(Input{Invoice: inv})
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "invoice-200-lines", pdf)
	pages := text(t, pdf)
	if len(pages) < 10 {
		t.Fatalf("200 lines of %d characters on %d pages", len(long), len(pages))
	}
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d / %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
		if !strings.Contains(p, "FAC-2026-000042") {
			t.Errorf("page %d lacks the invoice number", i+1)
		}
		if i < len(pages)-1 && !strings.Contains(p, "Désignation") {
			t.Errorf("page %d of the lines lacks the table's header", i+1)
		}
	}
	// Every line is there, once, in order.
	all := strings.Join(pages, "\n")
	last := -1
	for i := 1; i <= 200; i++ {
		at := strings.Index(all, fmt.Sprintf("%03d Entretien", i))
		if at < 0 || at < last {
			t.Fatalf("line %d missing or out of order", i)
		}
		last = at
	}
	if !strings.Contains(all, "Total TTC") {
		t.Error("no total after 200 lines")
	}
}

func TestCharactersBeyondLatin1AreRendered(t *testing.T) {
	names := "Łódź Œuvre Ærøskøbing Şişli Čapek Ğ ĳ Ξενοδοχείο Жуковский"
	inv := issued(t, 1, func(int) string { return names })
	inv.Payer.Name = "Zoë Ångström-Dvořák"
	pdf, err := PDF(Input{Invoice: inv})
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "invoice-characters", pdf)
	all := strings.Join(text(t, pdf), " ")
	for _, want := range append(strings.Fields(names), "Zoë", "Ångström-Dvořák") {
		if !strings.Contains(all, want) {
			t.Errorf("%q is not in the document's text", want)
		}
	}
}

func TestDraftsHaveNoDocument(t *testing.T) {
	inv := issued(t, 1, func(int) string { return "x" })
	inv.Status, inv.InvoiceNumber = invoice.StatusDraft, ""
	if _, err := PDF(Input{Invoice: inv}); err == nil {
		t.Fatal("a draft was rendered")
	}
}

func TestSameInvoiceSameDocument(t *testing.T) {
	inv := issued(t, 3, func(i int) string { return fmt.Sprint("ligne ", i) })
	at := time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC)
	a, err := PDF(Input{Invoice: inv, Created: at})
	if err != nil {
		t.Fatal(err)
	}
	b, err := PDF(Input{Invoice: inv, Created: at})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("rendering the same invoice twice gave two documents")
	}
	// White label: the metadata name the seller, nobody else.
	if info := pdfinfo(t, a); strings.Contains(strings.ToLower(info), "modupay") || strings.Contains(info, "FPDF") ||
		!strings.Contains(info, "Creator:         Mairie de Lyon") || !strings.Contains(info, "Author:          Mairie de Lyon") {
		t.Errorf("the document's metadata:\n%s", info)
	}
}
