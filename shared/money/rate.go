package money

import (
	"encoding/json"
	"errors"
	"strings"
)

// Rate is a VAT rate in basis points (hundredths of a percent): 5.5 % is 550.
type Rate int64

// RateScale is the number of Rate steps in 100 %.
const RateScale = 10_000

// legalRates are the VAT rates legal in France, ascending. Compute and
// ParseRate check against this array, which callers cannot modify;
// LegalFrenchVATRates is a copy for them to read.
var legalRates = [...]Rate{
	// 0 %: operations exempted or zero-rated everywhere: exports,
	// intra-EU supplies, exempted activities (CGI art. 261 ff., 262 ff.).
	0,
	// 0.9 %: Corsica only (CGI art. 297), e.g. the first 140 performances of
	// certain shows.
	90,
	// 1.05 %: Guadeloupe, Martinique and La Réunion (CGI art. 296 bis): the
	// first 140 performances of certain shows, press publications.
	105,
	// 1.75 %: Guadeloupe, Martinique and La Réunion (CGI art. 296 ff.).
	175,
	// 2.1 %: metropolitan France (super-reduced rate, CGI art. 281 quater
	// ff.: reimbursed medicines, press, first performances), Corsica
	// (art. 297) and Guadeloupe, Martinique, La Réunion (reduced rate,
	// art. 296).
	210,
	// 5.5 %: metropolitan France (reduced rate, CGI art. 278-0 bis ff.).
	550,
	// 8.5 %: Guadeloupe, Martinique and La Réunion (normal rate, CGI
	// art. 296).
	850,
	// 10 %: metropolitan France (intermediate rate, CGI art. 279 ff.) and
	// Corsica (art. 297).
	1000,
	// 13 %: Corsica only (CGI art. 297: petroleum products).
	1300,
	// 20 %: metropolitan France (normal rate, CGI art. 278), Corsica
	// included for what art. 297 does not reduce.
	2000,
}

// LegalFrenchVATRates is every VAT rate legal in France, metropolitan and
// overseas, 0 included, ascending (see legalRates for each rate's territory
// and legal basis; CGI art. 278 ff., 296 ff., 297). Guyane and Mayotte have no
// VAT for now (CGI art. 294). Changing this slice changes nothing else:
// ParseRate and Compute check their own copy.
var LegalFrenchVATRates = append([]Rate(nil), legalRates[:]...)

// legalIndex is r's index in legalRates, or -1.
func legalIndex(r Rate) int {
	for i, l := range legalRates {
		if l == r {
			return i
		}
	}
	return -1
}

// errRate is ParseRate's one error: its message lists the allowed rates
// ("0, 0.9, 1.05, 1.75, 2.1, 5.5, 8.5, 10, 13, 20").
var errRate = func() error {
	s := make([]string, len(legalRates))
	for i, r := range legalRates {
		s[i] = r.String()
	}
	return errors.New("vat_rate must be one of " + strings.Join(s, ", ") + " (percent)")
}()

// ParseRate reads a VAT rate in percent from a JSON number, exactly (5.5,
// 20, 2.1, 0; "5.50" and "55e-1" too). A rate that is not in
// LegalFrenchVATRates, or text that is not a JSON number, is an error whose
// message lists the allowed rates.
func ParseRate(n json.Number) (Rate, error) {
	d, ok := parseDecimal(string(n))
	if !ok {
		return 0, errRate
	}
	v, res := d.scaled(2, RateScale)
	if res != scaledOK || (d.neg && v != 0) { // "-0" is 0
		return 0, errRate
	}
	if legalIndex(Rate(v)) < 0 {
		return 0, errRate
	}
	return Rate(v), nil
}

// String is the rate in percent as the shortest exact decimal: "5.5", "20",
// "0.9", "1.05".
func (r Rate) String() string { return formatScaled(int64(r), 2) }

// MarshalJSON writes the rate in percent as a JSON number in exact decimal
// text: 5.5.
func (r Rate) MarshalJSON() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalJSON reads what MarshalJSON writes: a JSON number in percent (5.5
// is 550), exactly. It checks only that the number is a whole number of
// basis points within int64, so that stored invoices read back even after a
// rate stops being legal; legality is ParseRate's and Compute's business.
// null leaves r as it is.
func (r *Rate) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	d, ok := parseDecimal(string(data))
	if !ok {
		return errors.New("vat_rate must be a JSON number, got " + truncate(string(data)))
	}
	v, ok := d.exactInt(2)
	if !ok {
		return errors.New("vat_rate must be a whole number of hundredths of a percent within range, got " + truncate(string(data)))
	}
	*r = Rate(v)
	return nil
}

// Percent writes the rate as a page shows it: "5,5 %" in French (comma,
// no-break space), "5.5%" in English (lang "en").
func (r Rate) Percent(lang string) string {
	if lang == "en" {
		return r.String() + "%"
	}
	return strings.Replace(r.String(), ".", ",", 1) + "\u00a0%"
}
