package money

import (
	"encoding/json"
	"errors"
	"strings"
)

// Quantity is a quantity in thousandths of a unit (invoices allow up to 3
// decimals): 1.5 is 1500.
type Quantity int64

// ParseQuantity's errors; their messages are client-safe and state the rule.
var (
	errQuantitySyntax      = errors.New("quantity must be a JSON number such as 2, 1.5 or 0.001")
	errQuantityNotPositive = errors.New("quantity must be greater than 0")
	errQuantityDecimals    = errors.New("quantity must have at most 3 decimals")
	errQuantityTooLarge    = errors.New("quantity must be at most 1000000")
)

// ParseQuantity reads a JSON number exactly, without going through float64.
// The quantity must be greater than 0, have at most 3 decimals and be at
// most 1 000 000 units. Trailing zeros do not count as decimals ("2.500"),
// and exponent notation is converted exactly ("1e2" is 100, "1.5e-3" is
// 0.0015 and is refused). The text must follow the JSON number grammar: no
// white space, leading "+", leading zeros ("01"), ".5", "5." or NaN.
func ParseQuantity(n json.Number) (Quantity, error) {
	d, ok := parseDecimal(string(n))
	switch {
	case !ok:
		return 0, errQuantitySyntax
	case d.neg || d.digits == "":
		return 0, errQuantityNotPositive
	}
	v, res := d.scaled(3, uint64(MaxQuantity))
	switch res {
	case scaledInexact:
		return 0, errQuantityDecimals
	case scaledTooLarge:
		return 0, errQuantityTooLarge
	}
	return Quantity(v), nil
}

// String is the quantity as the shortest exact decimal: "125", "1.5",
// "0.001".
func (q Quantity) String() string { return formatScaled(int64(q), 3) }

// MarshalJSON writes the quantity as a JSON number in exact decimal text
// (1.5, not 1500 nor a float's 1.4999…).
func (q Quantity) MarshalJSON() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalJSON reads what MarshalJSON writes: a JSON number (1.5 is 1500),
// exactly. It checks only that the number is a whole number of thousandths
// within int64, so that stored values always read back; the business rules
// (> 0, ≤ 1 000 000) are ParseQuantity's and Compute's. null leaves q as it
// is. To report a client's mistake on its field, decode a json.Number and
// call ParseQuantity instead.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	d, ok := parseDecimal(string(data))
	if !ok {
		return errQuantitySyntax
	}
	v, ok := d.exactInt(3)
	if !ok {
		return errors.New("quantity must be a whole number of thousandths within range, got " + truncate(string(data)))
	}
	*q = Quantity(v)
	return nil
}

// truncate shortens s for an error message, keeping it valid UTF-8.
func truncate(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Localized writes the quantity with a decimal comma in French, a point in
// English (lang "en").
func (q Quantity) Localized(lang string) string {
	if lang == "en" {
		return q.String()
	}
	return strings.Replace(q.String(), ".", ",", 1)
}
