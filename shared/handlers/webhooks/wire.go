package webhooks

import (
	"context"

	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/webhook"
)

// Service is the container's webhook service (the API's routes and the
// dashboard's pages call the same one). An endpoint is checked against the
// stage's policy when it is saved.
func Service(e *lambdaenv.Env) *webhook.Service {
	return lambdaenv.Shared(e, "webhook.Service", func() *webhook.Service {
		policy := e.Config.WebhookPolicy()
		return &webhook.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID, CheckURL: func(ctx context.Context, raw string) error {
			_, err := policy.CheckURL(ctx, e.Webhooks.Resolver, raw)
			return err
		}}
	})
}

// Wire builds WebhooksFunction: subscriptions, deliveries, replays.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return edge.HTTP(e, (&Handlers{Webhooks: Service(e)}).Routes()...)
}
