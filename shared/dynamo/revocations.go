package dynamo

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RevocationRefresh bounds how long a revoked client's existing tokens keep
// working: each container re-reads the recent revocations at most this often.
const RevocationRefresh = 30 * time.Second

// RevocationCache answers "is this client revoked?" from memory, so that an
// authenticated request spends no DynamoDB call on authentication; one Query
// per container per RevocationRefresh keeps it current.
type RevocationCache struct {
	store   *Revocations
	now     func() time.Time
	mu      sync.Mutex
	revoked map[string]Revocation
	fetched time.Time
}

// NewRevocationCache returns an empty cache; its first use loads it.
func NewRevocationCache(s *Store) *RevocationCache {
	return &RevocationCache{store: s.Revocations, now: s.shared.now}
}

// Revoked implements httpapi.RevocationChecker.
func (c *RevocationCache) Revoked(ctx context.Context, clientID string, issuedAt time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.revoked == nil || now.Sub(c.fetched) >= RevocationRefresh {
		m, err := c.store.RecentRevocations(ctx, now.Add(-revocationKeep))
		if err != nil {
			if c.revoked == nil {
				return false, err
			}
			// Keep answering from the last list; the next request retries.
		} else {
			c.revoked, c.fetched = m, now
		}
	}
	r, ok := c.revoked[clientID]
	if !ok {
		return false, nil
	}
	// A token's iat has whole seconds: one issued in the second of a
	// rotation counts as issued before it (the client asks for another).
	return !r.IssuedUpTo || !issuedAt.After(r.At.Truncate(time.Second)), nil
}

// Revocations reads the recent revocations every function's auth cache
// keeps (credentials write them).
type Revocations struct{ *base }

// Revocation is what the auth cache knows of a client's revocation.
type Revocation struct {
	At time.Time
	// IssuedUpTo: only tokens issued at or before At are revoked (a secret
	// rotation); otherwise all of them (a revoked client).
	IssuedUpTo bool
}

// RecentRevocations lists clients revoked since a time: one Query of a
// partition that holds at most the last 70 minutes of revocations.
func (s *Revocations) RecentRevocations(ctx context.Context, since time.Time) (map[string]Revocation, error) {
	const op = "dynamo.recent_revocations"
	items, err := queryAll(ctx, s.base, op, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND SK >= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkRevocations), ":since": str(since.UTC().Format(sortableTime))},
	}, func(it revocationItem) revocationItem { return it })
	if err != nil {
		return nil, err
	}
	out := make(map[string]Revocation, len(items))
	for _, it := range items { // in time order: a full revocation is never undone
		if prev, ok := out[it.ClientID]; ok && !prev.IssuedUpTo {
			continue
		}
		out[it.ClientID] = Revocation{At: it.RevokedAt, IssuedUpTo: it.IssuedUpTo}
	}
	return out, nil
}
