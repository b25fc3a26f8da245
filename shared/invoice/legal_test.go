package invoice

import (
	"fmt"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

// The business buyer's mentions: each missing or wrong one is a 422 naming
// its field; an individual needs none of them.
func TestBusinessPayersAndTheReformsMentions(t *testing.T) {
	addr := func() *organization.Address {
		return &organization.Address{Line1: "15 rue de la Paix", PostalCode: "69002", City: "Lyon", Country: "FR"}
	}
	business := func() Payer {
		return Payer{Type: PayerBusiness, Name: "Boulangerie Dupont", Email: "compta@dupont.example", SIREN: "732 829 320", VATNumber: "FR44732829320", Address: addr()}
	}
	cases := []struct {
		name  string
		payer Payer
		inv   Invoice
		param string // "" = accepted
	}{
		{"individual, nothing more", Payer{Name: "Jean Dupont", Email: "jean@example.com"}, Invoice{}, ""},
		{"business with everything", business(), Invoice{OperationCategory: OperationServices}, ""},
		{"business, foreign, VAT only", Payer{Type: PayerBusiness, Name: "GmbH", Email: "a@b.de", VATNumber: "DE123456789", Address: addr()}, Invoice{OperationCategory: OperationGoods}, ""},
		{"business without operation category", business(), Invoice{}, "operation_category"},
		{"unknown operation category", business(), Invoice{OperationCategory: "rental"}, "operation_category"},
		{"business without siren nor VAT", func() Payer { p := business(); p.SIREN, p.VATNumber = "", ""; return p }(), Invoice{OperationCategory: OperationGoods}, "payer.siren"},
		{"business without address", func() Payer { p := business(); p.Address = nil; return p }(), Invoice{OperationCategory: OperationGoods}, "payer.address"},
		{"siren failing Luhn", func() Payer { p := business(); p.SIREN, p.VATNumber = "732829321", ""; return p }(), Invoice{OperationCategory: OperationGoods}, "payer.siren"},
		{"VAT of another SIREN", func() Payer { p := business(); p.VATNumber = "FR96552100554"; return p }(), Invoice{OperationCategory: OperationGoods}, "payer.vat_number"},
		{"VAT malformed", func() Payer { p := business(); p.SIREN, p.VATNumber = "", "X"; return p }(), Invoice{OperationCategory: OperationGoods}, "payer.vat_number"},
		{"individual with a siren", Payer{Name: "Jean", Email: "jean@example.com", SIREN: "732829320"}, Invoice{}, "payer.type"},
		{"unknown payer type", Payer{Type: "company", Name: "Jean", Email: "jean@example.com"}, Invoice{}, "payer.type"},
		{"bad service date", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{ServiceDate: "31/03/2026"}, "service_date"},
		{"bad delivery address", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{DeliveryAddress: &organization.Address{City: "Lyon"}}, "delivery_address.line1"},
		// The exemption of lines at 0 % VAT (BT-120).
		{"business, a line at 0 %, its exemption", business(), Invoice{OperationCategory: OperationServices, LineItems: lineAt(0, 20),
			VATExemptionReason: "Exonération de TVA, article 261 4 4° du CGI"}, ""},
		{"business, a line at 0 %, no exemption", business(), Invoice{OperationCategory: OperationServices, LineItems: lineAt(20, 0)}, "vat_exemption_reason"},
		{"individual, a line at 0 %, no exemption", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{LineItems: lineAt(0)}, ""},
		{"an exemption without a line at 0 %", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{LineItems: lineAt(20, 5.5),
			VATExemptionReason: "TVA non applicable, art. 293 B du CGI"}, "vat_exemption_reason"},
		{"an exemption too long", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{LineItems: lineAt(0),
			VATExemptionReason: strings.Repeat("é", MaxExemptionReason+1)}, "vat_exemption_reason"},
		{"an exemption of the longest", Payer{Name: "Jean", Email: "jean@example.com"}, Invoice{LineItems: lineAt(0),
			VATExemptionReason: strings.Repeat("é", MaxExemptionReason)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.payer
			err := validatePayer("test", &p)
			if err == nil {
				inv := c.inv
				inv.Payer = p
				err = legal("test", &inv)
			}
			ae, _ := apperr.As(err)
			switch {
			case c.param == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.param != "" && (ae == nil || ae.Code != apperr.Invalid || ae.Param != c.param):
				t.Fatalf("got %v, want a 422 naming %s", err, c.param)
			}
		})
	}
	// Normalised as stored: SIREN without spaces, VAT upper case.
	p := business()
	p.VATNumber = "fr 44 732829320"
	if err := validatePayer("test", &p); err != nil || p.SIREN != "732829320" || p.VATNumber != "FR44732829320" {
		t.Errorf("normalised payer %+v, %v", p, err)
	}
}

// lineAt is one line at each of the VAT rates (percent).
func lineAt(rates ...float64) []LineItem {
	var out []LineItem
	for _, r := range rates {
		var rate money.Rate
		if err := rate.UnmarshalJSON([]byte(fmt.Sprint(r))); err != nil {
			panic(err)
		}
		out = append(out, LineItem{Description: "x", UnitPrice: 100, VATRate: rate})
	}
	return out
}
