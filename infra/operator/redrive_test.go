package main

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/infra/stacktest"
)

// The audit DLQ's messages go back to the audit queue, every one once, on
// the local SQS engine: a first run bounded by -max, then the rest through
// the command line as an operator types it.
func TestRedriveAuditDLQ(t *testing.T) {
	st := stacktest.New(t)
	ctx := context.Background()
	q := stack.NewSQSClient(st.Config.SQSEndpoint)
	queue, dlq := st.Resources.ByID["AuditQueue"].URL, st.Resources.ByID["AuditDLQ"].URL
	want := map[string]bool{}
	for i := 0; i < 23; i++ {
		body := fmt.Sprintf(`{"event_id":"evt-%02d","partner_id":"ptn"}`, i)
		want[body] = true
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := redrive(ctx, q, dlq, queue, 5)
	if err != nil || n != 5 {
		t.Fatalf("bounded run moved %d, %v; want 5", n, err)
	}
	if err := run([]string{"redrive-audit-dlq", "-queue-url", queue, "-dlq-url", dlq, "-endpoint", st.Config.SQSEndpoint}); err != nil {
		t.Fatal(err)
	}
	got := drain(t, q, queue)
	sort.Strings(got)
	if len(got) != len(want) {
		t.Fatalf("the audit queue holds %d messages, want %d: %v", len(got), len(want), got)
	}
	for _, b := range got {
		if !want[b] {
			t.Errorf("unexpected or duplicate message %s", b)
		}
		delete(want, b)
	}
	if left := drain(t, q, dlq); len(left) != 0 {
		t.Errorf("the DLQ still holds %v", left)
	}
	if err := run([]string{"redrive-audit-dlq", "-queue-url", queue}); err == nil {
		t.Error("a redrive without -dlq-url ran")
	}
}

// drain receives every message of url (deleting them) and returns the bodies.
func drain(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var out []string
	for {
		m, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) == 0 {
			return out
		}
		for _, msg := range m.Messages {
			out = append(out, aws.ToString(msg.Body))
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
