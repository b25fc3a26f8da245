package datasubject

import (
	"testing"
	"time"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

func TestScrubber(t *testing.T) {
	p := invoice.Payer{Name: "Jean Dupont", Email: "jean.dupont@example.com"}
	placeholder := invoice.ErasedEmail(invoice.EmailHash(p.Email))
	sc := newScrubber(p)
	for _, c := range []struct{ name, in, want string }{
		{"the name, any case", "Remise pour JEAN DUPONT", "Remise pour Anonymisé"},
		{"the email, any case", "écrire à Jean.Dupont@Example.com", "écrire à " + placeholder},
		{"the email in a query", "https://app.example/ok?email=jean.dupont%40example.com", "https://app.example/ok?email=erased-" + placeholder[len("erased-"):len(placeholder)-len("@invalid")] + "%40invalid"},
		{"whole words only", "Jean Dupontel", "Jean Dupontel"},
		{"nothing to scrub", "Remise commerciale", "Remise commerciale"},
		{"empty", "", ""},
	} {
		if got := sc.text(c.in); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// A name too short to find safely is left in free text (the payer's
	// fields are erased whatever its length).
	if got := newScrubber(invoice.Payer{Name: "Li", Email: "li@example.com"}).text("Livraison Li"); got != "Livraison Li" {
		t.Errorf("short name: %q", got)
	}
}

func TestAnonymizeKeepsTheAccounts(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	q, _ := money.ParseQuantity("125")
	inv := invoice.Invoice{ID: "inv-1", InvoiceNumber: "FAC-2026-00001", Status: invoice.StatusPaid, TotalAmount: 42200, AmountPaid: 42200, DueDate: "2026-12-31",
		Payer:        invoice.Payer{Name: "Jean Dupont", Email: "jean.dupont@example.com", Address: &organization.Address{Line1: "15 rue de la Paix", City: "Lyon", Country: "FR"}},
		LineItems:    []invoice.LineItem{{Description: "Eau de Jean Dupont", Quantity: q, UnitPrice: 320, NetAmount: 40000}},
		PaymentTerms: "Paiement sous 30 jours", Version: 4}
	got := anonymize(inv, newScrubber(inv.Payer), now)
	if got.Payer.Name != invoice.ErasedName || got.Payer.Address != nil || got.LineItems[0].Description != "Eau de Anonymisé" || got.Version != 5 {
		t.Errorf("anonymised = %+v", got)
	}
	if got.InvoiceNumber != inv.InvoiceNumber || got.TotalAmount != inv.TotalAmount || got.AmountPaid != inv.AmountPaid || got.Status != inv.Status ||
		got.LineItems[0].NetAmount != 40000 || got.LineItems[0].UnitPrice != 320 || got.DueDate != inv.DueDate {
		t.Errorf("kept fields changed: %+v", got)
	}
	if inv.LineItems[0].Description != "Eau de Jean Dupont" {
		t.Error("anonymize changed the invoice it was given")
	}
}
