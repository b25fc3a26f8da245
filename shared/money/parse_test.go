package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Quantity
		wantErr error
	}{
		{"integer", "125", 125_000, nil},
		{"one decimal", "1.5", 1_500, nil},
		{"smallest", "0.001", 1, nil},
		{"trailing zeros are not decimals", "2.500", 2_500, nil},
		{"many trailing zeros", "1.000000000000000000000000", 1_000, nil},
		{"three decimals", "1.005", 1_005, nil},
		{"exponent", "1e2", 100_000, nil},
		{"exponent upper case with plus", "1E+2", 100_000, nil},
		{"negative exponent, exact", "15e-1", 1_500, nil},
		{"negative exponent to the smallest", "1e-3", 1, nil},
		{"fraction and exponent", "1.2345e3", 1_234_500, nil},
		{"exponent with leading zeros", "1e0002", 100_000, nil},
		{"exponent cancels decimals", "0.0001e1", 1, nil},
		{"largest", "1000000", 1_000_000_000, nil},
		{"largest with decimals", "1000000.000", 1_000_000_000, nil},
		{"largest as exponent", "1e6", 1_000_000_000, nil},
		{"long mantissa, exact", "1000000000000000000000000e-18", 1_000_000_000, nil},
		{"leading zero before the point", "0.5", 500, nil},

		{"zero", "0", 0, errQuantityNotPositive},
		{"zero with decimals", "0.000", 0, errQuantityNotPositive},
		{"zero with a huge exponent", "0e999999999999999999999", 0, errQuantityNotPositive},
		{"minus zero", "-0", 0, errQuantityNotPositive},
		{"negative", "-1", 0, errQuantityNotPositive},
		{"negative with too many decimals", "-1.0001", 0, errQuantityNotPositive},
		{"four significant decimals", "1.0001", 0, errQuantityDecimals},
		{"below the smallest", "0.0005", 0, errQuantityDecimals},
		{"exponent leaves 4 decimals", "1e-4", 0, errQuantityDecimals},
		{"exponent leaves 4 decimals on a fraction", "1.5e-3", 0, errQuantityDecimals},
		{"huge negative exponent", "1e-99999999999999999999", 0, errQuantityDecimals},
		{"long mantissa, inexact", "123456789012345678901234567890e-27", 0, errQuantityDecimals},
		{"just too large", "1000000.001", 0, errQuantityTooLarge},
		{"too large", "1000001", 0, errQuantityTooLarge},
		{"too large as exponent", "1e7", 0, errQuantityTooLarge},
		{"beyond int64", "99999999999999999999999", 0, errQuantityTooLarge},
		{"huge exponent", "1e99999999999999999999", 0, errQuantityTooLarge},

		{"empty", "", 0, errQuantitySyntax},
		{"minus alone", "-", 0, errQuantitySyntax},
		{"NaN", "NaN", 0, errQuantitySyntax},
		{"Infinity", "Infinity", 0, errQuantitySyntax},
		{"plus sign", "+1", 0, errQuantitySyntax},
		{"leading zero", "01", 0, errQuantitySyntax},
		{"no integer part", ".5", 0, errQuantitySyntax},
		{"no fraction digits", "5.", 0, errQuantitySyntax},
		{"no exponent digits", "1e", 0, errQuantitySyntax},
		{"exponent sign alone", "1e+", 0, errQuantitySyntax},
		{"comma decimal separator", "1,5", 0, errQuantitySyntax},
		{"white space", " 1", 0, errQuantitySyntax},
		{"trailing white space", "1 ", 0, errQuantitySyntax},
		{"hexadecimal", "0x10", 0, errQuantitySyntax},
		{"underscores", "1_000", 0, errQuantitySyntax},
		{"JSON string", `"1.5"`, 0, errQuantitySyntax},
		{"text", "abc", 0, errQuantitySyntax},
		{"two points", "1.2.3", 0, errQuantitySyntax},
		{"non-ASCII digit", "１", 0, errQuantitySyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQuantity(json.Number(tc.in))
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("ParseQuantity(%q): got %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseQuantityMessages(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"not positive", "0", "quantity must be greater than 0"},
		{"decimals", "1.0001", "quantity must have at most 3 decimals"},
		{"too large", "1000001", "quantity must be at most 1000000"},
		{"not a number", "abc", "quantity must be a JSON number such as 2, 1.5 or 0.001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseQuantity(json.Number(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseQuantity(%q) error: got %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

const allowedRates = "0, 0.9, 1.05, 1.75, 2.1, 5.5, 8.5, 10, 13, 20"

func TestParseRate(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		want   Rate
		wantOK bool
	}{
		{"zero", "0", 0, true},
		{"zero with decimals", "0.00", 0, true},
		{"minus zero", "-0", 0, true},
		{"Corsica 0.9", "0.9", 90, true},
		{"overseas 1.05", "1.05", 105, true},
		{"overseas 1.75", "1.75", 175, true},
		{"super-reduced 2.1", "2.1", 210, true},
		{"2.10", "2.10", 210, true},
		{"reduced 5.5", "5.5", 550, true},
		{"5.50", "5.50", 550, true},
		{"5.5 as exponent", "55e-1", 550, true},
		{"5.5 as small exponent", "0.055e2", 550, true},
		{"overseas 8.5", "8.5", 850, true},
		{"intermediate 10", "10", 1000, true},
		{"10 as exponent", "1e1", 1000, true},
		{"Corsica 13", "13", 1300, true},
		{"normal 20", "20", 2000, true},
		{"20.000", "20.000", 2000, true},

		{"former normal rate 19.6", "19.6", 0, false},
		{"former reduced rate 7", "7", 0, false},
		{"5.55", "5.55", 0, false},
		{"5.505", "5.505", 0, false},
		{"2.1 with a stray digit", "2.1000001", 0, false},
		{"fraction, not percent", "0.2", 0, false},
		{"negative", "-20", 0, false},
		{"negative small", "-0.9", 0, false},
		{"100", "100", 0, false},
		{"huge", "1e999999999999", 0, false},
		{"tiny", "1e-999999999999", 0, false},
		{"beyond int64", "99999999999999999999999", 0, false},
		{"empty", "", 0, false},
		{"percent sign", "20%", 0, false},
		{"comma", "5,5", 0, false},
		{"NaN", "NaN", 0, false},
		{"JSON string", `"20"`, 0, false},
		{"leading zero", "020", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRate(json.Number(tc.in))
			if got != tc.want || (err == nil) != tc.wantOK {
				t.Fatalf("ParseRate(%q): got %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.wantOK)
			}
			if err != nil && !strings.Contains(err.Error(), allowedRates) {
				t.Errorf("ParseRate(%q) error: got %q, want it to list %q", tc.in, err, allowedRates)
			}
		})
	}
}

func TestLegalFrenchVATRates(t *testing.T) {
	want := []Rate{0, 90, 105, 175, 210, 550, 850, 1000, 1300, 2000}
	if !slices.Equal(LegalFrenchVATRates, want) {
		t.Fatalf("LegalFrenchVATRates: got %v, want %v", LegalFrenchVATRates, want)
	}
	if !slices.Equal(legalRates[:], want) {
		t.Fatalf("legalRates: got %v, want %v", legalRates, want)
	}
	if want := "vat_rate must be one of " + allowedRates + " (percent)"; errRate.Error() != want {
		t.Errorf("errRate: got %q, want %q", errRate, want)
	}

	// Callers may scribble on the exported slice; validation does not move.
	saved := slices.Clone(LegalFrenchVATRates)
	defer copy(LegalFrenchVATRates, saved)
	LegalFrenchVATRates[0] = 1960
	if _, err := ParseRate("19.6"); err == nil {
		t.Errorf("ParseRate(19.6) after changing LegalFrenchVATRates: got no error, want one")
	}
	if r, err := ParseRate("0"); r != 0 || err != nil {
		t.Errorf("ParseRate(0) after changing LegalFrenchVATRates: got %d, %v; want 0, nil", r, err)
	}
}

func TestQuantityString(t *testing.T) {
	cases := []struct {
		name string
		in   Quantity
		want string
	}{
		{"whole", 125_000, "125"},
		{"half", 1_500, "1.5"},
		{"smallest", 1, "0.001"},
		{"hundredths", 20, "0.02"},
		{"three decimals", 1_005, "1.005"},
		{"trailing zero dropped", 2_500, "2.5"},
		{"largest", MaxQuantity, "1000000"},
		{"zero", 0, "0"},
		{"negative", -1_500, "-1.5"},
		{"negative below one", -5, "-0.005"},
		{"min int64", math.MinInt64, "-9223372036854775.808"},
		{"max int64", math.MaxInt64, "9223372036854775.807"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("Quantity(%d).String(): got %q, want %q", int64(tc.in), got, tc.want)
			}
			b, err := tc.in.MarshalJSON()
			if err != nil || string(b) != tc.want {
				t.Errorf("Quantity(%d).MarshalJSON(): got %s, %v; want %s", int64(tc.in), b, err, tc.want)
			}
			var back Quantity
			if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
				t.Errorf("json.Unmarshal(%s): got %d, %v; want %d", b, back, err, tc.in)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	cases := []struct {
		in   Rate
		want string
	}{
		{0, "0"}, {90, "0.9"}, {105, "1.05"}, {175, "1.75"}, {210, "2.1"}, {550, "5.5"},
		{850, "8.5"}, {1000, "10"}, {1300, "13"}, {2000, "20"}, {1960, "19.6"}, {-550, "-5.5"},
		{1, "0.01"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("Rate(%d).String(): got %q, want %q", int64(tc.in), got, tc.want)
			}
			b, err := tc.in.MarshalJSON()
			if err != nil || string(b) != tc.want {
				t.Errorf("Rate(%d).MarshalJSON(): got %s, %v; want %s", int64(tc.in), b, err, tc.want)
			}
		})
	}
}

// decodeNumber reads b as a JSON document holding one number, the way a
// handler does (UseNumber, no float64 on the way).
func decodeNumber(t *testing.T, b []byte) json.Number {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("decode %s: got %T, want a json.Number", b, v)
	}
	return n
}

func TestRateRoundTrip(t *testing.T) {
	for _, r := range legalRates {
		t.Run(r.String(), func(t *testing.T) {
			if got, err := ParseRate(json.Number(r.String())); got != r || err != nil {
				t.Errorf("ParseRate(%q): got %d, %v; want %d, nil", r.String(), got, err, r)
			}
			b, err := json.Marshal(struct {
				R Rate `json:"vat_rate"`
			}{r})
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if want := `{"vat_rate":` + r.String() + `}`; string(b) != want {
				t.Errorf("json.Marshal: got %s, want %s", b, want)
			}
			raw, _ := r.MarshalJSON()
			if got, err := ParseRate(decodeNumber(t, raw)); got != r || err != nil {
				t.Errorf("ParseRate(decoded %s): got %d, %v; want %d, nil", raw, got, err, r)
			}
			var back struct {
				R Rate `json:"vat_rate"`
			}
			if err := json.Unmarshal(b, &back); err != nil || back.R != r {
				t.Errorf("json.Unmarshal(%s): got %d, %v; want %d", b, back.R, err, r)
			}
		})
	}
}

func TestQuantityRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 1))
	for i := range 20_000 {
		q := randomQuantity(rng)
		s := q.String()
		if got, err := ParseQuantity(json.Number(s)); got != q || err != nil {
			t.Fatalf("case %d: ParseQuantity(%q): got %d, %v; want %d, nil", i, s, got, err, q)
		}
		raw, err := q.MarshalJSON()
		if err != nil || string(raw) != s {
			t.Fatalf("case %d: MarshalJSON(%d): got %s, %v; want %s", i, q, raw, err, s)
		}
		if got, err := ParseQuantity(decodeNumber(t, raw)); got != q || err != nil {
			t.Fatalf("case %d: ParseQuantity(decoded %s): got %d, %v; want %d, nil", i, raw, got, err, q)
		}
		var back Quantity
		if err := json.Unmarshal(raw, &back); err != nil || back != q {
			t.Fatalf("case %d: json.Unmarshal(%s): got %d, %v; want %d", i, raw, back, err, q)
		}
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Run("quantity", func(t *testing.T) {
		cases := []struct {
			name    string
			in      string
			want    Quantity
			wantErr bool
		}{
			{"decimal", "1.5", 1_500, false},
			{"zero reads back (rules are ParseQuantity's)", "0", 0, false},
			{"negative reads back", "-2.25", -2_250, false},
			{"beyond the business bound reads back", "5000000", 5_000_000_000, false},
			{"exponent", "1e-3", 1, false},
			{"null leaves the value", "null", 42, false},
			{"four decimals", "1.0001", 42, true},
			{"beyond int64", "1e20", 42, true},
			{"string", `"1.5"`, 42, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := Quantity(42)
				err := json.Unmarshal([]byte(tc.in), &got)
				if got != tc.want || (err != nil) != tc.wantErr {
					t.Errorf("json.Unmarshal(%s): got %d, %v; want %d, error=%v", tc.in, got, err, tc.want, tc.wantErr)
				}
			})
		}
	})
	t.Run("rate", func(t *testing.T) {
		cases := []struct {
			name    string
			in      string
			want    Rate
			wantErr bool
		}{
			{"legal", "5.5", 550, false},
			{"former rate reads back (legality is ParseRate's)", "19.6", 1960, false},
			{"null leaves the value", "null", 7, false},
			{"below a basis point", "5.555", 7, true},
			{"string", `"20"`, 7, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := Rate(7)
				err := json.Unmarshal([]byte(tc.in), &got)
				if got != tc.want || (err != nil) != tc.wantErr {
					t.Errorf("json.Unmarshal(%s): got %d, %v; want %d, error=%v", tc.in, got, err, tc.want, tc.wantErr)
				}
			})
		}
	})
}
