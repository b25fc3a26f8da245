package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"

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
	Record string `json:"record,omitempty"`
	// Parts, when the record is larger than maxInlineRecord, is how many
	// event_part items (SK PART#000…) hold it instead, written in the same
	// transaction; Record is then empty (see EventRecord).
	Parts int `json:"parts,omitempty"`
}

// eventPartItem is one piece of a large event's record.
type eventPartItem struct {
	head
	Chunk string `json:"chunk"`
}

// A record up to maxInlineRecord bytes stays in its event item; a larger
// one (an invoice of 200 lines of 500 accented characters and its
// snapshots: about 700 KB) is cut into parts of at most maxRecordPart
// bytes, each item well under DynamoDB's 400 KB.
const (
	maxInlineRecord = 300_000
	maxRecordPart   = 300_000
	// KindEventPart marks the parts (the stream's filter ignores them).
	KindEventPart = "event_part"
)

func eventPK(id string) string { return "EVENT#" + id }

// newEventItems are the outbox items of ev: its event item, then its parts
// when the record is too large for one item.
func newEventItems(ev event.Event) (eventItem, []eventPartItem, error) {
	r, err := ev.Record()
	if err != nil {
		return eventItem{}, nil, err
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return eventItem{}, nil, err
	}
	ttl := ev.Timestamp.Add(eventRetention).Unix()
	it := eventItem{head: head{PK: eventPK(ev.ID), SK: "EVENT", Kind: KindEvent, TTL: ttl}, EventID: ev.ID, Type: ev.Type,
		PartnerID: ev.PartnerID, OrgID: ev.OrganizationID, Record: string(rec)}
	if len(rec) <= maxInlineRecord {
		return it, nil, nil
	}
	chunks := splitUTF8(string(rec), maxRecordPart)
	parts := make([]eventPartItem, len(chunks))
	for i, c := range chunks {
		parts[i] = eventPartItem{head: head{PK: it.PK, SK: fmt.Sprintf("PART#%03d", i), Kind: KindEventPart, TTL: ttl}, Chunk: c}
	}
	it.Record, it.Parts = "", len(parts)
	return it, parts, nil
}

// splitUTF8 cuts s into pieces of at most max bytes, never inside a
// character (each piece is a valid DynamoDB string).
func splitUTF8(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// EventRecord reads an event's record from the outbox, joining its parts
// when it has some (the stream's image of the event item then holds no
// record). NotFound once the event has expired (7 days).
func (s *Store) EventRecord(ctx context.Context, eventID string) (string, error) {
	const op = "dynamo.event_record"
	it, err := getItem(ctx, s.shared, op, eventPK(eventID), "EVENT", "event "+eventID+" is no longer in the outbox", func(it eventItem) eventItem { return it })
	if err != nil || it.Parts == 0 {
		return it.Record, err
	}
	parts, err := queryAll(ctx, s.shared, op, &dynamodb.QueryInput{TableName: aws.String(s.shared.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :part)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(it.PK), ":part": str("PART#")}},
		func(p eventPartItem) string { return p.Chunk })
	if err != nil {
		return "", err
	}
	if len(parts) != it.Parts {
		return "", apperr.Transient(op, fmt.Errorf("event %s has %d of its %d parts", eventID, len(parts), it.Parts))
	}
	return strings.Join(parts, ""), nil
}
