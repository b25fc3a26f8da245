package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/wiring"
)

// SQSAPI is what the SQS event source mapping needs from an SQS client.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// SQSConfig describes one SQS event source mapping.
type SQSConfig struct {
	FunctionID string
	Handler    wiring.SQSHandler
	Timeout    time.Duration // the function's timeout

	QueueURL string
	QueueARN string
	// BatchSize is the most messages per invocation, 1 to 10 (ReceiveMessage's
	// limit; larger sizes need a batching window that is not emulated).
	BatchSize               int
	ReportBatchItemFailures bool

	Client SQSAPI
	Identity
	// WaitTimeSeconds is the long-poll duration, 1 to 20 (default 20, as Lambda).
	WaitTimeSeconds int32
	// Pollers is the number of concurrent pollers (default 1).
	Pollers int
	Log     *slog.Logger
}

// SQSMapping emulates Lambda's SQS event source mapping: it long-polls the
// queue, invokes the function with each batch and deletes what succeeded.
// Messages of a failed invocation are left alone: they reappear after the
// queue's visibility timeout, and the queue's redrive policy moves them to the
// dead-letter queue after maxReceiveCount receives. moto implements that
// redrive itself during ReceiveMessage (checked by the mapping's tests), so it
// is not emulated here.
type SQSMapping struct {
	cfg SQSConfig
}

// NewSQSMapping checks the configuration.
func NewSQSMapping(cfg SQSConfig) (*SQSMapping, error) {
	switch {
	case cfg.Handler == nil:
		return nil, fmt.Errorf("SQS mapping of %s: no SQS handler", cfg.FunctionID)
	case cfg.Client == nil || cfg.QueueURL == "":
		return nil, fmt.Errorf("SQS mapping of %s: no queue", cfg.FunctionID)
	case cfg.BatchSize < 1:
		return nil, fmt.Errorf("SQS mapping of %s: BatchSize %d", cfg.FunctionID, cfg.BatchSize)
	}
	if cfg.BatchSize > 10 {
		// Lambda fills batches over 10 with a batching window; one receive is
		// what is emulated, so a batch holds at most 10 messages locally.
		cfg.BatchSize = 10
	}
	if cfg.WaitTimeSeconds <= 0 || cfg.WaitTimeSeconds > 20 {
		cfg.WaitTimeSeconds = 20
	}
	if cfg.Pollers < 1 {
		cfg.Pollers = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Identity = cfg.Identity.withDefaults()
	cfg.Log = cfg.Log.With("mapping", "sqs", "function", cfg.FunctionID, "queue", cfg.QueueARN)
	return &SQSMapping{cfg: cfg}, nil
}

// Run polls until ctx is done. An invocation in flight when ctx ends is
// allowed to finish (within the function's timeout) and its messages deleted,
// so stopping never turns a success into a redelivery.
func (m *SQSMapping) Run(ctx context.Context) error {
	done := make(chan struct{}, m.cfg.Pollers)
	for range m.cfg.Pollers {
		go func() {
			m.poll(ctx)
			done <- struct{}{}
		}()
	}
	for range m.cfg.Pollers {
		<-done
	}
	return nil
}

func (m *SQSMapping) poll(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		out, err := m.cfg.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.cfg.QueueURL),
			MaxNumberOfMessages:         int32(m.cfg.BatchSize),
			WaitTimeSeconds:             m.cfg.WaitTimeSeconds,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 200*time.Millisecond), 10*time.Second)
			m.cfg.Log.Warn("receive messages failed; retrying", "err", err, "in", backoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		if len(out.Messages) > 0 {
			m.handle(context.WithoutCancel(ctx), out.Messages)
		}
	}
}

// handle invokes the function with one batch and deletes what succeeded.
func (m *SQSMapping) handle(ctx context.Context, msgs []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, msg := range msgs {
		ev.Records = append(ev.Records, m.record(msg))
	}
	resp, err := call(ctx, m.cfg.FunctionARN(m.cfg.FunctionID), m.cfg.Timeout, func(ctx context.Context) (events.SQSEventResponse, error) {
		return m.cfg.Handler(ctx, ev)
	})
	if err != nil {
		logInvokeError(m.cfg.Log, "function error: the batch returns to the queue after its visibility timeout", m.cfg.FunctionID, err,
			"messages", len(msgs))
		return
	}
	failed := map[string]bool{}
	if m.cfg.ReportBatchItemFailures {
		inBatch := map[string]bool{}
		for _, msg := range msgs {
			inBatch[aws.ToString(msg.MessageId)] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				// Lambda treats an empty or unknown identifier as a failure of the whole batch.
				m.cfg.Log.Error("batchItemFailures names a message not in the batch: the whole batch failed",
					"itemIdentifier", f.ItemIdentifier)
				return
			}
			failed[f.ItemIdentifier] = true
		}
		if len(failed) > 0 {
			m.cfg.Log.Warn("partial batch failure: failed messages return to the queue after their visibility timeout",
				"failed", len(failed), "messages", len(msgs))
		}
	} else if len(resp.BatchItemFailures) > 0 {
		m.cfg.Log.Warn("batchItemFailures ignored: the event source has no ReportBatchItemFailures; the whole batch succeeded")
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, msg := range msgs {
		if failed[aws.ToString(msg.MessageId)] {
			continue
		}
		entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
			Id:            aws.String("m" + strconv.Itoa(i)),
			ReceiptHandle: msg.ReceiptHandle,
		})
	}
	if len(entries) == 0 {
		return
	}
	out, err := m.cfg.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.cfg.QueueURL), Entries: entries})
	if err != nil {
		m.cfg.Log.Error("delete processed messages failed: they will be delivered again", "err", err)
		return
	}
	for _, f := range out.Failed {
		m.cfg.Log.Error("delete processed message failed: it will be delivered again", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
	}
}

// record converts a received message to the record Lambda delivers.
func (m *SQSMapping) record(msg sqstypes.Message) events.SQSMessage {
	rec := events.SQSMessage{
		MessageId:              aws.ToString(msg.MessageId),
		ReceiptHandle:          aws.ToString(msg.ReceiptHandle),
		Body:                   aws.ToString(msg.Body),
		Md5OfBody:              aws.ToString(msg.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(msg.MD5OfMessageAttributes),
		Attributes:             map[string]string{},
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         m.cfg.QueueARN,
		EventSource:            "aws:sqs",
		AWSRegion:              m.cfg.Region,
	}
	for k, v := range msg.Attributes {
		rec.Attributes[k] = v
	}
	for k, v := range msg.MessageAttributes {
		rec.MessageAttributes[k] = events.SQSMessageAttribute{
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: nonNil(v.StringListValues),
			BinaryListValues: nonNilBytes(v.BinaryListValues),
			DataType:         aws.ToString(v.DataType),
		}
	}
	return rec
}

// Lambda sends empty lists, not null, for the unused list values.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilBytes(l [][]byte) [][]byte {
	if l == nil {
		return [][]byte{}
	}
	return l
}

// sleep waits d or until ctx is done, and tells whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
