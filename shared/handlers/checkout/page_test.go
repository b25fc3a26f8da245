package checkout

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
)

// fixture is an issued invoice of two lines at two VAT rates with an active
// link for both methods, as the page reads it.
func fixture(t *testing.T) payment.Page {
	t.Helper()
	q := func(s string) money.Quantity {
		var v money.Quantity
		if err := v.UnmarshalJSON([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return v
	}
	r := func(s string) money.Rate {
		var v money.Rate
		if err := v.UnmarshalJSON([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return v
	}
	return payment.Page{
		Link: payment.Link{ID: "plink_1", Amount: 46200, Currency: "EUR", Status: payment.LinkActive,
			PaymentMethods: []string{payment.MethodSEPA, payment.MethodCard}, ExpiresAt: time.Now().Add(time.Hour)},
		Intent: payment.Intent{ID: "pi_1", Amount: 46200, Currency: "EUR", Status: "requires_payment_method"},
		Invoice: invoice.Invoice{InvoiceNumber: "FAC-2026-000042", Status: invoice.StatusIssued, Currency: "EUR",
			Payer: invoice.Payer{Name: "Jean Dupont"},
			LineItems: []invoice.LineItem{
				{Description: "Consommation eau T1 2024", Quantity: q("125"), UnitPrice: 320, VATRate: r("5.5"), NetAmount: 40000},
				{Description: "Abonnement compteur", Quantity: q("1.5"), UnitPrice: 2000, VATRate: r("20"), NetAmount: 3000},
			},
			VATBreakdown: []invoice.VATLine{{VATRate: r("5.5"), NetAmount: 40000, VATAmount: 2200}, {VATRate: r("20"), NetAmount: 3000, VATAmount: 600}},
			TotalNet:     43000, TotalVAT: 2800, TotalAmount: 45800 + 400, AmountDue: 46200,
			DueDate: "2026-05-15", IssueDate: "2026-04-15",
			Seller: invoice.Seller{Name: "Ville de Lyon", LegalName: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
				Address: organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}, Department: "Régie de l'Eau"}},
		Account: department.BankAccount{IBAN: "FR7630006000011234567890189", AccountName: "Régie Eau Lyon", BankName: "BNP Paribas"},
		Brand:   branding.Branding{DisplayName: "Lyon Services"},
	}
}

func render(t *testing.T, h *Handlers, l string, p payment.Page, mutate func(*view)) string {
	t.Helper()
	v := h.view(l, "tok", p)
	tmpl := pageTmpl
	if mutate != nil {
		mutate(&v)
		if v.Poll != "" || v.Final {
			tmpl = statusTmpl
		}
	}
	resp, err := h.html(200, tmpl, v)
	if err != nil {
		t.Fatal(err)
	}
	body := string(resp.Body)
	if dir := os.Getenv("CHECKOUT_PAGES_DIR"); dir != "" { // to look at them in a browser
		name := strings.NewReplacer(" ", "-", "/", "-").Replace(t.Name()) + "-" + l + ".html"
		_ = os.WriteFile(filepath.Join(dir, name), resp.Body, 0o644)
	}
	return body
}

func TestPaymentPageStatesWhatAFrenchInvoiceStates(t *testing.T) {
	h := &Handlers{CSRFKey: []byte("k"), Flow: &payment.Flow{Cards: payment.SandboxCards{}}, Sandbox: true}
	body := render(t, h, "fr", fixture(t), nil)
	for _, want := range []string{
		"Mairie de Lyon", "(Ville de Lyon)", "1 Place de la Comédie", "69001 Lyon", "SIRET", "21690123400019", "FR21216901234", "Régie de l&#39;Eau",
		"FAC-2026-000042", "Émise le", "15/04/2026", "Échéance", "15/05/2026",
		"Consommation eau T1 2024", ">125<", ">1,5<", "3,20\u00a0€", "5,5\u00a0%", "20\u00a0%",
		"Total HT", "430,00\u00a0€", "TVA 5,5\u00a0% <span class=\"muted\">(400,00\u00a0€)</span>", "22,00\u00a0€", "6,00\u00a0€", "Total TTC", "462,00\u00a0€",
		"Montant à payer", "Payer par virement", "Payer par carte", "Régie Eau Lyon", "FR76 •••• 0189", "BNP Paribas",
		`name="method" value="sepa_credit"`, `name="method" value="card"`, `id="m-sepa" name="choice" value="sepa_credit" checked`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the payment page lacks %q", want)
		}
	}
	// Two forms, each with its own button and CSRF field; the card fields
	// are inside the card's form only.
	if n := strings.Count(body, "<form "); n != 2 {
		t.Errorf("%d forms, want one per method", n)
	}
	sepaForm := body[strings.Index(body, `class="panel p-sepa"`):]
	sepaForm = sepaForm[:strings.Index(sepaForm, "</form>")]
	if strings.Contains(sepaForm, "card_number") || strings.Contains(sepaForm, "Payer par carte") {
		t.Error("the SEPA form carries card fields or the card button")
	}
	if strings.Contains(body, "bientôt") {
		t.Error("the page says cards are coming while they are offered")
	}
	// English, same facts.
	en := render(t, h, "en", fixture(t), nil)
	for _, want := range []string{"Pay your invoice", "15 Apr 2026", "15 May 2026", "5.5%", "Total incl. VAT", "Pay by bank transfer", "Pay by card", `lang="en"`} {
		if !strings.Contains(en, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
}

func TestPaymentPageOffersOnlyWhatTheLinkAllows(t *testing.T) {
	h := &Handlers{CSRFKey: []byte("k"), Flow: &payment.Flow{Cards: payment.SandboxCards{}}}
	p := fixture(t)
	p.Link.PaymentMethods = []string{payment.MethodSEPA}
	body := render(t, h, "fr", p, nil)
	if strings.Contains(body, "card_number") || strings.Contains(body, `name="choice"`) || strings.Contains(body, "4242") {
		t.Error("a SEPA-only link shows card fields, the method choice or test cards")
	}
	if !strings.Contains(body, "Payer par virement") {
		t.Error("a SEPA-only link has no SEPA button")
	}
	// No card provider (production): the card is named unavailable, no field.
	h.Flow.Cards = nil
	p.Link.PaymentMethods = []string{payment.MethodSEPA, payment.MethodCard}
	body = render(t, h, "fr", p, nil)
	if strings.Contains(body, "card_number") || !strings.Contains(body, "Carte bancaire (bientôt disponible)") || strings.Contains(body, `name="choice"`) {
		t.Error("without a card provider the page must offer SEPA alone and say the card is unavailable")
	}
}

func TestReceiptOfAPaidInvoice(t *testing.T) {
	h := &Handlers{CSRFKey: []byte("k"), Flow: &payment.Flow{}}
	p := fixture(t)
	done := time.Date(2026, 4, 20, 8, 5, 0, 0, time.UTC)
	p.Intent.Status, p.Intent.CompletedAt, p.Intent.AiiaTransactionID, p.Intent.SelectedPaymentMethod = payment.IntentSucceeded, &done, "aiia-tx-9", payment.MethodSEPA
	for _, l := range []string{"fr", "en"} {
		body := render(t, h, l, p, func(v *view) { v.Title, v.Paid, v.Final, v.Receipt = words[l]["paid"], true, true, receiptOf(l, p) })
		wants := map[string][]string{
			"fr": {"Paiement reçu", "Reçu de paiement", "462,00\u00a0€", "20/04/2026 à 10:05 (heure de Paris)", "pi_1", "aiia-tx-9", "Virement SEPA", "Jean Dupont", "Mairie de Lyon", "Imprimer le reçu"},
			"en": {"Payment received", "Payment receipt", "20 Apr 2026, 10:05 (Paris time)", "pi_1", "aiia-tx-9", "Print the receipt"},
		}[l]
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s receipt lacks %q", l, want)
			}
		}
		if strings.Contains(body, `name="csrf"`) {
			t.Errorf("%s receipt still offers a payment form", l)
		}
	}
}

func TestPagesEscapeWhatPartnersAndPayersWrite(t *testing.T) {
	h := &Handlers{CSRFKey: []byte("k"), Flow: &payment.Flow{Cards: payment.SandboxCards{}}}
	p := fixture(t)
	evil := `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`
	p.Invoice.LineItems[0].Description = evil
	p.Invoice.Seller.LegalName, p.Invoice.Seller.Name, p.Invoice.Seller.Department = evil, evil+"2", evil
	p.Invoice.Seller.Address.Line1 = evil
	p.Invoice.Payer.Name = evil
	p.Account.AccountName, p.Account.BankName = evil, evil
	p.Brand.DisplayName = evil
	p.Brand.PrimaryColor = "red;}</style><script>alert(1)</script>"
	p.Intent.Status, p.Intent.ID = payment.IntentSucceeded, evil
	for _, body := range []string{
		render(t, h, "fr", p, nil),
		render(t, h, "fr", p, func(v *view) { v.Title, v.Receipt = "x", receiptOf("fr", p) }),
	} {
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "</style><script>") {
			t.Fatalf("unescaped partner or payer text in the page:\n%s", body)
		}
		if !strings.Contains(body, "--brand:#0B4F8A") {
			t.Error("an unusable brand colour did not fall back to the default")
		}
	}
}

func TestTheOneScriptIsAllowedByItsHash(t *testing.T) {
	h := &Handlers{CSRFKey: []byte("k"), Flow: &payment.Flow{}}
	resp, err := h.html(200, pageTmpl, h.view("fr", "tok", fixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(string(resp.Body), -1)
	if len(scripts) != 1 {
		t.Fatalf("%d inline scripts, want 1", len(scripts))
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "unsafe-inline'; img") && strings.Contains(csp, "script-src 'unsafe-inline'") {
		t.Errorf("CSP %q does not allow the page's script by its hash (%s)", csp, want)
	}
	if strings.Contains(string(resp.Body), " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(string(resp.Body)) {
		t.Error("inline event handler attribute: the CSP would block it")
	}
}

func TestBothLanguagesHaveEveryText(t *testing.T) {
	for k := range words["fr"] {
		if words["en"][k] == "" {
			t.Errorf("English lacks %q", k)
		}
	}
	for k := range words["en"] {
		if words["fr"][k] == "" {
			t.Errorf("French lacks %q", k)
		}
	}
}
