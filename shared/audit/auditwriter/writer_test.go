package auditwriter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/audit/auditwriter"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/wiring"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// The audit writer on the real table: valid messages become one entry each,
// however often they are delivered; invalid ones are parked, not retried.
func TestWriterIsIdempotentAndParksBadMessages(t *testing.T) {
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), st.Config.Table, time.Now)
	w := &auditwriter.Writer{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	sample, err := os.ReadFile("../../../events/auditwriter-sqs.json")
	if err != nil {
		t.Fatal(err)
	}
	var good events.SQSEvent
	if err := json.Unmarshal(sample, &good); err != nil {
		t.Fatal(err)
	}
	batch := events.SQSEvent{Records: []events.SQSMessage{
		good.Records[0],
		good.Records[0], // delivered twice in one batch
		{MessageId: "bad-json", Body: "{not json"},
		{MessageId: "no-partner", Body: `{"event_id":"evt-x","timestamp":"2026-11-21T10:30:00Z"}`},
	}}
	for i := 0; i < 2; i++ { // and the whole batch redelivered
		resp, err := w.Handle(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch item failures %v: bad messages must be parked, not retried", resp.BatchItemFailures)
		}
	}
	n, err := store.CountAuditEntries(context.Background(), "partner-demo", "org-0190f0e2-8a4b-7c3d-9e1f-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Fatalf("audit entries = %d, want %d", got, want)
	}
	parked, err := store.CountParked(context.Background(), "audit")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := parked, 4; got != want { // two bad messages, delivered twice
		t.Fatalf("parked = %d, want %d", got, want)
	}
}

// failingFor fails the transactions that write the audit entry of one
// resource, as a throttled or unavailable table would.
type failingFor struct {
	dynamo.DB
	resource string
	on       bool
}

func (f *failingFor) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if v, ok := it.Put.Item["resource_id"].(*types.AttributeValueMemberS); ok && f.on && v.Value == f.resource {
			return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("throttled")}
		}
	}
	return f.DB.TransactWriteItems(ctx, in, opts...)
}

// A failing record of a batch is the only one reported, so SQS redelivers
// it alone; the others are written once, and its redelivery writes it.
func TestOnlyTheFailingRecordIsRetried(t *testing.T) {
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	db := &failingFor{DB: wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), resource: "inv-2", on: true}
	store := dynamo.New(db, st.Config.Table, time.Now)
	w := &auditwriter.Writer{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	record := func(i int) events.SQSMessage {
		body := fmt.Sprintf(`{"event_id":"evt-%d","event_type":"invoice.created","partner_id":"ptn","organization_id":"org-1","timestamp":"2026-11-21T10:30:0%dZ",`+
			`"actor":{"user_id":"c","user_type":"partner"},"change":{"resource_type":"invoice","resource_id":"inv-%d","action":"created","before":null,"after":{"n":%d}},"envelope":{}}`, i, i, i, i)
		return events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: body}
	}
	resp, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record(1), record(2), record(3)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-2" {
		t.Fatalf("batch item failures %v, want only m-2", resp.BatchItemFailures)
	}
	if n, _ := store.CountAuditEntries(context.Background(), "ptn", "org-1"); n != 2 {
		t.Fatalf("%d entries after the batch, want 2", n)
	}
	db.on = false
	if resp, err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record(2)}}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v %v", resp.BatchItemFailures, err)
	}
	if n, _ := store.CountAuditEntries(context.Background(), "ptn", "org-1"); n != 3 {
		t.Fatalf("%d entries after the redelivery, want 3", n)
	}
	if parked, _ := store.CountParked(context.Background(), "audit"); parked != 0 {
		t.Errorf("%d parked: a transient failure is retried, not parked", parked)
	}
}
