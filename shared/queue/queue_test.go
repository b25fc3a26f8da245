package queue

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/shared/apperr"
)

// batchSQS records each batch call and refuses what real SQS refuses.
type batchSQS struct {
	t       *testing.T
	batches [][]string
}

func (b *batchSQS) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	b.t.Fatal("a single send where a batch was expected")
	return nil, nil
}

func (b *batchSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	size := 0
	var bodies []string
	for _, e := range in.Entries {
		size += len(aws.ToString(e.MessageBody))
		for k, v := range e.MessageAttributes {
			size += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
		}
		bodies = append(bodies, aws.ToString(e.MessageBody))
	}
	if len(in.Entries) > MaxBatch || size > MaxBytes {
		b.t.Errorf("a batch of %d messages, %d bytes: SQS refuses it (BatchRequestTooLong)", len(in.Entries), size)
	}
	b.batches = append(b.batches, bodies)
	return &sqs.SendMessageBatchOutput{}, nil
}

// Batches follow both of SQS's limits, in order, nothing lost; a message
// SQS could never take is refused alone, for good.
func TestSendBatchSplitsByCountAndSize(t *testing.T) {
	msg := func(name string, kib int) Msg {
		return Msg{Body: name + strings.Repeat("x", kib*1024-len(name)), Attrs: map[string]string{"event_id": name}}
	}
	var msgs []Msg
	for _, m := range []struct {
		name string
		kib  int
	}{{"a", 1}, {"b", 1}, {"c", 100}, {"d", 100}, {"e", 100}, {"huge", 300}, {"f", 200}, {"g", 60}} {
		msgs = append(msgs, msg(m.name, m.kib))
	}
	for i := 0; i < 12; i++ {
		msgs = append(msgs, msg("s"+string(rune('a'+i)), 1))
	}
	sqsc := &batchSQS{t: t}
	errs := Publisher{Client: sqsc, URL: "q"}.SendBatch(context.Background(), msgs)
	var sent []string
	for _, b := range sqsc.batches {
		for _, body := range b {
			sent = append(sent, strings.TrimRight(body, "x"))
		}
	}
	want := []string{"a", "b", "c", "d", "e", "f", "g", "sa", "sb", "sc", "sd", "se", "sf", "sg", "sh", "si", "sj", "sk", "sl"}
	if strings.Join(sent, " ") != strings.Join(want, " ") {
		t.Fatalf("sent %v, want %v", sent, want)
	}
	for i, err := range errs {
		if (i == 5) != (err != nil) {
			t.Errorf("message %d: %v", i, err)
		}
	}
	if apperr.Retryable(errs[5]) {
		t.Errorf("a message over 256 KiB is refused as retryable: %v", errs[5])
	}
	// a, b, c, d (202 KiB) | e | huge, refused without a call | f (200 KiB) | g + 9 small (10 messages) | 3 small
	if n := []int{4, 1, 1, 10, 3}; len(sqsc.batches) != len(n) {
		t.Errorf("%d batch calls, want %d", len(sqsc.batches), len(n))
	} else {
		for i, b := range sqsc.batches {
			if len(b) != n[i] {
				t.Errorf("batch %d has %d messages, want %d", i, len(b), n[i])
			}
		}
	}
}
