package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/infra/stacktest"
)

// redrive-audit-dlq on the local SQS engine, with the template's queues:
// -max moves that many, a second run the rest; bodies and attributes
// arrive unchanged, each message once, and the DLQ is left empty.
func TestRedriveAuditDLQ(t *testing.T) {
	ctx := context.Background()
	st := stacktest.New(t)
	queue, dlq := st.Resources.ByID["AuditQueue"].URL, st.Resources.ByID["AuditDLQ"].URL
	c := stack.NewSQSClient(st.Config.SQSEndpoint)
	var want []string
	for i := 0; i < 23; i++ {
		body := fmt.Sprintf(`{"event_id":"evt-%02d","partner_id":"p","timestamp":"2026-11-21T10:30:00Z"}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"kind":"api_call","partner_id":"p","request_id":"req-%02d"}`, i)
		}
		want = append(want, body)
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{"event_type": {DataType: aws.String("String"), StringValue: aws.String(fmt.Sprint("t", i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"redrive-audit-dlq", "-queue-url", queue, "-dlq-url", dlq, "-endpoint", st.Config.SQSEndpoint}
	if err := run(append(args, "-max", "5")); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, c, queue); len(got) != 5 {
		t.Fatalf("-max 5 moved %d messages", len(got))
	} else {
		want = slices.DeleteFunc(want, func(b string) bool { return slices.Contains(got, b) })
	}
	if err := run(args); err != nil {
		t.Fatal(err)
	}
	got := drain(t, c, queue)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the queue received\n %v\nwant\n %v", got, want)
	}
	if left := drain(t, c, dlq); len(left) != 0 {
		t.Errorf("the DLQ still holds %d messages", len(left))
	}
	if err := run([]string{"redrive-audit-dlq", "-queue-url", queue, "-dlq-url", queue, "-endpoint", st.Config.SQSEndpoint}); err == nil {
		t.Error("a redrive of a queue into itself was accepted")
	}
}

// drain receives and deletes every message of url; each body is checked to
// carry its attribute.
func drain(t *testing.T, c *sqs.Client, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			if a, ok := m.MessageAttributes["event_type"]; !ok || aws.ToString(a.StringValue) == "" {
				t.Errorf("message %s lost its attributes", aws.ToString(m.Body))
			}
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
