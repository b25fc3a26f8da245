package aiiabank

import (
	"context"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/paymentorder"
)

// Payouts is paymentorder.Payouts over Aiia's payouts: an approved order
// is paid from its portfolio's connected account, once its holder has
// authorised it at the bank.
type Payouts struct {
	Provider aiia.PayoutProvider
}

// Create creates the payout and its authorisation; the request id is the
// execution's, so a repeated request finds the same payout.
func (b Payouts) Create(ctx context.Context, p paymentorder.Payout) (paymentorder.PayoutStatus, error) {
	out, err := b.Provider.CreatePayout(ctx, aiia.PayoutInput{RequestID: p.RequestID, AccountID: p.AccountID, Amount: p.AmountMinor,
		Currency: p.Currency, IBAN: p.IBAN, Name: p.Name, Address: p.Address, Message: p.Message, RedirectURL: p.RedirectURL})
	if err != nil {
		return paymentorder.PayoutStatus{}, err
	}
	return payoutStatus(out), nil
}

// State reads the payout at Aiia.
func (b Payouts) State(ctx context.Context, e paymentorder.Execution) (paymentorder.PayoutStatus, error) {
	out, err := b.Provider.GetPayout(ctx, e.AccountID, e.PayoutID)
	if err != nil {
		return paymentorder.PayoutStatus{}, err
	}
	return payoutStatus(out), nil
}

var payoutStates = map[aiia.PayoutState]paymentorder.ExecState{
	aiia.PayoutAwaitingAuthorization: paymentorder.ExecAuthorizationRequired,
	aiia.PayoutPending:               paymentorder.ExecSent,
	aiia.PayoutSucceeded:             paymentorder.ExecExecuted,
	aiia.PayoutFailed:                paymentorder.ExecFailed,
}

func payoutStatus(p aiia.Payout) paymentorder.PayoutStatus {
	return paymentorder.PayoutStatus{ID: p.ID, Code: p.Status, State: payoutStates[p.State()], AuthorizationURL: p.AuthorizationURL, FailureReason: p.FailureReason}
}

// PaymentOrderFollower is the container's payment-order service with the
// provider: the poller follows executed orders with it.
func PaymentOrderFollower(e *lambdaenv.Env) *paymentorder.Service {
	return lambdaenv.Shared(e, "paymentorder.Service/follower", func() *paymentorder.Service {
		return &paymentorder.Service{Store: table.Store(e).PaymentOrders, Now: e.Stamp, NewID: e.NewID,
			Payouts: Payouts{Provider: Client(e)}}
	})
}
