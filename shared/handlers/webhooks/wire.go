package webhooks

import (
	"context"

	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/webhook"
)

// Wire builds WebhooksFunction: subscriptions, deliveries, replays. An
// endpoint is checked against the stage's policy when it is saved.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	policy := e.Config.WebhookPolicy()
	hooks := &webhook.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID, CheckURL: func(ctx context.Context, raw string) error {
		_, err := policy.CheckURL(ctx, e.Webhooks.Resolver, raw)
		return err
	}}
	return edge.HTTP(e, (&Handlers{Webhooks: hooks}).Routes()...)
}
