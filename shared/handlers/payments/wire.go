package payments

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/docstore"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Service is the container's payment link and intent service. Locally an
// empty public base URL makes payment page URLs follow the origin the
// gateway was called on; deployed, the function does not start without one.
func Service(e *lambdaenv.Env) *payment.Service {
	return lambdaenv.Shared(e, "payment.Service", func() *payment.Service {
		return &payment.Service{Store: table.Store(e), Mode: e.Config.Mode(), PageBaseURL: e.Config.PublicBaseURL, Tokens: e.PageTokens(), Now: e.Stamp, NewID: e.NewID}
	})
}

// Refunds is the container's refund service for the API: it accepts
// refunds and reads them, and settles those the organisation paid itself
// (confirm), making their credit notes where documents are kept
// (docstore); the poller executes the others.
func Refunds(e *lambdaenv.Env) *refund.Service {
	return lambdaenv.Shared(e, "refund.Service/api", func() *refund.Service {
		s := &refund.Service{Store: table.Store(e), Methods: refund.MethodsFor(e.Config.Mode()), Now: e.Stamp, NewID: e.NewID}
		if k, err := docstore.Keeper(e); err == nil {
			s.Credits = k
		}
		return s
	})
}

// Wire builds PaymentsFunction: payment links and intents, refunds. A
// confirmed refund makes its credit note, so it keeps documents.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	if _, err := docstore.Keeper(e); err != nil {
		return lambdaenv.Function{}, err
	}
	flow := &payment.Flow{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID, Log: e.Log}
	return edge.HTTP(e, (&Handlers{Payments: Service(e), Refunds: Refunds(e), Flow: flow}).Routes()...)
}
