package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
)

// Audit stores the audit trail (audit.Store, with Parked).
type Audit struct{ *base }

// Parked records the messages a worker can never process.
type Parked struct{ *base }

// Audit entries live under their tenant, newest last: an organisation's
// trail (or the partner's, for partner-level actions) is one Query.
func auditPK(partnerID, orgID string) string {
	if orgID == "" {
		return "AUDIT#P#" + partnerID
	}
	return "AUDIT#" + orgPK(partnerID, orgID)
}

// auditRetention is seed 000's seven years for business events.
const auditRetention = 7 * 365 * 24 * time.Hour

type auditItem struct {
	head
	audit.Entry
}

// PutAuditEntry writes the entry once: its key comes from the event, and the
// put is conditional, so a redelivered message changes nothing.
func (s *Audit) PutAuditEntry(ctx context.Context, e audit.Entry) error {
	const op = "dynamo.put_audit_entry"
	item, err := marshal(auditItem{head: head{PK: auditPK(e.PartnerID, e.OrganizationID), SK: e.Timestamp.UTC().Format(sortableTime) + "#" + e.ID,
		Kind: "audit", TTL: e.Timestamp.Add(auditRetention).Unix()}, Entry: e})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil && !checkFailed(err) {
		return transient(op, err)
	}
	return nil
}

// Park records a message a worker can never process, with the reason, so an
// operator can inspect it (PK PARKED#<source>); the message is then acknowledged.
func (s *Parked) Park(ctx context.Context, source, messageID, body, reason string) error {
	const op = "dynamo.park"
	now := s.now().UTC()
	item, err := marshal(struct {
		head
		MessageID string    `json:"message_id"`
		Body      string    `json:"body"`
		Reason    string    `json:"reason"`
		ParkedAt  time.Time `json:"parked_at"`
	}{head{PK: "PARKED#" + source, SK: now.Format(sortableTime) + "#" + messageID, Kind: "parked", TTL: now.Add(30 * 24 * time.Hour).Unix()},
		messageID, body, reason, now})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return transient(op, err)
	}
	return nil
}

// CountAuditEntries counts a tenant's audit entries (tests and operators).
func (s *Audit) CountAuditEntries(ctx context.Context, partnerID, orgID string) (int, error) {
	const op = "dynamo.count_audit_entries"
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(auditPK(partnerID, orgID))},
		Select:                    types.SelectCount,
	}
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, transient(op, err)
		}
		n += int(out.Count)
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// CountParked counts the messages parked by a source (tests and operators).
func (s *Parked) CountParked(ctx context.Context, source string) (int, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("PARKED#" + source)},
		Select:                    types.SelectCount,
	})
	if err != nil {
		return 0, transient("dynamo.count_parked", err)
	}
	return int(out.Count), nil
}

// ListAuditEntries reads a tenant's audit entries in time order (tests and
// operators; orgID "" is the partner's own entries).
func (s *Audit) ListAuditEntries(ctx context.Context, partnerID, orgID string) ([]audit.Entry, error) {
	return queryAll(ctx, s.base, "dynamo.list_audit_entries", &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(auditPK(partnerID, orgID))},
	}, func(it auditItem) audit.Entry { return it.Entry })
}
