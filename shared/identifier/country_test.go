package identifier

import "testing"

func TestCheckCountry(t *testing.T) {
	runChecks(t, CheckCountry, []checkCase{
		{"France", "FR", "FR", ""},
		{"lower case", "fr", "FR", ""},
		{"mixed case and spaces", " Fr ", "FR", ""},
		{"Åland", "AX", "AX", ""},
		{"South Sudan", "SS", "SS", ""},
		{"Bonaire", "BQ", "BQ", ""},
		{"Monaco", "MC", "MC", ""},
		{"Kosovo is user-assigned", "XK", "XK", CodeCountry},
		{"UK is reserved, not assigned", "UK", "UK", CodeCountry},
		{"EU is reserved, not assigned", "EU", "EU", CodeCountry},
		{"withdrawn AN", "AN", "AN", CodeCountry},
		{"user-assigned ZZ", "ZZ", "ZZ", CodeCountry},
		{"alpha-3", "FRA", "FRA", CodeLength},
		{"one letter", "F", "F", CodeLength},
		{"empty", "", "", CodeLength},
		{"digit", "F1", "F1", CodeFormat},
		{"non-ASCII", "ÉT", "ÉT", CodeFormat},
	})
}

func TestISO3166List(t *testing.T) {
	if got, want := len(iso3166), 249; got != want {
		t.Errorf("assigned ISO 3166-1 codes: got %d, want %d", got, want)
	}
	for code := range iso3166 {
		if len(code) != 2 || !isUpper(code[0]) || !isUpper(code[1]) {
			t.Errorf("code %q: want 2 upper-case letters", code)
		}
	}
}
