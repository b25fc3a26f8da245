package identifier

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The helpers below compute check digits independently of the package (big
// integers, brute force), so that generated values test the package rather
// than echo it.

// checkCase is one row of a Check table: the input, the normalised value
// wanted, and the Problem code wanted ("" for valid).
type checkCase struct {
	name string
	in   string
	want string
	code string
}

func runChecks(t *testing.T, check func(string) (string, *Problem), cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, p := check(tc.in)
			if got != tc.want {
				t.Errorf("value: got %q, want %q", got, tc.want)
			}
			if gotCode := codeOf(p); gotCode != tc.code {
				t.Errorf("problem code: got %q (%v), want %q", gotCode, p, tc.code)
			}
			if p != nil && (p.Message == "" || p.Error() != p.Message) {
				t.Errorf("problem message: got %q / Error() %q, want a non-empty message returned by Error()", p.Message, p.Error())
			}
		})
	}
}

func codeOf(p *Problem) string {
	if p == nil {
		return ""
	}
	return p.Code
}

// luhnDigitFor returns the digit that completes prefix into a Luhn-valid
// number, found by trying all ten and summing with the doubling table.
func luhnDigitFor(prefix string) string {
	doubled := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}
	for c := '0'; c <= '9'; c++ {
		s := prefix + string(c)
		sum := 0
		for i := range s {
			d := int(s[i] - '0')
			if (len(s)-i)%2 == 0 {
				d = doubled[d]
			}
			sum += d
		}
		if sum%10 == 0 {
			return string(c)
		}
	}
	panic("unreachable")
}

func randDigits(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// vatKeyFor computes the old-style numeric VAT key of a SIREN.
func vatKeyFor(siren string) string {
	v, err := strconv.Atoi(siren + "12")
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%02d", v%97)
}

// alnumToDigits replaces each letter by its value 10 (A) … 35 (Z).
func alnumToDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			b.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func bigMod97(digits string) int64 {
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		panic("not digits: " + digits)
	}
	return new(big.Int).Mod(n, big.NewInt(97)).Int64()
}

// ibanFor builds the IBAN of a BBAN with correct check digits:
// 98 − (BBAN + country + "00" mod 97).
func ibanFor(country, bban string) string {
	r := bigMod97(alnumToDigits(bban + country + "00"))
	return fmt.Sprintf("%s%02d%s", country, 98-r, bban)
}

// ribKeyFor computes the clé RIB as 97 − (bank‖branch‖account‖"00" mod 97),
// the account's letters replaced by their RIB digits (A/J=1 … I/R/Z=9).
func ribKeyFor(bank, branch, account string) string {
	var b strings.Builder
	for _, c := range account {
		switch {
		case c >= 'A' && c <= 'I':
			b.WriteRune('1' + c - 'A')
		case c >= 'J' && c <= 'R':
			b.WriteRune('1' + c - 'J')
		case c >= 'S' && c <= 'Z':
			b.WriteRune('2' + c - 'S')
		default:
			b.WriteRune(c)
		}
	}
	return fmt.Sprintf("%02d", 97-bigMod97(bank+branch+b.String()+"00"))
}

var bbanSegment = regexp.MustCompile(`(\d+)!([nac])`)

// bbanFrom draws a random BBAN following a registry structure.
func bbanFrom(r *rand.Rand, structure string) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	const alnum = "0123456789" + letters
	var b strings.Builder
	for _, m := range bbanSegment.FindAllStringSubmatch(structure, -1) {
		n, _ := strconv.Atoi(m[1])
		for range n {
			switch m[2] {
			case "n":
				b.WriteByte(byte('0' + r.IntN(10)))
			case "a":
				b.WriteByte(letters[r.IntN(len(letters))])
			default:
				b.WriteByte(alnum[r.IntN(len(alnum))])
			}
		}
	}
	return b.String()
}

// frenchBBAN draws a French-style BBAN (bank, branch, account with letters,
// RIB key) whose RIB key is right.
func frenchBBAN(r *rand.Rand) string {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	bank, branch := randDigits(r, 5), randDigits(r, 5)
	var acc strings.Builder
	for range 11 {
		acc.WriteByte(alnum[r.IntN(len(alnum))])
	}
	return bank + branch + acc.String() + ribKeyFor(bank, branch, acc.String())
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(2026, 5)) }
