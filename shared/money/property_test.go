package money

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// randomQuantity is a quantity with 0 to 3 decimals, of a magnitude drawn
// log-uniformly (1 to 1 000 000 units), so that small and large quantities
// both come up.
func randomQuantity(rng *rand.Rand) Quantity {
	decimals := rng.IntN(4)
	step := int64(1)
	for range 3 - decimals {
		step *= 10
	}
	maxUnits := []int64{1, 10, 100, 1_000, 10_000, 1_000_000}[rng.IntN(6)]
	k := rng.Int64N(maxUnits*QuantityScale/step) + 1
	return Quantity(k * step)
}

// randomInvoice is 1 to 50 lines at random legal rates, with quantities of
// 0 to 3 decimals and unit prices up to 10^7 cents. Large quantities are
// rare, so that most invoices stay within MaxAmount and some do not.
func randomInvoice(rng *rand.Rand) []Line {
	lines := make([]Line, rng.IntN(50)+1)
	for i := range lines {
		q := randomQuantity(rng)
		if rng.IntN(20) != 0 {
			q = q%(100*QuantityScale) + 1 // mostly up to 100 units
		}
		lines[i] = Line{
			Quantity:  q,
			UnitPrice: rng.Int64N(10_000_000) + 1,
			Rate:      legalRates[rng.IntN(len(legalRates))],
		}
	}
	return lines
}

var (
	ratHalf      = big.NewRat(1, 2)
	bigMaxAmount = big.NewInt(MaxAmount)
)

// refLineNet is round_half_up(q × price / 1000) on big rationals, without
// the package's code.
func refLineNet(l Line) *big.Int {
	exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(l.Quantity)), big.NewInt(l.UnitPrice)), big.NewInt(1000))
	return floorRat(new(big.Rat).Add(exact, ratHalf))
}

// floorRat is ⌊x⌋ for x ≥ 0.
func floorRat(x *big.Rat) *big.Int {
	return new(big.Int).Quo(x.Num(), x.Denom())
}

func TestComputeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x5eed, 2024))
	const wantValid = 5_000
	valid, tooLarge, lineTooLarge := 0, 0, 0
	for n := 0; valid < wantValid; n++ {
		if n == 4*wantValid {
			t.Fatalf("only %d valid invoices in %d: the generator is off", valid, n)
		}
		lines := randomInvoice(rng)
		got, err := Compute(lines)

		// The reference: line nets, then per-rate sums, on big integers.
		refNets := make([]*big.Int, len(lines))
		badLine := -1
		for i, l := range lines {
			refNets[i] = refLineNet(l)
			if badLine < 0 && refNets[i].Cmp(bigMaxAmount) > 0 {
				badLine = i
			}
		}
		if badLine >= 0 {
			lineTooLarge++
			var le *LineError
			if !errors.As(err, &le) || le.Index != badLine || le.Field != FieldQuantity || le.Message != ErrLineTooLarge.Error() {
				t.Fatalf("invoice %d: Compute error: got %v, want line %d's net beyond MaxAmount", n, err, badLine)
			}
			continue
		}
		refNet := new(big.Int)
		for _, v := range refNets {
			refNet.Add(refNet, v)
		}
		if err != nil {
			tooLarge++
			if !errors.Is(err, ErrTotalTooLarge) {
				t.Fatalf("invoice %d: Compute error: got %v, want ErrTotalTooLarge or none", n, err)
			}
			// Gross ≥ Net; the reference gross needs the per-rate VAT,
			// checked through the property below when Compute succeeds.
			if refNet.Cmp(bigMaxAmount) <= 0 {
				refGross := new(big.Int).Set(refNet)
				for _, rt := range refByRate(lines, refNets) {
					refGross.Add(refGross, rt.vat)
				}
				if refGross.Cmp(bigMaxAmount) <= 0 {
					t.Fatalf("invoice %d: Compute: ErrTotalTooLarge, but the reference gross is %s", n, refGross)
				}
			}
			continue
		}
		valid++
		checkTotals(t, n, lines, refNets, got)

		// Shuffling the lines changes nothing but LineNet's order.
		perm := rng.Perm(len(lines))
		shuffled := make([]Line, len(lines))
		for i, p := range perm {
			shuffled[i] = lines[p]
		}
		again, err := Compute(shuffled)
		if err != nil {
			t.Fatalf("invoice %d shuffled: Compute error %v", n, err)
		}
		if !reflect.DeepEqual(again.ByRate, got.ByRate) || again.Net != got.Net || again.VAT != got.VAT || again.Gross != got.Gross {
			t.Fatalf("invoice %d: shuffled lines changed the totals: got %+v, want %+v", n, again, got)
		}
		for i, p := range perm {
			if again.LineNet[i] != got.LineNet[p] {
				t.Fatalf("invoice %d shuffled: LineNet[%d]: got %d, want %d", n, i, again.LineNet[i], got.LineNet[p])
			}
		}
	}
	t.Logf("%d valid invoices, %d over MaxAmount in total, %d with a line over MaxAmount", valid, tooLarge, lineTooLarge)
	if tooLarge == 0 || lineTooLarge == 0 {
		t.Errorf("the generator never reached MaxAmount (totals %d, lines %d): widen it", tooLarge, lineTooLarge)
	}
}

type refRate struct {
	rate     Rate
	net, vat *big.Int
	exactVAT *big.Rat
}

// refByRate groups the reference line nets by rate, ascending, with the VAT
// rounded half-up from its exact rational value.
func refByRate(lines []Line, refNets []*big.Int) []refRate {
	m := map[Rate]*big.Int{}
	for i, l := range lines {
		if m[l.Rate] == nil {
			m[l.Rate] = new(big.Int)
		}
		m[l.Rate].Add(m[l.Rate], refNets[i])
	}
	var out []refRate
	for r, net := range m {
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(net, big.NewInt(int64(r))), big.NewInt(10_000))
		out = append(out, refRate{r, net, floorRat(new(big.Rat).Add(exact, ratHalf)), exact})
	}
	slices.SortFunc(out, func(a, b refRate) int { return int(a.rate - b.rate) })
	return out
}

func checkTotals(t *testing.T, n int, lines []Line, refNets []*big.Int, got Totals) {
	t.Helper()
	if len(got.LineNet) != len(lines) {
		t.Fatalf("invoice %d: len(LineNet): got %d, want %d", n, len(got.LineNet), len(lines))
	}
	var sumLines int64
	for i, v := range got.LineNet {
		if refNets[i].Cmp(big.NewInt(v)) != 0 {
			t.Fatalf("invoice %d: LineNet[%d] (%+v): got %d, want %s", n, i, lines[i], v, refNets[i])
		}
		sumLines += v
	}
	if got.Net != sumLines {
		t.Fatalf("invoice %d: Net: got %d, want Σ LineNet = %d", n, got.Net, sumLines)
	}
	var sumVAT, sumRateNet int64
	for i, rt := range got.ByRate {
		if i > 0 && got.ByRate[i-1].Rate >= rt.Rate {
			t.Fatalf("invoice %d: ByRate not ascending and unique: %+v", n, got.ByRate)
		}
		var want int64
		for j, l := range lines {
			if l.Rate == rt.Rate {
				want += got.LineNet[j]
			}
		}
		if rt.NetAmount != want {
			t.Fatalf("invoice %d: ByRate[%d] (%s %%) NetAmount: got %d, want Σ of its lines = %d", n, i, rt.Rate, rt.NetAmount, want)
		}
		// The VAT is within half a cent of its exact value, and a tie
		// rounds up.
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(rt.NetAmount), big.NewInt(int64(rt.Rate))), big.NewInt(10_000))
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(rt.VATAmount), exact)
		if diff.Cmp(new(big.Rat).Neg(ratHalf)) <= 0 || diff.Cmp(ratHalf) > 0 {
			t.Fatalf("invoice %d: ByRate[%d] VAT: got %d, exact %s: not half-up rounded", n, i, rt.VATAmount, exact.FloatString(4))
		}
		sumVAT += rt.VATAmount
		sumRateNet += rt.NetAmount
	}
	ref := refByRate(lines, refNets)
	if len(ref) != len(got.ByRate) {
		t.Fatalf("invoice %d: ByRate: got %d rates, want %d (%+v)", n, len(got.ByRate), len(ref), got.ByRate)
	}
	for i, r := range ref {
		g := got.ByRate[i]
		if g.Rate != r.rate || r.net.Cmp(big.NewInt(g.NetAmount)) != 0 || r.vat.Cmp(big.NewInt(g.VATAmount)) != 0 {
			t.Fatalf("invoice %d: ByRate[%d]: got %+v, want rate %d net %s VAT %s", n, i, g, r.rate, r.net, r.vat)
		}
	}
	if sumRateNet != got.Net {
		t.Fatalf("invoice %d: Σ ByRate.NetAmount: got %d, want Net = %d", n, sumRateNet, got.Net)
	}
	if got.VAT != sumVAT {
		t.Fatalf("invoice %d: VAT: got %d, want Σ ByRate.VATAmount = %d", n, got.VAT, sumVAT)
	}
	if got.Gross != got.Net+got.VAT {
		t.Fatalf("invoice %d: Gross: got %d, want Net + VAT = %d", n, got.Gross, got.Net+got.VAT)
	}
	if got.Gross > MaxAmount {
		t.Fatalf("invoice %d: Gross %d beyond MaxAmount", n, got.Gross)
	}
}
