package aiiasandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault kinds. "Before" faults answer without processing; "after" faults
// process the request (and remember it for X-Request-Id) and then lose or
// spoil the answer, which is what makes a client's retry dangerous without
// idempotency.
const (
	FaultServerError      = "500"       // before: 500 with Aiia's error body
	FaultRateLimited      = "429"       // before: 429 with Retry-After (RetryAfter seconds, default 0)
	FaultServerErrorAfter = "500-after" // after: processed, answered 500
	FaultMalformed        = "malformed" // after: processed, answered with truncated JSON
	FaultSlow             = "slow"      // processed after DelayMS (longer than the client's timeout to test timeouts)
)

// Fault is one injected failure, consumed by the next API request it
// matches. Match is a path prefix, optionally preceded by a method
// ("POST /payments"); empty matches any API request (the token endpoint
// included; the flow page and /_sandbox never fail).
type Fault struct {
	Kind       string `json:"kind"`
	Match      string `json:"match,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"`
	DelayMS    int    `json:"delayMs,omitempty"`
}

func (f Fault) matches(r *http.Request) bool {
	m := f.Match
	if m == "" {
		return true
	}
	if method, rest, ok := strings.Cut(m, " "); ok {
		if method != r.Method {
			return false
		}
		m = rest
	}
	return strings.HasPrefix(r.URL.Path, m)
}

// faultQueue is the queued faults and the count of API requests
// (FailEvery), one record.
type faultQueue struct {
	Faults   []Fault `json:"faults"`
	Requests int     `json:"requests"`
}

const metaFaults = "faults"

// changeFaults applies change to the fault queue, creating it if needed.
func (s *Server) changeFaults(ctx context.Context, change func(q *faultQueue)) error {
	var q faultQueue
	found, err := s.store.Update(ctx, kindMeta, metaFaults, &q, func() error { change(&q); return nil })
	if err != nil || found {
		return err
	}
	if err := s.store.Create(ctx, kindMeta, metaFaults, faultQueue{}, time.Time{}, time.Time{}); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	_, err = s.store.Update(ctx, kindMeta, metaFaults, &q, func() error { change(&q); return nil })
	return err
}

// InjectFaults queues faults, consumed in order by matching API requests.
func (s *Server) InjectFaults(fs ...Fault) error {
	return s.changeFaults(context.Background(), func(q *faultQueue) { q.Faults = append(q.Faults, fs...) })
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() error {
	return s.changeFaults(context.Background(), func(q *faultQueue) { q.Faults = nil })
}

// takeFault counts the API request and returns the fault it meets, if
// any. A public sandbox has neither queued faults nor FailEvery: it reads
// nothing.
func (s *Server) takeFault(r *http.Request) (*Fault, error) {
	if s.opts.PublicOnly && s.opts.FailEvery == 0 {
		return nil, nil
	}
	var q faultQueue
	if _, err := s.store.Get(r.Context(), kindMeta, metaFaults, &q); err != nil || (len(q.Faults) == 0 && s.opts.FailEvery == 0) {
		return nil, err
	}
	var taken *Fault
	err := s.changeFaults(r.Context(), func(q *faultQueue) {
		taken = nil
		q.Requests++
		if s.opts.FailEvery > 0 && q.Requests%s.opts.FailEvery == 0 {
			taken = &Fault{Kind: FaultServerError}
			return
		}
		for i, f := range q.Faults {
			if f.matches(r) {
				q.Faults = append(q.Faults[:i:i], q.Faults[i+1:]...)
				taken = &f
				return
			}
		}
	})
	return taken, err
}

// response is an API answer, kept whole so it can be replayed.
type response struct {
	status int
	body   []byte
	header map[string]string
}

// idemEntry is what the sandbox remembers of an X-Request-Id.
type idemEntry struct {
	Fingerprint string            `json:"fingerprint"` // method, path and body hash
	Done        bool              `json:"done"`
	Status      int               `json:"status,omitempty"`
	Body        []byte            `json:"body,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
}

// idemTTL is how long an X-Request-Id is remembered.
const idemTTL = 24 * time.Hour

// api wraps an API handler: faults, bearer authentication (auth), and
// X-Request-Id idempotency for POSTs (idem).
func (s *Server) api(auth, idem bool, h func(r *http.Request, body []byte) response) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Once a request is in, the bank carries it through even if the
		// caller stops waiting (as API Gateway lets a Lambda finish): the
		// caller's retry then finds the answer under its X-Request-Id.
		r = r.WithContext(context.WithoutCancel(r.Context()))
		if id := r.Header.Get("X-Correlation-Id"); id != "" {
			w.Header().Set("X-Correlation-Id", id)
		}
		fault, err := s.takeFault(r)
		if err != nil {
			s.write(w, storeFailed(err), nil)
			return
		}
		if fault != nil {
			switch fault.Kind {
			case FaultServerError:
				s.write(w, errResp(http.StatusInternalServerError, "INTERNAL_ERROR", "Injected fault", "sandbox fault injection"), nil)
				return
			case FaultRateLimited:
				resp := errResp(http.StatusTooManyRequests, "RATE_LIMITED", "Too many requests", "sandbox fault injection")
				resp.header = map[string]string{"Retry-After": strconv.Itoa(fault.RetryAfter)}
				s.write(w, resp, nil)
				return
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			s.write(w, errResp(http.StatusBadRequest, "INVALID_INPUT", "The request body cannot be read", err.Error()), nil)
			return
		}
		client := ""
		if auth {
			var ok bool
			if client, ok = s.authenticate(r); !ok {
				s.write(w, errResp(http.StatusUnauthorized, "UNAUTHORIZED", "The access token is missing, invalid or expired", ""), nil)
				return
			}
		}
		key := ""
		if rid := r.Header.Get("X-Request-Id"); idem && rid != "" {
			key = client + "\x00" + rid
			sum := sha256.Sum256(body)
			fp := r.Method + " " + r.URL.Path + " " + hex.EncodeToString(sum[:])
			now := s.opts.Now()
			err := s.store.Create(r.Context(), kindIdem, key, idemEntry{Fingerprint: fp}, now, keepFor(idemTTL))
			var e idemEntry
			if errors.Is(err, ErrExists) {
				var found bool
				if found, err = s.store.Get(r.Context(), kindIdem, key, &e); err == nil && !found {
					err = errConflict // dropped in between: the client retries
				}
			}
			switch {
			case err != nil:
				s.write(w, storeFailed(err), fault)
				return
			case e.Fingerprint == "":
				// first use: recorded above
			case e.Fingerprint != fp:
				s.write(w, errResp(http.StatusUnprocessableEntity, "INVALID_INPUT",
					"X-Request-Id was already used for a different request", "use a new X-Request-Id for a new request"), fault)
				return
			case !e.Done:
				s.write(w, errResp(http.StatusConflict, "RESOURCE_IN_INVALID_STATE",
					"A request with this X-Request-Id is still being processed", "retry later"), fault)
				return
			default:
				w.Header().Set("X-Sandbox-Replayed", "true")
				s.write(w, response{status: e.Status, body: e.Body, header: e.Header}, fault)
				return
			}
		}
		if fault != nil && fault.Kind == FaultSlow {
			time.Sleep(time.Duration(fault.DelayMS) * time.Millisecond)
		}
		resp := h(r, body)
		if key != "" {
			// Best effort, as the answer is already decided: an entry left
			// unfinished answers 409 until it expires.
			if resp.status >= 500 {
				_ = s.store.Delete(r.Context(), kindIdem, key)
			} else {
				var e idemEntry
				_, _ = s.store.Update(r.Context(), kindIdem, key, &e, func() error {
					e.Done, e.Status, e.Body, e.Header = true, resp.status, resp.body, resp.header
					return nil
				})
			}
		}
		s.write(w, resp, fault)
	}
}

// write sends resp, spoiled by an "after" fault.
func (s *Server) write(w http.ResponseWriter, resp response, fault *Fault) {
	if fault != nil {
		switch fault.Kind {
		case FaultServerErrorAfter:
			resp = errResp(http.StatusInternalServerError, "INTERNAL_ERROR", "Injected fault after processing", "sandbox fault injection")
		case FaultMalformed:
			resp.body = resp.body[:len(resp.body)/2]
		}
	}
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

func jsonResp(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		return errResp(http.StatusInternalServerError, "INTERNAL_ERROR", "encoding failed", err.Error())
	}
	return response{status: status, body: b}
}

// errResp is Aiia's error shape.
func errResp(status int, reasonCode, description, details string) response {
	item := map[string]any{
		"Source":      "Accept Payments API",
		"ReasonCode":  reasonCode,
		"Description": description,
		"Recoverable": status >= 500 || status == http.StatusTooManyRequests || status == http.StatusConflict,
	}
	if details != "" {
		item["Details"] = details
	}
	return jsonResp(status, map[string]any{"Errors": map[string]any{"Error": []any{item}}})
}

// invalid is a 400 INVALID_INPUT naming the property as Aiia does.
func invalid(property, details string) response {
	return errResp(http.StatusBadRequest, "INVALID_INPUT", "Validation error occurred for the property: "+property, details)
}

func notFoundResp(what string) response {
	return errResp(http.StatusNotFound, "RESOURCE_NOT_FOUND", what+" not found", "")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.write(w, errResp(http.StatusNotFound, "RESOURCE_NOT_FOUND", "No route "+r.Method+" "+r.URL.Path, ""), nil)
}
