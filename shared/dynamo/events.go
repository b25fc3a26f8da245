package dynamo

import (
	"encoding/json"
	"time"

	"github.com/modupay/modupay/shared/event"
)

// eventRetention is how long an event item stays in the table after the
// stream has carried it (the stream keeps records 24 h; a week leaves room to
// inspect and replay). The audit trail keeps its own copy for years.
const eventRetention = 7 * 24 * time.Hour

// KindEvent marks outbox items; the stream's filter selects INSERTs of this kind.
const KindEvent = "event"

// eventItem is the outbox record of one domain event.
type eventItem struct {
	head
	EventID   string `json:"event_id"`
	Type      string `json:"event_type"`
	PartnerID string `json:"partner_id"`
	OrgID     string `json:"organization_id,omitempty"`
	// Record is the event as its consumers read it (event.Record, JSON):
	// the webhook envelope and the audit context. The envelope is not kept
	// a second time beside it: an item holds at most 400 KB.
	Record string `json:"record"`
}

// newEventItem is the outbox item of ev.
func newEventItem(ev event.Event) (eventItem, error) {
	r, err := ev.Record()
	if err != nil {
		return eventItem{}, err
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return eventItem{}, err
	}
	return eventItem{head: head{PK: "EVENT#" + ev.ID, SK: "EVENT", Kind: KindEvent, TTL: ev.Timestamp.Add(eventRetention).Unix()}, EventID: ev.ID, Type: ev.Type,
		PartnerID: ev.PartnerID, OrgID: ev.OrganizationID, Record: string(rec),
	}, nil
}
