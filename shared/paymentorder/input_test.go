package paymentorder

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// seedCreate is seed 003's "Création d'un ordre de paiement" body, as sent.
const seedCreate = `{
  "fundingType": "CREDIT",
  "amount": 7500000.00,
  "currency": "CDF",
  "portfolioId": "portfolio-456",
  "contractReference": "CONT-2025-004",
  "description": "Deuxième tranche crédit équipement",
  "beneficiary": {
    "name": "DEF Industries",
    "accountNumber": "5555666777",
    "bankName": "Banque du Commerce",
    "bankCode": "BDC003"
  },
  "paymentMethod": "BANK_TRANSFER",
  "executionDate": "2025-11-12T09:00:00.000Z"
}`

func decode(t *testing.T, body string) CreateInput {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var in CreateInput
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestSeedSampleValidates(t *testing.T) {
	d, err := decode(t, seedCreate).Validate()
	if err != nil {
		t.Fatal(err)
	}
	want := Draft{FundingType: FundingCredit, AmountMinor: 750000000, Currency: "CDF", PortfolioID: "portfolio-456",
		ContractReference: "CONT-2025-004", Description: "Deuxième tranche crédit équipement",
		Beneficiary:   Beneficiary{Name: "DEF Industries", AccountNumber: "5555666777", BankName: "Banque du Commerce", BankCode: "BDC003"},
		PaymentMethod: MethodBankTransfer, ExecutionDate: time.Date(2025, 11, 12, 9, 0, 0, 0, time.UTC)}
	if d != want {
		t.Errorf("draft %+v\nwant  %+v", d, want)
	}
}

// Each bad field is named, with the seed's code: INVALID_AMOUNT when the
// amount alone is wrong, INVALID_PAYMENT_DATA otherwise.
func TestBadInputNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string // replace from by to in the sample
		code, field    string
	}{
		{"zero", `7500000.00`, `0`, CodeInvalidAmount, "amount"},
		{"negative", `7500000.00`, `-5`, CodeInvalidAmount, "amount"},
		{"over-precise", `7500000.00`, `7500000.001`, CodeInvalidAmount, "amount"},
		{"huge", `7500000.00`, `1e40`, CodeInvalidAmount, "amount"},
		{"string amount", `7500000.00`, `"7500000.00"`, CodeInvalidAmount, "amount"},
		{"no amount", `"amount": 7500000.00,`, ``, CodeInvalidAmount, "amount"},
		{"unknown currency", `"CDF"`, `"ZZZ"`, CodeInvalidPaymentData, "currency"},
		{"lower-case currency", `"CDF"`, `"cdf"`, CodeInvalidPaymentData, "currency"},
		{"funding type", `"CREDIT"`, `"LOAN"`, CodeInvalidPaymentData, "fundingType"},
		{"payment method", `"BANK_TRANSFER"`, `"CASH"`, CodeInvalidPaymentData, "paymentMethod"},
		{"no portfolio", `"portfolio-456"`, `""`, CodeInvalidPaymentData, "portfolioId"},
		{"no beneficiary name", `"DEF Industries"`, `" "`, CodeInvalidPaymentData, "beneficiary.name"},
		{"account chars", `"5555666777"`, `"5555;666"`, CodeInvalidPaymentData, "beneficiary.accountNumber"},
		{"account too long", `"5555666777"`, `"` + strings.Repeat("1", 35) + `"`, CodeInvalidPaymentData, "beneficiary.accountNumber"},
		{"bank code", `"BDC003"`, `"BDC-003"`, CodeInvalidPaymentData, "beneficiary.bankCode"},
		{"no bank name", `"Banque du Commerce"`, `""`, CodeInvalidPaymentData, "beneficiary.bankName"},
		{"date", `"2025-11-12T09:00:00.000Z"`, `"12/11/2025"`, CodeInvalidPaymentData, "executionDate"},
		{"no date", `"2025-11-12T09:00:00.000Z"`, `""`, CodeInvalidPaymentData, "executionDate"},
		{"description on two lines", `"Deuxième tranche crédit équipement"`, `"a\nb"`, CodeInvalidPaymentData, "description"},
		{"reference", `"paymentMethod"`, `"reference": "PAY 1", "paymentMethod"`, CodeInvalidPaymentData, "reference"},
	} {
		body := strings.Replace(seedCreate, tc.from, tc.to, 1)
		if body == seedCreate {
			t.Fatalf("%s: %q not in the sample", tc.name, tc.from)
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var in CreateInput
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err := in.Validate()
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an input error", tc.name, err)
			continue
		}
		if ie.Code != tc.code || len(ie.Details) != 1 || ie.Details[0].Field != tc.field || !strings.Contains(ie.Details[0].Message, tc.field) && tc.field != "amount" {
			t.Errorf("%s: %s %+v, want %s on %s", tc.name, ie.Code, ie.Details, tc.code, tc.field)
		}
	}
}

func TestEveryInvalidFieldIsListed(t *testing.T) {
	_, err := CreateInput{Amount: "0", Currency: "EUR"}.Validate()
	if err == nil {
		t.Fatal("an empty order validated")
	}
	var ie *InputError
	if !errors.As(err, &ie) || ie.Code != CodeInvalidPaymentData {
		t.Fatalf("%v", err)
	}
	got := map[string]bool{}
	for _, d := range ie.Details {
		got[d.Field] = true
	}
	for _, f := range []string{"fundingType", "amount", "portfolioId", "beneficiary", "paymentMethod", "executionDate"} {
		if !got[f] {
			t.Errorf("%s not listed in %+v", f, ie.Details)
		}
	}
}

func TestFormatReference(t *testing.T) {
	for n, want := range map[int64]string{1: "PAY-2025-001", 42: "PAY-2025-042", 999: "PAY-2025-999", 1000: "PAY-2025-1000"} {
		if got := FormatReference(2025, n); got != want {
			t.Errorf("FormatReference(2025, %d) = %s, want %s", n, got, want)
		}
	}
}
