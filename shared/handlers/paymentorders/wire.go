package paymentorders

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/paymentorder"
)

// Service is the container's payment-order service.
func Service(e *lambdaenv.Env) *paymentorder.Service {
	return lambdaenv.Shared(e, "paymentorder.Service", func() *paymentorder.Service {
		return &paymentorder.Service{Store: table.Store(e).PaymentOrders, Now: e.Stamp, NewID: e.NewID}
	})
}

// Wire builds PaymentOrdersFunction: seed 003's payment orders and the
// portfolios they are paid from.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return edge.HTTP(e, (&Handlers{Orders: Service(e)}).Routes()...)
}
