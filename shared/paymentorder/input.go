package paymentorder

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/money"
)

// FundingType is seed 003's type of financing an order disburses.
type FundingType string

const (
	FundingCredit     FundingType = "CREDIT"     // loan disbursements
	FundingLeasing    FundingType = "LEASING"    // lease payments
	FundingInvestment FundingType = "INVESTMENT" // equity, placements
)

// FundingTypes lists them, in the seed's order.
var FundingTypes = []FundingType{FundingCredit, FundingLeasing, FundingInvestment}

// PaymentMethod is how an order is paid. The seed shows BANK_TRANSFER only
// and leaves PaymentMethod's values open; it is the only one served: a
// transfer to the beneficiary's account (an IBAN in EUR is executed through
// the payment provider, any other account is paid outside and confirmed).
type PaymentMethod string

const MethodBankTransfer PaymentMethod = "BANK_TRANSFER"

// Beneficiary is who an order pays (seed 003's Beneficiary).
type Beneficiary struct {
	Name          string `json:"name"`
	AccountNumber string `json:"accountNumber"`
	BankName      string `json:"bankName"`
	BankCode      string `json:"bankCode"`
	Address       string `json:"address,omitempty"`
}

// CreateInput is seed 003's CreatePaymentOrderDto as received: the amount
// kept as the JSON number's text so that it is read exactly. Reference is
// an extension: a client-supplied reference instead of the generated
// PAY-YYYY-NNN.
type CreateInput struct {
	FundingType       string       `json:"fundingType"`
	Amount            RawNumber    `json:"amount"`
	Currency          string       `json:"currency"`
	PortfolioID       string       `json:"portfolioId"`
	ContractReference string       `json:"contractReference"`
	Description       string       `json:"description"`
	Beneficiary       *Beneficiary `json:"beneficiary"`
	PaymentMethod     string       `json:"paymentMethod"`
	ExecutionDate     string       `json:"executionDate"`
	Reference         string       `json:"reference"`
}

// RawNumber keeps a JSON value's text as sent, so that an amount is read
// exactly and a string ("7500000.00") is refused as not a number, where
// json.Number would accept it.
type RawNumber string

// UnmarshalJSON keeps the token; null is absent.
func (n *RawNumber) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = ""
		return nil
	}
	*n = RawNumber(b)
	return nil
}

// Draft is a validated CreateInput: the amount in the currency's minor
// units, the date parsed.
type Draft struct {
	FundingType       FundingType
	AmountMinor       int64
	Currency          string
	PortfolioID       string
	ContractReference string
	Description       string
	Beneficiary       Beneficiary
	PaymentMethod     PaymentMethod
	ExecutionDate     time.Time
	Reference         string // "" when the platform numbers the order
}

// The family's input error codes (seed 003, "Codes d'erreur spécifiques").
const (
	CodeInvalidPaymentData = "INVALID_PAYMENT_DATA"
	CodeInvalidAmount      = "INVALID_AMOUNT"
)

// FieldError is one invalid field, named as the client sent it
// ("beneficiary.accountNumber").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InputError is every invalid field of a request. Its Code is
// INVALID_AMOUNT when the amount is the only one, INVALID_PAYMENT_DATA
// otherwise (both 400 in the seed).
type InputError struct {
	Code    string
	Details []FieldError
}

func (e *InputError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Field + ": " + d.Message
	}
	return e.Code + ": " + strings.Join(parts, "; ")
}

// Bounds of the text fields (characters). A beneficiary's name and bank
// name as SEPA allows (140); an account number up to an IBAN's 34; a bank
// code up to a BIC's 11.
const (
	maxName        = 140
	maxAccount     = 34
	maxBankCode    = 11
	maxAddress     = 280
	maxDescription = 500
	maxReference   = 64
)

var (
	accountChars   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]*$`)
	bankCodeChars  = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	referenceChars = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
)

// Validate checks every field of the DTO and returns the draft, or an
// *InputError listing every invalid field.
func (in CreateInput) Validate() (Draft, error) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	text := func(field, v string, max int, required bool) string {
		v = strings.TrimSpace(v)
		switch {
		case v == "" && required:
			bad(field, "%s is required", field)
		case !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n\t"):
			bad(field, "%s must be text on one line", field)
		case utf8.RuneCountInString(v) > max:
			bad(field, "%s must be at most %d characters", field, max)
		}
		return v
	}
	d := Draft{FundingType: FundingType(in.FundingType), PaymentMethod: PaymentMethod(in.PaymentMethod), Currency: in.Currency}

	if !d.FundingType.Valid() {
		bad("fundingType", "fundingType must be CREDIT, LEASING or INVESTMENT")
	}
	amountOK := true
	if _, known := money.MinorUnits(in.Currency); !known {
		bad("currency", "currency must be an ISO 4217 code such as EUR, USD, CDF or XAF")
	} else if in.Amount == "" {
		bad("amount", "amount is required")
		amountOK = false
	} else if v, err := money.ParseAmount(json.Number(in.Amount), in.Currency); err != nil {
		bad("amount", "%s", err.Error())
		amountOK = false
	} else {
		d.AmountMinor = v
	}
	d.PortfolioID = text("portfolioId", in.PortfolioID, 100, true)
	d.ContractReference = text("contractReference", in.ContractReference, maxReference, false)
	d.Description = text("description", in.Description, maxDescription, false)
	if in.Beneficiary == nil {
		bad("beneficiary", "beneficiary is required: name, accountNumber, bankName, bankCode")
	} else {
		b := in.Beneficiary
		d.Beneficiary.Name = text("beneficiary.name", b.Name, maxName, true)
		d.Beneficiary.BankName = text("beneficiary.bankName", b.BankName, maxName, true)
		d.Beneficiary.Address = text("beneficiary.address", b.Address, maxAddress, false)
		if acc := text("beneficiary.accountNumber", b.AccountNumber, maxAccount, true); acc != "" && len(acc) <= maxAccount {
			if !accountChars.MatchString(acc) {
				bad("beneficiary.accountNumber", "beneficiary.accountNumber must be letters, digits, spaces or hyphens")
			}
			d.Beneficiary.AccountNumber = acc
		}
		if code := text("beneficiary.bankCode", b.BankCode, maxBankCode, true); code != "" && len(code) <= maxBankCode {
			if !bankCodeChars.MatchString(code) {
				bad("beneficiary.bankCode", "beneficiary.bankCode must be letters and digits")
			}
			d.Beneficiary.BankCode = code
		}
	}
	if d.PaymentMethod != MethodBankTransfer {
		bad("paymentMethod", "paymentMethod must be BANK_TRANSFER")
	}
	if in.ExecutionDate == "" {
		bad("executionDate", "executionDate is required (RFC 3339, e.g. 2025-11-12T09:00:00.000Z)")
	} else if t, err := time.Parse(time.RFC3339Nano, in.ExecutionDate); err != nil {
		bad("executionDate", "executionDate must be an RFC 3339 date-time such as 2025-11-12T09:00:00.000Z")
	} else {
		d.ExecutionDate = t.UTC()
	}
	if in.Reference != "" {
		if ref := text("reference", in.Reference, maxReference, false); !referenceChars.MatchString(ref) {
			bad("reference", "reference must be letters, digits and . _ / -")
		} else {
			d.Reference = ref
		}
	}
	if len(errs) > 0 {
		code := CodeInvalidPaymentData
		if len(errs) == 1 && !amountOK {
			code = CodeInvalidAmount
		}
		return Draft{}, &InputError{Code: code, Details: errs}
	}
	return d, nil
}

// Valid reports whether f is one of FundingTypes.
func (f FundingType) Valid() bool {
	for _, v := range FundingTypes {
		if f == v {
			return true
		}
	}
	return false
}

// FormatReference is the generated reference of an organisation's n-th
// order of year: PAY-2025-001, at least three digits, more when needed
// (PAY-2025-1000).
func FormatReference(year int, n int64) string { return fmt.Sprintf("PAY-%04d-%03d", year, n) }
