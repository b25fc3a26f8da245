package eventrouter

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/queues"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Wire builds EventRouterFunction: the stream's events to the audit, poll
// and webhook queues.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	r := &Router{Audit: queues.Publisher(e, e.Config.AuditQueueURL), Poll: queues.Publisher(e, e.Config.AiiaPollQueueURL),
		Webhooks: queues.Publisher(e, e.Config.WebhookQueueURL), Subscriptions: table.Store(e).ListSubscriptions, LoadRecord: table.Store(e).EventRecord, Log: e.Log}
	return lambdaenv.Function{Stream: r.Handle}, nil
}
