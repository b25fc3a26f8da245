package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/wiring"
)

// drainAttrs are the counts that together say a queue holds nothing: a
// message waiting, one being handled (in flight until its consumer deletes
// it, after the handler returned) and one sent with a delay.
var drainAttrs = []sqstypes.QueueAttributeName{
	sqstypes.QueueAttributeNameApproximateNumberOfMessages,
	sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
}

// waitDrained waits until every named queue of the stack (logical ids of
// template.yaml: "WebhookQueue", "WebhookDLQ", …) holds no message at all.
// A consumer's follow-up message is sent before the message it handles is
// deleted, so a drained queue has nothing more to deliver: tests check that
// nothing more arrives by reading this state rather than by sleeping. A
// dead-letter queue that fills fails the wait, as it should.
func (w *world) waitDrained(t *testing.T, limit time.Duration, queues ...string) {
	t.Helper()
	cfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	c := sqsClient(cfg, w)
	waitFor(t, limit, func() (bool, string) {
		var busy []string
		for _, q := range queues {
			url, ok := w.queues[q]
			if !ok {
				t.Fatalf("no queue %s in the stack", q)
			}
			out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: drainAttrs})
			if err != nil {
				return false, err.Error()
			}
			for _, a := range drainAttrs {
				if n := out.Attributes[string(a)]; n != "0" {
					busy = append(busy, fmt.Sprintf("%s %s=%s", q, a, n))
				}
			}
		}
		return len(busy) == 0, "queues not drained: " + strings.Join(busy, ", ")
	})
}
