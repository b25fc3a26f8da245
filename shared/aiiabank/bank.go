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
}

// Destination onboards the account; the request id is the account's, so
// onboarding it twice returns the same destination.
func (b Bank) Destination(ctx context.Context, a department.BankAccount) (string, error) {
	d, err := b.Provider.CreateDestination(ctx, aiia.DestinationInput{RequestID: "dest-" + a.ID, IBAN: a.IBAN, BIC: a.BIC, Name: a.AccountName})
	return d.ID, err
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
