package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

// Idempotency follows draft-ietf-httpapi-idempotency-key-header: keys are
// scoped to the API client; the same key with the same request replays the
// first response (status and body, with "Idempotent-Replayed: true"); the same
// key with another request is a 422; a retry while the first is still running
// is a 409. Responses of 5xx are not kept: the key is released so that a retry
// can execute, as a failure of ours must not be frozen for 24 hours.
const (
	IdempotencyTTL  = 24 * time.Hour
	idempotencyLock = 30 * time.Second // longer than any function timeout (10 s)
	maxKeyLength    = 255
)

// IdempotencyRecord is one key's state.
type IdempotencyRecord struct {
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

// IdempotencyStore persists records. Begin must be atomic: of two concurrent
// Begins for one key exactly one gets (nil, nil).
type IdempotencyStore interface {
	// Begin claims rec's key, or returns the live record that holds it.
	Begin(ctx context.Context, rec IdempotencyRecord) (*IdempotencyRecord, error)
	Complete(ctx context.Context, rec IdempotencyRecord) error
	Release(ctx context.Context, scope, key string) error
}

func (a *API) idempotent(ctx context.Context, req *Request, rt Route, key string) (*Response, error) {
	const op = "http.idempotency"
	key = strings.Trim(key, `"`) // accept the RFC 8941 sf-string form too
	if len(key) == 0 || len(key) > maxKeyLength || !printableASCII(key) {
		return nil, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "Idempotency-Key",
			Message: "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is recommended)"}
	}
	now := a.now()
	rec := IdempotencyRecord{
		Scope: req.Principal.ClientID, Key: key, Fingerprint: fingerprint(req),
		LockedUntil: now.Add(idempotencyLock), ExpiresAt: now.Add(IdempotencyTTL),
	}
	existing, err := a.idempotency.Begin(ctx, rec)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if existing != nil {
		switch {
		case existing.Fingerprint != rec.Fingerprint:
			return nil, &apperr.Error{Op: op, Code: apperr.IdempotencyMism, Param: "Idempotency-Key",
				Message: "this Idempotency-Key was already used with a different request"}
		case !existing.Completed:
			return nil, &apperr.Error{Op: op, Code: apperr.IdempotencyBusy, Param: "Idempotency-Key",
				Message: "a request with this Idempotency-Key is still being processed; retry later"}
		}
		h := http.Header{}
		for k, v := range existing.Header {
			h.Set(k, v)
		}
		h.Set("Idempotent-Replayed", "true")
		return &Response{Status: existing.Status, Header: h, Body: existing.Body}, nil
	}

	resp, herr := rt.Handler(ctx, req)
	if herr != nil {
		resp = errorResponse(herr, req.RequestID)
	}
	if resp.Status >= 500 {
		if err := a.idempotency.Release(ctx, rec.Scope, rec.Key); err != nil {
			a.log.ErrorContext(ctx, "idempotency release failed", slog.String("request_id", req.RequestID), slog.String("error", err.Error()))
		}
		return resp, herr
	}
	rec.Completed, rec.Status, rec.Body = true, resp.Status, resp.Body
	rec.Header = map[string]string{}
	for k := range resp.Header {
		rec.Header[k] = resp.Header.Get(k)
	}
	if err := a.idempotency.Complete(ctx, rec); err != nil {
		// The operation happened; the client gets its result. A retry with the
		// key finds the claim in progress (409) until the lock lapses.
		a.log.ErrorContext(ctx, "idempotency completion failed", slog.String("request_id", req.RequestID), slog.String("error", err.Error()))
	}
	return resp, herr
}

func fingerprint(req *Request) string {
	return Fingerprint(req.Method, req.Path, req.Header.Get("X-Entity-Id"), req.Body)
}

// Fingerprint identifies "the same request": same route target, same entity,
// same bytes. Headers other than X-Entity-Id do not change what is done.
func Fingerprint(method, path, entity string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n" + entity + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
