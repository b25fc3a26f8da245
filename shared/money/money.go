// Package money is the invoice arithmetic, on integers only: amounts are
// int64 cents of euro, quantities are thousandths of a unit (Quantity), VAT
// rates are basis points (Rate). Nothing here goes through float64, parsing
// included: JSON numbers are read digit by digit, and products that can exceed
// int64 are computed on 128 bits.
//
// Rounding is half-up to the cent, away from zero for negative values
// (commercial rounding: 0.5 → 1, −0.5 → −1). A line's net amount is rounded
// once; VAT is computed per rate on the sum of that rate's line nets and
// rounded once per rate, which is French practice.
package money

import (
	"errors"
	"fmt"
	"strings"
)

// MaxAmount is the largest amount anything may reach, in cents:
// 999 999 999,99 € (the SEPA credit transfer maximum). It bounds unit prices,
// line nets and invoice totals.
const MaxAmount int64 = 99_999_999_999

// MaxUnitPrice bounds a line's unit price in cents (the same bound as every
// other amount).
const MaxUnitPrice = MaxAmount

// MaxQuantity is the largest quantity a line may have: 1 000 000 units.
const MaxQuantity Quantity = 1_000_000 * QuantityScale

// QuantityScale is the number of Quantity steps in one unit.
const QuantityScale = 1000

// maxAmountText is MaxAmount as client messages state it.
const maxAmountText = "99999999999 cents (999 999 999,99 €)"

// Errors of Compute that concern the whole invoice rather than one line.
var (
	// ErrNoLines: an invoice needs at least one line.
	ErrNoLines = errors.New("an invoice must have at least one line")
	// ErrTotalTooLarge: the invoice's net or gross total exceeds MaxAmount.
	ErrTotalTooLarge = errors.New("the invoice total including VAT must be at most " + maxAmountText)
	// ErrLineTooLarge: a line's net amount (quantity × unit price) exceeds
	// MaxAmount. LineNet returns it; Compute reports it as a *LineError on
	// the line's "quantity" with this message.
	ErrLineTooLarge = errors.New("quantity times unit_price must be at most " + maxAmountText)
)

// Line is one invoice line: a quantity, a unit price excluding VAT in cents
// (> 0, ≤ MaxUnitPrice) and a VAT rate.
type Line struct {
	Quantity  Quantity
	UnitPrice int64
	Rate      Rate
}

// RateTotal is one VAT rate's share of an invoice: the sum of its lines' net
// amounts and the VAT on that sum.
type RateTotal struct {
	Rate      Rate
	NetAmount int64
	VATAmount int64
}

// Totals are an invoice's amounts, in cents.
type Totals struct {
	LineNet []int64     // net amount (excl. VAT) of each line, in input order
	ByRate  []RateTotal // one entry per rate used, ascending by rate
	Net     int64       // Σ LineNet
	VAT     int64       // Σ ByRate.VATAmount
	Gross   int64       // Net + VAT
}

// Line fields named by LineError.Field (the JSON names of a line's inputs).
const (
	FieldQuantity  = "quantity"
	FieldUnitPrice = "unit_price"
	FieldVATRate   = "vat_rate"
)

// LineError is an error that concerns one line of the invoice.
type LineError struct {
	Index   int    // the line's index in the input, from 0
	Field   string // FieldQuantity, FieldUnitPrice or FieldVATRate
	Message string // client-safe, states the rule
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Index, e.Field, e.Message)
}

// LineNet is a line's net amount: quantity × unit price, rounded half-up to
// the cent (round_half_up(q × unitPrice / 1000)). The product is computed on
// 128 bits, so it cannot overflow. It fails with ErrLineTooLarge when the
// result's magnitude exceeds MaxAmount. Signs are not checked here (Compute
// does): a negative input rounds half away from zero.
func LineNet(q Quantity, unitPrice int64) (int64, error) {
	v, ok := mulDivHalfUp(int64(q), unitPrice, QuantityScale)
	if !ok || v > MaxAmount || v < -MaxAmount {
		return 0, ErrLineTooLarge
	}
	return v, nil
}

// VAT is a net amount's VAT at a rate, rounded half-up to the cent:
// round_half_up(net × r / 10000), on 128 bits. For amounts within MaxAmount
// and legal rates the result is exact; a result beyond int64 (impossible with
// rates up to 100 %) saturates at math.MaxInt64 or math.MinInt64.
func VAT(net int64, r Rate) int64 {
	v, ok := mulDivHalfUp(net, int64(r), RateScale)
	if !ok {
		if (net < 0) != (r < 0) {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return v
}

// Compute totals an invoice's lines. Each line is checked (quantity in
// (0, MaxQuantity], unit price in (0, MaxUnitPrice], rate in
// LegalFrenchVATRates, net within MaxAmount); the first faulty line, in input
// order, is reported as a *LineError. Then VAT is computed per rate on the
// sum of that rate's line nets (rounded once per rate) and summed; a net or
// gross total beyond MaxAmount is ErrTotalTooLarge. No lines is ErrNoLines.
// On error the Totals are zero.
func Compute(lines []Line) (Totals, error) {
	if len(lines) == 0 {
		return Totals{}, ErrNoLines
	}
	lineNet := make([]int64, len(lines))
	rateIdx := make([]int, len(lines))
	for i, l := range lines {
		if l.Quantity <= 0 {
			return Totals{}, &LineError{i, FieldQuantity, errQuantityNotPositive.Error()}
		}
		if l.Quantity > MaxQuantity {
			return Totals{}, &LineError{i, FieldQuantity, errQuantityTooLarge.Error()}
		}
		if l.UnitPrice <= 0 {
			return Totals{}, &LineError{i, FieldUnitPrice, "unit_price must be greater than 0 cents"}
		}
		if l.UnitPrice > MaxUnitPrice {
			return Totals{}, &LineError{i, FieldUnitPrice, "unit_price must be at most " + maxAmountText}
		}
		k := legalIndex(l.Rate)
		if k < 0 {
			return Totals{}, &LineError{i, FieldVATRate, errRate.Error()}
		}
		n, err := LineNet(l.Quantity, l.UnitPrice)
		if err != nil {
			// The unit price is within bounds on its own: the quantity
			// is what takes the line beyond them.
			return Totals{}, &LineError{i, FieldQuantity, err.Error()}
		}
		lineNet[i], rateIdx[i] = n, k
	}

	// Every line net is in (0, MaxAmount]; checking the running total after
	// each addition keeps every sum, and each rate's share of it, in int64.
	var net int64
	var perRate [len(legalRates)]int64
	var used [len(legalRates)]bool
	for i, n := range lineNet {
		net += n
		if net > MaxAmount {
			return Totals{}, ErrTotalTooLarge
		}
		perRate[rateIdx[i]] += n
		used[rateIdx[i]] = true
	}
	t := Totals{LineNet: lineNet, Net: net}
	for k, r := range legalRates { // legalRates is ascending
		if !used[k] {
			continue
		}
		v := VAT(perRate[k], r)
		t.ByRate = append(t.ByRate, RateTotal{Rate: r, NetAmount: perRate[k], VATAmount: v})
		t.VAT += v
	}
	t.Gross = t.Net + t.VAT
	if t.Gross > MaxAmount {
		return Totals{}, ErrTotalTooLarge
	}
	return t, nil
}

// FormatEUR renders cents the French way: "1 234,56 €" with a narrow
// no-break space (U+202F) between groups of thousands and a no-break space
// (U+00A0) before the euro sign; "0,05 €"; negatives "-12,00 €" (ASCII
// hyphen-minus).
func FormatEUR(cents int64) string {
	var b strings.Builder
	u := uint64(cents)
	if cents < 0 {
		b.WriteByte('-')
		u = -u // two's complement: exact for math.MinInt64 too
	}
	euros := appendUint(nil, u/100)
	for i := 0; i < len(euros); i++ {
		if i > 0 && (len(euros)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteByte(euros[i])
	}
	c := u % 100
	b.WriteByte(',')
	b.WriteByte(byte('0' + c/10))
	b.WriteByte(byte('0' + c%10))
	b.WriteString("\u00a0€")
	return b.String()
}
