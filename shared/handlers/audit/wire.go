package audit

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Wire builds AuditFunction: the audit trail, read only.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return table.HTTP(e, (&Handlers{Trail: table.Store(e).Audit}).Routes()...)
}
