// Package aiiabank adapts the Aiia client to the payment flow's Bank.
package aiiabank

import (
	"context"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/payment"
)

// Bank is payment.Bank over an aiia.Provider.
type Bank struct {
	Provider aiia.Provider
	// Onboarding gives payees their destination id (nil: OperatorDestinations,
	// which never calls the provider).
	Onboarding MerchantOnboarding
}

// Destination is the account's destination id as b.Onboarding gives it.
func (b Bank) Destination(ctx context.Context, a department.BankAccount) (string, error) {
	if b.Onboarding == nil {
		return OperatorDestinations{}.Destination(ctx, a)
	}
	return b.Onboarding.Destination(ctx, a)
}

// MerchantOnboarding is how a payee's bank account becomes a destination at
// the provider, whose id transfers to it name (the payment flow keeps it on
// the account: department.BankAccount.AiiaDestinationID). Two ways today,
// chosen by MODUPAY_AIIA_DESTINATIONS:
//
//   - APIDestinations (api): POST /destinations, served only by the sandbox
//     bank (shared/aiiasandbox) — the local stack, the tests, the sandbox
//     stage;
//   - OperatorDestinations (operator): the provider onboards merchants
//     itself (by hand during the pilot) and an operator records each id with
//     `operator aiia-destination`; until then payments to the account are
//     refused (payment.ErrNotOnboarded). Production's only way.
//
// The provider's preview Merchant Onboarding API would be a third
// implementation, plugged in here and chosen by the same setting; its shape
// was not published (the provider's OpenAPI has no merchant onboarding
// route), so none is written.
type MerchantOnboarding interface {
	// Destination returns the account's destination id, onboarding it if
	// the implementation can, else payment.ErrNotOnboarded. It is asked only
	// for an account that has none yet, and must be idempotent per account.
	Destination(ctx context.Context, a department.BankAccount) (string, error)
}

// APIDestinations onboards accounts by POST /destinations (the sandbox
// bank's own route); the request id is the account's, so onboarding it
// twice returns the same destination.
type APIDestinations struct {
	Provider aiia.Provider
}

// Destination creates (or finds again) the account's destination.
func (d APIDestinations) Destination(ctx context.Context, a department.BankAccount) (string, error) {
	dst, err := d.Provider.CreateDestination(ctx, aiia.DestinationInput{RequestID: "dest-" + a.ID, IBAN: a.IBAN, BIC: a.BIC, Name: a.AccountName})
	return dst.ID, err
}

// OperatorDestinations never calls the provider: destination ids are
// recorded on the accounts by an operator; an account without one is
// payment.ErrNotOnboarded.
type OperatorDestinations struct{}

// Destination answers payment.ErrNotOnboarded.
func (OperatorDestinations) Destination(context.Context, department.BankAccount) (string, error) {
	return "", payment.ErrNotOnboarded
}

// StartTransfer starts a FrenchSepaCreditTransfer.
func (b Bank) StartTransfer(ctx context.Context, r payment.TransferRequest) (payment.Transfer, error) {
	p, err := b.Provider.CreatePayment(ctx, aiia.PaymentInput{RequestID: r.RequestID, DestinationID: r.DestinationID, Amount: r.Amount,
		Currency: r.Currency, Reference: aiia.Reference(r.InvoiceNumber), EndToEndID: aiia.EndToEndID(r.IntentID),
		RedirectURL: r.RedirectURL, PayerEmail: r.PayerEmail, EndUserID: r.PayerID})
	return payment.Transfer{ID: p.ID, FlowURL: p.FlowURL}, err
}

// TransferState reads the payment and maps Aiia's code with the one table in
// package aiia.
func (b Bank) TransferState(ctx context.Context, id string) (payment.TransferState, error) {
	p, err := b.Provider.GetPayment(ctx, id)
	if err != nil {
		return payment.TransferState{}, err
	}
	st, _ := aiia.MapPaymentStatus(p.Status)
	return payment.TransferState{Code: p.Status, AiiaStatus: st.AiiaStatus, IntentStatus: st.IntentStatus, Funds: st.Funds, Final: st.Final,
		FailureReason: p.FailureReason}, nil
}
