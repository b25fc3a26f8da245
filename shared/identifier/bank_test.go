package identifier

import "testing"

func TestIsSEPA(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"France", "FR", true},
		{"lower case", "fr", true},
		{"Germany", "DE", true},
		{"Bulgaria (EU, not euro)", "BG", true},
		{"Norway (EEA)", "NO", true},
		{"Switzerland", "CH", true},
		{"United Kingdom", "GB", true},
		{"Monaco", "MC", true},
		{"San Marino", "SM", true},
		{"Vatican", "VA", true},
		{"Andorra", "AD", true},
		{"Montenegro", "ME", true},
		{"Albania", "AL", true},
		{"Moldova", "MD", true},
		{"North Macedonia", "MK", true},
		{"Serbia", "RS", true},
		{"Guadeloupe", "GP", true},
		{"La Réunion", "RE", true},
		{"Saint-Pierre-et-Miquelon", "PM", true},
		{"Åland", "AX", true},
		{"Jersey", "JE", true},
		{"Gibraltar", "GI", true},
		{"New Caledonia", "NC", false},
		{"French Polynesia", "PF", false},
		{"Wallis-et-Futuna", "WF", false},
		{"United States", "US", false},
		{"Turkey", "TR", false},
		{"Kosovo", "XK", false},
		{"Bosnia and Herzegovina", "BA", false},
		{"empty", "", false},
		{"alpha-3", "FRA", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSEPA(tc.in); got != tc.want {
				t.Errorf("IsSEPA(%q): got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSEPAList(t *testing.T) {
	// 41 countries (27 EU, 3 EEA, CH GB MC SM VA AD, AL ME MD MK RS) and 13
	// territories with their own ISO code.
	if got, want := len(sepaCountries), 41+13; got != want {
		t.Errorf("SEPA codes: got %d, want %d", got, want)
	}
	for code := range sepaCountries {
		if !iso3166[code] {
			t.Errorf("SEPA code %q is not an assigned ISO 3166-1 code", code)
		}
	}
}

func TestCheckBIC(t *testing.T) {
	runChecks(t, CheckBIC, []checkCase{
		{"BNP Paribas, 11 characters", "BNPAFRPPXXX", "BNPAFRPPXXX", ""},
		{"BNP Paribas, 8 characters", "BNPAFRPP", "BNPAFRPP", ""},
		{"lower case and spaces", "bnpa fr pp xxx", "BNPAFRPPXXX", ""},
		{"Deutsche Bank", "DEUTDEFF", "DEUTDEFF", ""},
		{"digits in location", "ABNANL2A", "ABNANL2A", ""},
		{"digits in branch", "DEUTDEFF500", "DEUTDEFF500", ""},
		{"test BIC (location ends in 0)", "BNPAFRP0", "BNPAFRP0", ""},
		{"Réunion", "BFCORERX", "BFCORERX", ""},
		{"Kosovo (XK, used by SWIFT)", "TEBKXKPR030", "TEBKXKPR030", ""},
		{"9 characters", "BNPAFRPPX", "BNPAFRPPX", CodeLength},
		{"7 characters", "BNPAFRP", "BNPAFRP", CodeLength},
		{"12 characters", "BNPAFRPPXXXX", "BNPAFRPPXXXX", CodeLength},
		{"empty", "", "", CodeLength},
		{"digit in institution", "BNP1FRPPXXX", "BNP1FRPPXXX", CodeFormat},
		{"digit in country", "BNPAF1PPXXX", "BNPAF1PPXXX", CodeFormat},
		{"symbol in location", "BNPAFRP-XXX", "BNPAFRP-XXX", CodeFormat},
		{"symbol in branch", "BNPAFRPPXX_", "BNPAFRPPXX_", CodeFormat},
		{"unassigned country IP", "MULTIPLE", "MULTIPLE", CodeCountry},
		{"reserved country UK", "ABCDUK22", "ABCDUK22", CodeCountry},
	})
}

func TestBICMatchesIBAN(t *testing.T) {
	const (
		frIBAN = "FR1420041010050500013M02606"
		mcIBAN = "MC5811222000010123456789030"
		deIBAN = "DE89370400440532013000"
		gbIBAN = "GB82WEST12345698765432"
	)
	for _, tc := range []struct {
		name, bic, iban string
		want            bool
	}{
		{"same country", "BNPAFRPPXXX", frIBAN, true},
		{"normalised", "bnpa frpp", "fr14 2004 1010 0505 0001 3m02 606", true},
		{"German", "DEUTDEFF", deIBAN, true},
		{"Réunion BIC, FR IBAN", "BFCORERX", frIBAN, true},
		{"Martinique BIC, FR IBAN", "BNPAMQMX", frIBAN, true},
		{"New Caledonia BIC, FR IBAN", "BNPANCNXKOU", frIBAN, true},
		{"French Polynesia BIC, FR IBAN", "BPOLPFTP", frIBAN, true},
		{"Wallis BIC, FR IBAN", "CDCGWF2M", frIBAN, true},
		{"Monaco BIC, FR IBAN", "SBMMMCMC", frIBAN, true},
		{"FR BIC, MC IBAN", "BNPAFRPP", mcIBAN, true},
		{"MC BIC, MC IBAN", "SBMMMCMC", mcIBAN, true},
		{"RE BIC, MC IBAN: two territories", "BFCORERX", mcIBAN, false},
		{"Jersey BIC, GB IBAN", "RFLCJESX", gbIBAN, true},
		{"FR BIC, DE IBAN", "BNPAFRPPXXX", deIBAN, false},
		{"DE BIC, FR IBAN", "DEUTDEFF", frIBAN, false},
		{"GB BIC, FR IBAN", "NWBKGB2L", frIBAN, false},
		{"sandbox IBAN", "BNPAFRPPXXX", "FR7612345678901234567890123", true},
		{"invalid BIC", "BNPAFRP", frIBAN, false},
		{"IBAN without country", "BNPAFRPP", "7612345", false},
		{"empty IBAN", "BNPAFRPP", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BICMatchesIBAN(tc.bic, tc.iban); got != tc.want {
				t.Errorf("BICMatchesIBAN(%q, %q): got %v, want %v", tc.bic, tc.iban, got, tc.want)
			}
		})
	}
}
