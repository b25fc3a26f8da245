package identifier

// sepaCountries is the geographical scope of the SEPA payment schemes (SCT,
// SCT Inst, SDD), by ISO 3166-1 code. Source: the European Payments Council's
// "EPC list of SEPA scheme countries" (EPC409-09), with the EPC Board's
// enlargements: Albania and Montenegro (November 2024), Moldova and North
// Macedonia (March 2025), Serbia (May 2025; its banks' operational readiness is
// announced for May 2026) — 41 countries in all.
//
// It lists the territories that have their own ISO code but belong to a
// member's scope: the French outermost regions and collectivities in SEPA
// (GF, GP, MQ, RE, YT, MF, BL, PM), Åland (AX), and Gibraltar (GI), Guernsey
// (GG), Jersey (JE) and the Isle of Man (IM). The Canary Islands, Ceuta,
// Melilla, the Azores and Madeira have no ISO code of their own (ES, PT).
// New Caledonia, French Polynesia and Wallis-et-Futuna (XPF zone) and the
// TAAF are not in SEPA, although their banks use FR IBANs.
var sepaCountries = codeSet(
	// EU member states
	"AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK " +
		// EEA outside the EU
		"IS LI NO " +
		// other scheme countries
		"AD CH GB MC SM VA " +
		// enlargements 2024–2025
		"AL ME MD MK RS " +
		// territories with their own ISO code
		"AX BL GF GP MF MQ PM RE YT GG GI IM JE",
)

// IsSEPA reports whether countryCode (ISO 3166-1 alpha-2, any case) is in the
// SEPA schemes' geographical scope. It says nothing about whether a given bank
// has joined a scheme.
func IsSEPA(countryCode string) bool {
	return sepaCountries[normalize(countryCode, true)]
}

// bicExtraCountries are country codes SWIFT uses in BICs that ISO 3166-1 has
// not officially assigned: XK, Kosovo's user-assigned code, which is also its
// IBAN country code (real BICs: NLPRXKPR, TEBKXKPR030).
var bicExtraCountries = codeSet("XK")

// CheckBIC validates a BIC (ISO 9362) and returns it upper-cased without
// spaces: 8 or 11 characters — a 4-letter institution code, a 2-letter
// ISO 3166-1 country code, a 2-character (letters or digits) location code,
// and an optional 3-character branch code. ISO 9362:2014 lets the institution
// code contain digits, but none are issued; this check requires letters. The
// location code's conventions (a '0' second character marks a test BIC) are
// not checked.
func CheckBIC(s string) (string, *Problem) {
	n := normalize(s, true)
	if len(n) != 8 && len(n) != 11 {
		return n, problem(CodeLength, "the BIC must be 8 or 11 characters long")
	}
	if !all(n[:4], isUpper) {
		return n, problem(CodeFormat, "the BIC must start with a 4-letter institution code")
	}
	if !all(n[4:6], isUpper) {
		return n, problem(CodeFormat, "the BIC's characters 5 and 6 must be a 2-letter country code")
	}
	if !all(n[6:8], isAlnum) {
		return n, problem(CodeFormat, "the BIC's location code (characters 7 and 8) must be letters or digits")
	}
	if !all(n[8:], isAlnum) {
		return n, problem(CodeFormat, "the BIC's branch code (characters 9 to 11) must be letters or digits")
	}
	if c := n[4:6]; !iso3166[c] && !bicExtraCountries[c] {
		return n, problem(CodeCountry, "the BIC's country code is not an assigned ISO 3166-1 code")
	}
	return n, nil
}

// ibanCountryFamilies maps a country whose IBANs serve neighbouring
// territories to those territories. Their banks' BICs may carry the
// territory's own code while the account's IBAN carries the main country's:
//   - FR IBANs are used in the French overseas departments and collectivities
//     (GF, GP, MQ, RE, YT, PM, BL, MF, NC, PF, WF), whose banks' BICs often
//     carry the territory's code (BFCORERX, BNPAMQMX, BPOLPFTP, CDCGWF2M in
//     python-stdnum's list of real BICs); Monaco (MC) belongs to the French banking
//     system (same BBAN and RIB key), and French banks' branches there may use
//     their FR BIC.
//   - GB IBANs are used in Guernsey, Jersey and the Isle of Man (GG, JE, IM).
//   - FI IBANs are used in Åland (AX).
var ibanCountryFamilies = map[string]map[string]bool{
	"FR": codeSet("MC GF GP MQ RE YT PM BL MF NC PF WF"),
	"GB": codeSet("GG JE IM"),
	"FI": codeSet("AX"),
}

// BICMatchesIBAN reports whether the BIC's country (characters 5–6) is
// consistent with the IBAN's (characters 1–2): they are equal, or one is FR,
// GB or FI and the other one of the territories whose accounts use that
// country's IBANs or whose BICs it issues (see ibanCountryFamilies): e.g. an
// FR IBAN with a Réunion (RE) or Monaco (MC) BIC, or an MC IBAN with an FR
// BIC. Two territories of the same family (an RE BIC, an MC IBAN) do not
// match. The BIC must pass CheckBIC; the IBAN need only start with two
// letters (its checksum is CheckIBAN's business, so the sandbox test IBANs
// match an FR BIC).
func BICMatchesIBAN(bic, iban string) bool {
	b, p := CheckBIC(bic)
	if p != nil {
		return false
	}
	i := normalize(iban, true)
	if len(i) < 2 || !isUpper(i[0]) || !isUpper(i[1]) {
		return false
	}
	bc, ic := b[4:6], i[:2]
	return bc == ic || ibanCountryFamilies[bc][ic] || ibanCountryFamilies[ic][bc]
}
