// Package worker is how every SQS consumer treats its batch: records one by
// one; a failure worth retrying (the dependency unavailable) becomes a batch
// item failure, so SQS redelivers that record alone, then dead-letters it; a
// failure that no retry can mend (a malformed or impossible message) is
// parked with its reason and acknowledged. Nothing panics out of a batch.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
)

// Parker records a message that can never be processed.
type Parker func(ctx context.Context, source, messageID, body, reason string) error

// The invocation's deadline (the function's timeout) is kept: no record is
// started with less than Reserve left, and each record's context ends
// Margin before the deadline, so a dependency that hangs costs that record
// (a batch item failure: SQS redelivers it) instead of timing out the
// whole invocation, which would redeliver the records already done too.
const (
	Reserve = 2 * time.Second
	Margin  = 500 * time.Millisecond
)

// Each runs handle on every record of the batch and returns the partial batch response.
func Each(ctx context.Context, ev events.SQSEvent, source string, log *slog.Logger, park Parker, handle func(context.Context, events.SQSMessage) error) events.SQSEventResponse {
	var resp events.SQSEventResponse
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-Margin))
		defer cancel()
	}
	for i, m := range ev.Records {
		if hasDeadline && time.Until(deadline) < Reserve {
			log.WarnContext(ctx, "the invocation's deadline is near: the rest of the batch is left for SQS to redeliver",
				slog.String("source", source), slog.Int("left", len(ev.Records)-i))
			for _, rest := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
			}
			break
		}
		panicked, err := safely(ctx, m, source, log, handle)
		if panicked {
			// A panic is a bug, not a verdict on the message: the record
			// comes back (and dead-letters if it keeps panicking) rather than
			// being parked, and the rest of the batch goes on.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if err == nil {
			continue
		}
		if apperr.Retryable(err) {
			log.WarnContext(ctx, "message will be retried", slog.String("source", source), slog.String("message_id", m.MessageId), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if perr := park(ctx, source, m.MessageId, m.Body, err.Error()); perr != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		log.ErrorContext(ctx, "message parked", slog.String("source", source), slog.String("message_id", m.MessageId), slog.String("reason", err.Error()))
	}
	return resp
}

// safely runs handle on one record, turning a panic into panicked = true
// after logging it with its stack.
func safely(ctx context.Context, m events.SQSMessage, source string, log *slog.Logger, handle func(context.Context, events.SQSMessage) error) (panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			log.ErrorContext(ctx, "message handler panicked; it will be retried", slog.String("source", source), slog.String("message_id", m.MessageId),
				slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
		}
	}()
	return false, handle(ctx, m)
}

// Parallel is Each with the batch's records handled concurrently: for
// consumers that wait on a remote party (webhook endpoints), so one slow
// endpoint does not hold up the rest of the batch. Failures are reported in
// the batch's order.
func Parallel(ctx context.Context, ev events.SQSEvent, source string, log *slog.Logger, park Parker, handle func(context.Context, events.SQSMessage) error) events.SQSEventResponse {
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, m := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			one := Each(ctx, events.SQSEvent{Records: []events.SQSMessage{m}}, source, log, park, handle)
			failed[i] = len(one.BatchItemFailures) > 0
		}()
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp
}
