package dynamo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// cancellingDB answers every transaction with err and records what it got.
type cancellingDB struct {
	DB
	err   error
	calls int
	got   *dynamodb.TransactWriteItemsInput
}

func (d *cancellingDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.calls++
	d.got = in
	return &dynamodb.TransactWriteItemsOutput{}, d.err
}

type unmarshallable struct{}

func (unmarshallable) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return nil, errors.New("cannot be marshalled")
}

func cancelled(codes ...string) error {
	tce := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	// As the SDK returns it: wrapped in the operation's error.
	return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", tce)
}

// fourItems is a transaction of four named items in a fixed order.
func fourItems(db DB) *txn {
	t := &txn{db: db, table: "t"}
	t.ConditionCheck("organization", key("P#p#O#o", "ORG"), ifExists)
	t.Put("department", map[string]types.AttributeValue{attrPK: str("P#p#D#d"), attrSK: str("DEPT")}, ifNew)
	t.Put("code", map[string]types.AttributeValue{attrPK: str("P#p#O#o#DEPTCODE#C"), attrSK: str("CODE")}, ifNew)
	t.Update("counter", key("C", "SEQ"), "ADD n :one", cond{values: map[string]types.AttributeValue{":one": num(1)}})
	return t
}

func TestTxnNamesTheFailedCondition(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		first     string
		failed    []string
		notFailed []string
	}{
		{name: "committed", err: nil, first: "", notFailed: []string{"organization", "department", "code", "counter"}},
		{name: "first item", err: cancelled("ConditionalCheckFailed", "None", "None", "None"), first: "organization",
			failed: []string{"organization"}, notFailed: []string{"department", "code", "counter"}},
		{name: "third item", err: cancelled("None", "None", "ConditionalCheckFailed", "None"), first: "code",
			failed: []string{"code"}, notFailed: []string{"organization", "department", "counter"}},
		{name: "two items: the first added comes first", err: cancelled("None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"),
			first: "department", failed: []string{"department", "code"}, notFailed: []string{"organization", "counter"}},
		{name: "a conflict is no failed condition", err: cancelled("None", "TransactionConflict", "None", "None"), first: "",
			notFailed: []string{"organization", "department", "code", "counter"}},
		{name: "more reasons than items", err: cancelled("None", "None", "None", "None", "ConditionalCheckFailed"), first: "",
			notFailed: []string{"organization", "department", "code", "counter"}},
		{name: "a single write's failed condition", err: &types.ConditionalCheckFailedException{}, first: "",
			notFailed: []string{"organization", "department", "code", "counter"}},
		{name: "another error", err: errors.New("boom"), first: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := &cancellingDB{err: tc.err}
			tx := fourItems(db)
			err := tx.Run(context.Background())
			if !errors.Is(err, tc.err) {
				t.Fatalf("Run = %v, want %v", err, tc.err)
			}
			if got, want := tx.FirstFailed(err), tc.first; got != want {
				t.Errorf("FirstFailed = %q, want %q", got, want)
			}
			for _, n := range tc.failed {
				if !tx.Failed(err, n) {
					t.Errorf("Failed(%q) = false, want true", n)
				}
			}
			for _, n := range tc.notFailed {
				if tx.Failed(err, n) {
					t.Errorf("Failed(%q) = true, want false", n)
				}
			}
			if len(tc.failed) > 0 && !tx.Failed(err, append([]string{"nothing"}, tc.failed[0])...) {
				t.Errorf("Failed(nothing, %q) = false: want true when any name failed", tc.failed[0])
			}
		})
	}
}

func TestTxnBuildsItems(t *testing.T) {
	db := &cancellingDB{}
	tx := fourItems(db)
	if err := tx.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := db.calls, 1; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	items := db.got.TransactItems
	if got, want := len(items), 4; got != want {
		t.Fatalf("items = %d, want %d", got, want)
	}
	check, put, update := items[0].ConditionCheck, items[1].Put, items[3].Update
	if check == nil || put == nil || items[2].Put == nil || update == nil {
		t.Fatalf("items = %+v, want a check, two puts, an update", items)
	}
	for i, table := range []*string{check.TableName, put.TableName, items[2].Put.TableName, update.TableName} {
		if got, want := aws.ToString(table), "t"; got != want {
			t.Errorf("item %d: table %q, want %q", i, got, want)
		}
	}
	if got, want := aws.ToString(check.ConditionExpression), "attribute_exists(PK)"; got != want {
		t.Errorf("check: condition %q, want %q", got, want)
	}
	if got, want := aws.ToString(put.ConditionExpression), "attribute_not_exists(PK)"; got != want {
		t.Errorf("put: condition %q, want %q", got, want)
	}
	// Without placeholders the maps are nil: DynamoDB refuses empty ones.
	if put.ExpressionAttributeNames != nil || put.ExpressionAttributeValues != nil {
		t.Errorf("put: names %v values %v, want nil maps", put.ExpressionAttributeNames, put.ExpressionAttributeValues)
	}
	if update.ConditionExpression != nil || update.ExpressionAttributeValues == nil || aws.ToString(update.UpdateExpression) != "ADD n :one" {
		t.Errorf("update = %+v, want no condition, its values and its expression", update)
	}
}

func TestTxnBuildErrorSkipsTheCall(t *testing.T) {
	db := &cancellingDB{}
	tx := &txn{db: db, table: "t"}
	tx.Put("bad", struct {
		V unmarshallable `json:"v"`
	}{}, ifNew)
	tx.Put("good", map[string]types.AttributeValue{attrPK: str("x"), attrSK: str("y")}, ifNew)
	err := tx.Run(context.Background())
	if err == nil {
		t.Fatal("Run = nil, want the marshalling error")
	}
	if got, want := db.calls, 0; got != want {
		t.Fatalf("calls = %d, want %d", got, want)
	}
	// Callers classify it as they did any other error: an internal one.
	if got, want := apperr.CodeOf(transient("op", err)), apperr.Internal; got != want {
		t.Fatalf("code = %s, want %s", got, want)
	}
}

func TestTxnEventsAreNamedEvent(t *testing.T) {
	var evs []event.Event
	for _, id := range []string{"evt-1", "evt-2"} {
		ev, err := event.New(id, "organization.created", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), "p", "o", event.Actor{}, nil, event.Change{})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	db := &cancellingDB{err: cancelled("None", "None", "ConditionalCheckFailed")}
	tx := &txn{db: db, table: "t"}
	tx.Put("organization", map[string]types.AttributeValue{attrPK: str("x"), attrSK: str("y")}, ifNew)
	tx.Events(evs...)
	err := tx.Run(context.Background())
	if got, want := fmt.Sprint(tx.names), "[organization event event]"; got != want {
		t.Fatalf("names = %s, want %s", got, want)
	}
	if !tx.Failed(err, "event") || tx.Failed(err, "organization") {
		t.Fatalf("a reused event id: Failed(event) = %v, Failed(organization) = %v; want true, false", tx.Failed(err, "event"), tx.Failed(err, "organization"))
	}
	for i, it := range db.got.TransactItems[1:] {
		if got, want := aws.ToString(it.Put.ConditionExpression), "attribute_not_exists(PK)"; got != want {
			t.Errorf("event %d: condition %q, want %q", i, got, want)
		}
		kind, _ := it.Put.Item["kind"].(*types.AttributeValueMemberS)
		if kind == nil || kind.Value != KindEvent {
			t.Errorf("event %d: kind %v, want %q (the stream filter selects it)", i, it.Put.Item["kind"], KindEvent)
		}
	}
}
