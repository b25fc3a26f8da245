package dynamo

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/ratelimit"
)

// RateLimits stores fixed-window counters (credential.TokenCounters).
type RateLimits struct{ *base }

// Fixed-window counters: one item per key and window, PK "RL#<key>", SK
// "W#<window start, Unix seconds>", a number n and a TTL at the window's end.
// A new window is a new item, so a counter is never reset and a stale one
// is never read (TTL deletion may lag by days; reads name the current
// window). Each item takes at most one write per failed attempt, far below
// DynamoDB's ~1 000 writes/s per partition key (the stage throttle already
// caps requests at 100/s), and refused requests write nothing.
func counterKey(c ratelimit.Counter) map[string]types.AttributeValue {
	return key("RL#"+c.Key, "W#"+strconv.FormatInt(c.Start.Unix(), 10))
}

const maxClientIDBytes = 200 // as GetClient: longer ids cannot exist

// GetClientWithCounters reads a client and the current values of counters
// in one BatchGetItem (the token endpoint's single read); counters must be
// distinct, as BatchGetItem refuses a key named twice. Counters are read
// eventually consistent: a count may lag a concurrent increment by a few
// attempts, which the limits tolerate (see credential.TokenLimits).
func (s *RateLimits) GetClientWithCounters(ctx context.Context, clientID string, counters ...ratelimit.Counter) (credential.Client, []int, error) {
	const op = "dynamo.get_client_with_counters"
	counts := make([]int, len(counters))
	keys := make([]map[string]types.AttributeValue, 0, len(counters)+1)
	withClient := clientID != "" && len(clientID) <= maxClientIDBytes
	if withClient {
		keys = append(keys, key(clientPK(clientID), skClient))
	}
	index := map[string]int{} // "PK SK" of a counter → its position
	for i, c := range counters {
		k := counterKey(c)
		index[counterID(k)] = i
		keys = append(keys, k)
	}
	var client *credential.Client
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys}}}
	for len(keys) > 0 && len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return credential.Client{}, nil, transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			pk, _ := raw[attrPK].(*types.AttributeValueMemberS)
			sk, _ := raw[attrSK].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			if sk.Value == skClient && withClient && pk.Value == clientPK(clientID) {
				var it clientItem
				if err := unmarshal(raw, &it); err != nil {
					return credential.Client{}, nil, apperr.Wrap(op, err)
				}
				c := it.client()
				client = &c
				continue
			}
			if i, ok := index[counterID(raw)]; ok {
				n, err := counterValue(raw)
				if err != nil {
					return credential.Client{}, nil, apperr.Wrap(op, err)
				}
				counts[i] = n
			}
		}
		in.RequestItems = out.UnprocessedKeys
	}
	if client == nil {
		return credential.Client{}, counts, apperr.E(op, apperr.NotFound, "client not found")
	}
	return *client, counts, nil
}

// AddToCounters adds one to each counter, creating it with its TTL when it is
// the window's first, and returns the new values. The updates run side by
// side (one UpdateItem each): an atomic ADD never conflicts with a
// concurrent one, where a transaction over hot counters would be cancelled.
func (s *RateLimits) AddToCounters(ctx context.Context, counters ...ratelimit.Counter) ([]int, error) {
	const op = "dynamo.add_to_counters"
	counts := make([]int, len(counters))
	errs := make([]error, len(counters))
	var wg sync.WaitGroup
	for i, c := range counters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(s.table),
				Key:                       counterKey(c),
				UpdateExpression:          aws.String("ADD n :one SET #ttl = if_not_exists(#ttl, :ttl), kind = if_not_exists(kind, :kind)"),
				ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":ttl": num(c.End.Unix()), ":kind": str("rate_counter")},
				ReturnValues:              types.ReturnValueUpdatedNew,
			})
			if err != nil {
				errs[i] = transient(op, err)
				return
			}
			counts[i], errs[i] = counterValue(out.Attributes)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	return counts, nil
}

func counterID(item map[string]types.AttributeValue) string {
	pk, _ := item[attrPK].(*types.AttributeValueMemberS)
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + " " + sk.Value
}

func counterValue(item map[string]types.AttributeValue) (int, error) {
	n, ok := item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	return strconv.Atoi(n.Value)
}
