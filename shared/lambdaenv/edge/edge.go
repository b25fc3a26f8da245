// Package edge builds, once per container, the authenticated API edge the
// HTTP functions share: tokens verified in memory, the revocation list and
// idempotency records in the table, and the API call log sent to the audit
// queue. Only the HTTP functions link it (and so the SQS client it sends
// with); the workers that use the table do not.
package edge

import (
	"time"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/queues"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/queue"
)

// API is the edge of the authenticated HTTP functions: tokens verified in
// memory with the JWT ring, the revocation list and idempotency records
// read from the table, the per-client limit counted in memory, and each
// request with a known caller sent to the audit queue's API call log (one
// SendMessage; the function's role may send to that queue only).
func API(e *lambdaenv.Env) httpapi.Options {
	return lambdaenv.Shared(e, "edge.api", func() httpapi.Options {
		store := table.Store(e)
		return httpapi.Options{
			Verifier:    &auth.Verifier{Keys: e.JWTKeys(), Issuer: e.Config.Issuer(), Audience: lambdaenv.Audience, Now: e.Now, Leeway: 30 * time.Second},
			Revocations: dynamo.NewRevocationCache(store),
			Idempotency: store,
			Logger:      e.Log,
			Now:         e.Now,
			NewID:       func() string { return e.NewID("req") },
			ClientLimit: e.Limits.API,
			LimitNow:    e.Limits.Now,
			Calls:       queue.CallLog{Publisher: queues.Publisher(e, e.Config.AuditQueueURL)},
		}
	})
}

// HTTP builds an HTTP function from its routes on the authenticated edge.
func HTTP(e *lambdaenv.Env, routes ...httpapi.Route) (lambdaenv.Function, error) {
	return lambdaenv.HTTP(API(e), routes...)
}
