package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/wiring"
)

// redriveAuditDLQ moves the messages of the audit dead-letter queue back to
// the audit queue, after the cause of their failures is fixed (the DLQ keeps
// a message 14 days: redrive within that, the archive and the table keep
// what was written):
//
//	go run ./infra/operator redrive-audit-dlq -queue-url <AuditQueueUrl> -dlq-url <AuditDLQUrl> [-endpoint URL] [-max N]
//
// Each message is sent to the queue, then deleted from the DLQ: a crash
// between the two leaves it in both, which is harmless, since the audit
// writer writes each entry and call once whatever the deliveries. Bodies and
// message attributes travel unchanged.
func redriveAuditDLQ(args []string) error {
	fs := flag.NewFlagSet("redrive-audit-dlq", flag.ContinueOnError)
	queueURL := fs.String("queue-url", "", "the audit queue's URL (stack output AuditQueueUrl)")
	dlqURL := fs.String("dlq-url", "", "the audit DLQ's URL (stack output AuditDLQUrl)")
	endpoint := fs.String("endpoint", os.Getenv("MODUPAY_SQS_ENDPOINT"), "SQS endpoint; empty for AWS")
	region := fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region")
	max := fs.Int("max", 0, "move at most this many messages (0: until the DLQ is empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *queueURL == "" || *dlqURL == "" {
		return errors.New("-queue-url and -dlq-url are required")
	}
	if *queueURL == *dlqURL {
		return errors.New("-queue-url and -dlq-url name the same queue")
	}
	ctx := context.Background()
	awsCfg, err := wiring.AWSConfig(ctx, *region, *endpoint != "")
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	n, err := redrive(ctx, client, *dlqURL, *queueURL, *max, os.Stdout)
	fmt.Printf("moved %d message(s) from %s to %s\n", n, *dlqURL, *queueURL)
	return err
}

// queueAPI is the part of SQS the redrive uses.
type queueAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// redrive moves messages from src to dst, ten at a time, until src answers
// none (after a second's long poll) or max are moved; it returns how many
// were moved. A message is deleted from src only once dst accepted it; one
// that dst refused stays in src, hidden for the receive's visibility
// timeout, and is reported.
func redrive(ctx context.Context, c queueAPI, src, dst string, max int, log io.Writer) (int, error) {
	moved := 0
	var failures []error
	for max == 0 || moved < max {
		want := int32(10)
		if max > 0 {
			want = int32(min(10, max-moved))
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src), MaxNumberOfMessages: want,
			WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return moved, fmt.Errorf("receive from %s: %w", src, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		send := &sqs.SendMessageBatchInput{QueueUrl: aws.String(dst)}
		for i, m := range out.Messages {
			send.Entries = append(send.Entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				MessageBody: m.Body, MessageAttributes: m.MessageAttributes})
		}
		sent, err := c.SendMessageBatch(ctx, send)
		if err != nil {
			return moved, fmt.Errorf("send to %s: %w", dst, err)
		}
		del := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(src)}
		for _, ok := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		for _, f := range sent.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			failures = append(failures, fmt.Errorf("message %s not sent: %s %s", aws.ToString(out.Messages[i].MessageId), aws.ToString(f.Code), aws.ToString(f.Message)))
		}
		if len(del.Entries) > 0 {
			gone, err := c.DeleteMessageBatch(ctx, del)
			if err != nil {
				// Sent but not deleted: they come back in the DLQ and would
				// be sent again by a next run, which the writer absorbs.
				return moved + len(del.Entries), fmt.Errorf("delete from %s (the messages were sent; a next run sends them again, harmlessly): %w", src, err)
			}
			for _, f := range gone.Failed {
				failures = append(failures, fmt.Errorf("message sent, not deleted from the DLQ (%s): %s", aws.ToString(f.Code), aws.ToString(f.Message)))
			}
		}
		moved += len(sent.Successful)
		fmt.Fprintf(log, "moved %d\n", moved)
		if len(sent.Successful) == 0 {
			break // the destination refuses everything: stop rather than spin
		}
	}
	return moved, errors.Join(failures...)
}
