package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/idempotency"
)

// Idempotency follows draft-ietf-httpapi-idempotency-key-header: keys are
// scoped to the API client; the same key with the same request replays the
// first response (status and body, with "Idempotent-Replayed: true"); the same
// key with another request is a 422; a retry while the first is still running
// is a 409. Responses of 5xx are not kept: the key is released so that a retry
// can execute, as a failure of ours must not be frozen for 24 hours — keeping,
// when the request reserved an id for what it creates, that id for the retry
// (idempotency.ReservedID): a creation whose transaction may have committed
// unseen is then found, not made twice.
//
// A route's Redact fields (secrets shown once) are stored as null: a replay
// answers the same status and resource with those fields null and
// "Idempotent-Redacted: <field>[, <field>]"; the secret is never shown again,
// and a client that lost it rotates it or creates another credential.
const (
	IdempotencyTTL  = 24 * time.Hour
	idempotencyLock = 30 * time.Second // longer than any function timeout (10 s)
	maxKeyLength    = 255
)

func (a *API) idempotent(ctx context.Context, req *Request, rt Route, key string) (*Response, error) {
	const op = "http.idempotency"
	key = strings.Trim(key, `"`) // accept the RFC 8941 sf-string form too
	if len(key) == 0 || len(key) > maxKeyLength || !printableASCII(key) {
		return nil, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "Idempotency-Key",
			Message: "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is recommended)"}
	}
	now := a.now()
	rec := idempotency.Record{
		Scope: req.Principal.ClientID, Key: key, Fingerprint: fingerprint(req),
		LockedUntil: now.Add(idempotencyLock), ExpiresAt: now.Add(IdempotencyTTL),
	}
	existing, err := a.idempotency.Begin(ctx, &rec)
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

	hctx, reservation := idempotency.WithReservation(ctx, rec.Reserved)
	resp, herr := rt.Handler(hctx, req)
	if herr != nil {
		resp = a.renderError(req.RouteKey, herr, req.RequestID)
	}
	if resp.Status >= 500 {
		// The key is given up so that a retry executes. When the handler
		// reserved an id, whether its write committed may be unknown (a
		// deadline cut the answer): the record stays, unlocked, so the retry
		// writes under the same id and finds out.
		rec.Reserved = reservation.ID()
		if rerr := a.giveUp(ctx, rec); rerr != nil {
			a.log.ErrorContext(ctx, "idempotency release failed", slog.String("request_id", req.RequestID), slog.String("error", rerr.Error()))
		}
		return resp, herr
	}
	rec.Completed, rec.Status, rec.Body = true, resp.Status, resp.Body
	rec.Header = map[string]string{}
	for k := range resp.Header {
		rec.Header[k] = resp.Header.Get(k)
	}
	if len(rt.Redact) > 0 && resp.Status < 300 {
		body, redacted, err := redactJSON(resp.Body, rt.Redact)
		if err != nil {
			// Never store what could not be redacted: the key is released,
			// so a retry executes again rather than replaying a secret.
			a.log.ErrorContext(ctx, "idempotency redaction failed", slog.String("request_id", req.RequestID), slog.String("error", err.Error()))
			if err := a.idempotency.Release(ctx, rec.Scope, rec.Key); err != nil {
				a.log.ErrorContext(ctx, "idempotency release failed", slog.String("request_id", req.RequestID), slog.String("error", err.Error()))
			}
			return resp, herr
		}
		rec.Body = body
		if len(redacted) > 0 {
			rec.Header[HeaderIdempotentRedacted] = strings.Join(redacted, ", ")
		}
	}
	if err := a.idempotency.Complete(ctx, rec); err != nil {
		// The operation happened; the client gets its result. A retry with the
		// key finds the claim in progress (409) until the lock lapses.
		a.log.ErrorContext(ctx, "idempotency completion failed", slog.String("request_id", req.RequestID), slog.String("error", err.Error()))
	}
	return resp, herr
}

// releaseAttempts bounds giveUp's tries, releaseWait the pause between
// them.
const (
	releaseAttempts = 4
	releaseWait     = 25 * time.Millisecond
)

// giveUp ends a claim whose request failed (5xx): Unlock when it reserved
// an id, else Release. A claim left held would answer the client's retries
// 409 for the lock's 30 s, so the call is tried again a few times (the
// table may be refusing calls, the SDK's own retries exhausted), on a
// context the request's deadline does not cut short.
func (a *API) giveUp(ctx context.Context, rec idempotency.Record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	var err error
	for attempt := 1; attempt <= releaseAttempts; attempt++ {
		if rec.Reserved != "" {
			err = a.idempotency.Unlock(ctx, rec)
		} else {
			err = a.idempotency.Release(ctx, rec.Scope, rec.Key)
		}
		if err == nil || attempt == releaseAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt) * releaseWait):
		}
	}
	return err
}

// HeaderIdempotentRedacted names, on a replay, the fields whose secret the
// idempotency record did not keep (they are null in the replayed body).
const HeaderIdempotentRedacted = "Idempotent-Redacted"

// redactJSON returns body, a JSON object, with the values of the given
// top-level fields replaced by null, and the fields it nulled (those present
// with a non-null value), in body order. The rest of the body is kept byte for
// byte, so a replay differs from the original only in the redacted values.
func redactJSON(body []byte, fields []string) ([]byte, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("httpapi: redact: the body is not a JSON object")
	}
	type span struct{ from, to int64 }
	var cuts []span
	var redacted []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("httpapi: redact: %w", err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("httpapi: redact: %w", err)
		}
		if !slices.Contains(fields, name) || string(v) == "null" {
			continue
		}
		end := dec.InputOffset()
		cuts = append(cuts, span{end - int64(len(v)), end})
		redacted = append(redacted, name)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("httpapi: redact: %w", err)
	}
	out := make([]byte, 0, len(body))
	var at int64
	for _, c := range cuts {
		out = append(out, body[at:c.from]...)
		out = append(out, "null"...)
		at = c.to
	}
	out = append(out, body[at:]...)
	return out, redacted, nil
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
