package dynamo

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/event"
)

// txn is one TransactWriteItems call whose items are named where they are
// added ("invoice", "counter", "organization", "event"…). When DynamoDB
// cancels the transaction, its reasons come indexed by item position; the
// builder alone maps them back to names, so callers ask which named
// condition failed and the order of the items is free to change.
type txn struct {
	db    DB
	table string
	items []types.TransactWriteItem
	names []string
	err   error // the first item that could not be built
}

// cond is an item's condition expression ("" for none) and the placeholders
// it uses; on an update, the placeholders of the update expression too.
type cond struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// ifNew is the condition of a write that creates its item: a second write
// of the same key fails instead of overwriting.
var ifNew = cond{expr: "attribute_not_exists(PK)"}

// ifExists is the condition of a write or check on an item that must exist.
var ifExists = cond{expr: "attribute_exists(PK)"}

func (c cond) expression() *string {
	if c.expr == "" {
		return nil
	}
	return aws.String(c.expr)
}

// The SDK refuses empty placeholder maps: nil when there are none.
func (c cond) attrNames() map[string]string {
	if len(c.names) == 0 {
		return nil
	}
	return c.names
}

func (c cond) attrValues() map[string]types.AttributeValue {
	if len(c.values) == 0 {
		return nil
	}
	return c.values
}

func (s *base) tx() *txn { return &txn{db: s.db, table: s.table} }

func (t *txn) add(name string, it types.TransactWriteItem) {
	t.items, t.names = append(t.items, it), append(t.names, name)
}

// Put adds a put of item (an attribute map, or a struct marshalled by its
// json tags) on condition c.
func (t *txn) Put(name string, item any, c cond) {
	m, ok := item.(map[string]types.AttributeValue)
	if !ok {
		var err error
		if m, err = marshal(item); err != nil {
			t.err = cmp.Or(t.err, err)
			return
		}
	}
	t.add(name, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(t.table), Item: m,
		ConditionExpression: c.expression(), ExpressionAttributeNames: c.attrNames(), ExpressionAttributeValues: c.attrValues()}})
}

// Update adds the update expression update of the item at k, on condition c
// (whose placeholders serve both expressions).
func (t *txn) Update(name string, k map[string]types.AttributeValue, update string, c cond) {
	t.add(name, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(t.table), Key: k, UpdateExpression: aws.String(update),
		ConditionExpression: c.expression(), ExpressionAttributeNames: c.attrNames(), ExpressionAttributeValues: c.attrValues()}})
}

// Delete adds the deletion of the item at k on condition c.
func (t *txn) Delete(name string, k map[string]types.AttributeValue, c cond) {
	t.add(name, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(t.table), Key: k,
		ConditionExpression: c.expression(), ExpressionAttributeNames: c.attrNames(), ExpressionAttributeValues: c.attrValues()}})
}

// ConditionCheck adds a condition on the item at k that the transaction
// does not write.
func (t *txn) ConditionCheck(name string, k map[string]types.AttributeValue, c cond) {
	t.add(name, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(t.table), Key: k,
		ConditionExpression: c.expression(), ExpressionAttributeNames: c.attrNames(), ExpressionAttributeValues: c.attrValues()}})
}

// Events adds the outbox item of each event, named "event": it exists only
// if the change it describes commits, and it is written once (a reused
// event id fails the transaction rather than overwriting the first).
func (t *txn) Events(evs ...event.Event) {
	for _, ev := range evs {
		it, parts, err := newEventItems(ev)
		if err != nil {
			t.err = cmp.Or(t.err, err)
			return
		}
		t.Put("event", it, ifNew)
		for _, p := range parts {
			t.Put("event_part", p, ifNew)
		}
	}
}

// Run commits the items in one call. A build error is returned without
// calling DynamoDB; a cancelled transaction is the SDK's error, to be
// decoded with Failed.
func (t *txn) Run(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	_, err := t.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	return err
}

// Failed says whether err is this transaction cancelled by the failed
// condition of an item added under one of names.
func (t *txn) Failed(err error, names ...string) bool {
	for _, n := range t.failedNames(err) {
		if slices.Contains(names, n) {
			return true
		}
	}
	return false
}

// FirstFailed is the name of the first item (in the order added) whose
// condition failed, "" if none did.
func (t *txn) FirstFailed(err error) string {
	if names := t.failedNames(err); len(names) > 0 {
		return names[0]
	}
	return ""
}

// failedNames are the names of the items whose condition failed, in the
// order they were added.
func (t *txn) failedNames(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	var out []string
	for i, r := range tce.CancellationReasons {
		if i < len(t.names) && aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out = append(out, t.names[i])
		}
	}
	return out
}

// checkFailed says whether a single write (PutItem, UpdateItem,
// DeleteItem) was refused by its condition.
func checkFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// isTransactionConflict says whether DynamoDB cancelled a transaction
// because another one was writing one of its items at the same time.
func isTransactionConflict(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	return false
}
