package auditwriter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/audit/archive"
	"github.com/modupay/modupay/shared/audit/auditwriter"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/wiring"
)

func realStore(t *testing.T) *dynamo.Store {
	t.Helper()
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	return dynamo.New(wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), st.Config.Table, time.Now)
}

func callMessage(t *testing.T, i int) events.SQSMessage {
	t.Helper()
	c := apicall.Call{RequestID: fmt.Sprintf("req-%02d", i), Timestamp: time.Date(2026, 11, 21, 10, 0, i, 0, time.UTC), PartnerID: "partner-demo",
		OrgID: "org-1", Method: "POST", Route: "POST /v1/invoices", Status: 201, LatencyMS: 12, ClientID: "demo-partner", UserType: "partner", IPAddress: "203.0.113.42"}
	b, err := json.Marshal(apicall.NewMessage(c))
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: fmt.Sprintf("msg-call-%02d", i), Body: string(b)}
}

func eventMessage(t *testing.T) events.SQSMessage {
	t.Helper()
	sample, err := os.ReadFile("../../../events/auditwriter-sqs.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(sample, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Records[0]
}

// failingCalls fails the calls whose request id is in fail, and writes the others.
type failingCalls struct {
	auditwriter.CallStore
	fail map[string]bool
}

func (f failingCalls) PutAPICalls(ctx context.Context, calls []apicall.Call) []error {
	var keep []apicall.Call
	var at []int
	errs := make([]error, len(calls))
	for i, c := range calls {
		if f.fail[c.RequestID] {
			errs[i] = apperr.Transient("test", errors.New("throughput exceeded"))
			continue
		}
		keep, at = append(keep, c), append(at, i)
	}
	for j, err := range f.CallStore.PutAPICalls(ctx, keep) {
		errs[at[j]] = err
	}
	return errs
}

// failingArchive fails while down, then archives in dir.
type failingArchive struct {
	archive.Dir
	down *bool
}

func (f failingArchive) Append(ctx context.Context, key string, body []byte) error {
	if *f.down {
		return apperr.Transient("test", errors.New("archive unavailable"))
	}
	return f.Dir.Append(ctx, key, body)
}

// A batch mixing API calls and an event record: each call is one item and
// the entry one archived file however often the batch comes back; a call
// whose write fails, and an entry whose archive fails, are the only
// records retried, and succeed once retried.
func TestWriterKeepsAPICallsOnceAndRetriesOnlyTheFailingRecord(t *testing.T) {
	store := realStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	down := false
	w := &auditwriter.Writer{Store: store, Calls: failingCalls{store, map[string]bool{"req-03": true}},
		Archive: failingArchive{archive.Dir{Root: dir}, &down}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	batch := events.SQSEvent{}
	for i := 0; i < 5; i++ {
		batch.Records = append(batch.Records, callMessage(t, i))
	}
	batch.Records = append(batch.Records, eventMessage(t), callMessage(t, 1), // a duplicate in the batch
		events.SQSMessage{MessageId: "msg-bad-call", Body: `{"kind":"api_call","partner_id":"partner-demo"}`})

	resp, err := w.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if want := []string{"msg-call-03"}; !slices.Equal(failed, want) {
		t.Fatalf("retried %v, want %v: only the failing record", failed, want)
	}

	// The redelivery of the whole batch, the archive down this time: the
	// event's record is the one retried (its entry is in the table, its
	// archive is not), the calls are rewritten as they were.
	w.Calls, down = store, true
	resp, _ = w.Handle(ctx, batch)
	failed = failed[:0]
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if want := []string{eventMessage(t).MessageId}; !slices.Equal(failed, want) {
		t.Fatalf("retried %v, want %v", failed, want)
	}
	down = false
	if resp, _ := w.Handle(ctx, batch); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("third delivery: retried %v", resp.BatchItemFailures)
	}

	page, err := store.ListAPICalls(ctx, "partner-demo", "org-1", apicall.Query{Page: listing.Query{Page: 1, Size: 50}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range page.Items {
		got = append(got, c.RequestID)
	}
	if want := []string{"req-04", "req-03", "req-02", "req-01", "req-00"}; !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v (each once)", got, want)
	}
	if c := page.Items[1]; c.Route != "POST /v1/invoices" || c.Status != 201 || c.ClientID != "demo-partner" || c.PartnerID != "partner-demo" {
		t.Errorf("call read back = %+v", c)
	}
	n, err := store.CountAuditEntries(ctx, "partner-demo", "org-0190f0e2-8a4b-7c3d-9e1f-000000000002")
	if err != nil || n != 1 {
		t.Errorf("audit entries = %d, %v; want 1", n, err)
	}
	if parked, _ := store.CountParked(ctx, "audit"); parked != 3 { // the malformed call, once per delivery
		t.Errorf("parked = %d, want 3", parked)
	}

	// The archive holds the entry once, under its tenant and day, as the
	// API shows it plus its partner; no API call is archived.
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := "audit/partner-demo/org-0190f0e2-8a4b-7c3d-9e1f-000000000002/2026/11/21/log-evt-0190f0e2-8a4b-7c3d-9e1f-000000000001.json"
	if !slices.Equal(files, []string{want}) {
		t.Fatalf("archive = %v, want [%s]", files, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, want))
	var e struct {
		PartnerID string `json:"partner_id"`
		audit.Entry
	}
	if err := json.Unmarshal(b, &e); err != nil || e.PartnerID != "partner-demo" || e.ID != "log-evt-0190f0e2-8a4b-7c3d-9e1f-000000000001" || e.Action != "created" {
		t.Errorf("archived entry = %s (%v)", b, err)
	}
}
