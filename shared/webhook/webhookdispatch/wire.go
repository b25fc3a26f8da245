// Package webhookdispatch is the webhook queue's consumer and its wiring:
// it takes a delivery's lease, POSTs the signed payload under the stage's
// endpoint policy, records the attempt, requeues the next one on a
// retryable failure and disables a subscription that keeps failing. The
// rules it applies (subscriptions, signing, delivery records) are package
// webhook's.
package webhookdispatch

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/queues"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/webhook"
)

// Wire builds WebhookDispatcherFunction.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	hookQueue := queues.Publisher(e, e.Config.WebhookQueueURL)
	timeout := e.Webhooks.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	d := &Dispatcher{Store: table.Store(e), LoadRecord: table.Store(e).EventRecord, Client: e.Config.WebhookPolicy().Client(timeout), Now: e.Stamp, NewID: e.NewID, Log: e.Log,
		Schedule: e.Webhooks.Schedule, Timeout: timeout, DisableAfter: e.Webhooks.DisableAfter,
		Requeue: func(ctx context.Context, m webhook.Message, delay time.Duration) error {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return hookQueue.SendDelayed(ctx, string(b), delay)
		}}
	return lambdaenv.Function{SQS: d.Handle}, nil
}
