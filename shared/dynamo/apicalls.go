package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/listing"
)

// APICalls stores the API call log (apicall.Reader, and the audit writer's
// PutAPICalls).
type APICalls struct{ *base }

var _ apicall.Reader = (*APICalls)(nil)

// apiCallPK is a tenant's call log: an organisation's calls, or the
// partner's made without an organisation. The tenant is in the key, so a
// query made with the caller's ids reaches no other tenant's calls.
func apiCallPK(partnerID, orgID string) string {
	if orgID == "" {
		return "APICALL#P#" + partnerID
	}
	return "APICALL#" + orgPK(partnerID, orgID)
}

// apiCallUserPK is a tenant's calls by one API client, in GSI1: the one
// filter of the log, answered by an index so that a call stays one item
// (one put in a batch, nothing to keep in step with it).
func apiCallUserPK(partnerID, orgID, clientID string) string {
	return apiCallPK(partnerID, orgID) + "#U#" + clientID
}

type apiCallItem struct {
	head
	PartnerID string `json:"partner_id"`
	apicall.Call
}

func apiCallKey(c apicall.Call) (pk, sk string) {
	return apiCallPK(c.PartnerID, c.OrgID), c.Timestamp.UTC().Format(sortableTime) + "#" + c.RequestID
}

// apiCallWriters bounds the puts PutAPICalls runs at once (an SQS batch
// of the audit writer is 10 records).
const apiCallWriters = 10

// PutAPICalls writes calls, each with a PutItem conditional on the item's
// absence, concurrently, and returns each call's outcome: nil once written
// (or found written: a redelivery), or why not (transient: the caller
// retries that call alone).
//
// Why not one BatchWriteItem for the batch: IAM cannot tell its puts from
// its deletes (one action, dynamodb:BatchWriteItem, for both), so granting
// it would let the writer's role delete audit entries and calls; and its
// puts cannot be conditional. Single conditional puts keep the role to
// dynamodb:PutItem and every write to attribute_not_exists, for the same
// write units (one per call either way); the batch's puts run side by
// side, so a batch costs about one round trip.
func (s *APICalls) PutAPICalls(ctx context.Context, calls []apicall.Call) []error {
	const op = "dynamo.put_api_calls"
	errs := make([]error, len(calls))
	first := map[string]int{} // a call delivered twice in one batch is put once
	var todo []int
	for i, c := range calls {
		pk, sk := apiCallKey(c)
		if j, dup := first[pk+"\x00"+sk]; dup {
			errs[i] = errDuplicate(j)
			continue
		}
		first[pk+"\x00"+sk] = i
		todo = append(todo, i)
	}
	sem := make(chan struct{}, apiCallWriters)
	var wg sync.WaitGroup
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.putAPICall(ctx, op, calls[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if j, ok := err.(errDuplicate); ok {
			errs[i] = errs[int(j)]
		}
	}
	return errs
}

// errDuplicate marks a call whose outcome is the one of call j.
type errDuplicate int

func (errDuplicate) Error() string { return "duplicate" }

func (s *APICalls) putAPICall(ctx context.Context, op string, c apicall.Call) error {
	pk, sk := apiCallKey(c)
	item, err := marshal(apiCallItem{head: head{PK: pk, SK: sk, GSI1PK: apiCallUserPK(c.PartnerID, c.OrgID, c.ClientID), GSI1SK: sk,
		Kind: apicall.Kind, TTL: apicall.Retention(c.Timestamp).Unix()}, PartnerID: c.PartnerID, Call: c})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil && !checkFailed(err) {
		return transient(op, err)
	}
	return nil
}

// apiCallCountBound is how far total_items is counted: beyond, it is null.
const apiCallCountBound = 1000

// ListAPICalls reads a page of one tenant's calls, newest first
// (apicall.Reader): the tenant's partition, or its GSI1 partition of one
// API client when UserID filters; From/To are a range of the sort key, so
// a page by cursor is one Query whatever the history. The first page
// counts total_items up to apiCallCountBound (one more Query, a count);
// pages by cursor do not. A cursor is bound to the tenant and the filters
// it was made with: another tenant's, or the same with other filters, is
// refused.
func (s *APICalls) ListAPICalls(ctx context.Context, partnerID, orgID string, q apicall.Query) (listing.Page[apicall.Call], error) {
	const op = "dynamo.list_api_calls"
	pkAttr, skAttr, pk := attrPK, attrSK, apiCallPK(partnerID, orgID)
	in := dynamodb.QueryInput{ScanIndexForward: aws.Bool(false)}
	if q.UserID != "" {
		pkAttr, skAttr, pk = attrGSI1PK, attrGSI1SK, apiCallUserPK(partnerID, orgID, q.UserID)
		in.IndexName = aws.String(indexGSI1)
	}
	cond, values := pkAttr+" = :pk", map[string]types.AttributeValue{":pk": str(pk)}
	switch lo, hi := !q.From.IsZero(), !q.To.IsZero(); {
	case lo && hi:
		cond += " AND " + skAttr + " BETWEEN :from AND :to"
	case lo:
		cond += " AND " + skAttr + " >= :from"
	case hi:
		cond += " AND " + skAttr + " <= :to"
	}
	if !q.From.IsZero() {
		values[":from"] = str(q.From.UTC().Format(sortableTime))
	}
	if !q.To.IsZero() {
		values[":to"] = str(q.To.UTC().Format(sortableTime) + "#~") // every request id sorts before '~'
	}
	in.KeyConditionExpression, in.ExpressionAttributeValues = aws.String(cond), values
	tag := apiCallCursorTag(pk, q)
	page := q.Page
	if page.Cursor != "" {
		inner, ok := strings.CutPrefix(page.Cursor, tag+".")
		if !ok {
			return listing.Page[apicall.Call]{}, apperr.Field(op, "cursor", "cursor is not one this list returned")
		}
		page.Cursor = inner
	}
	items, next, _, err := s.queryPage(ctx, in, pkAttr, pk, page, nil, false)
	if err != nil {
		return listing.Page[apicall.Call]{}, apperr.Wrap(op, err)
	}
	out := listing.Page[apicall.Call]{Total: -1, Items: make([]apicall.Call, 0, len(items))}
	if next != "" {
		out.Next = tag + "." + next
	}
	for _, m := range items {
		var it apiCallItem
		if err := unmarshal(m, &it); err != nil {
			return listing.Page[apicall.Call]{}, apperr.Wrap(op, err)
		}
		c := it.Call
		c.PartnerID = it.PartnerID
		out.Items = append(out.Items, c)
	}
	if q.Page.Cursor == "" {
		if out.Total, err = s.countAPICalls(ctx, in); err != nil {
			return listing.Page[apicall.Call]{}, apperr.Wrap(op, err)
		}
	}
	return out, nil
}

// apiCallCursorTag binds a cursor to the partition and the date range it
// was made for (base64url and hex: no '.' in either part).
func apiCallCursorTag(pk string, q apicall.Query) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d", pk, q.From.UnixNano(), q.To.UnixNano()))
	return hex.EncodeToString(h[:8])
}

// countAPICalls counts the query's calls up to apiCallCountBound: -1 beyond.
func (s *APICalls) countAPICalls(ctx context.Context, in dynamodb.QueryInput) (int, error) {
	in.TableName, in.Select, in.ExclusiveStartKey = aws.String(s.table), types.SelectCount, nil
	n := 0
	for {
		in.Limit = aws.Int32(int32(apiCallCountBound + 1 - n))
		out, err := s.db.Query(ctx, &in)
		if err != nil {
			return 0, transient("dynamo.count_api_calls", err)
		}
		n += int(out.Count)
		if n > apiCallCountBound {
			return -1, nil
		}
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
