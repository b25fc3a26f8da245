package aiiasandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"
)

// Store keeps the sandbox's records (tokens, destinations, payments,
// refunds, payouts, authorisations, X-Request-Id entries, queued faults),
// each a JSON document under a kind and an id. The local stack and the
// tests keep them in memory (MemoryStore); the deployed sandbox bank, a
// Lambda function whose containers come and go, in its DynamoDB table
// (DynamoStore), so that a payment created by one container is authorised
// on the page another serves and followed by the poller through a third.
//
// Every change of an existing record is an Update: read, change, write
// back only if nobody wrote in between (retried), so two containers can
// never both decide one payment.
type Store interface {
	// Get reads the record into v; false when there is none.
	Get(ctx context.Context, kind, id string, v any) (bool, error)
	// Create writes a new record, ErrExists when the id is taken. The
	// record may be dropped after expires (zero: kept); listed kinds (see
	// Recent) are listed by their created time.
	Create(ctx context.Context, kind, id string, v any, created, expires time.Time) error
	// Update reads the record into v (a pointer to a zero value), calls
	// change and writes v back unless change fails, which is returned.
	// false when there is no record (change is not called).
	Update(ctx context.Context, kind, id string, v any, change func() error) (bool, error)
	// Put writes the record whatever was there (the singletons' first write).
	Put(ctx context.Context, kind, id string, v any, expires time.Time) error
	// Delete drops the record.
	Delete(ctx context.Context, kind, id string) error
	// Recent calls each with the newest records of a listed kind, newest
	// first, at most limit.
	Recent(ctx context.Context, kind string, limit int, each func(doc []byte) error) error
}

// ErrExists is Create's answer for an id already taken.
var ErrExists = errors.New("aiiasandbox: record exists")

// errConflict is a lost race between a read and its conditional write.
var errConflict = errors.New("aiiasandbox: record changed")

// updateAttempts bounds the retries of an Update that keeps losing races.
const updateAttempts = 8

// listed are the kinds Recent lists (the index page's payments).
var listed = map[string]bool{kindPayment: true}

// The record kinds.
const (
	kindToken         = "token"
	kindAssertion     = "assertion" // a client assertion's jti, kept until it expires (replays)
	kindDestination   = "destination"
	kindPayment       = "payment"
	kindRefund        = "refund"
	kindPayout        = "payout"
	kindAuthorization = "authorization"
	kindIdem          = "idem"
	kindMeta          = "meta" // singletons: the fault queue, the token generation
)

// zero resets what v points to, so a retried read starts clean.
func zero(v any) { reflect.ValueOf(v).Elem().SetZero() }

// update is Update's loop over a store's read and conditional write.
func update(ctx context.Context, v any, change func() error,
	read func(ctx context.Context) (version int64, found bool, err error),
	write func(ctx context.Context, doc []byte, version int64) error) (bool, error) {
	for attempt := 0; attempt < updateAttempts; attempt++ {
		zero(v)
		version, found, err := read(ctx)
		if err != nil || !found {
			return false, err
		}
		if err := change(); err != nil {
			return true, err
		}
		doc, err := json.Marshal(v)
		if err != nil {
			return true, err
		}
		switch err := write(ctx, doc, version); {
		case err == nil:
			return true, nil
		case !errors.Is(err, errConflict):
			return true, err
		}
	}
	return true, fmt.Errorf("aiiasandbox: %d conflicting writes in a row", updateAttempts)
}

// MemoryStore is a Store in memory: the local stack's and the tests'.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]memRecord
}

type memRecord struct {
	doc     []byte
	version int64
	kind    string
	created time.Time
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{records: map[string]memRecord{}} }

func memKey(kind, id string) string { return kind + "#" + id }

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, kind, id string, v any) (bool, error) {
	m.mu.Lock()
	rec, ok := m.records[memKey(kind, id)]
	m.mu.Unlock()
	if !ok {
		return false, nil
	}
	zero(v)
	return true, json.Unmarshal(rec.doc, v)
}

// Create implements Store.
func (m *MemoryStore) Create(_ context.Context, kind, id string, v any, created, expires time.Time) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[memKey(kind, id)]; ok {
		return ErrExists
	}
	m.records[memKey(kind, id)] = memRecord{doc: doc, version: 1, kind: kind, created: created, expires: expires}
	return nil
}

// Put implements Store.
func (m *MemoryStore) Put(_ context.Context, kind, id string, v any, expires time.Time) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.records[memKey(kind, id)]
	rec.doc, rec.version, rec.kind, rec.expires = doc, rec.version+1, kind, expires
	m.records[memKey(kind, id)] = rec
	return nil
}

// Update implements Store.
func (m *MemoryStore) Update(ctx context.Context, kind, id string, v any, change func() error) (bool, error) {
	key := memKey(kind, id)
	return update(ctx, v, change,
		func(context.Context) (int64, bool, error) {
			m.mu.Lock()
			rec, ok := m.records[key]
			m.mu.Unlock()
			if !ok {
				return 0, false, nil
			}
			return rec.version, true, json.Unmarshal(rec.doc, v)
		},
		func(_ context.Context, doc []byte, version int64) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			rec, ok := m.records[key]
			if !ok || rec.version != version {
				return errConflict
			}
			rec.doc, rec.version = doc, version+1
			m.records[key] = rec
			return nil
		})
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, kind, id string) error {
	m.mu.Lock()
	delete(m.records, memKey(kind, id))
	m.mu.Unlock()
	return nil
}

// Recent implements Store.
func (m *MemoryStore) Recent(_ context.Context, kind string, limit int, each func([]byte) error) error {
	m.mu.Lock()
	var recs []memRecord
	for _, r := range m.records {
		if r.kind == kind && listed[kind] {
			recs = append(recs, r)
		}
	}
	m.mu.Unlock()
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].created.After(recs[j].created) })
	for i, r := range recs {
		if i == limit {
			break
		}
		if err := each(r.doc); err != nil {
			return err
		}
	}
	return nil
}

// Count is the number of records of a kind (for tests).
func (m *MemoryStore) Count(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.records {
		if r.kind == kind {
			n++
		}
	}
	return n
}
