package identifier

import "strings"

// Rules in this file follow arthurdejong/python-stdnum (stdnum/fr/siren.py,
// siret.py, tva.py); see conventions.md §5.6.

// CheckSIREN validates a SIREN: 9 digits whose Luhn check holds.
func CheckSIREN(s string) (string, *Problem) {
	n := normalize(s, false)
	if !allDigits(n) {
		return n, problem(CodeFormat, "the SIREN must contain digits only")
	}
	if len(n) != 9 {
		return n, problem(CodeLength, "the SIREN must be 9 digits long")
	}
	if !luhnValid(n) {
		return n, problem(CodeChecksum, "the SIREN fails its Luhn check")
	}
	return n, nil
}

// laPosteSIREN and laPosteHeadOffice: La Poste numbers its establishments
// without the Luhn key; their SIRETs are valid when the sum of their digits is
// a multiple of 5. The head office's SIRET is an ordinary Luhn one.
const (
	laPosteSIREN      = "356000000"
	laPosteHeadOffice = "35600000000048"
)

// CheckSIRET validates a SIRET: 14 digits (SIREN + 5-digit NIC) whose Luhn
// check holds over all 14 digits, and whose first 9 digits are a valid SIREN.
// La Poste's establishments (SIRETs starting 356000000, except the head office
// 35600000000048) are valid when the sum of their digits is a multiple of 5.
func CheckSIRET(s string) (string, *Problem) {
	n := normalize(s, false)
	if !allDigits(n) {
		return n, problem(CodeFormat, "the SIRET must contain digits only")
	}
	if len(n) != 14 {
		return n, problem(CodeLength, "the SIRET must be 14 digits long")
	}
	if strings.HasPrefix(n, laPosteSIREN) && n != laPosteHeadOffice {
		sum := 0
		for i := 0; i < len(n); i++ {
			sum += int(n[i] - '0')
		}
		if sum%5 != 0 {
			return n, problem(CodeChecksum, "the SIRET fails La Poste's check (the sum of its digits must be a multiple of 5)")
		}
		return n, nil // 356000000 itself passes Luhn
	}
	if !luhnValid(n) {
		return n, problem(CodeChecksum, "the SIRET fails its Luhn check")
	}
	if !luhnValid(n[:9]) {
		return n, problem(CodeChecksum, "the SIREN part of the SIRET fails its Luhn check")
	}
	return n, nil
}

// SIRENOf returns the SIREN of a SIRET: its first 9 digits once white space is
// removed, or "" when it does not start with 9 digits. It does not validate.
func SIRENOf(siret string) string {
	n := normalize(siret, false)
	if len(n) < 9 || !allDigits(n[:9]) {
		return ""
	}
	return n[:9]
}

// vatKeyAlphabet is the characters of a VAT key, in the order the new-style
// key formula indexes them: digits, then letters without I and O.
const vatKeyAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// CheckFrenchVAT validates a French VAT number (numéro de TVA
// intracommunautaire): "FR", a 2-character key, a 9-digit SIREN.
//
//   - Old-style numeric key: key = (12 + 3·(SIREN mod 97)) mod 97, which is
//     int(SIREN + "12") mod 97.
//   - New-style key with at least one letter (letters except I and O):
//     checked with python-stdnum's stdnum/fr/tva.py formula, reproduced
//     exactly below (its doctests K7399859412 and 4Z123456782 are in the tests).
//     The formula is python-stdnum's; no official DGFiP text was available to
//     confirm it.
//   - Monaco numbers (FRkk000nnnnnn) are valid VAT numbers but carry no SIREN,
//     so the SIREN Luhn check is skipped for them; the key is still checked.
//
// The SIREN's Luhn check is reported before the key.
func CheckFrenchVAT(s string) (string, *Problem) {
	n := normalize(s, true)
	if !strings.HasPrefix(n, "FR") {
		if len(n) >= 2 && isUpper(n[0]) && isUpper(n[1]) {
			return n, problem(CodeCountry, "the VAT number must be a French one, starting with FR")
		}
		return n, problem(CodeFormat, "the French VAT number must start with FR")
	}
	rest := n[2:]
	for i := 0; i < len(rest) && i < 2; i++ {
		if strings.IndexByte(vatKeyAlphabet, rest[i]) < 0 {
			return n, problem(CodeFormat, "the VAT number's key must be 2 digits or letters other than I and O")
		}
	}
	if len(rest) > 2 && !allDigits(rest[2:]) {
		return n, problem(CodeFormat, "the VAT number must end with the 9 digits of the SIREN")
	}
	if len(rest) != 11 {
		return n, problem(CodeLength, "the French VAT number must be FR followed by 11 characters (a 2-character key and the 9-digit SIREN)")
	}
	key, siren := rest[:2], rest[2:]
	if !isMonacoVAT(n) && !luhnValid(siren) {
		return n, problem(CodeChecksum, "the SIREN inside the VAT number fails its Luhn check")
	}
	sirenValue := atoi(siren)
	if allDigits(key) {
		if atoi(key) != (sirenValue*100+12)%97 {
			return n, problem(CodeChecksum, "the VAT number's key does not match its SIREN")
		}
		return n, nil
	}
	// New-style key (python-stdnum stdnum/fr/tva.py).
	a, b := strings.IndexByte(vatKeyAlphabet, key[0]), strings.IndexByte(vatKeyAlphabet, key[1])
	var check int
	if isDigit(key[0]) {
		check = a*24 + b - 10
	} else {
		check = a*34 + b - 100
	}
	if (sirenValue+1+check/11)%11 != check%11 {
		return n, problem(CodeChecksum, "the VAT number's key does not match its SIREN")
	}
	return n, nil
}

// isMonacoVAT: n is a normalised FR VAT number of full length.
func isMonacoVAT(n string) bool { return len(n) == 13 && n[4:7] == "000" }

func atoi(digits string) int {
	v := 0
	for i := 0; i < len(digits); i++ {
		v = v*10 + int(digits[i]-'0')
	}
	return v
}

// VATMatchesSIREN reports whether the French VAT number vat carries the SIREN
// siren. Both must have the right shape; their checksums are not required (the
// Checks report those), so that a sandbox sample whose checksums fail can still
// be compared. A Monaco VAT number carries no SIREN and matches none.
func VATMatchesSIREN(vat, siren string) bool {
	v, p := CheckFrenchVAT(vat)
	if p != nil && p.Code != CodeChecksum {
		return false
	}
	sn, q := CheckSIREN(siren)
	if q != nil && q.Code != CodeChecksum {
		return false
	}
	if isMonacoVAT(v) {
		return false
	}
	return v[4:] == sn
}

// CheckFrenchPostalCode validates a French postal code: 5 digits whose first
// two digits are a metropolitan department (01–95; Corsica's codes are written
// 20xxx, never 2A/2B), or an overseas prefix: 971–976 (Guadeloupe, Martinique,
// Guyane, La Réunion, Saint-Pierre-et-Miquelon, Mayotte; Saint-Barthélemy and
// Saint-Martin use 971xx) or 984–988 (TAAF, Wallis-et-Futuna, French
// Polynesia, New Caledonia). 00, 96, 99 and other 97x/98x prefixes are refused;
// Monaco's 980xx codes belong to country MC, not FR.
func CheckFrenchPostalCode(s string) (string, *Problem) {
	n := normalize(s, false)
	if !allDigits(n) {
		return n, problem(CodeFormat, "the French postal code must contain digits only")
	}
	if len(n) != 5 {
		return n, problem(CodeLength, "the French postal code must be 5 digits long")
	}
	dept := n[:2]
	switch {
	case "01" <= dept && dept <= "95":
		return n, nil
	case dept == "97" && '1' <= n[2] && n[2] <= '6':
		return n, nil
	case dept == "98" && '4' <= n[2] && n[2] <= '8':
		return n, nil
	}
	return n, problem(CodeFormat, "the French postal code must start with a department number (01 to 95) or an overseas prefix (971 to 976, 984 to 988)")
}
