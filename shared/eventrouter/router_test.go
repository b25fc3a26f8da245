package eventrouter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/queue"
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
