package aiiasandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// InjectFaults queues faults, consumed in order by matching API requests.
func (s *Server) InjectFaults(fs ...Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, fs...)
	s.mu.Unlock()
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault counts the API request and returns the fault it meets, if any.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiRequests++
	if s.opts.FailEvery > 0 && s.apiRequests%s.opts.FailEvery == 0 {
		return &Fault{Kind: FaultServerError}
	}
	for i, f := range s.faults {
		if f.matches(r) {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return &f
		}
	}
	return nil
}

// response is an API answer, kept whole so it can be replayed.
type response struct {
	status int
	body   []byte
	header map[string]string
}

// idemEntry is what the sandbox remembers of an X-Request-Id.
type idemEntry struct {
	fingerprint string // method, path and body hash
	done        bool
	resp        response
}

// api wraps an API handler: faults, bearer authentication (auth), and
// X-Request-Id idempotency for POSTs (idem).
func (s *Server) api(auth, idem bool, h func(r *http.Request, body []byte) response) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Correlation-Id"); id != "" {
			w.Header().Set("X-Correlation-Id", id)
		}
		fault := s.takeFault(r)
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
			s.mu.Lock()
			e := s.idem[key]
			switch {
			case e == nil:
				s.idem[key] = &idemEntry{fingerprint: fp}
				s.mu.Unlock()
			case e.fingerprint != fp:
				s.mu.Unlock()
				s.write(w, errResp(http.StatusUnprocessableEntity, "INVALID_INPUT",
					"X-Request-Id was already used for a different request", "use a new X-Request-Id for a new request"), fault)
				return
			case !e.done:
				s.mu.Unlock()
				s.write(w, errResp(http.StatusConflict, "RESOURCE_IN_INVALID_STATE",
					"A request with this X-Request-Id is still being processed", "retry later"), fault)
				return
			default:
				resp := e.resp
				s.mu.Unlock()
				w.Header().Set("X-Sandbox-Replayed", "true")
				s.write(w, resp, fault)
				return
			}
		}
		if fault != nil && fault.Kind == FaultSlow {
			time.Sleep(time.Duration(fault.DelayMS) * time.Millisecond)
		}
		resp := h(r, body)
		if key != "" {
			s.mu.Lock()
			if resp.status >= 500 {
				delete(s.idem, key)
			} else {
				s.idem[key].done, s.idem[key].resp = true, resp
			}
			s.mu.Unlock()
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
