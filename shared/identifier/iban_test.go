package identifier

import (
	"strconv"
	"strings"
	"testing"
)

func TestCheckIBAN(t *testing.T) {
	// A valid French IBAN built from a valid RIB; and one whose RIB key is
	// wrong but whose IBAN check digits are recomputed so MOD 97-10 holds.
	goodFR := ibanFor("FR", "30006"+"00001"+"12345678901"+ribKeyFor("30006", "00001", "12345678901"))
	wrongKey := (mustAtoi(t, ribKeyFor("30006", "00001", "12345678901")) % 97) + 1
	badRIB := ibanFor("FR", "30006"+"00001"+"12345678901"+twoDigits(wrongKey))

	runChecks(t, CheckIBAN, []checkCase{
		// Fixed, well-known examples (SWIFT registry / ECBS).
		{"Germany", "DE89370400440532013000", "DE89370400440532013000", ""},
		{"Germany grouped", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""},
		{"United Kingdom", "GB82WEST12345698765432", "GB82WEST12345698765432", ""},
		{"United Kingdom lower case", "gb82 west 1234 5698 7654 32", "GB82WEST12345698765432", ""},
		{"Belgium", "BE68539007547034", "BE68539007547034", ""},
		{"Spain", "ES9121000418450200051332", "ES9121000418450200051332", ""},
		{"France, letter in the account", "FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606", ""},
		{"Monaco registry example", "MC5811222000010123456789030", "MC5811222000010123456789030", ""},
		{"Monaco, lower-case letter", "MC11 1273 9000 7000 1111 1000 h79", "MC1112739000700011111000H79", ""},
		{"Italy", "IT60 X054 2811 1010 0000 0123 456", "IT60X0542811101000000123456", ""},
		{"Netherlands", "NL91ABNA0417164300", "NL91ABNA0417164300", ""},
		{"Norway (shortest)", "NO9386011117947", "NO9386011117947", ""},
		{"Malta", "MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S", ""},
		{"Switzerland", "CH9300762011623852957", "CH9300762011623852957", ""},
		{"Kosovo", "XK051212012345678906", "XK051212012345678906", ""},
		{"Brazil", "BR1800000000141455123924100C2", "BR1800000000141455123924100C2", ""},
		{"generated France", goodFR, goodFR, ""},
		{"no-break spaces and tab", "DE89\u00a03704\t0044 0532 0130 00", "DE89370400440532013000", ""},

		// Sandbox test IBANs of the integration guide fail MOD 97-10.
		{"sandbox success", "FR7612345678901234567890123", "FR7612345678901234567890123", CodeChecksum},
		{"sandbox insufficient funds", "FR76 1234 5678 9012 3456 7890 124", "FR7612345678901234567890124", CodeChecksum},
		{"sandbox account blocked", "fr7612345678901234567890125", "FR7612345678901234567890125", CodeChecksum},

		// Checksums.
		{"Germany digit changed", "DE89370400440532013001", "DE89370400440532013001", CodeChecksum},
		{"Belgium digits swapped", "BE68530907547034", "BE68530907547034", CodeChecksum},
		{"Albania check digits changed", "AL48212110090000000235698741", "AL48212110090000000235698741", CodeChecksum},
		{"French RIB key wrong, MOD 97-10 right", badRIB, badRIB, CodeChecksum},

		// Lengths.
		{"Germany too short", "DE8937040044053201300", "DE8937040044053201300", CodeLength},
		{"Belgium too long, valid checksum", "BE36 5390 0754 7034 1234", "BE365390075470341234", CodeLength},
		{"Austria too long", "AT93 1904 3002 3457 3201 99", "AT93190430023457320199", CodeLength},
		{"France 26 characters", "FR142004101005050001302606", "FR142004101005050001302606", CodeLength},
		{"country only", "FR", "FR", CodeLength},

		// Format.
		{"empty", "", "", CodeFormat},
		{"starts with digits", "7612345678901234567890123", "7612345678901234567890123", CodeFormat},
		{"hyphens", "DE89-3704-0044-0532-0130-00", "DE89-3704-0044-0532-0130-00", CodeFormat},
		{"letter in check digits", "DE8X370400440532013000", "DE8X370400440532013000", CodeFormat},
		{"letter in German BBAN", "DE89370400440532O13000", "DE89370400440532O13000", CodeFormat},
		{"letter in Bulgarian account digits", "BG93 BNBG 9661 1A20 3456 78", "BG93BNBG96611A20345678", CodeFormat},
		{"digit in Gibraltar bank code", "GI22 NW3K 0000 0000 7099 453", "GI22NW3K000000007099453", CodeFormat},
		{"letter in French bank code", "FR14A004101005050001 3M02606", "FR14A0041010050500013M02606", CodeFormat},
		{"letter in French RIB key", "FR1420041010050500013M026O6", "FR1420041010050500013M026O6", CodeFormat},
		{"non-ASCII", "DE89370400440532013ö00", "DE89370400440532013ö00", CodeFormat},

		// Country.
		{"unknown country", "QQ93 1234 5678", "QQ9312345678", CodeCountry},
		{"Guadeloupe uses FR IBANs", "GP1420041010050500013M02606", "GP1420041010050500013M02606", CodeCountry},
		{"United States has no IBAN", "US64SVBKUS6S3300958879", "US64SVBKUS6S3300958879", CodeCountry},
	})
}

// TestCheckIBAN_CheckDigitRange: check digits 00, 01 and 99 leave the same
// MOD 97-10 remainder as 97, 98 and 02, so only the 02–98 rule catches them.
func TestCheckIBAN_CheckDigitRange(t *testing.T) {
	r := newRand()
	for _, tc := range []struct{ real, alias string }{{"97", "00"}, {"98", "01"}, {"02", "99"}} {
		t.Run(tc.alias, func(t *testing.T) {
			for range 100000 {
				iban := ibanFor("DE", randDigits(r, 18))
				if iban[2:4] != tc.real {
					continue
				}
				if _, p := CheckIBAN(iban); p != nil {
					t.Fatalf("CheckIBAN(%q): got %v, want nil", iban, p)
				}
				alias := iban[:2] + tc.alias + iban[4:]
				if got := bigMod97(alnumToDigits(alias[4:] + alias[:4])); got != 1 {
					t.Fatalf("test setup: MOD 97-10 of %q is %d, want 1", alias, got)
				}
				if _, p := CheckIBAN(alias); codeOf(p) != CodeChecksum {
					t.Fatalf("CheckIBAN(%q): got %v, want a checksum problem", alias, p)
				}
				return
			}
			t.Fatalf("no German IBAN with check digits %s found", tc.real)
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func twoDigits(v int) string {
	s := strconv.Itoa(v)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// TestCheckIBAN_Generated builds IBANs for every country of the registry
// with independently computed check digits, and breaks each in two ways.
func TestCheckIBAN_Generated(t *testing.T) {
	r := newRand()
	for country, entry := range ibanRegistry {
		for i := range 20 {
			var bban string
			if country == "FR" || country == "MC" {
				bban = frenchBBAN(r)
			} else {
				bban = bbanFrom(r, entry.bban)
			}
			iban := ibanFor(country, bban)
			if got, p := CheckIBAN(iban); got != iban || p != nil {
				t.Fatalf("%s case %d: CheckIBAN(%q) = %q, %v; want %q, nil", country, i, iban, got, p, iban)
			}
			// A single substituted character is always caught by MOD 97-10.
			pos := 4 + r.IntN(len(bban))
			b := []byte(iban)
			if isDigit(b[pos]) {
				b[pos] = '0' + (b[pos]-'0'+1)%10
			} else {
				b[pos] = 'A' + (b[pos]-'A'+1)%26
			}
			if _, p := CheckIBAN(string(b)); codeOf(p) != CodeChecksum {
				t.Fatalf("%s case %d: CheckIBAN(%q) problem = %v; want checksum", country, i, b, p)
			}
			// One character too many.
			if _, p := CheckIBAN(iban + "0"); codeOf(p) != CodeLength {
				t.Fatalf("%s case %d: CheckIBAN(%q) problem = %v; want length", country, i, iban+"0", p)
			}
		}
	}
}

// TestIBANRegistryLengths checks each country's length against its BBAN
// structure, and a few lengths against the published table.
func TestIBANRegistryLengths(t *testing.T) {
	if got, want := len(ibanRegistry), 89; got != want {
		t.Errorf("registry countries: got %d, want %d", got, want)
	}
	for country, entry := range ibanRegistry {
		sum := 0
		for _, m := range bbanSegment.FindAllStringSubmatch(entry.bban, -1) {
			n, _ := strconv.Atoi(m[1])
			sum += n
		}
		if strings.Join(bbanSegment.FindAllString(entry.bban, -1), "") != entry.bban {
			t.Errorf("%s: structure %q is not made of n!x segments", country, entry.bban)
		}
		if got, want := entry.length, 4+sum; got != want {
			t.Errorf("%s: length %d, want 4 + BBAN %d = %d", country, got, sum, want)
		}
		if country != "XK" && !iso3166[country] {
			t.Errorf("%s: not an assigned ISO 3166-1 code", country)
		}
	}
	for country, want := range map[string]int{
		"NO": 15, "BE": 16, "DE": 22, "GB": 22, "CH": 21, "ES": 24, "FR": 27, "MC": 27,
		"IT": 27, "MT": 31, "LC": 32, "RU": 33, "XK": 20, "YE": 30, "HN": 28,
	} {
		if got := ibanRegistry[country].length; got != want {
			t.Errorf("%s: length %d, want %d", country, got, want)
		}
	}
}

func TestMaskIBAN(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"French", "FR1420041010050500013M02606", "FR14" + strings.Repeat("•", 19) + "2606"},
		{"grouped lower case", "fr14 2004 1010 0505 0001 3m02 606", "FR14" + strings.Repeat("•", 19) + "2606"},
		{"German", "DE89370400440532013000", "DE89" + strings.Repeat("•", 14) + "3000"},
		{"Norway, shortest", "NO9386011117947", "NO93" + strings.Repeat("•", 7) + "7947"},
		{"too short is fully masked", "FR761234", strings.Repeat("•", 8)},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MaskIBAN(tc.in); got != tc.want {
				t.Errorf("MaskIBAN(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSandboxTestIBANs(t *testing.T) {
	for iban := range SandboxTestIBANs {
		if _, p := CheckIBAN(iban); codeOf(p) != CodeChecksum {
			t.Errorf("CheckIBAN(%q): got %v, want a checksum problem", iban, p)
		}
		if !BICMatchesIBAN("BNPAFRPPXXX", iban) {
			t.Errorf("BICMatchesIBAN(BNPAFRPPXXX, %q): got false, want true", iban)
		}
	}
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"success", "FR7612345678901234567890123", true},
		{"insufficient funds grouped", "FR76 1234 5678 9012 3456 7890 124", true},
		{"account blocked lower case", "fr7612345678901234567890125", true},
		{"refunds fail", "FR7612345678901234567890126", true},
		{"refunds wait for the organisation", "FR7612345678901234567890127", true},
		{"the bank unavailable to its first reads", "FR7612345678901234567890128", true},
		{"debited only", "FR7612345678901234567890129", true},
		{"lost at the provider", "FR7612345678901234567890130", true},
		{"refunds' account unknown", "FR7612345678901234567890131", true},
		{"other number", "FR7612345678901234567890132", false},
		{"real IBAN", "FR1420041010050500013M02606", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSandboxTestIBAN(tc.in); got != tc.want {
				t.Errorf("IsSandboxTestIBAN(%q): got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
