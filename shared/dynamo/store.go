// Package dynamo is the single-table DynamoDB adapter. Every tenant-owned item
// has the partner (and organisation) in its keys, so a lookup made with the
// caller's tenant ids cannot reach another tenant's item: "not found" is the
// natural answer, with no read-then-compare to forget. Access patterns and key
// shapes are listed in docs/data-model.md (a test keeps it complete).
package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/paymentorder"
	"github.com/modupay/modupay/shared/refund"
	"github.com/modupay/modupay/shared/webhook"
)

// DB is the part of the DynamoDB API this package uses.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// base is what every repository shares: one client, one table, one clock.
type base struct {
	db    DB
	table string
	now   func() time.Time
}

// Store is every repository on one table. Each repository serves one
// aggregate and its methods are defined on it alone, so Store (which embeds
// them all) has every method once and satisfies each domain's store
// interface, as a narrower composition of the repositories a use case
// needs does too.
type Store struct {
	*Organizations
	*Brandings
	*Credentials
	*Revocations
	*RateLimits
	*Departments
	*Invoices
	*Payments
	*Refunds
	*PaymentOrders
	*Webhooks
	*Audit
	*APICalls
	*Parked
	*Idempotency
	*Sessions

	shared *base
}

// Each repository is its aggregate's store; the domains' interfaces that
// also read another aggregate (an invoice's department, a client's
// organisation) are met by Store, or by the repositories they name together.
var (
	_ organization.Store       = (*Organizations)(nil)
	_ branding.Store           = (*Brandings)(nil)
	_ webhook.Store            = (*Webhooks)(nil)
	_ idempotency.Store        = (*Idempotency)(nil)
	_ credential.TokenCounters = (*RateLimits)(nil)
	_ credential.Store         = (*Store)(nil)
	_ department.Store         = (*Store)(nil)
	_ invoice.Store            = (*Store)(nil)
	_ payment.Store            = (*Store)(nil)
	_ payment.TransferStore    = (*Store)(nil)
	_ refund.Store             = (*Store)(nil)
	_ paymentorder.Store       = (*PaymentOrders)(nil)
	_ idempotency.Store        = (*Store)(nil)
)

// New returns the repositories on table, sharing db and now.
func New(db DB, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	b := &base{db: db, table: table, now: now}
	return &Store{
		Organizations: &Organizations{b},
		Brandings:     &Brandings{b},
		Credentials:   &Credentials{b},
		Revocations:   &Revocations{b},
		RateLimits:    &RateLimits{b},
		Departments:   &Departments{b},
		Invoices:      &Invoices{b},
		Payments:      &Payments{b},
		Refunds:       &Refunds{b},
		PaymentOrders: &PaymentOrders{b},
		Webhooks:      &Webhooks{b},
		Audit:         &Audit{b},
		APICalls:      &APICalls{b},
		Parked:        &Parked{b},
		Idempotency:   &Idempotency{b},
		Sessions:      &Sessions{b},
		shared:        b,
	}
}

// Table is the table's name.
func (s *Store) Table() string { return s.shared.table }

// sortableTime formats times in sort keys: fixed width, so that string order is
// time order (RFC 3339 with trimmed fractions is not).
const sortableTime = "2006-01-02T15:04:05.000000000Z"

// Key attribute names, generic so one table serves every entity.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrTTL    = "ttl"
	indexGSI1  = "GSI1"
)

// head is what every item carries for the table rather than for its entity:
// its key, its keys in the indexes, its kind and its expiry. Each item type
// embeds it, so the attribute names are written once. An item is in an
// index only when it sets that index's keys (empty ones are left out, which
// keeps the indexes sparse); kind tells items apart (the stream's filter
// passes kind "event" only); ttl, when set, is the Unix time after which
// DynamoDB deletes the item.
type head struct {
	PK     string `json:"PK"`
	SK     string `json:"SK"`
	GSI1PK string `json:"GSI1PK,omitempty"`
	GSI1SK string `json:"GSI1SK,omitempty"`
	GSI2PK string `json:"GSI2PK,omitempty"`
	GSI2SK string `json:"GSI2SK,omitempty"`
	Kind   string `json:"kind,omitempty"`
	TTL    int64  `json:"ttl,omitempty"`
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: itoa(n)}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// transient classifies SDK errors worth a retry (throttling, conflicts between
// concurrent transactions) so callers and workers can tell them from bugs.
func transient(op string, err error) error {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if c := aws.ToString(r.Code); c == "TransactionConflict" || c == "ThrottlingError" {
				return apperr.Transient(op, err)
			}
		}
	}
	var pte *types.ProvisionedThroughputExceededException
	var tc *types.TransactionConflictException
	var rle *types.RequestLimitExceeded
	var ise *types.InternalServerError
	if errors.As(err, &pte) || errors.As(err, &tc) || errors.As(err, &rle) || errors.As(err, &ise) {
		return apperr.Transient(op, err)
	}
	return apperr.Wrap(op, err)
}

// Items are (un)marshalled by their json tags, so the stored attribute names
// are the API's field names and one set of tags serves both.
func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

func unmarshal(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

// getItem reads one item into an I and converts it; a missing item is
// NotFound with msg. Projection, when set, limits what is read.
func getItem[I, T any](ctx context.Context, s *base, op, pk, sk, msg string, convert func(I) T) (T, error) {
	var zero T
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk)})
	if err != nil {
		return zero, transient(op, err)
	}
	if out.Item == nil {
		return zero, apperr.E(op, apperr.NotFound, msg)
	}
	var it I
	if err := unmarshal(out.Item, &it); err != nil {
		return zero, apperr.Wrap(op, err)
	}
	return convert(it), nil
}

// listGSI1 reads one page of a GSI1 partition (see queryPage) into I items
// and converts them.
func listGSI1[I, T any](ctx context.Context, s *base, op, pk string, q listing.Query, keep func(map[string]types.AttributeValue) bool, count bool, convert func(I) T) (listing.Page[T], error) {
	items, next, total, err := s.queryPage(ctx, dynamodb.QueryInput{
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}, attrGSI1PK, pk, q, keep, count && !q.NoTotal)
	if err != nil {
		return listing.Page[T]{}, err
	}
	page := listing.Page[T]{Items: make([]T, 0, len(items)), Next: next, Total: total}
	for _, raw := range items {
		var it I
		if err := unmarshal(raw, &it); err != nil {
			return page, apperr.Wrap(op, err)
		}
		page.Items = append(page.Items, convert(it))
	}
	return page, nil
}

// queryAll reads every page of a query into I items and converts them.
func queryAll[I, T any](ctx context.Context, s *base, op string, in *dynamodb.QueryInput, convert func(I) T) ([]T, error) {
	out := []T{}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, transient(op, err)
		}
		for _, raw := range res.Items {
			var it I
			if err := unmarshal(raw, &it); err != nil {
				return nil, apperr.Wrap(op, err)
			}
			out = append(out, convert(it))
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
