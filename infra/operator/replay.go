package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/shared/wiring"
)

// replayQueue is the SQS surface the replay uses.
type replayQueue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// streamFailure is the on-failure record Lambda sends for a batch of stream
// records it gave up on (retries or record age exhausted): where they are,
// not what they say.
type streamFailure struct {
	Info struct {
		ShardID             string `json:"shardId"`
		StartSequenceNumber string `json:"startSequenceNumber"`
		EndSequenceNumber   string `json:"endSequenceNumber"`
		StreamArn           string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
}

// replayStreamFailures hands the stream records the event router gave up
// on back to it: each message of the stream's on-failure queue names a
// shard and a range of sequence numbers; the records are read again from
// the stream (which keeps them 24 hours: run it within that, the
// StreamFailureDLQ alarm fires within 5 minutes) and routed as Lambda would
// have; the message is deleted once every record of it is routed. The
// audit writer, the webhook dispatcher and the poller are idempotent on the
// event id, so a record routed twice is harmless.
//
// The router is the stage's own (its queues and table from the MODUPAY_*
// variables of EventRouterFunction's environment, as `infra/local invoke`).
//
//	go run ./infra/operator replay-stream-failures -dlq-url URL [-endpoint URL] [-dynamodb-endpoint URL] [-max N]
func replayStreamFailures(args []string) error {
	fs := flag.NewFlagSet("replay-stream-failures", flag.ContinueOnError)
	dlqURL := fs.String("dlq-url", "", "the stream's on-failure queue (stack output StreamFailureDLQUrl)")
	endpoint := fs.String("endpoint", os.Getenv("MODUPAY_SQS_ENDPOINT"), "SQS endpoint; empty for AWS")
	ddbEndpoint := fs.String("dynamodb-endpoint", os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), "DynamoDB (Streams) endpoint; empty for AWS")
	region := fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region")
	limit := fs.Int("max", 0, "replay at most this many failure records (0: until the queue is empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dlqURL == "" {
		return fmt.Errorf("-dlq-url is required")
	}
	ctx := context.Background()
	cfg, err := wiring.AWSConfig(ctx, *region, *endpoint != "" || *ddbEndpoint != "")
	if err != nil {
		return err
	}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	streams := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		if *ddbEndpoint != "" {
			o.BaseEndpoint = aws.String(*ddbEndpoint)
		}
	})
	app, err := wiring.Build(ctx, wiring.ConfigFromEnv())
	if err != nil {
		return err
	}
	router, err := app.Require("EventRouterFunction")
	if err != nil {
		return err
	}
	n, records, err := replay(ctx, q, streams, *dlqURL, *region, router.Stream, *limit)
	fmt.Printf("replayed %d failure records (%d stream records) from %s\n", n, records, *dlqURL)
	return err
}

// replay routes the records of up to limit failure messages (0: all) and
// returns how many messages and records it replayed. A message whose
// records cannot all be routed is left in the queue (it comes back after
// its visibility timeout) and ends the run with an error.
func replay(ctx context.Context, q replayQueue, streams gateway.StreamsAPI, dlqURL, region string,
	route func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), limit int) (int, int, error) {
	messages, records := 0, 0
	for limit == 0 || messages < limit {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			return messages, records, err
		}
		if len(out.Messages) == 0 {
			return messages, records, nil
		}
		m := out.Messages[0]
		// A message that cannot be replayed stays in the queue, visible at
		// once, for a person to read.
		keep := func(err error) error {
			_, verr := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			return errors.Join(fmt.Errorf("message %s: %w; it stays in the queue", aws.ToString(m.MessageId), err), verr)
		}
		var f streamFailure
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &f); err != nil || f.Info.ShardID == "" || f.Info.StartSequenceNumber == "" || f.Info.StreamArn == "" {
			return messages, records, keep(fmt.Errorf("not a stream on-failure record: %s", aws.ToString(m.Body)))
		}
		batch, err := readRange(ctx, streams, f, region)
		if err != nil {
			return messages, records, keep(err)
		}
		resp, err := route(ctx, events.DynamoDBEvent{Records: batch})
		if err == nil && len(resp.BatchItemFailures) > 0 {
			err = fmt.Errorf("%d records could not be routed (from %s)", len(resp.BatchItemFailures), resp.BatchItemFailures[0].ItemIdentifier)
		}
		if err != nil {
			return messages, records, keep(err)
		}
		if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return messages, records, err
		}
		messages, records = messages+1, records+len(batch)
	}
	return messages, records, nil
}

// readRange reads the shard's records from the start sequence number to
// the end one, inclusive. Sequence numbers are decimal strings of up to 40
// digits, compared as numbers.
func readRange(ctx context.Context, streams gateway.StreamsAPI, f streamFailure, region string) ([]events.DynamoDBEventRecord, error) {
	end, ok := new(big.Int).SetString(f.Info.EndSequenceNumber, 10)
	if !ok {
		return nil, fmt.Errorf("endSequenceNumber %q is not a number", f.Info.EndSequenceNumber)
	}
	it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(f.Info.StreamArn),
		ShardId: aws.String(f.Info.ShardID), ShardIteratorType: streamtypes.ShardIteratorTypeAtSequenceNumber,
		SequenceNumber: aws.String(f.Info.StartSequenceNumber)})
	if err != nil {
		return nil, fmt.Errorf("the records are no longer in the stream (kept 24 h) or the shard is unknown: %w", err)
	}
	var out []events.DynamoDBEventRecord
	iter, empty := it.ShardIterator, 0
	for iter != nil && empty < 3 {
		page, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return nil, err
		}
		if len(page.Records) == 0 {
			empty++ // an open shard answers empty pages; the range is behind us by then
		}
		for _, r := range page.Records {
			seq, ok := new(big.Int).SetString(aws.ToString(r.Dynamodb.SequenceNumber), 10)
			if !ok || seq.Cmp(end) > 0 {
				return out, nil
			}
			rec, err := gateway.LambdaRecord(r, f.Info.StreamArn, region)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
		iter = page.NextShardIterator
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no record between %s and %s in shard %s", f.Info.StartSequenceNumber, f.Info.EndSequenceNumber, f.Info.ShardID)
	}
	return out, nil
}
