package dashboard

import (
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/docstore"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/session"
)

// Wire builds DashboardFunction: the partner dashboard. It serves on the
// authenticated edge (the revocation list, the per-client limit, the API
// call log), its principals coming from sessions instead of tokens, and
// calls the API's own services: the credential service (sign-in and its
// limits and API clients), organisations, departments, invoices, payment
// intents and refunds, webhooks and the audit trail, invoices' documents; its forms' keys are
// kept in the API's idempotency store.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	store := table.Store(e)
	opts := edge.API(e)
	docs, err := docstore.Keeper(e)
	if err != nil {
		return lambdaenv.Function{}, err
	}
	h := &Handlers{Documents: docs, Codec: &session.Codec{Keys: e.DashboardKeys()}, Sessions: store.Sessions, Revocations: opts.Revocations,
		Credentials: tokens.Credentials(e), Organizations: organizations.Organizations(e), Departments: organizations.Departments(e),
		Invoices: invoices.Service(e), Payments: payments.Service(e), Refunds: payments.Refunds(e), Forms: opts.Idempotency,
		Webhooks: webhooks.Service(e), Trail: &audit.Service{Trail: store.Audit, Calls: store.APICalls, Orgs: store}, Now: e.Now, Log: e.Log}
	opts.Sessions = h
	return lambdaenv.HTTP(opts, h.Routes()...)
}
