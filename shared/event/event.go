// Package event is the domain event: what a committed change says to the
// outside world (webhooks) and to the audit trail. A service writes its events
// in the same transaction as the change they describe; the table's stream
// carries them to the queues, so a crash between "saved" and "published" loses
// nothing. Consumers are idempotent on ID because delivery is at least once.
package event

import (
	"encoding/json"
	"time"
)

// Event is the envelope partners receive, exactly as seed 000 shows it:
// event_id, event_type, timestamp, organization_id, data.
type Event struct {
	ID             string          `json:"event_id"`
	Type           string          `json:"event_type"`
	Timestamp      time.Time       `json:"timestamp"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Data           json.RawMessage `json:"data"`

	// Routing and audit context, not part of the webhook payload.
	PartnerID string `json:"-"`
	Actor     Actor  `json:"-"`
	// Audit describes the change for the audit trail.
	Audit Change `json:"-"`
}

// Actor is who caused the event: an API client, or the system (schedules, pollers).
type Actor struct {
	ID        string `json:"user_id"`
	Type      string `json:"user_type"` // partner, organization, system
	IPAddress string `json:"ip_address,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Change is the audit trail's view: which resource, what action, before and after.
type Change struct {
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Action       string          `json:"action"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
}

// New builds an event; data and the audit snapshots are marshalled once here.
func New(id, typ string, at time.Time, partnerID, orgID string, actor Actor, data any, change Change) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	return Event{ID: id, Type: typ, Timestamp: at.UTC(), OrganizationID: orgID, Data: raw, PartnerID: partnerID, Actor: actor, Audit: change}, nil
}

// Snapshot marshals a resource for Change.Before/After; nil gives JSON null.
func Snapshot(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// Record is what travels from the outbox to the consumers (the audit writer,
// later the webhook fan-out): the envelope partners see plus the routing and
// audit context. It is the body of the queue messages.
type Record struct {
	EventID   string          `json:"event_id"`
	Type      string          `json:"event_type"`
	PartnerID string          `json:"partner_id"`
	OrgID     string          `json:"organization_id,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
	Actor     Actor           `json:"actor"`
	Change    Change          `json:"change"`
	Envelope  json.RawMessage `json:"envelope"`
}

// Record returns the event's record.
func (e Event) Record() (Record, error) {
	env, err := json.Marshal(e)
	if err != nil {
		return Record{}, err
	}
	return Record{EventID: e.ID, Type: e.Type, PartnerID: e.PartnerID, OrgID: e.OrganizationID,
		Timestamp: e.Timestamp, Actor: e.Actor, Change: e.Audit, Envelope: env}, nil
}
