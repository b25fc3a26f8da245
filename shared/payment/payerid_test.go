package payment

import (
	"regexp"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/invoice"
)

// A payer's id at the provider is one per organisation and address, the
// address written any way, another in another organisation, and never
// carries the address.
func TestPayerID(t *testing.T) {
	inv := func(partner, org, id, email string) invoice.Invoice {
		return invoice.Invoice{ID: id, PartnerID: partner, OrgID: org, Payer: invoice.Payer{Email: email}}
	}
	a := PayerID(inv("ptn", "org-1", "inv-1", "Jean.Dupont@Example.com"))
	if !regexp.MustCompile(`^payer_[0-9a-f]{32}$`).MatchString(a) || strings.Contains(strings.ToLower(a), "dupont") {
		t.Fatalf("PayerID = %q", a)
	}
	for name, c := range map[string]struct {
		inv  invoice.Invoice
		same bool
	}{
		"another invoice, the address as typed otherwise": {inv("ptn", "org-1", "inv-2", " jean.dupont@example.com "), true},
		"another organisation of the partner":             {inv("ptn", "org-2", "inv-1", "jean.dupont@example.com"), false},
		"another partner":                                 {inv("ptn-2", "org-1", "inv-1", "jean.dupont@example.com"), false},
		"another address":                                 {inv("ptn", "org-1", "inv-1", "marie@example.com"), false},
		"no address: the invoice is its payer":            {inv("ptn", "org-1", "inv-1", ""), false},
	} {
		if got := PayerID(c.inv); (got == a) != c.same {
			t.Errorf("%s: %q vs %q, same = %v", name, got, a, c.same)
		}
	}
	if PayerID(inv("ptn", "org-1", "inv-3", "")) == PayerID(inv("ptn", "org-1", "inv-4", "")) {
		t.Error("two invoices without an address share a payer id")
	}
}
