package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/wiring"
)

// redriveQueue is the SQS surface the redrive uses.
type redriveQueue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// redriveAuditDLQ moves the messages of the audit queue's dead-letter queue
// back to the audit queue, so entries whose writes kept failing (a DynamoDB
// outage longer than the queue's retries) are written after all. The DLQ
// keeps messages 14 days: run it within that. Each batch is sent before it
// is deleted from the DLQ; a crash in between sends a message twice, which
// the writer absorbs (one entry per event id).
//
//	go run ./infra/operator redrive-audit-dlq -queue-url URL -dlq-url URL [-endpoint URL] [-max N]
func redriveAuditDLQ(args []string) error {
	fs := flag.NewFlagSet("redrive-audit-dlq", flag.ContinueOnError)
	queueURL := fs.String("queue-url", os.Getenv("MODUPAY_AUDIT_QUEUE_URL"), "the audit queue (stack output AuditQueueUrl)")
	dlqURL := fs.String("dlq-url", "", "its dead-letter queue (stack output AuditDLQUrl)")
	endpoint := fs.String("endpoint", os.Getenv("MODUPAY_SQS_ENDPOINT"), "SQS endpoint; empty for AWS")
	region := fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region")
	limit := fs.Int("max", 0, "move at most this many messages (0: until the DLQ is empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *queueURL == "" || *dlqURL == "" || *queueURL == *dlqURL {
		return fmt.Errorf("-queue-url and -dlq-url are required, and differ")
	}
	ctx := context.Background()
	cfg, err := wiring.AWSConfig(ctx, *region, *endpoint != "")
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	n, err := redrive(ctx, client, *dlqURL, *queueURL, *limit)
	fmt.Printf("moved %d messages from %s to %s\n", n, *dlqURL, *queueURL)
	return err
}

// redrive moves up to limit messages (0: all) from src to dst, ten at a time,
// and returns how many it moved. It stops when a receive finds nothing.
func redrive(ctx context.Context, q redriveQueue, src, dst string, limit int) (int, error) {
	moved := 0
	for limit == 0 || moved < limit {
		max := int32(10)
		if limit > 0 {
			max = int32(min(10, limit-moved))
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src), MaxNumberOfMessages: max,
			WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return moved, fmt.Errorf("receive from the DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		send := &sqs.SendMessageBatchInput{QueueUrl: aws.String(dst)}
		for i, m := range out.Messages {
			send.Entries = append(send.Entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: m.Body,
				MessageAttributes: m.MessageAttributes})
		}
		sent, err := q.SendMessageBatch(ctx, send)
		if err != nil {
			return moved, fmt.Errorf("send to the queue: %w", err)
		}
		ok := map[string]bool{}
		for _, s := range sent.Successful {
			ok[aws.ToString(s.Id)] = true
		}
		// Only what was sent leaves the DLQ; the rest reappears there.
		del := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(src)}
		for i, m := range out.Messages {
			if ok[fmt.Sprint(i)] {
				del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
			}
		}
		if len(del.Entries) > 0 {
			if _, err := q.DeleteMessageBatch(ctx, del); err != nil {
				return moved, fmt.Errorf("delete from the DLQ (sent already; the writer absorbs the duplicates): %w", err)
			}
		}
		moved += len(del.Entries)
		if len(sent.Failed) > 0 {
			return moved, fmt.Errorf("%d messages could not be sent: %s", len(sent.Failed), aws.ToString(sent.Failed[0].Message))
		}
	}
	return moved, nil
}
