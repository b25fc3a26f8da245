package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
)

const streamTemplate = `
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  FailureQueue:
    Type: AWS::SQS::Queue
`

// streamTable provisions a fresh table with a stream (and a queue for
// on-failure records) and returns them with a DynamoDB client.
func streamTable(t *testing.T) (*dynamodb.Client, *stack.Resources, string) {
	t.Helper()
	dynamoEP, sqsEP := enginetest.Endpoints(t)
	tpl, err := stack.Parse([]byte(streamTemplate))
	if err != nil {
		t.Fatal(err)
	}
	res, err := stack.Provision(context.Background(), dynamoEP, sqsEP, fmt.Sprintf("s%d", time.Now().UnixNano()), tpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ByID["Table"].StreamARN == "" {
		t.Fatal("no stream ARN")
	}
	return stack.NewDynamoDBClient(dynamoEP), res, dynamoEP
}

func put(t *testing.T, c *dynamodb.Client, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

type recorder struct {
	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord
	respond func(calls int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
}

func (r *recorder) handle(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	r.mu.Lock()
	r.batches = append(r.batches, ev.Records)
	n := len(r.batches)
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(n, ev)
	}
	return events.DynamoDBEventResponse{}, nil
}

// pks lists the PKs of every delivered record, in delivery order.
func (r *recorder) pks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.batches {
		for _, rec := range b {
			out = append(out, rec.Change.Keys["PK"].String())
		}
	}
	return out
}

func TestStreamMappingFilterAndConversion(t *testing.T) {
	ddb, res, dynamoEP := streamTable(t)
	table := res.ByID["Table"]
	// The real template's filter: INSERTs of items whose kind is "event".
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var filters []string
	for _, f := range fns {
		for _, ev := range f.Events {
			if ev.Stream != nil {
				filters = ev.Stream.FilterPatterns
			}
		}
	}
	if len(filters) == 0 {
		t.Fatal("the template has no stream filter")
	}

	rec := &recorder{}
	m, err := gateway.NewStreamMapping(gateway.StreamConfig{
		FunctionID: "EventRouterFunction", Handler: rec.handle, Timeout: 5 * time.Second,
		StreamARN: table.StreamARN, BatchSize: 100, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: 2,
		ReportBatchItemFailures: true, FilterPatterns: filters,
		Client: stack.NewStreamsClient(dynamoEP), Identity: gateway.Identity{Region: "eu-west-3"},
		PollInterval: 50 * time.Millisecond, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}

	// Before the mapping starts (TRIM_HORIZON must see it) and after.
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{
		"PK": s("EVT#1"), "SK": s("EVT#1"), "kind": s("event"),
		"n":    &ddbtypes.AttributeValueMemberN{Value: "12.5"},
		"b":    &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"ok":   &ddbtypes.AttributeValueMemberBOOL{Value: true},
		"nil":  &ddbtypes.AttributeValueMemberNULL{Value: true},
		"ss":   &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &ddbtypes.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &ddbtypes.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"list": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{s("x"), &ddbtypes.AttributeValueMemberN{Value: "3"}}},
		"map":  &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"k": s("v"), "deep": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"z": &ddbtypes.AttributeValueMemberBOOL{Value: false}}}}},
	})
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("ORG#1"), "SK": s("ORG#1"), "kind": s("organization")})
	runMapping(t, m.Run)
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("EVT#2"), "SK": s("EVT#2"), "kind": s("event")})
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("NOKIND"), "SK": s("NOKIND")})
	// A MODIFY of an event item does not match eventName INSERT.
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("EVT#1"), "SK": s("EVT#1"), "kind": s("event"), "v": s("2")})
	// A REMOVE neither; then a last matching insert marks the end.
	if _, err := ddb.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(table.Name),
		Key: map[string]ddbtypes.AttributeValue{"PK": s("EVT#2"), "SK": s("EVT#2")}}); err != nil {
		t.Fatal(err)
	}
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("EVT#3"), "SK": s("EVT#3"), "kind": s("event")})

	waitFor(t, "the last matching insert", 20*time.Second, func() bool {
		p := rec.pks()
		return len(p) > 0 && p[len(p)-1] == "EVT#3"
	})
	// Nothing more arrives for the records before it (no duplicate of
	// EVT#3 either): the stream is read in order, so once one more insert
	// has come, everything before it has been delivered as it will be.
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("EVT#4"), "SK": s("EVT#4"), "kind": s("event")})
	waitFor(t, "one more insert after the last", 20*time.Second, func() bool { return slices.Contains(rec.pks(), "EVT#4") })
	eq(t, "delivered", rec.pks(), []string{"EVT#1", "EVT#2", "EVT#3", "EVT#4"})

	rec.mu.Lock()
	first := rec.batches[0][0]
	rec.mu.Unlock()
	eq(t, "eventName", first.EventName, "INSERT")
	eq(t, "eventSource", first.EventSource, "aws:dynamodb")
	eq(t, "eventSourceARN", first.EventSourceArn, table.StreamARN)
	eq(t, "awsRegion", first.AWSRegion, "eu-west-3")
	eq(t, "streamViewType", first.Change.StreamViewType, "NEW_AND_OLD_IMAGES")
	if first.EventID == "" || first.EventVersion == "" || first.Change.SequenceNumber == "" || first.Change.SizeBytes <= 0 {
		t.Errorf("record ids: %+v", first)
	}
	if d := time.Since(first.Change.ApproximateCreationDateTime.Time); d < 0 || d > 5*time.Minute {
		t.Errorf("ApproximateCreationDateTime %v", first.Change.ApproximateCreationDateTime)
	}
	if first.Change.OldImage != nil {
		t.Errorf("an INSERT has no OldImage: %v", first.Change.OldImage)
	}
	eq(t, "keys", len(first.Change.Keys), 2)
	// Every attribute type, compared through the JSON Lambda would send.
	got, err := json.Marshal(first.Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	var gotDoc, wantDoc any
	_ = json.Unmarshal(got, &gotDoc)
	_ = json.Unmarshal([]byte(`{
		"PK":{"S":"EVT#1"},"SK":{"S":"EVT#1"},"kind":{"S":"event"},
		"n":{"N":"12.5"},"b":{"B":"AAEC"},"ok":{"BOOL":true},"nil":{"NULL":true},
		"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["AQ==","Ag=="]},
		"list":{"L":[{"S":"x"},{"N":"3"}]},
		"map":{"M":{"k":{"S":"v"},"deep":{"M":{"z":{"BOOL":false}}}}}}`), &wantDoc)
	eq(t, "NewImage", gotDoc, wantDoc)
}

func TestStreamMappingRetries(t *testing.T) {
	ddb, res, dynamoEP := streamTable(t)
	table, failQ := res.ByID["Table"], res.ByID["FailureQueue"]
	_, sqsEP := enginetest.Endpoints(t)
	sqsc := stack.NewSQSClient(sqsEP)

	// "partial" is reported failed on its first delivery only; "poison"
	// always; "error" makes the whole invocation fail once.
	seen := map[string]int{}
	var mu sync.Mutex
	rec := &recorder{respond: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			pk := r.Change.Keys["PK"].String()
			seen[pk]++
			switch {
			case pk == "error" && seen[pk] == 1:
				return resp, fmt.Errorf("transient")
			case pk == "partial" && seen[pk] == 1, pk == "poison":
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				return resp, nil
			}
		}
		return resp, nil
	}}
	m, err := gateway.NewStreamMapping(gateway.StreamConfig{
		FunctionID: "EventRouterFunction", Handler: rec.handle, Timeout: 5 * time.Second,
		StreamARN: table.StreamARN, BatchSize: 2, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: 2,
		ReportBatchItemFailures: true,
		OnFailureQueueURL:       failQ.URL, OnFailure: sqsc,
		Client: stack.NewStreamsClient(dynamoEP), PollInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "partial", "b", "error", "poison", "c"} {
		put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s(pk), "SK": s(pk)})
	}
	runMapping(t, m.Run)
	// The discarded batch is reported to the on-failure queue like Lambda does.
	body := onFailureRecord(t, sqsc, failQ.URL)
	// Batches of 2, in order:
	//   [a partial]  -> partial failed: retry from partial
	//   [partial]    -> ok
	//   [b error]    -> function error: whole batch again
	//   [b error]    -> ok
	//   [poison c]   -> poison failed, retried twice from poison, then discarded
	//                   with the rest of its batch (Lambda discards the batch)
	//   [poison c] [poison c]
	// so c is never delivered alone; its last delivery is inside the discarded batch.
	eq(t, "deliveries", rec.pks(), []string{"a", "partial", "partial", "b", "error", "b", "error", "poison", "c", "poison", "c", "poison", "c"})

	var info struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		Batch struct {
			BatchSize int    `json:"batchSize"`
			StreamArn string `json:"streamArn"`
		} `json:"DDBStreamBatchInfo"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	eq(t, "condition", info.RequestContext.Condition, "RetryAttemptsExhausted")
	eq(t, "invoke count", info.RequestContext.ApproximateInvokeCount, 3)
	eq(t, "batch size", info.Batch.BatchSize, 2)
	eq(t, "stream", info.Batch.StreamArn, table.StreamARN)
}

func TestStreamMappingBisect(t *testing.T) {
	ddb, res, dynamoEP := streamTable(t)
	table := res.ByID["Table"]
	rec := &recorder{respond: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		for _, r := range ev.Records {
			if r.Change.Keys["PK"].String() == "bad" {
				return events.DynamoDBEventResponse{}, fmt.Errorf("bad record")
			}
		}
		return events.DynamoDBEventResponse{}, nil
	}}
	m, err := gateway.NewStreamMapping(gateway.StreamConfig{
		FunctionID: "F", Handler: rec.handle, StreamARN: table.StreamARN, BatchSize: 4, StartingPosition: "TRIM_HORIZON",
		MaximumRetryAttempts: 0, BisectBatchOnFunctionError: true,
		Client: stack.NewStreamsClient(dynamoEP), PollInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "b", "bad", "d"} {
		put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s(pk), "SK": s(pk)})
	}
	runMapping(t, m.Run)
	want := []string{"a", "b", "bad", "d", "a", "b", "bad", "d", "bad", "d"}
	waitFor(t, "the bisected deliveries", 20*time.Second, func() bool { return len(rec.pks()) >= len(want) })
	// Nothing more arrives for them: the stream is read in order, so once a
	// later record has come, the batch before it is done with.
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("e"), "SK": s("e")})
	waitFor(t, "a record after the batch", 20*time.Second, func() bool { return slices.Contains(rec.pks(), "e") })
	// [a b bad d] fails: halves [a b] (ok) and [bad d] (fails): halves [bad]
	// (fails, no retries left: discarded) and [d] (ok); then [e].
	eq(t, "deliveries", rec.pks(), append(want, "e"))
}

// A batch that keeps failing is given up once its oldest record is older
// than MaximumRecordAge, even with unlimited retries, and reported to the
// on-failure queue with that condition.
func TestStreamMappingRecordAge(t *testing.T) {
	ddb, res, dynamoEP := streamTable(t)
	table, failQ := res.ByID["Table"], res.ByID["FailureQueue"]
	_, sqsEP := enginetest.Endpoints(t)
	sqsc := stack.NewSQSClient(sqsEP)
	rec := &recorder{respond: func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, fmt.Errorf("the queue is down")
	}}
	m, err := gateway.NewStreamMapping(gateway.StreamConfig{
		FunctionID: "EventRouterFunction", Handler: rec.handle, Timeout: 5 * time.Second,
		StreamARN: table.StreamARN, BatchSize: 10, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1, MaximumRecordAge: 1500 * time.Millisecond,
		OnFailureQueueURL: failQ.URL, OnFailure: sqsc,
		Client: stack.NewStreamsClient(dynamoEP), PollInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	put(t, ddb, table.Name, map[string]ddbtypes.AttributeValue{"PK": s("old"), "SK": s("old")})
	runMapping(t, m.Run)
	body := onFailureRecord(t, sqsc, failQ.URL)
	if !strings.Contains(body, `"condition":"RecordAgeExceeded"`) {
		t.Fatalf("on-failure record %s", body)
	}
	if n := len(rec.pks()); n < 2 {
		t.Fatalf("%d deliveries before giving up: the batch should have been retried until it was too old", n)
	}
}

// onFailureRecord waits for the on-failure queue's record and returns it.
func onFailureRecord(t *testing.T, sqsc *sqs.Client, url string) string {
	t.Helper()
	var body string
	waitFor(t, "the on-failure record", 20*time.Second, func() bool {
		out, err := sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			body = aws.ToString(out.Messages[0].Body)
		}
		return body != ""
	})
	return body
}
