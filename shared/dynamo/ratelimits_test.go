package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/ratelimit"
	"github.com/modupay/modupay/shared/wiring"
)

// The token endpoint's read (a client and its failed-attempt counters in one
// call) and the counters' updates, on DynamoDB Local: exact counts under
// concurrency, one item per key and window, a TTL at the window's end.
func TestTokenCounters(t *testing.T) {
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	db := wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint)
	s := dynamo.New(db, st.Config.Table, time.Now)
	ctx, calls := callcount.With(context.Background())
	if err := s.PutPartner(ctx, credential.Partner{ID: "ptn-1", Name: "P"}, credential.Client{ID: "ptn-1-client", PartnerID: "ptn-1",
		Scope: auth.ScopePartner, SecretHash: auth.HashSecret("s"), Status: credential.StatusActive}, nil); err != nil {
		t.Fatal(err)
	}

	policy := ratelimit.Policy{Name: "token-client", Quota: 10, Window: 15 * time.Minute}
	now := time.Date(2026, 11, 21, 10, 7, 0, 0, time.UTC)
	byClient := policy.Counter("TOKEN#CLIENT#ptn-1-client", now)
	byIP := policy.Counter("TOKEN#IP#203.0.113.1", now)

	read := func(clientID string, cs ...ratelimit.Counter) (credential.Client, []int, error, int64) {
		t.Helper()
		before := calls.DynamoDB.Load()
		c, counts, err := s.GetClientWithCounters(ctx, clientID, cs...)
		return c, counts, err, calls.DynamoDB.Load() - before
	}

	// Nothing counted yet: zeros, the client found, one call.
	c, counts, err, n := read("ptn-1-client", byClient, byIP)
	if err != nil || c.ID != "ptn-1-client" || len(counts) != 2 || counts[0] != 0 || counts[1] != 0 || n != 1 {
		t.Fatalf("first read: client %q, counts %v, err %v, %d calls; want the client, [0 0], 1 call", c.ID, counts, err, n)
	}

	// 40 concurrent failures: every one counted once.
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AddToCounters(ctx, byClient, byIP); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := s.AddToCounters(ctx, byClient, byIP)
	if err != nil || got[0] != 41 || got[1] != 41 {
		t.Fatalf("41st failure: counts %v, err %v; want [41 41]", got, err)
	}

	// An unknown client: NotFound, its counters still read, one call.
	_, counts, err, n = read("no-such-client", policy.Counter("TOKEN#CLIENT#no-such-client", now), byIP)
	if apperr.CodeOf(err) != apperr.NotFound || counts[0] != 0 || counts[1] != 41 || n != 1 {
		t.Fatalf("unknown client: counts %v, err %v, %d calls; want not found, [0 41], 1 call", counts, err, n)
	}
	// An id longer than any client's: never looked up, counters still read.
	long := string(make([]byte, 300))
	if _, counts, err, _ = read(long, byIP); apperr.CodeOf(err) != apperr.NotFound || counts[0] != 41 {
		t.Fatalf("over-long id: counts %v, err %v", counts, err)
	}

	// The next window is another counter, starting from zero.
	next := policy.Counter("TOKEN#IP#203.0.113.1", now.Add(15*time.Minute))
	if _, counts, _, _ = read("ptn-1-client", next); counts[0] != 0 {
		t.Fatalf("next window: count %d, want 0", counts[0])
	}

	// The item: its key names the window, its TTL is the window's end, and
	// it is not an event (the stream filter passes only kind "event").
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Config.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "RL#TOKEN#IP#203.0.113.1"},
			"SK": &types.AttributeValueMemberS{Value: "W#1795255200"}, // 2026-11-21T10:00:00Z
		}})
	if err != nil || out.Item == nil {
		t.Fatalf("counter item: %v, %v", out, err)
	}
	for attr, want := range map[string]string{"n": "41", "ttl": "1795256100", "kind": "rate_counter"} {
		var v string
		switch a := out.Item[attr].(type) {
		case *types.AttributeValueMemberN:
			v = a.Value
		case *types.AttributeValueMemberS:
			v = a.Value
		}
		if v != want {
			t.Errorf("counter item %s = %q, want %q", attr, v, want)
		}
	}
}
