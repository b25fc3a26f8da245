package dynamo

import (
	"context"
	"sync"
	"time"
)

// RevocationRefresh bounds how long a revoked client's existing tokens keep
// working: each container re-reads the recent revocations at most this often.
const RevocationRefresh = 30 * time.Second

// RevocationCache answers "is this client revoked?" from memory, so that an
// authenticated request spends no DynamoDB call on authentication; one Query
// per container per RevocationRefresh keeps it current.
type RevocationCache struct {
	store   *Store
	now     func() time.Time
	mu      sync.Mutex
	revoked map[string]Revocation
	fetched time.Time
}

// NewRevocationCache returns an empty cache; its first use loads it.
func NewRevocationCache(s *Store) *RevocationCache {
	return &RevocationCache{store: s, now: s.now}
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
