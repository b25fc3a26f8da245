// Package idempotency is the state of the API's idempotency keys
// (draft-ietf-httpapi-idempotency-key-header): the record kept for one
// client's key and the store that persists it. It knows neither HTTP nor
// DynamoDB: the middleware that claims, replays and releases keys is in
// package httpapi, the storage in package dynamo.
package idempotency

import (
	"context"
	"time"
)

// Record is one key's state.
type Record struct {
	Scope       string // the API client the key belongs to
	Key         string
	Fingerprint string // hash of method, path, entity and body
	Completed   bool
	Status      int
	Header      map[string]string
	Body        []byte
	LockedUntil time.Time // an in-progress claim older than this may be taken over (crashed request)
	ExpiresAt   time.Time
}

// Store persists records. Begin must be atomic: of two concurrent Begins
// for one key exactly one gets (nil, nil).
type Store interface {
	// Begin claims rec's key, or returns the live record that holds it.
	Begin(ctx context.Context, rec Record) (*Record, error)
	Complete(ctx context.Context, rec Record) error
	Release(ctx context.Context, scope, key string) error
}
