// Package eventrouter fans committed domain events out of the table's stream
// to the queues that act on them. It reads only outbox items (the template's
// filter passes INSERTs of kind "event"), so a change and its event are
// published together or not at all. Delivery to the queues is at least once:
// a batch retried after a partial failure re-sends, and consumers dedupe on
// the event id (the webhook dispatcher on the (event, subscription) pair).
package eventrouter

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/queue"
	"github.com/modupay/modupay/shared/webhook"
)

// Sender publishes messages to one queue, in batches, and says which failed.
type Sender interface {
	SendBatch(ctx context.Context, msgs []queue.Msg) []error
}

// Router is the stream handler.
type Router struct {
	Audit Sender
	// Poll receives a message per transfer started at the bank (an intent
	// entering processing), which starts its status polling.
	Poll Sender
	// Webhooks receives one message per (event, subscription that wants it).
	Webhooks Sender
	// Subscriptions reads a partner's webhook subscriptions (once per
	// partner and batch).
	Subscriptions func(ctx context.Context, partnerID string) ([]webhook.Subscription, error)
	// LoadRecord reads a large event's record from the outbox (its parts).
	LoadRecord func(ctx context.Context, eventID string) (string, error)
	Log        *slog.Logger
}

// outgoing is one message to send and the stream record it comes from.
type outgoing struct {
	record int
	msg    queue.Msg
}

// Handle sends each event record to the audit queue, the poll queue when it
// starts a transfer or an onboarding, and the webhook queue once per
// subscription that wants it; all of a batch's messages go out ten to a
// call. Records from the first one that could not be fully routed onwards are
// reported as failures: Lambda restarts the shard there, re-sending what
// followed it (consumers are idempotent), never skipping an event.
func (r *Router) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	var audit, poll, hooks []outgoing
	firstFailed := len(ev.Records)
	subs := map[string][]webhook.Subscription{}
	for i, rec := range ev.Records {
		if rec.EventName != "INSERT" {
			continue
		}
		img := rec.Change.NewImage
		kind, ok := img["kind"]
		if !ok || kind.DataType() != events.DataTypeString || kind.String() != "event" {
			continue
		}
		record, err := r.record(ctx, img)
		if err != nil && apperr.Retryable(err) {
			r.Log.ErrorContext(ctx, "reading a large event's parts failed; the batch resumes here", slog.String("error", err.Error()))
			firstFailed = i
			break
		}
		if err != nil {
			r.Log.ErrorContext(ctx, "event item without a record; skipped", slog.String("event_id", rec.EventID), slog.String("error", err.Error()))
			continue
		}
		typ := ""
		if t, ok := img["event_type"]; ok && t.DataType() == events.DataTypeString {
			typ = t.String()
		}
		var er event.Record
		jsonErr := json.Unmarshal([]byte(record), &er)
		body := record
		if len(body) > queue.MaxBytes-messageHeadroom && jsonErr == nil {
			// Larger than a queue message: the audit writer reads it from
			// the outbox by its id.
			body = RecordRef(er.EventID)
		}
		audit = append(audit, outgoing{i, queue.Msg{Body: body, Attrs: map[string]string{"event_type": typ}}})
		if jsonErr != nil {
			continue // not ours to judge: the audit writer parks malformed records
		}
		if r.Poll != nil {
			if m, ok := pollMessage(er); ok {
				poll = append(poll, outgoing{i, m})
			}
		}
		if r.Webhooks == nil {
			continue
		}
		if webhook.NeedsSubscriptions(er.Type) {
			if _, ok := subs[er.PartnerID]; !ok {
				list, err := r.Subscriptions(ctx, er.PartnerID)
				if err != nil {
					r.Log.ErrorContext(ctx, "reading subscriptions failed; the batch resumes here", slog.String("error", err.Error()))
					firstFailed = i
					break
				}
				subs[er.PartnerID] = list
			}
		}
		for _, m := range webhook.Fanout(er, subs[er.PartnerID]) {
			b, err := json.Marshal(m)
			if err != nil {
				continue
			}
			if len(b) > queue.MaxBytes-messageHeadroom {
				// The dispatcher reads the payload from the outbox.
				m.Payload, m.PayloadInOutbox = "", true
				if b, err = json.Marshal(m); err != nil {
					continue
				}
			}
			hooks = append(hooks, outgoing{i, queue.Msg{Body: string(b), Attrs: map[string]string{"event_type": er.Type, "webhook_subscription_id": m.SubscriptionID}}})
		}
	}
	// The queues are independent: their batches go out at the same time (the
	// router's time is mostly these calls).
	built := firstFailed
	results := make(chan int, 3)
	for _, q := range []struct {
		s   Sender
		out []outgoing
	}{{r.Audit, audit}, {r.Poll, poll}, {r.Webhooks, hooks}} {
		go func() { results <- r.send(ctx, q.s, q.out, built) }()
	}
	for range 3 {
		firstFailed = min(firstFailed, <-results)
	}
	if firstFailed < len(ev.Records) {
		for _, rest := range ev.Records[firstFailed:] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rest.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// messageHeadroom is left under SQS's 256 KiB for the attributes.
const messageHeadroom = 1024

// RecordRef is the audit queue's message for a record too large to travel:
// its event id, which the writer reads from the outbox.
func RecordRef(eventID string) string {
	b, _ := json.Marshal(map[string]string{"event_ref": eventID})
	return string(b)
}

// record is the stream image's event record: inline, or read from the
// outbox's parts when the event was too large for one item.
func (r *Router) record(ctx context.Context, img map[string]events.DynamoDBAttributeValue) (string, error) {
	if body, ok := img["record"]; ok && body.DataType() == events.DataTypeString && body.String() != "" {
		return body.String(), nil
	}
	id, ok := img["event_id"]
	parts, hasParts := img["parts"]
	if !ok || id.DataType() != events.DataTypeString || !hasParts || parts.DataType() != events.DataTypeNumber || r.LoadRecord == nil {
		return "", apperr.E("eventrouter.record", apperr.Malformed, "no record and no parts")
	}
	return r.LoadRecord(ctx, id.String())
}

// send publishes the messages of records before firstFailed and returns the
// first record whose message failed (or firstFailed).
func (r *Router) send(ctx context.Context, s Sender, out []outgoing, firstFailed int) int {
	if s == nil {
		return firstFailed
	}
	var msgs []queue.Msg
	for _, o := range out {
		if o.record >= firstFailed {
			break
		}
		msgs = append(msgs, o.msg)
	}
	if len(msgs) == 0 {
		return firstFailed
	}
	for i, err := range s.SendBatch(ctx, msgs) {
		if err != nil && out[i].record < firstFailed {
			r.Log.ErrorContext(ctx, "routing failed; the batch resumes here", slog.String("error", err.Error()))
			firstFailed = out[i].record
		}
	}
	return firstFailed
}

// pollMessage is the poll queue's message for an intent that entered
// processing (its transfer is followed at the bank), for a new refund (it is
// created at its provider and followed), for a payment order approved with
// an execution (its payout is created at Aiia and followed), or for an approved KYC
// or a moved payout account (the department's payout account is onboarded at
// Aiia as a payee). A redelivered event sends it again: the poller applies
// each transition once, and onboarding is idempotent.
func pollMessage(rec event.Record) (queue.Msg, bool) {
	if rec.Type != "payment_intent.status_changed" && rec.Type != "kyc.status_changed" && rec.Type != "bank_account.payout_changed" &&
		rec.Type != "refund.created" && rec.Type != "payment_order.status_changed" {
		return queue.Msg{}, false
	}
	var env struct {
		Data struct {
			RefundID      string `json:"refund_id"`
			IntentID      string `json:"payment_intent_id"`
			DepartmentID  string `json:"department_id"`
			CurrentStatus string `json:"current_status"`
			// payment_order.status_changed (seed 003's camelCase)
			OrderID string `json:"paymentOrderId"`
			Status  string `json:"status"`
			Order   struct {
				Execution *struct {
					Status string `json:"status"`
				} `json:"execution"`
			} `json:"paymentOrder"`
		} `json:"data"`
	}
	if json.Unmarshal(rec.Envelope, &env) != nil {
		return queue.Msg{}, false
	}
	if rec.Type == "payment_order.status_changed" {
		// An order approved with an execution (its portfolio pays through
		// Aiia) is sent to Aiia by the poller, then followed to its end.
		if env.Data.Status != "PROCESSING" || env.Data.Order.Execution == nil {
			return queue.Msg{}, false
		}
		return poll(rec, "payment_order", "payment_order_id", env.Data.OrderID)
	}
	if rec.Type == "kyc.status_changed" || rec.Type == "bank_account.payout_changed" {
		if rec.Type == "kyc.status_changed" && env.Data.CurrentStatus != "approved" {
			return queue.Msg{}, false
		}
		return poll(rec, "onboard_destination", "department_id", env.Data.DepartmentID)
	}
	if rec.Type == "refund.created" {
		// A committed refund is created at its provider by the poller, then
		// followed to its end.
		return poll(rec, "refund", "refund_id", env.Data.RefundID)
	}
	if env.Data.CurrentStatus != "processing" {
		return queue.Msg{}, false
	}
	return poll(rec, "", "payment_intent_id", env.Data.IntentID)
}

// poll is the poll queue's message of kind ("" for a payment intent) for
// the resource field = id of rec's tenant, its first attempt; none without
// an id.
func poll(rec event.Record, kind, field, id string) (queue.Msg, bool) {
	if id == "" {
		return queue.Msg{}, false
	}
	m := map[string]any{"partner_id": rec.PartnerID, "organization_id": rec.OrgID, field: id, "attempt": 0, "since": rec.Timestamp}
	if kind != "" {
		m["kind"] = kind
	}
	body, err := json.Marshal(m)
	if err != nil {
		return queue.Msg{}, false
	}
	return queue.Msg{Body: string(body), Attrs: map[string]string{field: id}}, true
}
