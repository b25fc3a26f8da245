package gateway_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// quiet keeps expected error logs (failing toy handlers) out of test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testQueue creates a queue with the given visibility timeout (seconds)
// redriving to a DLQ after maxReceive receives, and returns the queue's URL
// and ARN and the DLQ URL.
func testQueue(t *testing.T, c *sqs.Client, visibility, maxReceive int) (url, arn, dlqURL string) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("t%d", time.Now().UnixNano())
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := queueARN(t, c, aws.ToString(dlq.QueueUrl))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": strconv.Itoa(visibility),
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, maxReceive),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), queueARN(t, c, aws.ToString(q.QueueUrl)), aws.ToString(dlq.QueueUrl)
}

// drained reports whether every queue holds no message: none waiting, none
// in flight (received, not yet deleted) and none delayed.
func drained(t *testing.T, c *sqs.Client, urls ...string) bool {
	t.Helper()
	for _, url := range urls {
		out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range out.Attributes {
			if n != "0" {
				return false
			}
		}
	}
	return true
}

func queueARN(t *testing.T, c *sqs.Client, url string) string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

// runMapping runs the mapping until the test ends.
func runMapping(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(ctx); err != nil {
			t.Errorf("mapping stopped: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("mapping did not stop within 10 s of cancellation")
		}
	})
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSQSMappingBatchAndPartialFailure(t *testing.T) {
	_, sqsEP := enginetest.Endpoints(t)
	c := stack.NewSQSClient(sqsEP)
	// A visibility timeout of 4 s, not 1: on a loaded machine an invocation
	// and its delete can take longer than a second, and SQS then rightly
	// delivers the message again — which this test would count as a success
	// not deleted.
	url, arn, dlq := testQueue(t, c, 4, 5)
	ctx := context.Background()

	var mu sync.Mutex
	var batches [][]events.SQSMessage
	deliveries := map[string]int{}
	handler := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ev.Records)
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			deliveries[r.Body]++
			// "fail" fails on its first delivery only.
			if r.Body == "fail" && deliveries[r.Body] == 1 {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	for i, body := range []string{"ok-1", "fail", "ok-2"} {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"event_type": {DataType: aws.String("String"), StringValue: aws.String("organization.created")},
				"seq":        {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(i))},
				"blob":       {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := gateway.NewSQSMapping(gateway.SQSConfig{
		FunctionID: "AuditWriterFunction", Handler: handler, Timeout: 5 * time.Second,
		QueueURL: url, QueueARN: arn, BatchSize: 10, ReportBatchItemFailures: true,
		Client: c, Identity: gateway.Identity{Region: "eu-west-3"}, WaitTimeSeconds: 1, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	runMapping(t, m.Run)

	waitFor(t, "the failed message to come back", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return deliveries["fail"] >= 2 && deliveries["ok-1"] >= 1 && deliveries["ok-2"] >= 1
	})
	// Nothing else may come back: the successes were deleted, the retry
	// succeeded. Once the queue and its DLQ hold no message (none waiting, in
	// flight or delayed), nothing is left to deliver.
	waitFor(t, "the queue and its DLQ to hold no message", 15*time.Second, func() bool { return drained(t, c, url, dlq) })
	mu.Lock()
	defer mu.Unlock()
	if deliveries["ok-1"] != 1 || deliveries["ok-2"] != 1 || deliveries["fail"] != 2 {
		t.Errorf("deliveries = %v, want ok-1:1 ok-2:1 fail:2", deliveries)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("queue not empty: %v", attrs.Attributes)
	}

	// The records are what Lambda delivers.
	var first events.SQSMessage
	for _, b := range batches {
		if len(b) > 10 {
			t.Errorf("batch of %d", len(b))
		}
		for _, r := range b {
			if r.Body == "ok-1" {
				first = r
			}
		}
	}
	eq(t, "eventSource", first.EventSource, "aws:sqs")
	eq(t, "eventSourceARN", first.EventSourceARN, arn)
	eq(t, "awsRegion", first.AWSRegion, "eu-west-3")
	sum := md5.Sum([]byte("ok-1"))
	eq(t, "md5OfBody", first.Md5OfBody, hex.EncodeToString(sum[:]))
	if first.MessageId == "" || first.ReceiptHandle == "" || first.Md5OfMessageAttributes == "" {
		t.Errorf("ids missing: %+v", first)
	}
	eq(t, "ApproximateReceiveCount", first.Attributes["ApproximateReceiveCount"], "1")
	for _, a := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if first.Attributes[a] == "" {
			t.Errorf("attribute %s missing: %v", a, first.Attributes)
		}
	}
	eq(t, "event_type", first.MessageAttributes["event_type"], events.SQSMessageAttribute{
		StringValue: aws.String("organization.created"), DataType: "String", StringListValues: []string{}, BinaryListValues: [][]byte{},
	})
	eq(t, "seq", first.MessageAttributes["seq"].DataType, "Number")
	eq(t, "blob", first.MessageAttributes["blob"].BinaryValue, []byte{1, 2, 3})
}

// TestSQSMappingDeadLetters checks that a message failing every time lands in
// the DLQ after maxReceiveCount deliveries: the redrive is moto's own, the
// mapping only leaves failed messages alone.
func TestSQSMappingDeadLetters(t *testing.T) {
	_, sqsEP := enginetest.Endpoints(t)
	c := stack.NewSQSClient(sqsEP)
	url, arn, dlqURL := testQueue(t, c, 1, 2)
	ctx := context.Background()

	var mu sync.Mutex
	calls := 0
	handler := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		if calls%2 == 0 {
			panic("poison") // a panic is a failure too
		}
		return events.SQSEventResponse{}, errors.New("poison")
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	m, err := gateway.NewSQSMapping(gateway.SQSConfig{
		FunctionID: "F", Handler: handler, QueueURL: url, QueueARN: arn, BatchSize: 1,
		Client: c, WaitTimeSeconds: 1, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	runMapping(t, m.Run)

	var dead []sqstypes.Message
	waitFor(t, "the message in the DLQ", 20*time.Second, func() bool {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		dead = out.Messages
		return len(dead) == 1
	})
	eq(t, "dead body", aws.ToString(dead[0].Body), "poison")
	mu.Lock()
	defer mu.Unlock()
	// The function saw the message, failed, and the message was not deleted:
	// it reached the DLQ through the queue's redrive. How many of moto's
	// receives reach the function before the redrive (1 or maxReceiveCount)
	// depends on moto's timing against the visibility timeout, not on the
	// gateway, so the bound is what the gateway guarantees: never more.
	if calls < 1 || calls > 2 {
		t.Errorf("invocations before dead-lettering = %d, want 1 to 2 (maxReceiveCount)", calls)
	}
}
