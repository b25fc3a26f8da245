// Package eventrouter fans committed domain events out of the table's stream
// to the queues that act on them. It reads only outbox items (the template's
// filter passes INSERTs of kind "event"), so a change and its event are
// published together or not at all. Delivery to the queues is at least once:
// a batch retried after a partial failure re-sends, and consumers dedupe on
// the event id.
package eventrouter

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/event"
)

// Sender publishes one event record to a queue.
type Sender interface {
	Send(ctx context.Context, body string, attrs map[string]string) error
}

// Router is the stream handler.
type Router struct {
	Audit Sender
	// Poll receives a message per transfer started at the bank (an intent
	// entering processing), which starts its status polling.
	Poll Sender
	Log  *slog.Logger
}

// Handle sends each event record to the audit queue. A record that fails is
// reported with its sequence number, and so are all after it in the batch:
// Lambda restarts the shard from the first failure, which keeps per-shard
// order and re-sends nothing that succeeded before it.
func (r *Router) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for i, rec := range ev.Records {
		if rec.EventName != "INSERT" {
			continue
		}
		img := rec.Change.NewImage
		kind, ok := img["kind"]
		if !ok || kind.DataType() != events.DataTypeString || kind.String() != "event" {
			continue
		}
		body, ok := img["record"]
		if !ok || body.DataType() != events.DataTypeString {
			r.Log.ErrorContext(ctx, "event item without a record; skipped", slog.String("event_id", rec.EventID))
			continue
		}
		typ := ""
		if t, ok := img["event_type"]; ok && t.DataType() == events.DataTypeString {
			typ = t.String()
		}
		err := r.Audit.Send(ctx, body.String(), map[string]string{"event_type": typ})
		if err == nil && r.Poll != nil && (typ == "payment_intent.status_changed" || typ == "kyc.status_changed") {
			err = r.startPolling(ctx, body.String())
		}
		if err != nil {
			r.Log.ErrorContext(ctx, "routing failed; the batch resumes here", slog.String("error", err.Error()), slog.String("sequence_number", rec.Change.SequenceNumber))
			for _, rest := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rest.Change.SequenceNumber})
			}
			return resp, nil
		}
	}
	return resp, nil
}

// startPolling sends the poll message of an intent that entered processing.
// A redelivered event sends it again: the poller applies each transition once.
func (r *Router) startPolling(ctx context.Context, record string) error {
	var rec event.Record
	if err := json.Unmarshal([]byte(record), &rec); err != nil {
		return nil // not ours to judge: the audit writer parks malformed records
	}
	var env struct {
		Data struct {
			IntentID      string `json:"payment_intent_id"`
			DepartmentID  string `json:"department_id"`
			CurrentStatus string `json:"current_status"`
		} `json:"data"`
	}
	if json.Unmarshal(rec.Envelope, &env) != nil {
		return nil
	}
	// An approved KYC onboards the department's default account at Aiia as
	// a payee (a destination), through the same worker.
	if rec.Type == "kyc.status_changed" {
		if env.Data.CurrentStatus != "approved" {
			return nil
		}
		msg, err := json.Marshal(map[string]any{"kind": "onboard_destination", "partner_id": rec.PartnerID,
			"organization_id": rec.OrgID, "department_id": env.Data.DepartmentID, "since": rec.Timestamp})
		if err != nil {
			return err
		}
		return r.Poll.Send(ctx, string(msg), map[string]string{"department_id": env.Data.DepartmentID})
	}
	if env.Data.CurrentStatus != "processing" {
		return nil
	}
	msg, err := json.Marshal(map[string]any{"partner_id": rec.PartnerID, "organization_id": rec.OrgID,
		"payment_intent_id": env.Data.IntentID, "attempt": 0, "since": rec.Timestamp})
	if err != nil {
		return err
	}
	return r.Poll.Send(ctx, string(msg), map[string]string{"payment_intent_id": env.Data.IntentID})
}
