// Package webhookdispatch wires the webhook queue's consumer: deliveries
// signed and posted under the stage's endpoint policy, retries requeued.
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
		timeout = webhook.DefaultTimeout
	}
	d := &webhook.Dispatcher{Store: table.Store(e), Client: e.Config.WebhookPolicy().Client(timeout), Now: e.Now, NewID: e.NewID, Log: e.Log,
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
