package dynamo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	PK        string `json:"PK"`
	SK        string `json:"SK"`
	Kind      string `json:"kind"`
	EventID   string `json:"event_id"`
	Type      string `json:"event_type"`
	PartnerID string `json:"partner_id"`
	OrgID     string `json:"organization_id,omitempty"`
	// Envelope is the webhook payload, Record the audit context; both JSON.
	Envelope string `json:"envelope"`
	Record   string `json:"record"`
	TTL      int64  `json:"ttl"`
}

// putEvent is the transaction item that publishes ev: it exists only if the
// change it describes commits, and it is written once (the condition turns a
// reused event id into a failed transaction, not a silent overwrite).
func (s *Store) putEvent(ev event.Event) (types.TransactWriteItem, error) {
	r, err := ev.Record()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	item, err := marshal(eventItem{
		PK: "EVENT#" + ev.ID, SK: "EVENT", Kind: KindEvent, EventID: ev.ID, Type: ev.Type,
		PartnerID: ev.PartnerID, OrgID: ev.OrganizationID, Envelope: string(r.Envelope), Record: string(rec),
		TTL: ev.Timestamp.Add(eventRetention).Unix(),
	})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, nil
}

// transact commits items and ev's outbox item in one transaction: the change
// and the event that describes it are published together or not at all.
// Callers classify the error (conditionFailed gives each item's index).
func (s *Store) transact(ctx context.Context, ev event.Event, items ...types.TransactWriteItem) error {
	evItem, err := s.putEvent(ev)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(items, evItem)})
	return err
}
