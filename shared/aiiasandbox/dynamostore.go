package aiiasandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoStore is the deployed sandbox bank's Store: one item per record
// in its own table (template.yaml's SandboxBankTable, created in the
// sandbox stage only), never in ModuPay's table.
//
//	pk   S  "<kind>#<id>"
//	doc  S  the record, JSON
//	v    N  version, for the conditional writes of Update
//	ttl  N  epoch seconds after which DynamoDB may drop the item (TTL attribute)
//	kind S, at S   on listed kinds only: the sparse index RecentIndex (kind, at)
//
// Items stay far below DynamoDB's 400 KB: the largest record, an
// X-Request-Id entry, holds one answer of at most a few kilobytes.
type DynamoStore struct {
	DB    *dynamodb.Client
	Table string
}

// RecentIndex is the table's index of listed records by creation time.
const RecentIndex = "recent"

// Retention is how long the deployed sandbox keeps a record: a sandbox
// payment is followed for days at most.
const Retention = 30 * 24 * time.Hour

func (d DynamoStore) key(kind, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: kind + "#" + id}}
}

func docOf(item map[string]types.AttributeValue) (string, int64, error) {
	doc, ok := item["doc"].(*types.AttributeValueMemberS)
	if !ok {
		return "", 0, errors.New("aiiasandbox: item without doc")
	}
	var version int64
	if v, ok := item["v"].(*types.AttributeValueMemberN); ok {
		version, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	return doc.Value, version, nil
}

func (d DynamoStore) read(ctx context.Context, kind, id string, v any) (int64, bool, error) {
	out, err := d.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: d.key(kind, id), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return 0, false, err
	}
	doc, version, err := docOf(out.Item)
	if err != nil {
		return 0, false, err
	}
	return version, true, jsonUnmarshal(doc, v)
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func jsonUnmarshal(doc string, v any) error { return json.Unmarshal([]byte(doc), v) }

// Get implements Store.
func (d DynamoStore) Get(ctx context.Context, kind, id string, v any) (bool, error) {
	zero(v)
	_, found, err := d.read(ctx, kind, id, v)
	return found, err
}

func (d DynamoStore) item(kind, id string, v any, created, expires time.Time) (map[string]types.AttributeValue, error) {
	doc, err := jsonMarshal(v)
	if err != nil {
		return nil, err
	}
	item := d.key(kind, id)
	item["doc"] = &types.AttributeValueMemberS{Value: doc}
	item["v"] = &types.AttributeValueMemberN{Value: "1"}
	if !expires.IsZero() {
		item["ttl"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}
	}
	if listed[kind] {
		item["kind"] = &types.AttributeValueMemberS{Value: kind}
		item["at"] = &types.AttributeValueMemberS{Value: created.UTC().Format(time.RFC3339Nano)}
	}
	return item, nil
}

// Create implements Store.
func (d DynamoStore) Create(ctx context.Context, kind, id string, v any, created, expires time.Time) error {
	item, err := d.item(kind, id, v, created, expires)
	if err != nil {
		return err
	}
	_, err = d.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrExists
	}
	return err
}

// Put implements Store.
func (d DynamoStore) Put(ctx context.Context, kind, id string, v any, expires time.Time) error {
	item, err := d.item(kind, id, v, time.Time{}, expires)
	if err != nil {
		return err
	}
	_, err = d.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.Table), Item: item})
	return err
}

// Update implements Store.
func (d DynamoStore) Update(ctx context.Context, kind, id string, v any, change func() error) (bool, error) {
	return update(ctx, v, change,
		func(ctx context.Context) (int64, bool, error) { return d.read(ctx, kind, id, v) },
		func(ctx context.Context, doc []byte, version int64) error {
			_, err := d.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(d.Table), Key: d.key(kind, id),
				UpdateExpression:         aws.String("SET #d = :doc, #v = :next"),
				ConditionExpression:      aws.String("#v = :v"),
				ExpressionAttributeNames: map[string]string{"#d": "doc", "#v": "v"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":doc":  &types.AttributeValueMemberS{Value: string(doc)},
					":next": &types.AttributeValueMemberN{Value: strconv.FormatInt(version+1, 10)},
					":v":    &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
				},
			})
			var ccf *types.ConditionalCheckFailedException
			if errors.As(err, &ccf) {
				return errConflict
			}
			return err
		})
}

// Delete implements Store.
func (d DynamoStore) Delete(ctx context.Context, kind, id string) error {
	_, err := d.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.Table), Key: d.key(kind, id)})
	return err
}

// Recent implements Store: one Query of RecentIndex, newest first.
func (d DynamoStore) Recent(ctx context.Context, kind string, limit int, each func([]byte) error) error {
	out, err := d.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(d.Table), IndexName: aws.String(RecentIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": "kind"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: kind}},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return err
	}
	for _, item := range out.Items {
		doc, _, err := docOf(item)
		if err != nil {
			return err
		}
		if err := each([]byte(doc)); err != nil {
			return err
		}
	}
	return nil
}
