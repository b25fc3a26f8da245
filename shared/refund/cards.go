package refund

import (
	"context"

	"github.com/modupay/modupay/shared/payment"
)

// Cards is Provider over a card processor, which answers a refund at once.
// The request id is the refund's: asking again reads the same answer.
type Cards struct {
	Processor payment.CardProvider
}

// Create refunds (part of) the intent's card charge.
func (c Cards) Create(ctx context.Context, r Refund, pi payment.Intent) (Execution, error) {
	res, err := c.Processor.Refund(ctx, r.ID, pi.CardChargeID, r.Amount, r.Currency)
	if err != nil {
		return Execution{}, err
	}
	ex := Execution{ProviderID: res.ID, Code: "succeeded", Status: StatusSucceeded}
	if !res.Succeeded {
		ex.Code, ex.Status, ex.FailureReason = "failed", StatusFailed, res.FailureReason
	}
	return ex, nil
}

// State asks again (idempotent on the refund's id).
func (c Cards) State(ctx context.Context, r Refund, pi payment.Intent) (Execution, error) {
	return c.Create(ctx, r, pi)
}
