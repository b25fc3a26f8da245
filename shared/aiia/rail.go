package aiia

import (
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
)

// The FrenchSepaCreditTransfer rail's rules (spec schema
// CreateAcceptPaymentFrenchSepaCreditTransferInput). They are checked before
// any call, so a payment Aiia would refuse is never attempted.
const (
	RailFrenchSCT   = "FrenchSepaCreditTransfer"
	Currency        = "EUR" // the only currency of the rail (^EUR$)
	MinAmount       = 200   // cents: the rail's "minimum 2" (major units)
	MaxReferenceLen = 22    // reference ^[A-Za-z0-9 ]{0,22}$
	MaxEndToEndLen  = 35    // endToEndId maxLength 35
	MaxEndUserIDLen = 64    // ours: payment.PayerID is 38
)

var referenceRE = regexp.MustCompile(`^[A-Za-z0-9 ]{0,22}$`)

// endToEndRE is the SEPA "Latin character set" (EPC AT-41), which the bank
// may otherwise rewrite or reject.
var endToEndRE = regexp.MustCompile(`^[A-Za-z0-9/?:().,'+ -]*$`)

// ValidReference reports whether s is accepted as the rail's reference.
func ValidReference(s string) bool { return referenceRE.MatchString(s) }

// Reference derives the rail's reference (^[A-Za-z0-9 ]{0,22}$, the message
// the payee's bank statement shows) from an invoice number:
// "FAC-2026-00001" → "FAC 2026 00001". Accented Latin letters lose their
// accent, every other character becomes a space, runs of spaces collapse.
// When the result is longer than 22 characters the rightmost 22 are kept
// (the sequence number, which tells invoices apart, is at the end).
func Reference(invoiceNumber string) string {
	var b strings.Builder
	space := false
	for _, r := range invoiceNumber {
		r = unaccent(r)
		if r < utf8.RuneSelf && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	s := b.String()
	if len(s) > MaxReferenceLen {
		s = strings.TrimLeft(s[len(s)-MaxReferenceLen:], " ")
	}
	return s
}

// EndToEndID derives a SEPA end-to-end id (at most 35 characters of
// [A-Za-z0-9-]) from a ModuPay id, e.g. a payment intent's
// "pi-456def78-90ab-cdef-1234-567890abcdef" → "pi456def7890abcdef1234567890abcdef":
// other characters are dropped, then hyphens if still too long, then the
// leftmost 35 characters are kept.
func EndToEndID(id string) string {
	keep := func(s string, hyphen bool) string {
		return strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || hyphen && r == '-' {
				return r
			}
			return -1
		}, s)
	}
	s := keep(id, true)
	if len(s) > MaxEndToEndLen {
		s = keep(s, false)
	}
	if len(s) > MaxEndToEndLen {
		s = s[:MaxEndToEndLen]
	}
	return s
}

func unaccent(r rune) rune {
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã', 'å':
		return 'a'
	case 'À', 'Â', 'Ä', 'Á', 'Ã', 'Å':
		return 'A'
	case 'ç':
		return 'c'
	case 'Ç':
		return 'C'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'É', 'È', 'Ê', 'Ë':
		return 'E'
	case 'î', 'ï', 'í', 'ì':
		return 'i'
	case 'Î', 'Ï', 'Í', 'Ì':
		return 'I'
	case 'ô', 'ö', 'ó', 'ò', 'õ':
		return 'o'
	case 'Ô', 'Ö', 'Ó', 'Ò', 'Õ':
		return 'O'
	case 'ù', 'û', 'ü', 'ú':
		return 'u'
	case 'Ù', 'Û', 'Ü', 'Ú':
		return 'U'
	case 'ÿ':
		return 'y'
	case 'Ÿ':
		return 'Y'
	case 'ñ':
		return 'n'
	case 'Ñ':
		return 'N'
	}
	return r
}

// Validate checks a payment against the rail's rules and ModuPay's own
// (a RequestID, a destination, an absolute redirect URL). Params are the
// snake_case names of ModuPay's API.
func (in PaymentInput) Validate() error {
	const op = "aiia.payments.create"
	switch {
	case strings.TrimSpace(in.RequestID) == "":
		return apperr.Field(op, "request_id", "a request id is required so retries cannot pay twice")
	case strings.TrimSpace(in.DestinationID) == "":
		return apperr.Field(op, "destination_id", "the payee has no Aiia destination (its account is not onboarded)")
	case in.Currency != Currency:
		return apperr.Field(op, "currency", "SEPA credit transfers through Aiia are in EUR only")
	case in.Amount < MinAmount:
		return apperr.Field(op, "amount", "the amount must be at least 2,00 € (200 cents)")
	case strings.TrimSpace(in.Reference) == "":
		return apperr.Field(op, "reference", "the reference must have at least one letter or digit: the provider refuses an empty one")
	case !ValidReference(in.Reference):
		return apperr.Field(op, "reference", "the reference must be at most 22 letters, digits or spaces (^[A-Za-z0-9 ]{0,22}$)")
	case strings.TrimSpace(in.EndUserID) == "":
		return apperr.Field(op, "end_user_id", "the payer's stable id (endUser.id) is required: Aiia requires endUser for an unlicensed tenant")
	case len(in.EndUserID) > MaxEndUserIDLen || strings.Contains(in.EndUserID, "@"):
		return apperr.Field(op, "end_user_id", "the payer's id must be a pseudonym of at most 64 characters, never an email address")
	case len(in.EndToEndID) > MaxEndToEndLen:
		return apperr.Field(op, "end_to_end_id", "the end-to-end id must be at most 35 characters")
	case !endToEndRE.MatchString(in.EndToEndID):
		return apperr.Field(op, "end_to_end_id", "the end-to-end id must use the SEPA Latin character set")
	case !absoluteHTTPURL(in.RedirectURL):
		return apperr.Field(op, "redirect_url", "the redirect URL must be an absolute http(s) URL")
	case in.PayerEmail != "" && !strings.Contains(in.PayerEmail, "@"):
		return apperr.Field(op, "payer_email", "the payer's email address is not valid")
	}
	return nil
}

// Validate checks a payee account before onboarding. The IBAN's shape is
// checked, not its MOD 97 key: the sandbox's test IBANs fail it, and
// production callers check it with shared/identifier before onboarding.
func (in DestinationInput) Validate() error {
	const op = "aiia.destinations.create"
	iban := NormalizeIBAN(in.IBAN)
	switch {
	case strings.TrimSpace(in.RequestID) == "":
		return apperr.Field(op, "request_id", "a request id is required so retries cannot onboard twice")
	case !ibanShape(iban):
		return apperr.Field(op, "iban", "the IBAN is not valid")
	case in.BIC != "" && !bicShape(strings.ToUpper(strings.TrimSpace(in.BIC))):
		return apperr.Field(op, "bic", "the BIC must be 8 or 11 letters and digits")
	case strings.TrimSpace(in.Name) == "":
		return apperr.Field(op, "name", "the account holder's name is required")
	case utf8.RuneCountInString(in.Name) > 140:
		return apperr.Field(op, "name", "the account holder's name must be at most 140 characters")
	}
	return nil
}

// Validate checks a refund request.
func (in RefundInput) Validate() error {
	const op = "aiia.refunds.create"
	switch {
	case strings.TrimSpace(in.RequestID) == "":
		return apperr.Field(op, "request_id", "a request id is required so retries cannot refund twice")
	case in.Amount <= 0:
		return apperr.Field(op, "amount", "the refund amount must be positive")
	}
	return nil
}

// NormalizeIBAN removes spaces and upper-cases letters.
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

func ibanShape(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i < 2 && (c < 'A' || c > 'Z'):
			return false
		case i >= 2 && i < 4 && (c < '0' || c > '9'):
			return false
		case !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'):
			return false
		}
	}
	return true
}

func bicShape(s string) bool {
	if len(s) != 8 && len(s) != 11 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// FormatAmount renders cents as the major-unit JSON number Aiia expects
// (the spec's amount is "number", in euros): 12345 → 123.45. Exact: no float.
func FormatAmount(cents int64) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign = "-"
		u = -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// jsonNumber is RFC 8259's number grammar.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// ParseAmount reads a major-unit JSON number ("123.45", "123.4", "123",
// "1.2345e2") into cents, exactly; it fails on fractions of a cent.
func ParseAmount(s string) (int64, error) {
	// A bounded exponent keeps a hostile answer ("1e999999999") from costing
	// memory and time in big.Rat.
	if len(s) > 40 {
		return 0, fmt.Errorf("amount %q is too long", s)
	}
	// A JSON number only: big.Rat also reads fractions ("1/4") and base
	// prefixes ("0x10"), which no answer may carry.
	if !jsonNumber.MatchString(s) {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp := strings.TrimLeft(s[i+1:], "+-"); len(exp) > 2 {
			return 0, fmt.Errorf("amount %q is out of range", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("amount %q is not a whole number of cents", s)
	}
	return r.Num().Int64(), nil
}
