package money

import (
	"encoding/json"
	"errors"
	"fmt"
)

// minorUnits is the number of decimals of each ISO 4217 currency accepted
// for payment orders (seed 003: CDF in its samples; EUR, USD and the CFA
// francs are what financing portfolios in French-speaking markets use), as
// ISO 4217's list of codes gives them. A currency absent here is refused
// rather than guessed: its exponent decides what an amount means.
var minorUnits = map[string]int{
	"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CAD": 2,
	"CDF": 2, // franc congolais
	"MAD": 2, // dirham marocain
	"DZD": 2, // dinar algérien
	"MGA": 2, // ariary (ISO 4217 lists 2, its fifths notwithstanding)
	"MUR": 2,
	"XAF": 0, // franc CFA BEAC
	"XOF": 0, // franc CFA BCEAO
	"XPF": 0, // franc CFP
	"KMF": 0, // franc comorien
	"GNF": 0, // franc guinéen
	"RWF": 0, // franc rwandais
	"BIF": 0, // franc burundais
	"DJF": 0, // franc djiboutien
	"JPY": 0,
	"TND": 3, // dinar tunisien
	"KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3,
}

// MinorUnits is the number of decimals of currency (ISO 4217), and whether
// it is one this package knows.
func MinorUnits(currency string) (int, bool) {
	n, ok := minorUnits[currency]
	return n, ok
}

// MaxAmountMinor bounds an amount in minor units: 10^15 (ten thousand
// billion euros), far above any disbursement, far below int64's range so
// that sums of many amounts cannot overflow.
const MaxAmountMinor = 1_000_000_000_000_000

// Amount errors; their messages are client-safe and state the rule.
var (
	ErrAmountSyntax      = errors.New("amount must be a JSON number such as 7500000.00")
	ErrAmountNotPositive = errors.New("amount must be greater than 0")
	ErrAmountTooLarge    = errors.New("amount is too large")
	ErrUnknownCurrency   = errors.New("currency is not a supported ISO 4217 code")
)

// AmountDecimalsError is an amount with more decimals than its currency has.
type AmountDecimalsError struct {
	Currency string
	Places   int
}

func (e *AmountDecimalsError) Error() string {
	if e.Places == 0 {
		return fmt.Sprintf("amount must be a whole number of %s (it has no decimals)", e.Currency)
	}
	return fmt.Sprintf("amount must have at most %d decimals in %s", e.Places, e.Currency)
}

// ParseAmount reads a JSON number exactly — never through float64 — as an
// amount of currency in its minor units: "7500000.00" CDF is 750000000.
// Trailing zeros do not count as decimals ("12.500" EUR is 1250), and
// exponent notation is converted exactly. The amount must be greater than 0,
// have no more decimals than the currency (*AmountDecimalsError), and be at most
// MaxAmountMinor minor units. The currency must be known (ErrUnknownCurrency).
func ParseAmount(n json.Number, currency string) (int64, error) {
	places, ok := MinorUnits(currency)
	if !ok {
		return 0, ErrUnknownCurrency
	}
	d, ok := parseDecimal(string(n))
	switch {
	case !ok:
		return 0, ErrAmountSyntax
	case d.neg || d.digits == "":
		return 0, ErrAmountNotPositive
	}
	v, res := d.scaled(int64(places), MaxAmountMinor)
	switch res {
	case scaledInexact:
		return 0, &AmountDecimalsError{Currency: currency, Places: places}
	case scaledTooLarge:
		return 0, ErrAmountTooLarge
	}
	return int64(v), nil
}

// FormatAmount writes minor units of currency as a JSON number with the
// currency's decimals, as seed 003 shows amounts: 750000000 CDF is
// 7500000.00, 1500 XAF is 1500. The currency must be known.
func FormatAmount(minor int64, currency string) (json.Number, error) {
	places, ok := MinorUnits(currency)
	if !ok {
		return "", ErrUnknownCurrency
	}
	return json.Number(formatDecimal(minor, places, true)), nil
}
