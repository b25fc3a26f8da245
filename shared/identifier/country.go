package identifier

import "strings"

// iso3166 holds the 249 officially assigned ISO 3166-1 alpha-2 codes (ISO
// Online Browsing Platform; checked against Debian's iso-codes 4.15.0
// iso_3166-1.json). User-assigned codes (XK for Kosovo, XA–XZ, QM–QZ,
// AA, ZZ), exceptionally reserved codes (EU, UK, IC, EA, ...) and withdrawn
// codes (AN, CS, YU, ...) are not in it.
var iso3166 = codeSet(
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
		"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
		"DE DJ DK DM DO DZ " +
		"EC EE EG EH ER ES ET " +
		"FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
		"HK HM HN HR HT HU " +
		"ID IE IL IM IN IO IQ IR IS IT " +
		"JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ " +
		"LA LB LC LI LK LR LS LT LU LV LY " +
		"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
		"NA NC NE NF NG NI NL NO NP NR NU NZ " +
		"OM " +
		"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
		"QA " +
		"RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
		"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
		"UA UG UM US UY UZ " +
		"VA VC VE VG VI VN VU " +
		"WF WS " +
		"YE YT " +
		"ZA ZM ZW",
)

// codeSet builds a set from space-separated codes.
func codeSet(codes string) map[string]bool {
	set := make(map[string]bool)
	for _, c := range strings.Fields(codes) {
		set[c] = true
	}
	return set
}

// CheckCountry validates an ISO 3166-1 alpha-2 country code against the list
// of officially assigned codes and returns it upper-cased.
func CheckCountry(s string) (string, *Problem) {
	n := normalize(s, true)
	if !all(n, isUpper) {
		return n, problem(CodeFormat, "the country must be an ISO 3166-1 alpha-2 code of 2 letters")
	}
	if len(n) != 2 {
		return n, problem(CodeLength, "the country must be an ISO 3166-1 alpha-2 code of 2 letters")
	}
	if !iso3166[n] {
		return n, problem(CodeCountry, "the country is not an assigned ISO 3166-1 alpha-2 code")
	}
	return n, nil
}
