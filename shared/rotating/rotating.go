// Package rotating keeps a value built from a secret current without a
// redeploy: a container re-reads the secret once its copy is older than a
// cache time, on the request that finds it stale, so a key rotated in
// Secrets Manager is in use everywhere within that time.
package rotating

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// RetryAfter is how soon a failed refresh is tried again (the last good
// value serving meanwhile).
const RetryAfter = 30 * time.Second

// FetchTimeout bounds one refresh, on the request that triggers it.
const FetchTimeout = 2 * time.Second

// Value is a T built from a secret's text, refreshed after TTL.
type Value[T any] struct {
	cur     atomic.Pointer[T]
	due     atomic.Int64 // UnixNano after which a refresh is due
	mu      sync.Mutex   // one refresh at a time
	fetch   func(context.Context) (string, error)
	parse   func(string) (T, error)
	ttl     time.Duration
	now     func() time.Time
	onError func(error)
}

// New serves initial (built at init from the same secret) and refreshes it
// with fetch and parse once ttl has passed. A fetch or parse that fails
// leaves the last good value in place, reports the error to onError (which
// must not log the secret: errors from parse name entries, never values),
// and is tried again after RetryAfter. now may be nil (time.Now).
func New[T any](initial T, fetch func(context.Context) (string, error), parse func(string) (T, error), ttl time.Duration,
	now func() time.Time, onError func(error)) *Value[T] {
	if now == nil {
		now = time.Now
	}
	if onError == nil {
		onError = func(error) {}
	}
	v := &Value[T]{fetch: fetch, parse: parse, ttl: ttl, now: now, onError: onError}
	v.cur.Store(&initial)
	v.due.Store(now().Add(ttl).UnixNano())
	return v
}

// Get returns the current value, refreshing it first when it is due. While
// one request refreshes, the others are served the value they have: a
// container makes at most one fetch at a time.
func (v *Value[T]) Get() T {
	if v.now().UnixNano() < v.due.Load() || !v.mu.TryLock() {
		return *v.cur.Load()
	}
	defer v.mu.Unlock()
	now := v.now()
	if now.UnixNano() < v.due.Load() { // refreshed while this one waited
		return *v.cur.Load()
	}
	ctx, cancel := context.WithTimeout(context.Background(), FetchTimeout)
	defer cancel()
	text, err := v.fetch(ctx)
	var next T
	if err == nil {
		next, err = v.parse(text)
	}
	if err != nil {
		v.onError(err)
		v.due.Store(now.Add(RetryAfter).UnixNano())
		return *v.cur.Load()
	}
	v.cur.Store(&next)
	v.due.Store(now.Add(v.ttl).UnixNano())
	return next
}
