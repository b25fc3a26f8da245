package eventrouter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/queue"
	"github.com/modupay/modupay/shared/webhook"
)

// sender records sends and fails on the bodies it is told to.
type sender struct {
	sent []string
	fail map[string]bool
}

func (s *sender) SendBatch(_ context.Context, msgs []queue.Msg) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if s.fail[m.Body] {
			errs[i] = errors.New("queue unavailable")
			continue
		}
		s.sent = append(s.sent, m.Body)
	}
	return errs
}

func record(seq, name, kind, body string) events.DynamoDBEventRecord {
	img := map[string]events.DynamoDBAttributeValue{"kind": events.NewStringAttribute(kind), "record": events.NewStringAttribute(body), "event_type": events.NewStringAttribute("x.y")}
	return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{SequenceNumber: seq, NewImage: img}}
}

func TestRouterSendsEventsAndResumesAtTheFirstFailure(t *testing.T) {
	tests := []struct {
		name         string
		records      []events.DynamoDBEventRecord
		fail         map[string]bool
		wantSent     []string
		wantFailures []string
	}{
		{name: "events are sent in order", records: []events.DynamoDBEventRecord{record("1", "INSERT", "event", "a"), record("2", "INSERT", "event", "b")}, wantSent: []string{"a", "b"}},
		{name: "other kinds and modifications are skipped", records: []events.DynamoDBEventRecord{record("1", "INSERT", "organization", "o"), record("2", "MODIFY", "event", "m"), record("3", "INSERT", "event", "c")}, wantSent: []string{"c"}},
		// The batch goes out in one call: what follows a failure may be sent,
		// and is sent again when the shard resumes at the failure (consumers
		// are idempotent); nothing is skipped.
		{name: "a failure reports it and everything after it", records: []events.DynamoDBEventRecord{record("1", "INSERT", "event", "a"), record("2", "INSERT", "event", "b"), record("3", "INSERT", "event", "c")},
			fail: map[string]bool{"b": true}, wantSent: []string{"a", "c"}, wantFailures: []string{"2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sender{fail: tt.fail}
			r := &Router{Audit: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			resp, err := r.Handle(context.Background(), events.DynamoDBEvent{Records: tt.records})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.sent, tt.wantSent; !slices.Equal(got, want) {
				t.Errorf("sent %v, want %v", got, want)
			}
			var failures []string
			for _, f := range resp.BatchItemFailures {
				failures = append(failures, f.ItemIdentifier)
			}
			if got, want := failures, tt.wantFailures; !slices.Equal(got, want) {
				t.Errorf("batch item failures %v, want %v", got, want)
			}
		})
	}
}

// An order approved with an execution is followed; one paid outside, or
// any other status change of an order, is not.
func TestPollMessageForPaymentOrders(t *testing.T) {
	rec := func(status, execution string) event.Record {
		return event.Record{Type: "payment_order.status_changed", PartnerID: "p", OrgID: "o",
			Envelope: json.RawMessage(`{"data":{"paymentOrderId":"po-1","status":"` + status + `","paymentOrder":{"id":"po-1"` + execution + `}}}`)}
	}
	withExec := `,"execution":{"provider":"AIIA","status":"QUEUED"}`
	m, ok := pollMessage(rec("PROCESSING", withExec))
	var body map[string]any
	if !ok || json.Unmarshal([]byte(m.Body), &body) != nil || body["kind"] != "payment_order" || body["payment_order_id"] != "po-1" ||
		body["partner_id"] != "p" || body["organization_id"] != "o" {
		t.Fatalf("approved with an execution: %v %s", ok, m.Body)
	}
	for name, r := range map[string]event.Record{
		"paid outside":           rec("PROCESSING", ""),
		"completed":              rec("COMPLETED", withExec),
		"retried":                rec("PENDING", ""),
		"another event of order": {Type: "payment_order.created", PartnerID: "p", OrgID: "o", Envelope: rec("PROCESSING", withExec).Envelope},
	} {
		if m, ok := pollMessage(r); ok {
			t.Errorf("%s: polled %s", name, m.Body)
		}
	}
}

// A record too large for a queue message travels as a reference: the
// audit queue gets {"event_ref": id}, the webhook queue the delivery
// without its payload, marked as in the outbox. A record held in parts is
// read from the outbox; when that read fails, the batch resumes there.
func TestLargeRecordsTravelByReference(t *testing.T) {
	big := `{"event_id":"evt-big","event_type":"invoice.created","partner_id":"p","organization_id":"o","timestamp":"2026-12-06T10:00:00Z",` +
		`"actor":{"user_id":"c","user_type":"partner"},"change":{"resource_type":"invoice","resource_id":"inv-1","action":"created","before":null,"after":null},` +
		`"envelope":{"event_id":"evt-big","event_type":"invoice.created","data":{"text":"` + strings.Repeat("é", 150_000) + `"}}}`
	img := map[string]events.DynamoDBAttributeValue{"kind": events.NewStringAttribute("event"), "event_id": events.NewStringAttribute("evt-big"),
		"event_type": events.NewStringAttribute("invoice.created"), "parts": events.NewNumberAttribute("2")}
	rec := events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "1", NewImage: img}}
	audit, hooks := &sender{}, &sender{}
	loads := 0
	r := &Router{Audit: audit, Webhooks: hooks, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Subscriptions: func(context.Context, string) ([]webhook.Subscription, error) {
			return []webhook.Subscription{{ID: "sub-1", PartnerID: "p", Status: webhook.StatusActive, Events: []string{"*"}}}, nil
		},
		LoadRecord: func(_ context.Context, id string) (string, error) {
			loads++
			if id != "evt-big" {
				t.Errorf("loaded %s", id)
			}
			return big, nil
		}}
	resp, err := r.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	if err != nil || len(resp.BatchItemFailures) != 0 || loads != 1 {
		t.Fatalf("Handle: %v, failures %v, %d loads", err, resp.BatchItemFailures, loads)
	}
	if len(audit.sent) != 1 || audit.sent[0] != RecordRef("evt-big") {
		t.Fatalf("audit queue got %.100v", audit.sent)
	}
	var m webhook.Message
	if len(hooks.sent) != 1 || json.Unmarshal([]byte(hooks.sent[0]), &m) != nil || m.Payload != "" || !m.PayloadInOutbox || m.EventID != "evt-big" || len(hooks.sent[0]) > 1024 {
		t.Fatalf("webhook queue got %.300v", hooks.sent)
	}
	// The outbox unavailable: nothing sent, the batch resumes at the record.
	audit.sent, hooks.sent = nil, nil
	r.LoadRecord = func(context.Context, string) (string, error) {
		return "", apperr.Transient("test", errors.New("throttled"))
	}
	resp, _ = r.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	if len(resp.BatchItemFailures) != 1 || len(audit.sent)+len(hooks.sent) != 0 {
		t.Fatalf("failures %v, sent %d", resp.BatchItemFailures, len(audit.sent)+len(hooks.sent))
	}
}
