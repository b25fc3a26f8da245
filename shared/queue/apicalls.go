package queue

import (
	"context"
	"encoding/json"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit/apicall"
)

// CallLog sends each API call to the audit queue as one message
// (apicall.Message, kind "api_call"), which the audit writer keeps. One
// SendMessage per request: a Lambda cannot hold calls back to batch them
// across requests, since nothing runs after it returns.
type CallLog struct{ Publisher }

// Record sends c.
func (l CallLog) Record(ctx context.Context, c apicall.Call) error {
	b, err := json.Marshal(apicall.NewMessage(c))
	if err != nil {
		return apperr.Wrap("queue.record_call", err)
	}
	return l.Send(ctx, string(b), map[string]string{"kind": apicall.Kind})
}
