package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/wiring"
)

// Records the event router gave up on are routed again from the stream,
// as the on-failure record Lambda writes names them: the events reach the
// audit queue, and the failure record leaves the on-failure queue. A
// message that names no stream range stays, and the run says why.
func TestReplayStreamFailures(t *testing.T) {
	st := stacktest.New(t)
	ctx := context.Background()
	app, err := wiring.Build(ctx, st.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Replay SA", "Relecture SAS"} {
		if _, err := app.Organizations.Create(ctx, "ptn-replay", event.Actor{ID: "ptn-replay-client", Type: "partner"}, organization.CreateInput{
			Type: "company", Name: name, SIRET: "73282932000074",
			Address: &organization.Address{Line1: "1 rue A", PostalCode: "75001", City: "Paris", Country: "FR"}}); err != nil {
			t.Fatal(err)
		}
	}
	// The events' records, as the on-failure record would name them.
	streams := stack.NewStreamsClient(st.Config.DynamoDBEndpoint)
	streamARN := st.Resources.ByID["Table"].StreamARN
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN)})
	if err != nil {
		t.Fatal(err)
	}
	var failure streamFailure
	var eventIDs []string
	inRange := 0 // stream records from the first event's to the last's (the organisations' own items too)
	for _, sh := range desc.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: sh.ShardId,
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		page, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, r := range page.Records {
			if failure.Info.StartSequenceNumber != "" {
				pending++
			}
			pk, _ := r.Dynamodb.Keys["PK"].(*streamtypes.AttributeValueMemberS)
			if pk == nil || !strings.HasPrefix(pk.Value, "EVENT#") {
				continue
			}
			if failure.Info.StartSequenceNumber == "" {
				pending = 1
			}
			inRange, pending = inRange+pending, 0
			eventIDs = append(eventIDs, strings.TrimPrefix(pk.Value, "EVENT#"))
			if failure.Info.StartSequenceNumber == "" {
				failure.Info.ShardID, failure.Info.StartSequenceNumber, failure.Info.StreamArn = aws.ToString(sh.ShardId), aws.ToString(r.Dynamodb.SequenceNumber), streamARN
			}
			failure.Info.EndSequenceNumber = aws.ToString(r.Dynamodb.SequenceNumber)
		}
	}
	if len(eventIDs) != 2 {
		t.Fatalf("%d event records in the stream, want 2", len(eventIDs))
	}
	q := stack.NewSQSClient(st.Config.SQSEndpoint)
	dlq, auditQueue := st.Resources.ByID["StreamFailureDLQ"].URL, st.Resources.ByID["AuditQueue"].URL
	body, _ := json.Marshal(failure)
	for _, b := range []string{string(body), `{"requestContext":{"condition":"RetryAttemptsExhausted"}}`} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	router, err := app.Require("EventRouterFunction")
	if err != nil {
		t.Fatal(err)
	}
	n, records, err := replay(ctx, q, streams, dlq, stack.Region(), router.Stream, 0)
	if n != 1 || records != inRange || err == nil || !strings.Contains(err.Error(), "not a stream on-failure record") {
		t.Fatalf("replay = %d messages, %d records, %v; want 1, %d and the malformed one refused", n, records, err, inRange)
	}
	audit := strings.Join(drain(t, q, auditQueue), "\n")
	for _, id := range eventIDs {
		if !strings.Contains(audit, id) {
			t.Errorf("event %s did not reach the audit queue", id)
		}
	}
	// Only the malformed message is left, for a person to read.
	if left := drain(t, q, dlq); len(left) != 1 || !strings.Contains(left[0], "RetryAttemptsExhausted") {
		t.Fatalf("left in the on-failure queue: %v", left)
	}
	if err := run([]string{"replay-stream-failures"}); err == nil {
		t.Error("a replay without -dlq-url ran")
	}
}
