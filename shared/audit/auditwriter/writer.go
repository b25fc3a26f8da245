// Package auditwriter is the audit queue's consumer: it turns each event
// record into an audit.Entry — changes reduced to the fields that changed,
// secrets dropped, personal data masked (audit.Changes) — and writes it
// idempotently (the entry's key is derived from the event, and the write is
// conditional on its absence), then appends it to the archive; and it keeps
// the API calls the edge sends on the same queue (apicall.Message, kind
// "api_call"), a batch's calls written side by side.
package auditwriter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/audit/archive"
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

// CallStore keeps API calls.
type CallStore interface {
	// PutAPICalls writes each call once (its key comes from the message:
	// writing it again is a no-op) and returns each one's outcome.
	PutAPICalls(ctx context.Context, calls []apicall.Call) []error
}

// Writer is the audit queue's handler.
type Writer struct {
	Store Store
	Calls CallStore
	// Archive receives every change entry once it is in the table (nil
	// only in tests of the table's side).
	Archive audit.Archive
	// LoadRecord reads from the outbox a record too large for a queue
	// message (the router sends {"event_ref": id} instead).
	LoadRecord func(ctx context.Context, eventID string) (string, error)
	Log        *slog.Logger
}

// Handle writes each message's entry or call. Transient failures are
// reported as batch item failures (SQS redelivers that record alone, then
// dead-letters it); a message that can never become an entry or a call is
// parked with its reason and acknowledged. The batch's API calls are
// written first, side by side; each record's outcome is then reported as its
// own, so a failed call or entry is the only record retried.
func (w *Writer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	calls := w.writeCalls(ctx, ev.Records)
	return worker.Each(ctx, ev, "audit", w.Log, w.Store.Park, func(ctx context.Context, m events.SQSMessage) error {
		if err, ok := calls[m.MessageId]; ok {
			return err
		}
		return w.handle(ctx, m)
	}), nil
}

// writeCalls writes the batch's API call messages with one PutAPICalls and
// returns the outcome of each, by message id (nil: written; Malformed: to
// be parked). Event records are not in the map.
func (w *Writer) writeCalls(ctx context.Context, records []events.SQSMessage) map[string]error {
	const op = "audit.write_call"
	out := map[string]error{}
	var calls []apicall.Call
	var ids []string
	for _, m := range records {
		var kind struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal([]byte(m.Body), &kind) != nil || kind.Kind != apicall.Kind {
			continue
		}
		var msg apicall.Message
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
			out[m.MessageId] = apperr.E(op, apperr.Malformed, "message body is not an API call: "+err.Error())
			continue
		}
		c := msg.Unwrap()
		if err := c.Validate(); err != nil {
			out[m.MessageId] = apperr.E(op, apperr.Malformed, err.Error())
			continue
		}
		calls, ids = append(calls, c), append(ids, m.MessageId)
	}
	if len(calls) == 0 {
		return out
	}
	if w.Calls == nil {
		for _, id := range ids {
			out[id] = apperr.E(op, apperr.Malformed, "this writer keeps no API calls")
		}
		return out
	}
	for i, err := range w.Calls.PutAPICalls(ctx, calls) {
		out[ids[i]] = err
	}
	return out
}

func (w *Writer) handle(ctx context.Context, m events.SQSMessage) error {
	const op = "audit.write"
	raw := m.Body
	var ref struct {
		EventRef string `json:"event_ref"`
	}
	if json.Unmarshal([]byte(raw), &ref) == nil && ref.EventRef != "" {
		if w.LoadRecord == nil {
			return apperr.E(op, apperr.Malformed, "a reference to event "+ref.EventRef+", and no outbox to read it from")
		}
		rec, err := w.LoadRecord(ctx, ref.EventRef)
		if err != nil {
			return err
		}
		raw = rec
	}
	var msg event.Record
	if err := json.Unmarshal([]byte(raw), &msg); err != nil {
		return apperr.E(op, apperr.Malformed, "message body is not an event record: "+err.Error())
	}
	if msg.EventID == "" || msg.PartnerID == "" || msg.Timestamp.IsZero() {
		return apperr.E(op, apperr.Malformed, "event record lacks event_id, partner_id or timestamp")
	}
	changes := audit.Changes(msg.Change.Before, msg.Change.After)
	e := audit.Entry{
		ID: "log-" + msg.EventID, Timestamp: msg.Timestamp, PartnerID: msg.PartnerID, OrganizationID: msg.OrgID,
		EventType: msg.Type, ResourceType: msg.Change.ResourceType, ResourceID: msg.Change.ResourceID, Action: msg.Change.Action,
		UserID: msg.Actor.ID, UserType: msg.Actor.Type, IPAddress: msg.Actor.IPAddress, RequestID: msg.Actor.RequestID, Changes: changes,
	}
	if w.Archive == nil {
		return w.Store.PutAuditEntry(ctx, e)
	}
	key, err := audit.ArchiveKey(e)
	if err != nil {
		return apperr.E(op, apperr.Malformed, err.Error())
	}
	body, err := audit.ArchiveBody(e)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if err := w.Store.PutAuditEntry(ctx, e); err != nil {
		return err
	}
	// After the table: a failed append retries the record, whose put is
	// then a no-op; the archive's append is idempotent by key too.
	return w.Archive.Append(ctx, key, body)
}

// Wire builds AuditWriterFunction: the table, and the archive — the
// bucket deployed (MODUPAY_AUDIT_ARCHIVE_BUCKET), a directory locally
// (MODUPAY_AUDIT_ARCHIVE_DIR). The function does not start without one
// (lambdaenv.KeepsAuditArchive).
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	var arch audit.Archive
	switch {
	case e.Config.AuditArchiveBucket != "":
		arch = archive.S3{Client: archive.NewS3(e.AWS, e.Config.S3Endpoint), Bucket: e.Config.AuditArchiveBucket}
	case e.Config.AuditArchiveDir != "":
		arch = archive.Dir{Root: e.Config.AuditArchiveDir}
	default:
		return lambdaenv.Function{}, errors.New("no audit archive: set MODUPAY_AUDIT_ARCHIVE_BUCKET or MODUPAY_AUDIT_ARCHIVE_DIR")
	}
	store := table.Store(e)
	w := &Writer{Store: store, Calls: store, Archive: arch, LoadRecord: store.EventRecord, Log: e.Log}
	return lambdaenv.Function{SQS: w.Handle}, nil
}
