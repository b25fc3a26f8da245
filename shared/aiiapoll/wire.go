package aiiapoll

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/docstore"
	"github.com/modupay/modupay/shared/lambdaenv/queues"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Wire builds AiiaPollerFunction: it follows payments at Aiia, requeueing
// itself on the poll queue until a payment is final; a refund it settles
// makes its credit note, so it keeps documents.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	flow := aiiabank.Flow(e)
	pollQueue := queues.Publisher(e, e.Config.AiiaPollQueueURL)
	credits, err := docstore.Keeper(e)
	if err != nil {
		return lambdaenv.Function{}, err
	}
	p := &Poller{Poll: flow.Poll, Stall: flow.Stall, FollowRefund: aiiabank.RefundService(e, credits).Follow,
		FollowOrder: aiiabank.PaymentOrderFollower(e).Follow, Onboard: flow.Onboard, Park: table.Store(e).Park, Now: e.Stamp, Log: e.Log,
		Requeue: func(ctx context.Context, m Message, delay time.Duration) error {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return pollQueue.SendDelayed(ctx, string(b), delay)
		}}
	return lambdaenv.Function{SQS: p.Handle}, nil
}
