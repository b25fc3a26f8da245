package identifier

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckSIREN(t *testing.T) {
	runChecks(t, CheckSIREN, []checkCase{
		{"valid", "732829320", "732829320", ""},
		{"valid with spaces", "732 829 320", "732829320", ""},
		{"valid with no-break spaces", "732\u00a0829\u202f320", "732829320", ""},
		{"valid 303265045", "303265045", "303265045", ""},
		{"La Poste passes Luhn", "356000000", "356000000", ""},
		{"seed SIREN fails Luhn", "216901234", "216901234", CodeChecksum},
		{"one digit changed", "732829321", "732829321", CodeChecksum},
		{"too short", "73282932", "73282932", CodeLength},
		{"too long", "7328293200", "7328293200", CodeLength},
		{"empty", "", "", CodeLength},
		{"letter", "73282932A", "73282932A", CodeFormat},
		{"hyphens", "732-829-320", "732-829-320", CodeFormat},
		{"non-ASCII digit", "７32829320", "７32829320", CodeFormat},
	})
}

func TestCheckSIREN_Generated(t *testing.T) {
	r := newRand()
	for i := range 200 {
		prefix := randDigits(r, 8)
		siren := prefix + luhnDigitFor(prefix)
		if got, p := CheckSIREN(siren); got != siren || p != nil {
			t.Fatalf("case %d: CheckSIREN(%q) = %q, %v; want %q, nil", i, siren, got, p, siren)
		}
		bad := prefix + string('0'+(siren[8]-'0'+1)%10)
		if _, p := CheckSIREN(bad); codeOf(p) != CodeChecksum {
			t.Fatalf("case %d: CheckSIREN(%q) problem = %v; want checksum", i, bad, p)
		}
	}
}

// firstLaPosteLuhnNotSum5 is a La Poste SIRET that passes Luhn but not La
// Poste's own rule, found by search so the test does not depend on the package.
func firstLaPosteLuhnNotSum5(t *testing.T) string {
	t.Helper()
	for nic := range 10000 {
		prefix := fmt.Sprintf("356000000%04d", nic)
		s := prefix + luhnDigitFor(prefix)
		sum := 0
		for i := range s {
			sum += int(s[i] - '0')
		}
		if sum%5 != 0 && s != laPosteHeadOffice {
			return s
		}
	}
	t.Fatal("no La Poste SIRET passing Luhn but not sum-5")
	return ""
}

func TestCheckSIRET(t *testing.T) {
	// A SIRET whose 14 digits pass Luhn but whose SIREN (732829321) does not.
	badSIREN := "7328293210001"
	badSIREN += luhnDigitFor(badSIREN)
	laPosteLuhnOnly := firstLaPosteLuhnNotSum5(t)

	runChecks(t, CheckSIRET, []checkCase{
		{"valid", "73282932000074", "73282932000074", ""},
		{"valid grouped", "732 829 320 00074", "73282932000074", ""},
		{"valid found online 1", "0 5 7 8 1 3 1 3 1 0 0 0 2 6", "05781313100026", ""},
		{"valid found online 2", "1 800 700 39 00 110", "18007003900110", ""},
		{"valid found online 3", "314 901 323 00043", "31490132300043", ""},
		{"valid found online 4", "44126652500019", "44126652500019", ""},
		{"valid found online 5", "79068156300017", "79068156300017", ""},
		{"last digit changed", "73282932000079", "73282932000079", CodeChecksum},
		{"seed SIRET fails Luhn", "21690123400019", "21690123400019", CodeChecksum},
		{"Luhn holds but the SIREN part fails", badSIREN, badSIREN, CodeChecksum},
		{"La Poste head office uses Luhn", "35600000000048", "35600000000048", ""},
		{"La Poste establishment", "356 000 000 09075", "35600000009075", ""},
		{"La Poste establishment 2", "35600000049837", "35600000049837", ""},
		{"La Poste sum not a multiple of 5", "35600000049838", "35600000049838", CodeChecksum},
		{"La Poste passing Luhn only", laPosteLuhnOnly, laPosteLuhnOnly, CodeChecksum},
		{"La Poste head office changed", "35600000000049", "35600000000049", CodeChecksum},
		{"13 digits", "7328293200007", "7328293200007", CodeLength},
		{"15 digits", "732829320000740", "732829320000740", CodeLength},
		{"empty", "", "", CodeLength},
		{"dots", "732.829.320.00074", "732.829.320.00074", CodeFormat},
		{"letter", "7328293200007A", "7328293200007A", CodeFormat},
	})
}

func TestCheckSIRET_Generated(t *testing.T) {
	r := newRand()
	for i := range 200 {
		sirenPrefix := randDigits(r, 8)
		siren := sirenPrefix + luhnDigitFor(sirenPrefix)
		if siren == laPosteSIREN {
			continue
		}
		prefix := siren + randDigits(r, 4)
		siret := prefix + luhnDigitFor(prefix)
		if got, p := CheckSIRET(siret); got != siret || p != nil {
			t.Fatalf("case %d: CheckSIRET(%q) = %q, %v; want %q, nil", i, siret, got, p, siret)
		}
		if got := SIRENOf(siret); got != siren {
			t.Fatalf("case %d: SIRENOf(%q) = %q, want %q", i, siret, got, siren)
		}
		bad := prefix + string('0'+(siret[13]-'0'+1)%10)
		if _, p := CheckSIRET(bad); codeOf(p) != CodeChecksum {
			t.Fatalf("case %d: CheckSIRET(%q) problem = %v; want checksum", i, bad, p)
		}
	}
}

func TestSIRENOf(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"SIRET", "73282932000074", "732829320"},
		{"grouped SIRET", "732 829 320 00074", "732829320"},
		{"seed SIRET", "21690123400019", "216901234"},
		{"too short", "73282932", ""},
		{"letters", "ABCDEFGHIJKLMN", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SIRENOf(tc.in); got != tc.want {
				t.Errorf("SIRENOf(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckFrenchVAT(t *testing.T) {
	runChecks(t, CheckFrenchVAT, []checkCase{
		{"valid", "FR40303265045", "FR40303265045", ""},
		{"lower case and spaces", "fr 40 303 265 045", "FR40303265045", ""},
		{"valid 2", "FR23334175221", "FR23334175221", ""},
		{"key computed from SIREN 732829320", "FR" + vatKeyFor("732829320") + "732829320", "FR44732829320", ""},
		{"wrong numeric key", "FR84323140391", "FR84323140391", CodeChecksum},
		{"seed VAT fails", "FR21216901234", "FR21216901234", CodeChecksum},
		{"SIREN fails Luhn, key right for it", "FR" + vatKeyFor("732829321") + "732829321", "FR" + vatKeyFor("732829321") + "732829321", CodeChecksum},
		{"new-style key letter first", "FRK7399859412", "FRK7399859412", ""},
		{"new-style key digit first", "FR4Z123456782", "FR4Z123456782", ""},
		{"new-style key lower case", "frk7 399 859 412", "FRK7399859412", ""},
		{"new-style wrong key letter first", "FRL7399859412", "FRL7399859412", CodeChecksum},
		{"new-style wrong key digit first", "FR4Y123456782", "FR4Y123456782", CodeChecksum},
		{"key with I and O", "FRIO334175221", "FRIO334175221", CodeFormat},
		{"key with O", "FR4O123456782", "FR4O123456782", CodeFormat},
		{"Monaco", "FR 53 0000 04605", "FR53000004605", ""},
		{"Monaco wrong key", "FR54000004605", "FR54000004605", CodeChecksum},
		{"another country", "DE123456789", "DE123456789", CodeCountry},
		{"no prefix", "40303265045", "40303265045", CodeFormat},
		{"empty", "", "", CodeFormat},
		{"prefix only", "FR", "FR", CodeLength},
		{"too short", "FR4030326504", "FR4030326504", CodeLength},
		{"too long", "FR403032650451", "FR403032650451", CodeLength},
		{"letter in SIREN", "FR4030326504X", "FR4030326504X", CodeFormat},
		{"dots", "FR40.303.265.045", "FR40.303.265.045", CodeFormat},
	})
}

func TestCheckFrenchVAT_Generated(t *testing.T) {
	r := newRand()
	for i := range 200 {
		prefix := randDigits(r, 8)
		siren := prefix + luhnDigitFor(prefix)
		if strings.HasPrefix(siren, "000") {
			continue
		}
		vat := "FR" + vatKeyFor(siren) + siren
		if got, p := CheckFrenchVAT(vat); got != vat || p != nil {
			t.Fatalf("case %d: CheckFrenchVAT(%q) = %q, %v; want %q, nil", i, vat, got, p, vat)
		}
		if !VATMatchesSIREN(vat, siren) {
			t.Fatalf("case %d: VATMatchesSIREN(%q, %q) = false, want true", i, vat, siren)
		}
		key := int(vat[2]-'0')*10 + int(vat[3]-'0')
		bad := fmt.Sprintf("FR%02d%s", (key+1)%97, siren)
		if _, p := CheckFrenchVAT(bad); codeOf(p) != CodeChecksum {
			t.Fatalf("case %d: CheckFrenchVAT(%q) problem = %v; want checksum", i, bad, p)
		}
	}
}

func TestVATMatchesSIREN(t *testing.T) {
	for _, tc := range []struct {
		name, vat, siren string
		want             bool
	}{
		{"same SIREN", "FR40303265045", "303265045", true},
		{"normalised", "fr 40 303 265 045", "303 265 045", true},
		{"new-style key", "FRK7399859412", "399859412", true},
		{"other SIREN", "FR40303265045", "732829320", false},
		{"seed values, checksums ignored", "FR21216901234", "216901234", true},
		{"seed VAT, other SIREN", "FR21216901234", "732829320", false},
		{"Monaco carries no SIREN", "FR53000004605", "000004605", false},
		{"malformed VAT", "FR40", "303265045", false},
		{"VAT of another country", "DE303265045", "303265045", false},
		{"malformed SIREN", "FR40303265045", "30326504", false},
		{"empty SIREN", "FR40303265045", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VATMatchesSIREN(tc.vat, tc.siren); got != tc.want {
				t.Errorf("VATMatchesSIREN(%q, %q): got %v, want %v", tc.vat, tc.siren, got, tc.want)
			}
		})
	}
}

func TestCheckFrenchPostalCode(t *testing.T) {
	runChecks(t, CheckFrenchPostalCode, []checkCase{
		{"Paris", "75001", "75001", ""},
		{"with a space", "75 001", "75001", ""},
		{"Ain", "01000", "01000", ""},
		{"Ajaccio (Corsica, 20xxx)", "20000", "20000", ""},
		{"Bastia (Corsica, 20xxx)", "20200", "20200", ""},
		{"Val-d'Oise", "95000", "95000", ""},
		{"Guadeloupe", "97100", "97100", ""},
		{"Saint-Barthélemy", "97133", "97133", ""},
		{"Martinique", "97200", "97200", ""},
		{"Guyane", "97300", "97300", ""},
		{"La Réunion", "97400", "97400", ""},
		{"Saint-Pierre-et-Miquelon", "97500", "97500", ""},
		{"Mayotte", "97600", "97600", ""},
		{"TAAF", "98400", "98400", ""},
		{"Wallis-et-Futuna", "98600", "98600", ""},
		{"Papeete", "98714", "98714", ""},
		{"Nouméa", "98800", "98800", ""},
		{"97 outside 971-976", "97700", "97700", CodeFormat},
		{"970", "97000", "97000", CodeFormat},
		{"Monaco is not FR", "98000", "98000", CodeFormat},
		{"989", "98900", "98900", CodeFormat},
		{"00", "00100", "00100", CodeFormat},
		{"96", "96000", "96000", CodeFormat},
		{"99", "99000", "99000", CodeFormat},
		{"Corsica department code is not a postal code", "2A000", "2A000", CodeFormat},
		{"4 digits", "7500", "7500", CodeLength},
		{"6 digits", "750012", "750012", CodeLength},
		{"empty", "", "", CodeLength},
	})
}
