package invoicedoc

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
)

func TestFullCreditNoteCreditsTheInvoiceLineByLine(t *testing.T) {
	orig := issued(t, 2, func(i int) string { return []string{"Consommation eau", "Abonnement"}[i] })
	c, rounding, err := CreditNote(orig, "AV-2026-000001", "2026-05-02", orig.TotalAmount)
	if err != nil {
		t.Fatal(err)
	}
	if rounding != 0 || len(c.LineItems) != 2 || c.TotalAmount != orig.TotalAmount || c.TotalVAT != orig.TotalVAT || c.InvoiceNumber != "AV-2026-000001" || c.AmountDue != 0 {
		t.Fatalf("full credit note %+v", c)
	}
	credit := &Credit{OriginalNumber: orig.InvoiceNumber, OriginalIssueDate: orig.IssueDate, Reason: "Annulation de la facture"}
	pdf, err := PDF(Input{Invoice: c, Credit: credit})
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "credit-note", pdf)
	txt := strings.Join(strings.Fields(strings.Join(text(t, pdf), " ")), " ")
	for _, want := range []string{"AVOIR", "AV-2026-000001", "Avoir sur la facture N° FAC-2026-000042 du 15/04/2026", "Motif : Annulation de la facture", "Total TTC 902,00 €", "Mairie de Lyon", "SIRET 21690123400019"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the credit note lacks %q", want)
		}
	}
	for _, not := range []string{"Comment payer", "D441-5", "Date d'échéance"} {
		if strings.Contains(txt, not) {
			t.Errorf("the credit note says %q", not)
		}
	}
	x, err := CII(c, credit)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, x); err != nil {
		t.Fatalf("the credit note's CII: %v", err)
	}
	p := parse(t, x)
	if p.Document.TypeCode != "381" || !strings.Contains(string(x), "<ram:IssuerAssignedID>FAC-2026-000042</ram:IssuerAssignedID>") {
		t.Errorf("the CII is not a credit note of FAC-2026-000042: type %s", p.Document.TypeCode)
	}
}

func TestPartialCreditNotesAddUpToTheCent(t *testing.T) {
	orig := issued(t, 3, func(i int) string { return "l" })
	rng := rand.New(rand.NewPCG(1, 2))
	rounded := 0
	for i := 0; i < 2000; i++ {
		amount := 1 + rng.Int64N(orig.TotalAmount-1)
		c, rounding, err := CreditNote(orig, "AV-1", "2026-05-02", amount)
		if err != nil {
			t.Fatal(err)
		}
		var sum, vat int64
		for _, v := range c.VATBreakdown {
			sum += v.NetAmount + v.VATAmount
			vat += v.VATAmount
			// BR-CO-17: each rate's VAT is its base times its rate, rounded.
			if v.VATAmount != money.VAT(v.NetAmount, v.VATRate) {
				t.Fatalf("credit %d: VAT %d on %d at %s, the rate gives %d", amount, v.VATAmount, v.NetAmount, v.VATRate, money.VAT(v.NetAmount, v.VATRate))
			}
		}
		// The total plus the rounding amount is exactly what was refunded;
		// the rounding is at most a cent per rate.
		if sum != c.TotalAmount || c.TotalVAT != vat || c.TotalNet+c.TotalVAT != c.TotalAmount || c.TotalAmount+rounding != amount ||
			rounding < -int64(len(c.VATBreakdown)) || rounding > int64(len(c.VATBreakdown)) {
			t.Fatalf("credit %d: lines give %d, totals %d = %d + %d, rounding %d", amount, sum, c.TotalAmount, c.TotalNet, c.TotalVAT, rounding)
		}
		if rounding != 0 {
			rounded++
		}
	}
	t.Logf("%d of 2000 partial credit notes carry a rounding amount", rounded)
	if rounded == 0 || rounded > 1000 {
		t.Errorf("%d of 2000 partial credit notes carry a rounding amount", rounded)
	}
	// A partial credit note is a valid CII credit note too, with its
	// rounding amount where it has one (BR-CO-16 holds with it).
	for amount := int64(12340); amount < 12350; amount++ {
		c, rounding, err := CreditNote(orig, "AV-2", "2026-05-02", amount)
		if err != nil {
			t.Fatal(err)
		}
		x, err := CII(c, &Credit{OriginalNumber: orig.InvoiceNumber, OriginalIssueDate: orig.IssueDate, Reason: "Remboursement partiel", Rounding: rounding})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, x); err != nil {
			t.Fatalf("a partial credit note's CII: %v", err)
		}
		sum := parse(t, x).Transaction.Settlement.Sum
		due := new(big.Rat).Sub(dec(t, sum.GrandTotal), dec(t, sum.Prepaid))
		if sum.Rounding != "" {
			due.Add(due, dec(t, sum.Rounding))
		}
		if due.Cmp(dec(t, sum.DuePayable)) != 0 || dec(t, sum.DuePayable).Cmp(big.NewRat(amount, 100)) != 0 {
			t.Errorf("credit %d: BR-CO-16 or the amount credited: %+v", amount, sum)
		}
		// A refund's credit note: what was refunded is prepaid, nothing is
		// due, and it is still valid (BR-CO-16 with its rounding).
		x, err = CII(c, &Credit{OriginalNumber: orig.InvoiceNumber, OriginalIssueDate: orig.IssueDate, Reason: "Remboursement", Rounding: rounding, Refund: "re_1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, x); err != nil {
			t.Fatalf("a refund's credit note's CII: %v", err)
		}
		sum = parse(t, x).Transaction.Settlement.Sum
		due = new(big.Rat).Sub(dec(t, sum.GrandTotal), dec(t, sum.Prepaid))
		if sum.Rounding != "" {
			due.Add(due, dec(t, sum.Rounding))
		}
		if due.Sign() != 0 || dec(t, sum.DuePayable).Sign() != 0 || dec(t, sum.Prepaid).Cmp(big.NewRat(amount, 100)) != 0 {
			t.Errorf("refund credit %d: BR-CO-16, nothing due, all of it prepaid: %+v", amount, sum)
		}
	}
}

func TestCreditNotesRefuseWhatCannotBeCredited(t *testing.T) {
	orig := issued(t, 1, func(int) string { return "x" })
	for _, amount := range []int64{0, -1, orig.TotalAmount + 1} {
		if _, _, err := CreditNote(orig, "AV-1", "2026-05-02", amount); err == nil {
			t.Errorf("a credit of %d on %d was made", amount, orig.TotalAmount)
		}
	}
	draft := orig
	draft.Status, draft.InvoiceNumber = invoice.StatusDraft, ""
	if _, _, err := CreditNote(draft, "AV-1", "2026-05-02", 100); err == nil {
		t.Error("a draft was credited")
	}
}
