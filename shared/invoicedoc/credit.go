package invoicedoc

import (
	"fmt"
	"math/big"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
)

// Credit is what makes a document a credit note (avoir, UNTDID 1001 code
// 381): the invoice it credits, and why.
type Credit struct {
	// OriginalNumber and OriginalIssueDate name the credited invoice (BT-25,
	// BT-26), as French law asks a credit note to.
	OriginalNumber, OriginalIssueDate string
	Reason                            string
	// Rounding is what CreditNote could not put in a rate's net and VAT
	// (BT-114): the amount credited is the total plus it.
	Rounding int64
	// Refund, when set, is the refund that paid the amount back: the credit
	// note states it refunded (CII: all of it prepaid, nothing due).
	Refund string
}

// CreditNote is the credit note of amount (cents, VAT included) on an issued
// invoice, numbered number and dated date (YYYY-MM-DD), as an invoice whose
// amounts are what is credited: the original's lines when everything is
// credited (a cancellation, a full refund); otherwise one line per VAT rate,
// the amount shared between the rates in proportion to what each weighs in
// the total (largest remainder, so the shares add up to the cent), each
// share split into net and VAT at its rate.
//
// A share's net is the one whose VAT at the rate, rounded as on invoices,
// gives the share back exactly. When no net does (VAT rounding skips some
// totals: at 20 %, one cent in six), the nearest net is taken with its VAT
// rounded as always (EN 16931 BR-CO-17 allows nothing else) and the cent
// left is the credit note's rounding amount (BT-114), returned: the total
// plus it is exactly what was refunded.
func CreditNote(orig invoice.Invoice, number, date string, amount int64) (invoice.Invoice, int64, error) {
	if !issuedOrAfter(orig) {
		return invoice.Invoice{}, 0, fmt.Errorf("invoicedoc: only an issued invoice can be credited")
	}
	if amount <= 0 || amount > orig.TotalAmount {
		return invoice.Invoice{}, 0, fmt.Errorf("invoicedoc: a credit of %d on a total of %d", amount, orig.TotalAmount)
	}
	c := orig
	c.InvoiceNumber, c.IssueDate, c.DueDate, c.DueDateDefault, c.PaymentTerms = number, date, "", false, ""
	c.AmountPaid, c.AmountDue, c.AmountInLinks = 0, 0, 0
	if amount == orig.TotalAmount {
		return c, 0, nil
	}
	shares := share(amount, orig.VATBreakdown, orig.TotalAmount)
	c.LineItems, c.VATBreakdown = nil, nil
	c.TotalNet, c.TotalVAT, c.TotalAmount = 0, 0, 0
	for i, v := range orig.VATBreakdown {
		if shares[i] == 0 {
			continue
		}
		net := netOf(shares[i], v.VATRate)
		vat := money.VAT(net, v.VATRate)
		one, _ := money.ParseQuantity("1")
		c.LineItems = append(c.LineItems, invoice.LineItem{Description: fmt.Sprintf("Remboursement partiel de la facture %s — TVA %s %%", orig.InvoiceNumber, v.VATRate),
			Quantity: one, UnitPrice: net, VATRate: v.VATRate, NetAmount: net})
		c.VATBreakdown = append(c.VATBreakdown, invoice.VATLine{VATRate: v.VATRate, NetAmount: net, VATAmount: vat})
		c.TotalNet += net
		c.TotalVAT += vat
	}
	c.TotalAmount = c.TotalNet + c.TotalVAT
	return c, amount - c.TotalAmount, nil
}

func issuedOrAfter(inv invoice.Invoice) bool {
	return inv.InvoiceNumber != "" && inv.Status != invoice.StatusDraft
}

// share divides amount between the rates in proportion to each one's total
// (net + VAT) in total, by largest remainder.
func share(amount int64, rates []invoice.VATLine, total int64) []int64 {
	out := make([]int64, len(rates))
	type rem struct {
		i int
		r int64
	}
	var rems []rem
	var given int64
	for i, v := range rates {
		// amount × gross may pass int64: computed exactly.
		p := new(big.Int).Mul(big.NewInt(amount), big.NewInt(v.NetAmount+v.VATAmount))
		q, r := new(big.Int).QuoRem(p, big.NewInt(total), new(big.Int))
		out[i], given = q.Int64(), given+q.Int64()
		rems = append(rems, rem{i, r.Int64()})
	}
	for left := amount - given; left > 0; left-- {
		best := 0
		for j := range rems {
			if rems[j].r > rems[best].r {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].r = -1
	}
	return out
}

// netOf is the net whose VAT at r (rounded half up, as on invoices) makes
// gross, else the nearest net.
func netOf(gross int64, r money.Rate) int64 {
	est := new(big.Int).Quo(new(big.Int).Mul(big.NewInt(gross), big.NewInt(money.RateScale)), big.NewInt(money.RateScale+int64(r))).Int64()
	for d := int64(-2); d <= 2; d++ {
		if n := est + d; n >= 0 && n+money.VAT(n, r) == gross {
			return n
		}
	}
	return est
}
