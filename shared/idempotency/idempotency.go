// Package idempotency is the state of the API's idempotency keys
// (draft-ietf-httpapi-idempotency-key-header): the record kept for one
// client's key and the store that persists it. It knows neither HTTP nor
// DynamoDB: the middleware that claims, replays and releases keys is in
// package httpapi, the storage in package dynamo.
package idempotency

import (
	"context"
	"sync"
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
	// Reserved is the id the key's request took for what it creates
	// (ReservedID). A request that failed (5xx) without knowing whether its
	// write committed — a transaction whose answer the deadline cut —
	// unlocks its claim keeping it (Unlock), so the retry creates under the same id: the store's
	// condition on a new id then tells it whether the first one committed.
	Reserved string
}

// Store persists records. Begin must be atomic: of two concurrent Begins
// for one key exactly one gets (nil, nil).
type Store interface {
	// Begin claims rec's key, or returns the live record that holds it. A
	// claim that takes over an unlocked record of the same fingerprint sets
	// rec.Reserved to the id that record reserved.
	Begin(ctx context.Context, rec *Record) (*Record, error)
	Complete(ctx context.Context, rec Record) error
	Release(ctx context.Context, scope, key string) error
	// Unlock gives up an in-progress claim, as Release, but keeps the
	// record with its fingerprint and Reserved id, unlocked: the next
	// request with the key and the same body takes it over and inherits
	// the id; one with another body is refused.
	Unlock(ctx context.Context, rec Record) error
}

type reservationKey struct{}

// Reservation is a request's hold on the id its key reserved.
type Reservation struct {
	mu sync.Mutex
	id string
}

// WithReservation gives ctx the reservation of a claimed key: id is what the
// key reserved before ("" for a first claim).
func WithReservation(ctx context.Context, id string) (context.Context, *Reservation) {
	r := &Reservation{id: id}
	return context.WithValue(ctx, reservationKey{}, r), r
}

// ID is the id the request reserved ("" when it reserved none).
func (r *Reservation) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.id
}

// ReservedID is the id a creation writes under: with an idempotency key,
// the one the key reserved — a retry of a request that failed after its
// write may have committed gets the first attempt's id — else a new one.
// Without a key it is newID().
func ReservedID(ctx context.Context, newID func() string) string {
	r, ok := ctx.Value(reservationKey{}).(*Reservation)
	if !ok {
		return newID()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.id == "" {
		r.id = newID()
	}
	return r.id
}
