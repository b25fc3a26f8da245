package engines_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/infra/engines"
)

// TestSQSFixesKeepAnswers runs the SQS engine as Start starts it (moto through
// sqs_server.py) and checks that the calls its fixes touch still answer as
// SQS does: the counts GetQueueAttributes reports through sends, delays,
// receives and deletes; deleting twice; an unknown receipt handle; a message
// made visible again and received with a new handle.
func TestSQSFixesKeepAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real engines")
	}
	ctx := context.Background()
	logs := t.TempDir()
	e, err := engines.Start(ctx, engines.Options{LogDir: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	log, err := os.ReadFile(filepath.Join(logs, "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	// This machine kind's python3 has moto 5: the fixes must be in place.
	if !strings.Contains(string(log), "modupay: moto SQS patched") {
		t.Fatalf("moto runs without sqs_server.py's fixes; its log:\n%s", log)
	}

	c := sqs.New(sqs.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(e.SQSEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fixes"),
		Attributes: map[string]string{"VisibilityTimeout": "60"}})
	if err != nil {
		t.Fatal(err)
	}
	url := q.QueueUrl
	counts := func(want [3]int) {
		t.Helper()
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var got [3]int
		for i, name := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
			if got[i], err = strconv.Atoi(out.Attributes[name]); err != nil {
				t.Fatalf("%s = %q", name, out.Attributes[name])
			}
		}
		if got != want {
			t.Fatalf("visible, in flight, delayed = %v, want %v", got, want)
		}
		// One attribute asked by name is computed too.
		one, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			t.Fatal(err)
		}
		if v := one.Attributes["ApproximateNumberOfMessagesNotVisible"]; v != strconv.Itoa(want[1]) {
			t.Fatalf("ApproximateNumberOfMessagesNotVisible alone = %q, want %d", v, want[1])
		}
	}

	// 30 messages, one of them delayed.
	for b := 0; b < 3; b++ {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := 0; i < 10; i++ {
			en := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("m%02d", b*10+i))}
			if b == 2 && i == 9 {
				en.DelaySeconds = 600
			}
			entries = append(entries, en)
		}
		out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url, Entries: entries})
		if err != nil || len(out.Failed) != 0 {
			t.Fatalf("send: %v %+v", err, out)
		}
	}
	counts([3]int{29, 0, 1})

	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(recv.Messages) != 10 {
		t.Fatalf("receive: %v, %d messages", err, len(recv.Messages))
	}
	counts([3]int{19, 10, 1})

	// Delete 9 of the 10, twice: the second time succeeds too.
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range recv.Messages[:9] {
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	for range 2 {
		out, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: url, Entries: del})
		if err != nil || len(out.Successful) != 9 || len(out.Failed) != 0 {
			t.Fatalf("delete: %v %+v", err, out)
		}
	}
	counts([3]int{19, 1, 1})

	// An unknown handle is refused.
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: aws.String("not-a-handle")})
	if err == nil || !strings.Contains(err.Error(), "ReceiptHandleIsInvalid") {
		t.Fatalf("delete an unknown handle: err = %v, want ReceiptHandleIsInvalid", err)
	}

	// The 10th message, visible again, comes back with a new handle; the new
	// handle deletes it, and the old one then counts as already deleted.
	kept := recv.Messages[9]
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url,
		ReceiptHandle: kept.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	counts([3]int{20, 0, 1})
	var again *sqstypes.Message
	all := recvAll(t, c, url)
	for i := range all {
		if aws.ToString(all[i].MessageId) == aws.ToString(kept.MessageId) {
			again = &all[i]
		}
	}
	if len(all) != 20 {
		t.Fatalf("received %d messages, want the 20 visible ones", len(all))
	}
	if again == nil {
		t.Fatal("the message made visible again was not received")
	}
	if aws.ToString(again.ReceiptHandle) == aws.ToString(kept.ReceiptHandle) {
		t.Fatal("a message received again must carry a new receipt handle")
	}
	for _, h := range []*string{again.ReceiptHandle, kept.ReceiptHandle} {
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: h}); err != nil {
			t.Fatalf("delete %s: %v", aws.ToString(h), err)
		}
	}
	counts([3]int{0, 19, 1})
}

// recvAll receives every visible message of url (leaving them in flight).
func recvAll(t *testing.T, c *sqs.Client, url *string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
	}
}
