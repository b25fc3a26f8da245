package webhook

import (
	"encoding/json"
	"time"

	"github.com/modupay/modupay/shared/event"
)

// Message is one attempt of one delivery: the body of the webhook queue's
// messages. The first attempt carries the payload (the delivery does not
// exist yet); later ones find it on the delivery.
type Message struct {
	PartnerID      string    `json:"partner_id"`
	SubscriptionID string    `json:"webhook_subscription_id"`
	EventID        string    `json:"event_id"`
	EventType      string    `json:"event_type"`
	OrgID          string    `json:"organization_id,omitempty"`
	EventAt        time.Time `json:"event_at"`
	Payload        string    `json:"payload,omitempty"`
	// PayloadInOutbox: the first attempt's payload was too large for a
	// queue message; the dispatcher reads it from the event in the outbox.
	PayloadInOutbox bool      `json:"payload_in_outbox,omitempty"`
	Attempt         int       `json:"attempt"`
	NotBefore       time.Time `json:"not_before,omitzero"`
	Manual          bool      `json:"manual,omitempty"`
}

// Fanout returns the delivery messages of one committed event: one per
// subscription of the partner that wants it (subs are the partner's
// subscriptions, read by the caller once per batch). A test ping goes to its
// subscription only; a manual retry becomes the attempt it asked for.
// Other events of the module (subscription changes) are audit only.
func Fanout(rec event.Record, subs []Subscription) []Message {
	switch rec.Type {
	case TypeTest:
		var data struct {
			SubscriptionID string `json:"webhook_subscription_id"`
		}
		if json.Unmarshal(dataOf(rec), &data) != nil || data.SubscriptionID == "" {
			return nil
		}
		return []Message{{PartnerID: rec.PartnerID, SubscriptionID: data.SubscriptionID, EventID: rec.EventID, EventType: rec.Type,
			EventAt: rec.Timestamp, Payload: string(rec.Envelope), Attempt: 1}}
	case TypeRetryRequested:
		var r RetryRequest
		if json.Unmarshal(dataOf(rec), &r) != nil || r.SubscriptionID == "" || r.EventID == "" || r.Attempt < 1 {
			return nil
		}
		return []Message{{PartnerID: rec.PartnerID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, Attempt: r.Attempt, Manual: true}}
	}
	var out []Message
	for _, s := range subs {
		if s.Wants(rec.Type, rec.OrgID, rec.Timestamp) {
			out = append(out, Message{PartnerID: rec.PartnerID, SubscriptionID: s.ID, EventID: rec.EventID, EventType: rec.Type,
				OrgID: rec.OrgID, EventAt: rec.Timestamp, Payload: string(rec.Envelope), Attempt: 1})
		}
	}
	return out
}

// NeedsSubscriptions says whether Fanout needs the partner's subscriptions
// for an event of type t (the router reads them only then).
func NeedsSubscriptions(t string) bool { return Deliverable(t) }

func dataOf(rec event.Record) json.RawMessage {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(rec.Envelope, &env)
	return env.Data
}
