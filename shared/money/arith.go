package money

import "math/bits"

// mulDivHalfUp is round_half_up(a × b / d) for d > 0, rounding halves away
// from zero, with the product on 128 bits. ok is false when the result does
// not fit in an int64.
func mulDivHalfUp(a, b int64, d uint64) (v int64, ok bool) {
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(abs64(a), abs64(b))
	if hi >= d { // the quotient would need more than 64 bits
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if r >= d-r { // r/d ≥ 1/2
		if q == ^uint64(0) {
			return 0, false
		}
		q++
	}
	switch {
	case q == 0:
		return 0, true
	case neg && q <= 1<<63:
		return int64(-q), true // -q in two's complement; exact for 1<<63 too
	case !neg && q <= 1<<63-1:
		return int64(q), true
	}
	return 0, false
}

// abs64 is |x| as a uint64, exact for math.MinInt64.
func abs64(x int64) uint64 {
	if x < 0 {
		return -uint64(x)
	}
	return uint64(x)
}
