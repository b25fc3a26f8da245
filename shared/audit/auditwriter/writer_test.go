package auditwriter_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

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
