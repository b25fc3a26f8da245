package identifier

import (
	"strings"
	"testing"
	"unicode"
)

// fuzzCheck asserts that a Check never panics, that its output is normalised
// (no white space, no lower-case ASCII letter when upper), and that checking
// the output again gives the same value and the same verdict.
func fuzzCheck(f *testing.F, name string, check func(string) (string, *Problem), upper bool, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, p := check(s)
		if strings.IndexFunc(out, unicode.IsSpace) >= 0 {
			t.Fatalf("%s(%q) = %q: output has white space", name, s, out)
		}
		if upper && strings.IndexFunc(out, func(r rune) bool { return 'a' <= r && r <= 'z' }) >= 0 {
			t.Fatalf("%s(%q) = %q: output has lower-case letters", name, s, out)
		}
		if p != nil && (p.Code == "" || p.Message == "") {
			t.Fatalf("%s(%q): problem %+v lacks a code or message", name, s, p)
		}
		again, q := check(out)
		if again != out {
			t.Fatalf("%s(%q) = %q, but %s(%q) = %q", name, s, out, name, out, again)
		}
		if codeOf(p) != codeOf(q) {
			t.Fatalf("%s(%q) problem %v, but %s(%q) problem %v", name, s, p, name, out, q)
		}
	})
}

func FuzzCheckSIREN(f *testing.F) {
	fuzzCheck(f, "CheckSIREN", CheckSIREN, false, "732829320", "732 829 320", "216901234", "", "12A")
}

func FuzzCheckSIRET(f *testing.F) {
	fuzzCheck(f, "CheckSIRET", CheckSIRET, false, "73282932000074", "21690123400019", "35600000049837", "35600000000048", "")
}

func FuzzCheckFrenchVAT(f *testing.F) {
	fuzzCheck(f, "CheckFrenchVAT", CheckFrenchVAT, true, "FR40303265045", "fr k7 399859412", "FR21216901234", "FR53000004605", "DE1", "FR")
}

func FuzzCheckFrenchPostalCode(f *testing.F) {
	fuzzCheck(f, "CheckFrenchPostalCode", CheckFrenchPostalCode, false, "75001", "97100", "98000", "2A000", "")
}

func FuzzCheckCountry(f *testing.F) {
	fuzzCheck(f, "CheckCountry", CheckCountry, true, "FR", "fr", "XK", "FRA", "É")
}

func FuzzCheckIBAN(f *testing.F) {
	fuzzCheck(f, "CheckIBAN", CheckIBAN, true,
		"FR1420041010050500013M02606", "fr76 1234 5678 9012 3456 7890 123", "DE89370400440532013000",
		"GB82WEST12345698765432", "MC1112739000700011111000h79", "QQ12", "", "FR")
}

func FuzzCheckBIC(f *testing.F) {
	fuzzCheck(f, "CheckBIC", CheckBIC, true, "BNPAFRPPXXX", "bnpafrpp", "MULTIPLE", "BNPAFRP", "ÉÉÉÉFRPP")
}

// FuzzOthers: the helpers that are not Checks must not panic, and MaskIBAN
// must keep the length and reveal only the first and last 4 characters.
func FuzzOthers(f *testing.F) {
	for _, s := range []string{"FR1420041010050500013M02606", "73282932000074", "FR40303265045", "", "é", "BNPAFRPP"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		masked := []rune(MaskIBAN(a))
		norm := []rune(normalize(a, true))
		if len(masked) != len(norm) {
			t.Fatalf("MaskIBAN(%q) = %q: %d runes, want %d", a, string(masked), len(masked), len(norm))
		}
		for i := range masked {
			revealed := len(norm) >= 15 && (i < 4 || i >= len(norm)-4)
			if !revealed && masked[i] != '•' {
				t.Fatalf("MaskIBAN(%q) = %q reveals position %d", a, string(masked), i)
			}
		}
		_ = SIRENOf(a)
		_ = VATMatchesSIREN(a, b)
		_ = BICMatchesIBAN(a, b)
		_ = IsSEPA(a)
		_ = IsSandboxTestIBAN(a)
	})
}
