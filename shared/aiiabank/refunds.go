package aiiabank

import (
	"context"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Refunds is refund.Provider over Aiia: a SEPA payment is refunded through
// Aiia's refund of the original payment, to the account Aiia debited (the
// payer is never asked for an IBAN by ModuPay).
type Refunds struct {
	Provider aiia.Provider
}

// Create asks Aiia for the refund. The request id is the refund's, so a
// repeated request (a poller that crashed before recording the answer)
// finds the same refund. Aiia takes a reason from its own list, not free
// text: ModuPay's refund id goes as clientAssignedReference, which
// reconciles Aiia's statements with ModuPay's refunds, and the partner's
// reason stays in ModuPay.
func (b Refunds) Create(ctx context.Context, r refund.Refund, pi payment.Intent) (refund.Execution, error) {
	out, err := b.Provider.CreateRefund(ctx, pi.AiiaTransactionID, aiia.RefundInput{RequestID: r.ID, Amount: r.Amount, Reason: r.ID})
	if err != nil {
		return refund.Execution{}, err
	}
	return execution(out, r.ID), nil
}

// State reads the refund at Aiia and maps its code with the one table in
// package aiia.
func (b Refunds) State(ctx context.Context, r refund.Refund, _ payment.Intent) (refund.Execution, error) {
	out, err := b.Provider.GetRefund(ctx, r.ProviderID)
	if err != nil {
		return refund.Execution{}, err
	}
	return execution(out, r.ID), nil
}

// execution maps Aiia's answer; the next action names the refund's own routes.
func execution(out aiia.Refund, id string) refund.Execution {
	status, _, _ := aiia.MapRefundStatus(out.Status)
	ex := refund.Execution{ProviderID: out.ID, Code: out.Status, Status: status, FailureReason: out.FailureReason}
	switch out.Status {
	case aiia.RefundPaymentRailsAvailable:
		ex.NextAction = &refund.Action{Type: "pay_payer_account",
			Message: "Aiia cannot pay this refund out (no settlement account): pay the payer's account by bank transfer, then confirm the refund (POST /v1/refunds/" + id + "/confirm), or cancel it (POST /v1/refunds/" + id + "/cancel)"}
	case aiia.RefundPaymentRailsUnavailable:
		ex.NextAction = &refund.Action{Type: "collect_payer_account",
			Message: "Aiia does not know the payer's account: ask the payer for it, pay the refund by bank transfer, then confirm it (POST /v1/refunds/" + id + "/confirm), or cancel it (POST /v1/refunds/" + id + "/cancel)"}
	}
	return ex
}
