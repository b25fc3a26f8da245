// Package queue is the SQS adapter: typed sends to the project's queues.
package queue

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/apperr"
)

// API is the part of SQS this package uses.
type API interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Publisher sends messages to one queue.
type Publisher struct {
	Client API
	URL    string
}

// SendDelayed publishes body to be delivered after delay (at most 15 minutes,
// SQS's limit: longer waits are chained by the consumer).
func (p Publisher) SendDelayed(ctx context.Context, body string, delay time.Duration) error {
	secs := int32(delay / time.Second)
	if secs > 900 {
		secs = 900
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(p.URL), MessageBody: aws.String(body), DelaySeconds: secs}
	if _, err := p.Client.SendMessage(ctx, in); err != nil {
		return apperr.Transient("queue.send_delayed", err)
	}
	return nil
}

// Send publishes body with string attributes (consumers route on them without
// decoding the body). A failure is transient: SQS outages pass.
func (p Publisher) Send(ctx context.Context, body string, attrs map[string]string) error {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(p.URL), MessageBody: aws.String(body)}
	if len(attrs) > 0 {
		in.MessageAttributes = map[string]types.MessageAttributeValue{}
		for k, v := range attrs {
			in.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if _, err := p.Client.SendMessage(ctx, in); err != nil {
		return apperr.Transient("queue.send", err)
	}
	return nil
}

// Msg is one message of a batch.
type Msg struct {
	Body  string
	Attrs map[string]string
}

// BatchAPI is SQS's batch send.
type BatchAPI interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQS's limits: 10 messages a batch, 256 KiB for a message and for a
// whole batch (bodies and attributes).
const (
	MaxBatch = 10
	MaxBytes = 256 * 1024
)

// Size is what SQS counts of m: its body and each attribute's name, type
// and value.
func (m Msg) Size() int {
	n := len(m.Body)
	for k, v := range m.Attrs {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// batches cuts msgs into runs of at most MaxBatch messages and MaxBytes,
// in order; a message alone over MaxBytes is a run of its own (SQS
// refuses it, and says so for that message only).
func batches(msgs []Msg) [][2]int {
	var out [][2]int
	start, size := 0, 0
	for i, m := range msgs {
		if i > start && (i-start == MaxBatch || size+m.Size() > MaxBytes) {
			out = append(out, [2]int{start, i})
			start, size = i, 0
		}
		size += m.Size()
	}
	if start < len(msgs) {
		out = append(out, [2]int{start, len(msgs)})
	}
	return out
}

// SendBatch publishes msgs in batches within SQS's limits (count and
// bytes) and returns each message's outcome: nil, or why it was not sent —
// transient, except a message over 256 KiB, which no retry can send.
func (p Publisher) SendBatch(ctx context.Context, msgs []Msg) []error {
	errs := make([]error, len(msgs))
	api, ok := p.Client.(BatchAPI)
	for _, b := range batches(msgs) {
		start, chunk := b[0], msgs[b[0]:b[1]]
		if len(chunk) == 1 && chunk[0].Size() > MaxBytes {
			errs[start] = apperr.E("queue.send_batch", apperr.Invalid, "message of "+strconv.Itoa(chunk[0].Size())+" bytes: SQS takes at most 256 KiB")
			continue
		}
		if !ok {
			for i, m := range chunk {
				errs[start+i] = p.Send(ctx, m.Body, m.Attrs)
			}
			continue
		}
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.URL)}
		for i, m := range chunk {
			e := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(m.Body)}
			if len(m.Attrs) > 0 {
				e.MessageAttributes = map[string]types.MessageAttributeValue{}
				for k, v := range m.Attrs {
					e.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
				}
			}
			in.Entries = append(in.Entries, e)
		}
		out, err := api.SendMessageBatch(ctx, in)
		if err != nil {
			for i := range chunk {
				errs[start+i] = apperr.Transient("queue.send_batch", err)
			}
			continue
		}
		for _, f := range out.Failed {
			if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i < len(chunk) {
				errs[start+i] = apperr.Transient("queue.send_batch", errors.New(aws.ToString(f.Code)+": "+aws.ToString(f.Message)))
			}
		}
	}
	return errs
}
