package money

// decimal is a JSON number read exactly: its value is
// (neg ? −1 : 1) × digits × 10^exp, where digits has neither leading nor
// trailing zeros ("" is zero).
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// expLimit caps exponents while they are read: any exponent beyond it puts a
// non-zero value far outside every bound this package checks, and the cap
// keeps the arithmetic on exponents within int64 for any input length.
const expLimit = 1 << 40

// parseDecimal reads s as a JSON number (RFC 8259 §6: an optional minus, an
// integer part without leading zeros, optional fraction and exponent; no
// white space, no plus sign, no NaN or infinities). ok is false when s is not
// one.
func parseDecimal(s string) (d decimal, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	intStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return decimal{}, false
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return decimal{}, false
		}
		frac = s[start:i]
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start := i
		for i < len(s) && isDigit(s[i]) {
			if exp < expLimit {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return decimal{}, false
		}
		exp = min(exp, expLimit)
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return decimal{}, false
	}

	digits := intPart + frac
	exp -= int64(len(frac))
	end := len(digits)
	for end > 0 && digits[end-1] == '0' {
		end--
	}
	exp += int64(len(digits) - end)
	start := 0
	for start < end && digits[start] == '0' {
		start++
	}
	d.digits = digits[start:end]
	if d.digits == "" {
		d.exp = 0
	} else {
		d.exp = exp
	}
	return d, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scaleResult says how a decimal fared as an integer of a given scale.
type scaleResult int

const (
	scaledOK       scaleResult = iota
	scaledInexact              // it has non-zero digits below the scale
	scaledTooLarge             // its magnitude exceeds the limit
)

// scaled is the magnitude of d × 10^scale as an integer, when it is one and
// at most limit; the sign is d.neg's business.
func (d decimal) scaled(scale int64, limit uint64) (uint64, scaleResult) {
	if d.digits == "" {
		return 0, scaledOK
	}
	e := d.exp + scale
	if e < 0 {
		return 0, scaledInexact
	}
	if int64(len(d.digits))+e > 19 { // ≥ 10^19 > every limit used here
		return 0, scaledTooLarge
	}
	var v uint64
	for i := 0; i < len(d.digits); i++ {
		v = v*10 + uint64(d.digits[i]-'0')
	}
	for ; e > 0; e-- {
		v *= 10 // at most 19 digits in all: no overflow
	}
	if v > limit {
		return 0, scaledTooLarge
	}
	return v, scaledOK
}

// exactInt is d × 10^scale as an int64, when it is a whole number within
// int64: the lenient reading UnmarshalJSON uses.
func (d decimal) exactInt(scale int64) (int64, bool) {
	limit := uint64(1<<63 - 1)
	if d.neg {
		limit = 1 << 63
	}
	v, res := d.scaled(scale, limit)
	if res != scaledOK {
		return 0, false
	}
	if d.neg {
		return int64(-v), true
	}
	return int64(v), true
}

// formatScaled writes v / 10^places as the shortest exact decimal: "125",
// "1.5", "0.001", "-2.1".
func formatScaled(v int64, places int) string { return formatDecimal(v, places, false) }

// formatDecimal writes v / 10^places exactly: with all places decimals
// when fixed ("12.50"), else the shortest ("12.5").
func formatDecimal(v int64, places int, fixed bool) string {
	u := abs64(v)
	var pow uint64 = 1
	for range places {
		pow *= 10
	}
	buf := make([]byte, 0, 24)
	if v < 0 {
		buf = append(buf, '-')
	}
	buf = appendUint(buf, u/pow)
	f := u % pow
	if places == 0 || f == 0 && !fixed {
		return string(buf)
	}
	buf = append(buf, '.')
	for pow /= 10; pow > 0 && (fixed || f > 0); pow /= 10 {
		buf = append(buf, byte('0'+f/pow))
		f %= pow
	}
	return string(buf)
}

func appendUint(buf []byte, u uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return append(buf, tmp[i:]...)
}
