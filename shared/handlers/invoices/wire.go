package invoices

import (
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Service is the container's invoice service.
func Service(e *lambdaenv.Env) *invoice.Service {
	return lambdaenv.Shared(e, "invoice.Service", func() *invoice.Service {
		return &invoice.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID}
	})
}

// Wire builds InvoicesFunction.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return edge.HTTP(e, (&Handlers{Invoices: Service(e)}).Routes()...)
}
