package audit

import (
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Wire builds AuditFunction: the audit trail, read only.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	store := table.Store(e)
	return edge.HTTP(e, (&Handlers{Trail: &audit.Service{Trail: store.Audit, Calls: store.APICalls, Orgs: store}}).Routes()...)
}
