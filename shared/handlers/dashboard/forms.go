package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/session"
)

// formKeyField is the hidden field that makes a form that changes
// something happen once: every such form a page renders carries a key of
// its own (newFormKey), and a form sent again with its key — a double
// click, a browser's resubmission, a reload of the answer — is answered
// with where the first one led instead of acting twice. It is the API's
// Idempotency-Key, in the same store and for as long (a day), scoped to
// the session's API client under a prefix of its own.
const formKeyField = "form_key"

// Form replays: how long a resubmission waits for the first one to end,
// and how often it looks.
const (
	formWait = 3 * time.Second
	formPoll = 100 * time.Millisecond
)

func newFormKey() string { return session.NewID() }

// once runs a form's action at most once per form key. The record keeps
// only where the answer leads (a page never stored: one may show a secret
// meant to be seen once), so a replay is a 303 to that page: the resource
// the first submission made or changed. A form refused (4xx) or failed
// (5xx) releases its key: corrected and sent again, it runs. A form
// without a key runs as it is (as an API request without Idempotency-Key).
func (h *Handlers) once(fn httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		const op = "dashboard.form"
		key := formValues(r).Get(formKeyField)
		if key == "" || h.Forms == nil {
			return fn(ctx, r)
		}
		if len(key) > 64 {
			return nil, apperr.Field(op, formKeyField, "the form's key is not one of ours: reload the page")
		}
		sum := sha256.Sum256([]byte(r.RouteKey + "\n" + r.Path + "\n" + string(r.Body)))
		now := h.Now()
		rec := idempotency.Record{Scope: "dashboard:" + r.Principal.ClientID, Key: key, Fingerprint: hex.EncodeToString(sum[:]),
			LockedUntil: now.Add(30 * time.Second), ExpiresAt: now.Add(httpapi.IdempotencyTTL)}
		deadline := time.Now().Add(formWait)
		for {
			existing, err := h.Forms.Begin(ctx, &rec)
			if err != nil {
				return nil, apperr.Wrap(op, err)
			}
			if existing == nil {
				break
			}
			switch {
			case existing.Fingerprint != rec.Fingerprint:
				return nil, apperr.Field(op, formKeyField, "this form was already sent with other values: reload the page")
			case existing.Completed:
				return redirect(existing.Header["Location"]), nil
			case time.Now().After(deadline):
				return nil, apperr.E(op, apperr.Conflict, "this form was already sent and is still being processed: reload the page in a moment")
			}
			select {
			case <-ctx.Done():
				return nil, apperr.Wrap(op, ctx.Err())
			case <-time.After(formPoll):
			}
		}
		resp, err := fn(ctx, r)
		if err != nil || resp == nil || resp.Status >= 400 {
			if rerr := h.Forms.Release(context.WithoutCancel(ctx), rec.Scope, rec.Key); rerr != nil {
				h.Log.ErrorContext(ctx, "form key release failed", "request_id", r.RequestID, "error", rerr.Error())
			}
			return resp, err
		}
		to := resp.Header.Get("Location")
		if resp.Status != http.StatusSeeOther || to == "" {
			to = r.Path // the page the form was on (a list its result shows in)
		}
		rec.Completed, rec.Status, rec.Header = true, http.StatusSeeOther, map[string]string{"Location": to}
		if cerr := h.Forms.Complete(ctx, rec); cerr != nil {
			// It happened; the answer goes out. A resubmission finds the key
			// held until its lock lapses (409), then runs: as the API's.
			h.Log.ErrorContext(ctx, "form key completion failed", "request_id", r.RequestID, "error", cerr.Error())
		}
		return resp, nil
	}
}
