package money

import (
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// jsonNumber is RFC 8259's number grammar.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?([0-9]+))?$`)

// refValue is s's exact value, when s is a JSON number whose exponent is
// small enough for big.Rat to expand it cheaply.
func refValue(s string) (*big.Rat, bool) {
	m := jsonNumber.FindStringSubmatch(s)
	if m == nil || len(s) > 1000 {
		return nil, false
	}
	if m[4] != "" {
		e, err := strconv.Atoi(m[4])
		if err != nil || e > 1000 {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}

var seeds = []string{
	"125", "1.5", "0.001", "2.500", "1e2", "1E+2", "1.0001", "0", "-1", "-0", "1000000", "1000000.001",
	"1e6", "1e7", "1e-3", "1e-4", "NaN", "", " 1", "01", ".5", "5.", "1e", "5.5", "20", "2.1", "0.9",
	"1.05", "19.6", "55e-1", "1e99999999999999999999", "0e-99999999999", "99999999999999999999999",
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	thousand := big.NewRat(1000, 1)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(json.Number(s))
		if err != nil {
			known := []error{errQuantitySyntax, errQuantityNotPositive, errQuantityDecimals, errQuantityTooLarge}
			if !slicesContainsErr(known, err) {
				t.Fatalf("ParseQuantity(%q): unexpected error %v", s, err)
			}
			if (err == errQuantitySyntax) == jsonNumber.MatchString(s) {
				t.Fatalf("ParseQuantity(%q): error %v disagrees with the JSON grammar", s, err)
			}
		} else {
			if q <= 0 || q > MaxQuantity {
				t.Fatalf("ParseQuantity(%q) = %d: out of (0, %d]", s, q, MaxQuantity)
			}
			again, err := ParseQuantity(json.Number(q.String()))
			if again != q || err != nil {
				t.Fatalf("ParseQuantity(%q) = %d, but ParseQuantity(%q) = %d, %v", s, q, q.String(), again, err)
			}
			if !json.Valid([]byte(s)) {
				t.Fatalf("ParseQuantity(%q) = %d: accepted text that is not JSON", s, q)
			}
		}
		if v, ok := refValue(s); ok {
			var want error
			scaled := new(big.Rat).Mul(v, thousand)
			switch {
			case v.Sign() <= 0:
				want = errQuantityNotPositive
			case !scaled.IsInt():
				want = errQuantityDecimals
			case scaled.Num().Cmp(big.NewInt(int64(MaxQuantity))) > 0:
				want = errQuantityTooLarge
			}
			if err != want || (want == nil && scaled.Num().Int64() != int64(q)) {
				t.Fatalf("ParseQuantity(%q): got %d, %v; want %s, %v", s, q, err, scaled.FloatString(0), want)
			}
		}

		// UnmarshalJSON: whatever it accepts, MarshalJSON writes back to
		// the same value.
		var u Quantity
		if err := u.UnmarshalJSON([]byte(s)); err == nil && s != "null" {
			b, _ := u.MarshalJSON()
			var back Quantity
			if err := back.UnmarshalJSON(b); err != nil || back != u {
				t.Fatalf("UnmarshalJSON(%q) = %d, MarshalJSON = %s, which reads back as %d, %v", s, u, b, back, err)
			}
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	hundred := big.NewRat(100, 1)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(json.Number(s))
		if err != nil {
			if err != errRate || !strings.Contains(err.Error(), allowedRates) {
				t.Fatalf("ParseRate(%q): unexpected error %v", s, err)
			}
		} else {
			if legalIndex(r) < 0 {
				t.Fatalf("ParseRate(%q) = %d: not a legal rate", s, r)
			}
			again, err := ParseRate(json.Number(r.String()))
			if again != r || err != nil {
				t.Fatalf("ParseRate(%q) = %d, but ParseRate(%q) = %d, %v", s, r, r.String(), again, err)
			}
			if !jsonNumber.MatchString(s) {
				t.Fatalf("ParseRate(%q) = %d: accepted text that is not a JSON number", s, r)
			}
		}
		if v, ok := refValue(s); ok {
			bp := new(big.Rat).Mul(v, hundred)
			legal := false
			if bp.IsInt() && bp.Num().IsInt64() {
				legal = legalIndex(Rate(bp.Num().Int64())) >= 0
			}
			if legal != (err == nil) || (legal && bp.Num().Int64() != int64(r)) {
				t.Fatalf("ParseRate(%q): got %d, %v; want %s bp, legal=%v", s, r, err, bp.FloatString(2), legal)
			}
		}

		var u Rate
		if err := u.UnmarshalJSON([]byte(s)); err == nil && s != "null" {
			b, _ := u.MarshalJSON()
			var back Rate
			if err := back.UnmarshalJSON(b); err != nil || back != u {
				t.Fatalf("UnmarshalJSON(%q) = %d, MarshalJSON = %s, which reads back as %d, %v", s, u, b, back, err)
			}
		}
	})
}

func slicesContainsErr(errs []error, err error) bool {
	for _, e := range errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
