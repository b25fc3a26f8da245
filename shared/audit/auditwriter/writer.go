// Package auditwriter is the audit queue's consumer: it turns each event
// record into an audit.Entry — changes reduced to the fields that changed,
// secrets dropped, personal data masked (audit.Changes) — and writes it
// idempotently (the entry's key is derived from the event, and the write is
// conditional on its absence).
package auditwriter

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/worker"
)

// Store persists entries and parks messages that can never be processed.
type Store interface {
	// PutAuditEntry writes e once; writing the same entry again is a no-op.
	PutAuditEntry(ctx context.Context, e audit.Entry) error
	Park(ctx context.Context, source, messageID, body, reason string) error
}

// Writer is the audit queue's handler.
type Writer struct {
	Store Store
	Log   *slog.Logger
}

// Handle writes each message's entry. Transient failures are reported as
// batch item failures (SQS redelivers, then dead-letters); a message that can
// never become an entry is parked with its reason and acknowledged.
func (w *Writer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return worker.Each(ctx, ev, "audit", w.Log, w.Store.Park, w.handle), nil
}

func (w *Writer) handle(ctx context.Context, m events.SQSMessage) error {
	const op = "audit.write"
	var msg event.Record
	if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
		return apperr.E(op, apperr.Malformed, "message body is not an event record: "+err.Error())
	}
	if msg.EventID == "" || msg.PartnerID == "" || msg.Timestamp.IsZero() {
		return apperr.E(op, apperr.Malformed, "event record lacks event_id, partner_id or timestamp")
	}
	changes := audit.Changes(msg.Change.Before, msg.Change.After)
	return w.Store.PutAuditEntry(ctx, audit.Entry{
		ID: "log-" + msg.EventID, Timestamp: msg.Timestamp, PartnerID: msg.PartnerID, OrganizationID: msg.OrgID,
		EventType: msg.Type, ResourceType: msg.Change.ResourceType, ResourceID: msg.Change.ResourceID, Action: msg.Change.Action,
		UserID: msg.Actor.ID, UserType: msg.Actor.Type, IPAddress: msg.Actor.IPAddress, RequestID: msg.Actor.RequestID, Changes: changes,
	})
}

// Wire builds AuditWriterFunction.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	w := &Writer{Store: table.Store(e), Log: e.Log}
	return lambdaenv.Function{SQS: w.Handle}, nil
}
