package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/listing"
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

type auditItem struct {
	head
	audit.Entry
}

// auditPartitions are the partitions an entry is written to: its tenant's
// trail and one copy per filter of GET /v1/audit_logs (audit.Reader), so a
// filtered page is one Query of the filter's own partition.
func auditPartitions(e audit.Entry) []string {
	pk := auditPK(e.PartnerID, e.OrganizationID)
	out := []string{pk}
	if e.ResourceType != "" {
		out = append(out, pk+"#RT#"+e.ResourceType)
	}
	if e.ResourceID != "" {
		out = append(out, pk+"#R#"+e.ResourceID)
	}
	if e.Action != "" {
		out = append(out, pk+"#A#"+e.Action)
	}
	if e.UserID != "" {
		out = append(out, pk+"#U#"+e.UserID)
	}
	return out
}

// PutAuditEntry writes the entry once: the entry and its copies (see
// auditPartitions) in one transaction, each conditional on its absence, so
// a redelivered message changes nothing and a trail never shows an entry
// without its copies. TTL: seven calendar years (audit.Retention).
func (s *Audit) PutAuditEntry(ctx context.Context, e audit.Entry) error {
	const op = "dynamo.put_audit_entry"
	sk := e.Timestamp.UTC().Format(sortableTime) + "#" + e.ID
	ttl := audit.Retention(e.Timestamp).Unix()
	t := s.tx()
	for i, pk := range auditPartitions(e) {
		name := "entry"
		if i > 0 {
			name = "copy"
		}
		t.Put(name, auditItem{head: head{PK: pk, SK: sk, Kind: "audit", TTL: ttl}, Entry: e}, ifNew)
	}
	err := t.Run(ctx)
	if err != nil && t.Failed(err, "entry", "copy") {
		return nil // written before: a redelivery
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// auditCountBound is how far total_items is counted: beyond, it is null.
const auditCountBound = 1000

// ListEntries reads a page of one tenant's trail, newest first
// (audit.Reader). The most selective filter picks the partition (resource,
// then user, action, resource type, else the whole trail); the date range
// is a range of its sort key. A page costs O(page size) in every case:
//
//   - one filter (and dates): one Query of page_size entries;
//   - two filters or more: the others are a FilterExpression on one Query
//     that reads page_size entries of the partition, so the page may hold
//     fewer (even none) while next_cursor goes on; page numbers beyond the
//     first are refused there (they would read from the start).
//
// total_items is counted, up to auditCountBound, when only the partition
// and the dates filter, on the first page (not on pages by cursor): one
// more Query, which DynamoDB answers with a count. A cursor is bound to its
// partition and must lie within the dates asked.
func (s *Audit) ListEntries(ctx context.Context, partnerID, orgID string, q audit.Query) (listing.Page[audit.Entry], error) {
	const op = "dynamo.list_audit_entries"
	pk := auditPK(partnerID, orgID)
	rest := map[string]string{} // attribute → value the entries must also have
	switch {
	case q.ResourceID != "":
		pk += "#R#" + q.ResourceID
		rest["resource_type"], rest["user_id"], rest["action"] = q.ResourceType, q.UserID, q.Action
	case q.UserID != "":
		pk += "#U#" + q.UserID
		rest["resource_type"], rest["action"] = q.ResourceType, q.Action
	case q.Action != "":
		pk += "#A#" + q.Action
		rest["resource_type"] = q.ResourceType
	case q.ResourceType != "":
		pk += "#RT#" + q.ResourceType
	}
	cond, values := "PK = :pk", map[string]types.AttributeValue{":pk": str(pk)}
	var from, to string
	if !q.From.IsZero() {
		from = q.From.UTC().Format(sortableTime)
		values[":from"] = str(from)
	}
	if !q.To.IsZero() {
		to = q.To.UTC().Format(sortableTime) + "#~" // every id sorts before '~'
		values[":to"] = str(to)
	}
	switch {
	case from != "" && to != "":
		cond += " AND SK BETWEEN :from AND :to"
	case from != "":
		cond += " AND SK >= :from"
	case to != "":
		cond += " AND SK <= :to"
	}
	var start map[string]types.AttributeValue
	if q.Page.Cursor != "" {
		var err error
		if start, err = decodeCursor(q.Page.Cursor, attrPK, pk); err != nil {
			return listing.Page[audit.Entry]{}, err
		}
		// DynamoDB refuses a start key outside the key condition: a cursor
		// of other dates is the caller's mistake, not a server error.
		sk, _ := start[attrSK].(*types.AttributeValueMemberS)
		if sk == nil || (from != "" && sk.Value < from) || (to != "" && sk.Value > to) {
			return listing.Page[audit.Entry]{}, apperr.Field(op, "cursor", "cursor is not one this list returned")
		}
	}
	in := dynamodb.QueryInput{KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(false)}
	var filters []string
	names := map[string]string{}
	for _, attr := range []string{"resource_type", "user_id", "action"} {
		if v := rest[attr]; v != "" {
			n := len(filters)
			filters = append(filters, fmt.Sprintf("#f%d = :f%d", n, n))
			names[fmt.Sprintf("#f%d", n)], values[fmt.Sprintf(":f%d", n)] = attr, str(v)
		}
	}
	page := listing.Page[audit.Entry]{Total: -1}
	var items []map[string]types.AttributeValue
	if len(filters) > 0 {
		if q.Page.Cursor == "" && q.Page.Page > 1 {
			return listing.Page[audit.Entry]{}, apperr.Field(op, "page", "with two filters, pages after the first are read by cursor: follow next_cursor")
		}
		in.TableName, in.Limit, in.ExclusiveStartKey = aws.String(s.table), aws.Int32(int32(q.Page.Size)), start
		in.FilterExpression, in.ExpressionAttributeNames = aws.String(strings.Join(filters, " AND ")), names
		out, err := s.db.Query(ctx, &in)
		if err != nil {
			return listing.Page[audit.Entry]{}, transient(op, err)
		}
		items = out.Items
		if out.LastEvaluatedKey != nil {
			page.Next = encodeCursor(lastKey(out.LastEvaluatedKey, in))
		}
	} else {
		var err error
		if items, page.Next, _, err = s.queryPage(ctx, in, attrPK, pk, q.Page, nil, false); err != nil {
			return listing.Page[audit.Entry]{}, apperr.Wrap(op, err)
		}
		if q.Page.Cursor == "" && !q.Page.NoTotal {
			if page.Total, err = s.countAudit(ctx, in); err != nil {
				return listing.Page[audit.Entry]{}, apperr.Wrap(op, err)
			}
		}
	}
	page.Items = make([]audit.Entry, 0, len(items))
	for _, m := range items {
		var it auditItem
		if err := unmarshal(m, &it); err != nil {
			return listing.Page[audit.Entry]{}, apperr.Wrap(op, err)
		}
		page.Items = append(page.Items, it.Entry)
	}
	return page, nil
}

// countAudit counts the query's entries up to auditCountBound: -1 beyond.
// DynamoDB counts at most 1 MB of items per call, so this is one call for
// a bounded trail of ordinary entries, a few when they are large.
func (s *Audit) countAudit(ctx context.Context, in dynamodb.QueryInput) (int, error) {
	in.TableName, in.Select = aws.String(s.table), types.SelectCount
	n := 0
	for {
		in.Limit = aws.Int32(int32(auditCountBound + 1 - n))
		out, err := s.db.Query(ctx, &in)
		if err != nil {
			return 0, transient("dynamo.count_audit", err)
		}
		n += int(out.Count)
		if n > auditCountBound {
			return -1, nil
		}
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
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

// SeedAuditTrail writes entries straight into a tenant's trail and its
// resource-type copies, unconditionally, 25 items per call (the bench's
// large trails; the writer uses PutAuditEntry). The other copies are left
// out: the bench reads these two partitions.
func (s *Audit) SeedAuditTrail(ctx context.Context, es []audit.Entry) error {
	const op = "dynamo.seed_audit_trail"
	var reqs []types.WriteRequest
	flush := func() error {
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for len(pending) > 0 {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return transient(op, err)
			}
			pending = out.UnprocessedItems
		}
		reqs = reqs[:0]
		return nil
	}
	for _, e := range es {
		pk := auditPK(e.PartnerID, e.OrganizationID)
		for _, p := range []string{pk, pk + "#RT#" + e.ResourceType} {
			item, err := marshal(auditItem{head: head{PK: p, SK: e.Timestamp.UTC().Format(sortableTime) + "#" + e.ID, Kind: "audit",
				TTL: audit.Retention(e.Timestamp).Unix()}, Entry: e})
			if err != nil {
				return apperr.Wrap(op, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			if len(reqs) == 25 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if len(reqs) > 0 {
		return flush()
	}
	return nil
}
