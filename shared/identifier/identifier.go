// Package identifier validates French and banking identifiers: SIREN, SIRET,
// French VAT numbers, French postal codes, ISO 3166-1 country codes, IBANs,
// BICs. It is pure: no I/O, no clock, no global state that changes.
//
// Every Check returns the normalised value (white space removed, letters
// upper-cased where the identifier has letters) together with a *Problem, or
// nil when the value is valid. The normalised value is returned even when
// there is a Problem, so that a caller that tolerates checksum failures (the
// sandbox does) can still store the canonical form.
//
// Checks test shape before checksums: a Problem with Code CodeChecksum means
// the value has the right length and characters and only its check digits (or
// check formula) disagree. The sandbox accepts such values with a warning; it
// never accepts any other Problem.
package identifier

import (
	"strings"
	"unicode"
)

// Problem codes.
const (
	// CodeFormat: wrong characters or structure.
	CodeFormat = "format"
	// CodeChecksum: the shape is right but a check digit or check formula fails.
	CodeChecksum = "checksum"
	// CodeLength: the right characters, but too many or too few.
	CodeLength = "length"
	// CodeCountry: a country code that is not assigned or not accepted here.
	CodeCountry = "country"
	// CodeMismatch: two identifiers that should agree do not (for callers).
	CodeMismatch = "mismatch"
	// CodeNotSEPA: an account outside the SEPA scheme (for callers).
	CodeNotSEPA = "not_sepa"
)

// Problem says why a value fails. It does not name the field: callers add the
// JSON field. Message is English, safe to show to a client (it never repeats
// the value), and names the rule.
type Problem struct {
	Code    string // one of the Code constants
	Message string
}

// Error returns the message.
func (p *Problem) Error() string {
	if p == nil {
		return "<nil>"
	}
	return p.Message
}

// Err returns p as an error, and a true nil error when p is nil (a nil
// *Problem stored directly in an error variable would not compare equal to nil).
func (p *Problem) Err() error {
	if p == nil {
		return nil
	}
	return p
}

func problem(code, message string) *Problem {
	return &Problem{Code: code, Message: message}
}

// normalize removes every Unicode white-space rune (spaces, tabs, the
// no-break spaces French typography puts in grouped numbers) and, when upper
// is set, upper-cases ASCII letters. Other characters are kept as they are so
// that the checks reject them; only ASCII is upper-cased so that normalising
// twice gives the same result.
func normalize(s string, upper bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case upper && 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isUpper(c byte) bool     { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool     { return isDigit(c) || isUpper(c) }
func allDigits(s string) bool { return all(s, isDigit) }

func all(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

// luhnValid reports whether a string of ASCII digits passes the Luhn check.
func luhnValid(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
