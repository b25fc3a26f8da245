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

// SendBatch publishes msgs ten to a call (SQS's limit) and returns each
// message's outcome: nil, or why it was not sent (transient).
func (p Publisher) SendBatch(ctx context.Context, msgs []Msg) []error {
	errs := make([]error, len(msgs))
	api, ok := p.Client.(BatchAPI)
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
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
