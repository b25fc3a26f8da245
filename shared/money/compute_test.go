package money

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLineNet(t *testing.T) {
	cases := []struct {
		name    string
		q       Quantity
		price   int64
		want    int64
		wantErr error
	}{
		{"guide sample: 125 × 3,20 €", 125_000, 320, 40_000, nil},
		{"one unit", 1_000, 1, 1, nil},
		{"1.005 × 1,00 € = 100.5 cents rounds up", 1_005, 100, 101, nil},
		{"1.005 × 0,01 € = 1.005 cents rounds down", 1_005, 1, 1, nil},
		{"0.5 × 1 cent = 0.5 rounds up", 500, 1, 1, nil},
		{"0.001 × 499 cents = 0.499 rounds down", 1, 499, 0, nil},
		{"0.001 × 500 cents = 0.5 rounds up", 1, 500, 1, nil},
		{"2.5 × 3 cents = 7.5 rounds up, not to even", 2_500, 3, 8, nil},
		{"1.5 × 333 cents = 499.5", 1_500, 333, 500, nil},
		{"0.333 × 3 cents = 0.999", 333, 3, 1, nil},
		{"negative rounds half away from zero", -500, 1, -1, nil},
		{"zero quantity", 0, 12_345, 0, nil},

		{"largest unit price, one unit", 1_000, MaxAmount, MaxAmount, nil},
		{"largest quantity, price within bound", MaxQuantity, 99, 99_000_000, nil},
		{"largest quantity, largest net", MaxQuantity, 99_999, 99_999_000_000, nil},
		{"exactly MaxAmount from a half unit", 500, 199_999_999_998, MaxAmount, nil},
		{"MaxAmount + 0.5 rounds beyond the bound", 500, 199_999_999_999, 0, ErrLineTooLarge},
		{"0.001 × price rounding down to MaxAmount", 1, 99_999_999_999_499, MaxAmount, nil},
		{"0.001 × price rounding up beyond MaxAmount", 1, 99_999_999_999_500, 0, ErrLineTooLarge},
		{"0.999 × largest price", 999, MaxAmount, 99_899_999_999, nil},
		{"1.001 × largest price", 1_001, MaxAmount, 0, ErrLineTooLarge},
		{"product beyond int64 (1e9 × 1e11)", MaxQuantity, MaxAmount, 0, ErrLineTooLarge},
		{"product beyond 2^64", math.MaxInt64, math.MaxInt64, 0, ErrLineTooLarge},
		{"min int64 operands", math.MinInt64, math.MinInt64, 0, ErrLineTooLarge},
		{"large negative", -MaxQuantity, MaxAmount, 0, ErrLineTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LineNet(tc.q, tc.price)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("LineNet(%d, %d): got %d, %v; want %d, %v", tc.q, tc.price, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestVAT(t *testing.T) {
	cases := []struct {
		name string
		net  int64
		rate Rate
		want int64
	}{
		{"guide sample: 400,00 € at 5.5 %", 40_000, 550, 2_200},
		{"10 cents at 5.5 % = 0.55 rounds up", 10, 550, 1},
		{"9 cents at 5.5 % = 0.495 rounds down", 9, 550, 0},
		{"5 cents at 10 % = 0.5 rounds up", 5, 1000, 1},
		{"15 cents at 10 % = 1.5 rounds up", 15, 1000, 2},
		{"25 cents at 10 % = 2.5 rounds up, not to even", 25, 1000, 3},
		{"1,00 € at 5.5 % = 5.5", 100, 550, 6},
		{"1,00 € at 8.5 % = 8.5", 100, 850, 9},
		{"5,00 € at 2.1 % = 10.5", 500, 210, 11},
		{"2,50 € at 2.1 % = 5.25", 250, 210, 5},
		{"1,00 € at 1.05 % = 1.05", 100, 105, 1},
		{"2,00 € at 1.75 % = 3.5", 200, 175, 4},
		{"50 cents at 0.9 % = 0.45", 50, 90, 0},
		{"1,00 € at 13 %", 100, 1300, 13},
		{"1,00 € at 20 %", 100, 2000, 20},
		{"0 %", 123_456, 0, 0},
		{"zero net", 0, 2000, 0},
		{"negative half rounds away from zero", -5, 1000, -1},
		{"negative 2.5 → -3", -25, 1000, -3},
		{"largest net at 20 %", MaxAmount, 2000, 20_000_000_000},
		{"largest net at 5.5 %", MaxAmount, 550, 5_500_000_000}, // 5 499 999 999.945
		{"largest net at 2.1 %", MaxAmount, 210, 2_100_000_000}, // 2 099 999 999.979
		{"largest net at 0.9 %", MaxAmount, 90, 900_000_000},    // 899 999 999.991
		{"beyond int64 product, fits after division", math.MaxInt64, 2000, 1_844_674_407_370_955_161},
		{"saturates", math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{"saturates negative", math.MinInt64, math.MaxInt64, math.MinInt64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := VAT(tc.net, tc.rate); got != tc.want {
				t.Errorf("VAT(%d, %d): got %d, want %d", tc.net, tc.rate, got, tc.want)
			}
		})
	}
}

// refMulDivHalfUp is round-half-away-from-zero(a × b / d) on big integers.
func refMulDivHalfUp(a, b int64, d uint64) *big.Int {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	neg := p.Sign() < 0
	p.Abs(p)
	den := new(big.Int).SetUint64(d)
	// floor((2p + d) / 2d)
	p.Lsh(p, 1).Add(p, den)
	q := p.Quo(p, new(big.Int).Lsh(den, 1))
	if neg {
		q.Neg(q)
	}
	return q
}

func TestMulDivHalfUpAgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	edges := []int64{0, 1, -1, 2, 499, 500, 501, 999, 1000, 1001, MaxAmount, -MaxAmount,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 32, -(1 << 32)}
	for _, d := range []uint64{1, 2, 1000, 10_000, 3, math.MaxUint64} {
		for i := range 20_000 {
			var a, b int64
			if i < len(edges)*len(edges) {
				a, b = edges[i/len(edges)], edges[i%len(edges)]
			} else {
				a, b = int64(rng.Uint64())>>rng.IntN(64), int64(rng.Uint64())>>rng.IntN(64)
			}
			want := refMulDivHalfUp(a, b, d)
			got, ok := mulDivHalfUp(a, b, d)
			if wantOK := want.IsInt64(); ok != wantOK || (ok && got != want.Int64()) {
				t.Fatalf("mulDivHalfUp(%d, %d, %d): got %d, %v; want %s, %v", a, b, d, got, ok, want, wantOK)
			}
		}
	}
}

// The integration guide's sample invoice: 125 units at 3,20 € excluding VAT,
// 5.5 %. 125 × 320 = 40 000 cents; 5.5 % of that is 2 200; the total is
// 42 200 cents (422,00 €). The guide prints 42 220, an addition error (it is
// 40 000 + 2 220); the CHANGELOG lists it among the guide's known errors.
func TestComputeGuideSample(t *testing.T) {
	got, err := Compute([]Line{{Quantity: 125_000, UnitPrice: 320, Rate: 550}})
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	want := Totals{
		LineNet: []int64{40_000},
		ByRate:  []RateTotal{{Rate: 550, NetAmount: 40_000, VATAmount: 2_200}},
		Net:     40_000, VAT: 2_200, Gross: 42_200,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compute: got %+v, want %+v", got, want)
	}
	if got := FormatEUR(got.Gross); got != "422,00\u00a0€" {
		t.Errorf("FormatEUR(gross): got %q, want %q", got, "422,00\u00a0€")
	}
}

func TestCompute(t *testing.T) {
	cases := []struct {
		name  string
		lines []Line
		want  Totals
	}{
		{
			name: "several rates, ByRate ascending whatever the line order",
			lines: []Line{
				{Quantity: 2_000, UnitPrice: 1_999, Rate: 2000}, // 3 998
				{Quantity: 1_500, UnitPrice: 333, Rate: 550},    // 499.5 → 500
				{Quantity: 3_000, UnitPrice: 1_001, Rate: 1000}, // 3 003
				{Quantity: 1_000, UnitPrice: 5_000, Rate: 0},    // 5 000
				{Quantity: 250, UnitPrice: 1_234, Rate: 2000},   // 308.5 → 309
			},
			want: Totals{
				LineNet: []int64{3_998, 500, 3_003, 5_000, 309},
				ByRate: []RateTotal{
					{Rate: 0, NetAmount: 5_000, VATAmount: 0},
					{Rate: 550, NetAmount: 500, VATAmount: 28},     // 27.5
					{Rate: 1000, NetAmount: 3_003, VATAmount: 300}, // 300.3
					// 4 307 × 20 % = 861.4; rounding per line would give
					// 800 (799.6) + 62 (61.8) = 862.
					{Rate: 2000, NetAmount: 4_307, VATAmount: 861},
				},
				Net: 12_810, VAT: 1_189, Gross: 13_999,
			},
		},
		{
			name: "VAT rounded once per rate, not per line",
			lines: []Line{
				{Quantity: 1_000, UnitPrice: 10, Rate: 550}, // 0.55 each: 1 + 1 per line
				{Quantity: 1_000, UnitPrice: 10, Rate: 550},
			},
			want: Totals{
				LineNet: []int64{10, 10},
				ByRate:  []RateTotal{{Rate: 550, NetAmount: 20, VATAmount: 1}}, // 1.1
				Net:     20, VAT: 1, Gross: 21,
			},
		},
		{
			name:  "exact half rounds up: 10 cents at 5.5 %",
			lines: []Line{{Quantity: 1_000, UnitPrice: 10, Rate: 550}},
			want: Totals{LineNet: []int64{10}, ByRate: []RateTotal{{Rate: 550, NetAmount: 10, VATAmount: 1}},
				Net: 10, VAT: 1, Gross: 11},
		},
		{
			name:  "1.005 units, half-cent line",
			lines: []Line{{Quantity: 1_005, UnitPrice: 100, Rate: 2000}}, // 100.5 → 101; VAT 20.2 → 20
			want: Totals{LineNet: []int64{101}, ByRate: []RateTotal{{Rate: 2000, NetAmount: 101, VATAmount: 20}},
				Net: 101, VAT: 20, Gross: 121},
		},
		{
			name: "0 % lines only",
			lines: []Line{
				{Quantity: 1_000, UnitPrice: 1_000, Rate: 0},
				{Quantity: 2_000, UnitPrice: 250, Rate: 0},
			},
			want: Totals{LineNet: []int64{1_000, 500}, ByRate: []RateTotal{{Rate: 0, NetAmount: 1_500, VATAmount: 0}},
				Net: 1_500, VAT: 0, Gross: 1_500},
		},
		{
			name: "3-decimal quantities",
			lines: []Line{
				{Quantity: 1, UnitPrice: 12_345, Rate: 1000},   // 12.345 → 12
				{Quantity: 2_125, UnitPrice: 199, Rate: 1000},  // 422.875 → 423
				{Quantity: 333, UnitPrice: 1_500, Rate: 1000},  // 499.5 → 500
				{Quantity: 12_345, UnitPrice: 4_321, Rate: 90}, // 53 342.745 → 53 343
			},
			want: Totals{
				LineNet: []int64{12, 423, 500, 53_343},
				ByRate: []RateTotal{
					{Rate: 90, NetAmount: 53_343, VATAmount: 480}, // 480.087
					{Rate: 1000, NetAmount: 935, VATAmount: 94},   // 93.5
				},
				Net: 54_278, VAT: 574, Gross: 54_852,
			},
		},
		{
			name: "every legal rate, overseas and Corsica included",
			lines: []Line{
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 2000},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 1300},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 1000},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 850},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 550},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 210},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 175},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 105},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 90},
				{Quantity: 1_000, UnitPrice: 10_000, Rate: 0},
			},
			want: Totals{
				LineNet: []int64{10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000},
				ByRate: []RateTotal{
					{0, 10_000, 0}, {90, 10_000, 90}, {105, 10_000, 105}, {175, 10_000, 175}, {210, 10_000, 210},
					{550, 10_000, 550}, {850, 10_000, 850}, {1000, 10_000, 1_000}, {1300, 10_000, 1_300}, {2000, 10_000, 2_000},
				},
				Net: 100_000, VAT: 6_280, Gross: 106_280,
			},
		},
		{
			name:  "largest gross: MaxAmount at 0 %",
			lines: []Line{{Quantity: 1_000, UnitPrice: MaxAmount, Rate: 0}},
			want: Totals{LineNet: []int64{MaxAmount}, ByRate: []RateTotal{{0, MaxAmount, 0}},
				Net: MaxAmount, VAT: 0, Gross: MaxAmount},
		},
		{
			name:  "largest net at 20 % that stays within MaxAmount",
			lines: []Line{{Quantity: 1_000, UnitPrice: 83_333_333_332, Rate: 2000}}, // VAT 16 666 666 666.4
			want: Totals{LineNet: []int64{83_333_333_332}, ByRate: []RateTotal{{2000, 83_333_333_332, 16_666_666_666}},
				Net: 83_333_333_332, VAT: 16_666_666_666, Gross: 99_999_999_998},
		},
		{
			name:  "largest quantity",
			lines: []Line{{Quantity: MaxQuantity, UnitPrice: 1, Rate: 2000}},
			want: Totals{LineNet: []int64{1_000_000}, ByRate: []RateTotal{{2000, 1_000_000, 200_000}},
				Net: 1_000_000, VAT: 200_000, Gross: 1_200_000},
		},
		{
			name:  "smallest line rounds to 0",
			lines: []Line{{Quantity: 1, UnitPrice: 1, Rate: 2000}},
			want: Totals{LineNet: []int64{0}, ByRate: []RateTotal{{2000, 0, 0}},
				Net: 0, VAT: 0, Gross: 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compute(tc.lines)
			if err != nil {
				t.Fatalf("Compute: got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Compute:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	ok := Line{Quantity: 1_000, UnitPrice: 100, Rate: 2000}
	maxLine := Line{Quantity: 1_000, UnitPrice: MaxAmount, Rate: 0}
	many := make([]Line, 200)
	for i := range many {
		many[i] = maxLine
	}
	cases := []struct {
		name     string
		lines    []Line
		wantLine *LineError // nil: wantErr
		wantErr  error
	}{
		{"no lines", nil, nil, ErrNoLines},
		{"empty lines", []Line{}, nil, ErrNoLines},
		{"zero quantity", []Line{ok, {Quantity: 0, UnitPrice: 100, Rate: 2000}},
			&LineError{1, "quantity", "quantity must be greater than 0"}, nil},
		{"negative quantity", []Line{{Quantity: -1_000, UnitPrice: 100, Rate: 2000}},
			&LineError{0, "quantity", "quantity must be greater than 0"}, nil},
		{"quantity too large", []Line{ok, ok, {Quantity: MaxQuantity + 1, UnitPrice: 1, Rate: 2000}},
			&LineError{2, "quantity", "quantity must be at most 1000000"}, nil},
		{"zero unit price", []Line{{Quantity: 1_000, UnitPrice: 0, Rate: 2000}},
			&LineError{0, "unit_price", "unit_price must be greater than 0 cents"}, nil},
		{"negative unit price", []Line{ok, {Quantity: 1_000, UnitPrice: -100, Rate: 2000}},
			&LineError{1, "unit_price", "unit_price must be greater than 0 cents"}, nil},
		{"unit price too large", []Line{{Quantity: 1_000, UnitPrice: MaxAmount + 1, Rate: 0}},
			&LineError{0, "unit_price", "unit_price must be at most 99999999999 cents (999 999 999,99 €)"}, nil},
		{"illegal rate", []Line{ok, {Quantity: 1_000, UnitPrice: 100, Rate: 1960}},
			&LineError{1, "vat_rate", "vat_rate must be one of " + allowedRates + " (percent)"}, nil},
		{"negative rate", []Line{{Quantity: 1_000, UnitPrice: 100, Rate: -550}},
			&LineError{0, "vat_rate", "vat_rate must be one of " + allowedRates + " (percent)"}, nil},
		{"line net beyond MaxAmount", []Line{ok, {Quantity: 1_001, UnitPrice: MaxAmount, Rate: 0}},
			&LineError{1, "quantity", ErrLineTooLarge.Error()}, nil},
		{"line product beyond int64", []Line{{Quantity: MaxQuantity, UnitPrice: MaxAmount, Rate: 2000}},
			&LineError{0, "quantity", ErrLineTooLarge.Error()}, nil},
		{"first faulty line is reported", []Line{ok, {Quantity: 0, UnitPrice: 0, Rate: 1}, {Quantity: 0, UnitPrice: 100, Rate: 0}},
			&LineError{1, "quantity", "quantity must be greater than 0"}, nil},
		{"a line error wins over a total error", append([]Line{maxLine, maxLine}, Line{Quantity: 1_000, UnitPrice: 0, Rate: 0}),
			&LineError{2, "unit_price", "unit_price must be greater than 0 cents"}, nil},
		{"net total beyond MaxAmount", []Line{maxLine, {Quantity: 1_000, UnitPrice: 1, Rate: 0}}, nil, ErrTotalTooLarge},
		{"net total far beyond MaxAmount", many, nil, ErrTotalTooLarge},
		{"gross beyond MaxAmount by one cent", []Line{{Quantity: 1_000, UnitPrice: 83_333_333_333, Rate: 2000}}, nil, ErrTotalTooLarge},
		{"VAT pushes gross beyond MaxAmount", []Line{{Quantity: 1_000, UnitPrice: MaxAmount, Rate: 90}}, nil, ErrTotalTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compute(tc.lines)
			if err == nil {
				t.Fatalf("Compute: got %+v, nil; want an error", got)
			}
			if !reflect.DeepEqual(got, Totals{}) {
				t.Errorf("Compute totals on error: got %+v, want zero", got)
			}
			var le *LineError
			isLine := errors.As(err, &le)
			if tc.wantLine != nil {
				if !isLine || *le != *tc.wantLine {
					t.Errorf("Compute error: got %#v, want %#v", err, tc.wantLine)
				}
				return
			}
			if isLine || !errors.Is(err, tc.wantErr) {
				t.Errorf("Compute error: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestLineErrorMessage(t *testing.T) {
	e := &LineError{Index: 3, Field: "unit_price", Message: "unit_price must be greater than 0 cents"}
	if got, want := e.Error(), "line 3: unit_price: unit_price must be greater than 0 cents"; got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}
}

func TestFormatEUR(t *testing.T) {
	const nnbsp, nbsp = "\u202f", "\u00a0"
	cases := []struct {
		name  string
		cents int64
		want  string
	}{
		{"guide sample", 42_200, "422,00" + nbsp + "€"},
		{"thousands", 123_456, "1" + nnbsp + "234,56" + nbsp + "€"},
		{"five cents", 5, "0,05" + nbsp + "€"},
		{"zero", 0, "0,00" + nbsp + "€"},
		{"ninety-nine cents", 99, "0,99" + nbsp + "€"},
		{"exactly a thousand", 100_000, "1" + nnbsp + "000,00" + nbsp + "€"},
		{"999,99", 99_999, "999,99" + nbsp + "€"},
		{"negative", -1_200, "-12,00" + nbsp + "€"},
		{"negative cents", -5, "-0,05" + nbsp + "€"},
		{"negative thousands", -123_456_789, "-1" + nnbsp + "234" + nnbsp + "567,89" + nbsp + "€"},
		{"MaxAmount", MaxAmount, "999" + nnbsp + "999" + nnbsp + "999,99" + nbsp + "€"},
		{"max int64", math.MaxInt64, "92" + nnbsp + "233" + nnbsp + "720" + nnbsp + "368" + nnbsp + "547" + nnbsp + "758,07" + nbsp + "€"},
		{"min int64", math.MinInt64, "-92" + nnbsp + "233" + nnbsp + "720" + nnbsp + "368" + nnbsp + "547" + nnbsp + "758,08" + nbsp + "€"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatEUR(tc.cents); got != tc.want {
				t.Errorf("FormatEUR(%d): got %q, want %q", tc.cents, got, tc.want)
			}
		})
	}
}

// TestNoFloat keeps the package free of floating point: no float32/float64
// identifier, no strconv.ParseFloat or FormatFloat, outside tests.
func TestNoFloat(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if strings.Contains(strings.ToLower(n.Name), "float") {
					t.Errorf("%s: identifier %s: the package must not use floating point", fset.Position(n.Pos()), n.Name)
				}
			case *ast.BasicLit:
				if n.Kind == token.FLOAT || n.Kind == token.IMAG {
					t.Errorf("%s: literal %s: the package must not use floating point", fset.Position(n.Pos()), n.Value)
				}
			}
			return true
		})
	}
}
