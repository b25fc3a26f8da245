package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/idempotency"
)

// Idempotency records: one item per (client, key). The key is hashed so that a
// partner's key of any shape makes a bounded, safe partition key.
func idemPK(scope, key string) string {
	h := sha256.Sum256([]byte(key))
	return "IDEM#" + scope + "#" + hex.EncodeToString(h[:])
}

const skIdem = "IDEM"

// Idempotency stores the API's idempotency records
// (idempotency.Store).
type Idempotency struct{ *base }

type idemItem struct {
	head
	Fingerprint string            `json:"fingerprint"`
	Completed   bool              `json:"completed"`
	Status      int               `json:"status,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
	Body        []byte            `json:"body,omitempty"`
	LockedUntil int64             `json:"locked_until"`
	Reserved    string            `json:"reserved,omitempty"`
}

// Begin claims the key with a conditional put: it succeeds when no record
// exists, or when the record expired (TTL deletion lags by up to days), or when
// an in-progress claim outlived its lock (the request that held it died) —
// an unlocked one (Unlock) only for the same fingerprint, whose reserved id the
// claim inherits (the put returns the record it replaced). On failure
// DynamoDB returns the holder, so the answer costs no second read.
func (s *Idempotency) Begin(ctx context.Context, rec *idempotency.Record) (*idempotency.Record, error) {
	const op = "dynamo.idempotency_begin"
	item, err := marshal(idemItem{head: head{PK: idemPK(rec.Scope, rec.Key), SK: skIdem, TTL: rec.ExpiresAt.Unix()}, Fingerprint: rec.Fingerprint,
		LockedUntil: rec.LockedUntil.Unix()})
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	now := s.now().Unix()
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK) OR #ttl < :now OR " +
			"(completed = :false AND locked_until < :now AND (attribute_not_exists(reserved) OR fingerprint = :fp))"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now), ":false": &types.AttributeValueMemberBOOL{Value: false},
			":fp": str(rec.Fingerprint)},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		var old idemItem
		if len(out.Attributes) > 0 && unmarshal(out.Attributes, &old) == nil && old.Reserved != "" &&
			!old.Completed && old.TTL >= now && old.Fingerprint == rec.Fingerprint {
			rec.Reserved = old.Reserved
		}
		return nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, transient(op, err)
	}
	holder := ccf.Item
	if holder == nil { // engines that do not return the item: read it
		out, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(idemPK(rec.Scope, rec.Key), skIdem), ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return nil, transient(op, gerr)
		}
		holder = out.Item
	}
	var it idemItem
	if err := unmarshal(holder, &it); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return &idempotency.Record{Scope: rec.Scope, Key: rec.Key, Fingerprint: it.Fingerprint, Completed: it.Completed,
		Status: it.Status, Header: it.Header, Body: it.Body, LockedUntil: time.Unix(it.LockedUntil, 0), ExpiresAt: time.Unix(it.TTL, 0),
		Reserved: it.Reserved}, nil
}

// Complete stores the response, on condition that the claim is still ours.
func (s *Idempotency) Complete(ctx context.Context, rec idempotency.Record) error {
	const op = "dynamo.idempotency_complete"
	item, err := marshal(idemItem{head: head{PK: idemPK(rec.Scope, rec.Key), SK: skIdem, TTL: rec.ExpiresAt.Unix()}, Fingerprint: rec.Fingerprint, Completed: true,
		Status: rec.Status, Header: rec.Header, Body: rec.Body, LockedUntil: rec.LockedUntil.Unix()})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("fingerprint = :fp AND completed = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":fp": str(rec.Fingerprint), ":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// Release deletes an in-progress claim so that a retry can execute.
func (s *Idempotency) Release(ctx context.Context, scope, k string) error {
	const op = "dynamo.idempotency_release"
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(idemPK(scope, k), skIdem),
		ConditionExpression:       aws.String("completed = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil && !checkFailed(err) {
		return transient(op, err)
	}
	return nil
}

// Unlock gives up an in-progress claim but keeps its record, unlocked, with
// its reserved id (idempotency.Store), on condition that the claim is still
// ours.
func (s *Idempotency) Unlock(ctx context.Context, rec idempotency.Record) error {
	const op = "dynamo.idempotency_unlock"
	item, err := marshal(idemItem{head: head{PK: idemPK(rec.Scope, rec.Key), SK: skIdem, TTL: rec.ExpiresAt.Unix()}, Fingerprint: rec.Fingerprint,
		Reserved: rec.Reserved})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("fingerprint = :fp AND completed = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":fp": str(rec.Fingerprint), ":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil && !checkFailed(err) {
		return transient(op, err)
	}
	return nil
}
