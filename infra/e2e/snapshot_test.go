package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// tableSnapshot reads a world's table raw, to prove that refused requests
// wrote nothing. Tests may Scan; the product never does.
type tableSnapshot struct {
	db    *dynamodb.Client
	table string
}

func newTableSnapshot(t *testing.T, w *world) *tableSnapshot {
	t.Helper()
	cfg, err := wiring.AWSConfig(context.Background(), stack.Region(), true)
	if err != nil {
		t.Fatal(err)
	}
	return &tableSnapshot{db: wiring.NewDynamoDB(cfg, w.cfg.DynamoDBEndpoint), table: w.cfg.Table}
}

// items are the snapshot's items by "PK | SK", as JSON.
type items map[string]string

// take reads every item whose keys name one of ids: the tenant's own items
// (organisation, department and its accounts, invoices, links, intents,
// clients, subscriptions, claims, counters). Left out, as they change on
// their own while the stack runs: audit entries, parked messages, outbox
// events (written only with a change, which shows in the items above),
// idempotency records and webhook delivery records (the dispatcher's).
func (s *tableSnapshot) take(t *testing.T, ids []string) items {
	t.Helper()
	out := items{}
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.table), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			pk, _ := m["PK"].(string)
			sk, _ := m["SK"].(string)
			gsi, _ := m["GSI1PK"].(string)
			if skipped(pk) || !namesAny(pk+" "+sk+" "+gsi, ids) {
				continue
			}
			b, _ := json.Marshal(m)
			out[pk+" | "+sk] = string(b)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		start = res.LastEvaluatedKey
	}
}

func skipped(pk string) bool {
	// APICALL#: every request, an attacker's included, is logged (under
	// the caller's partner); TestOtherTenantsGetNotFound checks the
	// victim's log apart.
	for _, p := range []string{"AUDIT#", "APICALL#", "PARKED#", "EVENT#", "IDEM#", "REVOCATIONS"} {
		if strings.HasPrefix(pk, p) {
			return true
		}
	}
	return strings.Contains(pk, "#WHD#")
}

func namesAny(s string, ids []string) bool {
	for _, id := range ids {
		if id != "" && strings.Contains(s, id) {
			return true
		}
	}
	return false
}

// diff lists the items added, removed or changed since before.
func (now items) diff(before items) string {
	var lines []string
	for k, v := range now {
		switch old, ok := before[k]; {
		case !ok:
			lines = append(lines, "added   "+k+": "+v)
		case old != v:
			lines = append(lines, fmt.Sprintf("changed %s:\n  was %s\n  now %s", k, old, v))
		}
	}
	for k := range before {
		if _, ok := now[k]; !ok {
			lines = append(lines, "removed "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
