// Package queue is the SQS adapter: typed sends to the project's queues.
package queue

import (
	"context"
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
