package invoices

import (
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/docstore"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Service is the container's invoice service; where documents are kept
// (docstore), it keeps each invoice's at its issue.
func Service(e *lambdaenv.Env) *invoice.Service {
	return lambdaenv.Shared(e, "invoice.Service", func() *invoice.Service {
		s := &invoice.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID}
		if k, err := docstore.Keeper(e); err == nil {
			s.Documents = k
		}
		return s
	})
}

// Wire builds InvoicesFunction: it issues invoices, so it keeps their
// documents, and serves them.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	k, err := docstore.Keeper(e)
	if err != nil {
		return lambdaenv.Function{}, err
	}
	return edge.HTTP(e, (&Handlers{Invoices: Service(e), Documents: k}).Routes()...)
}
