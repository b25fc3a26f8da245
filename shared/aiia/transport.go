package aiia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/modupay/modupay/shared/apperr"
)

// Retry policy inside one call. Only answers that say "not now" (429, 409
// "same X-Request-Id still in flight", 5xx) and failed connections are
// retried here; a timed-out attempt is not (it already used its budget: the
// caller retries later with the same RequestID). Waits are exponential with
// jitter, or Retry-After when Aiia sends one; a Retry-After beyond
// maxRetryWait ends the call at once with a Transient error. Worst case
// sleeping: (maxAttempts-1) × maxRetryWait = 6 s.
const (
	maxAttempts  = 3
	baseBackoff  = 250 * time.Millisecond
	maxRetryWait = 3 * time.Second
	maxBody      = 1 << 20
)

// tokenCache holds the bearer token. sem (capacity 1) serialises fetches so
// concurrent callers share one, and guards token and expires.
type tokenCache struct {
	sem     chan struct{}
	token   string
	expires time.Time
}

// tokenSkew is how long before its expiry a token is replaced, so a request
// never leaves with a token that dies in flight.
func tokenSkew(ttl time.Duration) time.Duration {
	if ttl >= 2*time.Minute {
		return time.Minute
	}
	return ttl / 2
}

// accessToken returns a valid token, fetching one when none is cached or it
// is about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	const op = "aiia.token"
	select {
	case c.tok.sem <- struct{}{}:
	case <-ctx.Done():
		return "", apperr.Transient(op, ctx.Err())
	}
	defer func() { <-c.tok.sem }()
	if c.tok.token != "" && c.now().Before(c.tok.expires) {
		return c.tok.token, nil
	}
	if c.cfg.TokenURL == "" || c.cfg.BaseURL == "" || c.cfg.ClientID == "" {
		return "", &apperr.Error{Op: op, Code: apperr.Internal, Message: "internal error",
			Err: errors.New("aiia is not configured (" + EnvBaseURL + ", " + EnvClientID + ")")}
	}
	if c.keyErr != nil {
		return "", &apperr.Error{Op: op, Code: apperr.Internal, Message: "internal error", Err: c.keyErr}
	}
	// The token request is JSON (a form-encoded body is reportedly refused
	// with FORMAT_ERROR). With a key, private_key_jwt as the provider
	// requires (a fresh assertion per request: its jti is single-use);
	// without, client_id + client_secret, which only a sandbox bank
	// accepts. Scopes as seen in public clients (to confirm at onboarding).
	issued := c.now()
	a, err := c.roundTrip(ctx, op, func(ctx context.Context) (*http.Request, error) {
		body, err := c.tokenRequest()
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return "", err
	}
	if a.status < 200 || a.status > 299 {
		if a.status == http.StatusBadRequest || a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
			// Our credentials or configuration are wrong: no retry helps
			// until an operator fixes them; Internal keeps it out of
			// partner-facing messages.
			return "", &apperr.Error{Op: op, Code: apperr.Internal, Message: "internal error",
				Err: fmt.Errorf("aiia refused the client credentials: %d %s", a.status, errorText(a.body))}
		}
		return "", c.failure(op, a)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(a.body, &tr); err != nil || tr.AccessToken == "" {
		return "", apperr.Transient(op, fmt.Errorf("malformed token answer from aiia: %v", err))
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", apperr.Transient(op, fmt.Errorf("aiia issued a %q token, want bearer", tr.TokenType))
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = 5 * time.Minute // not said: assume short-lived
	}
	c.tok.token, c.tok.expires = tr.AccessToken, issued.Add(ttl-tokenSkew(ttl))
	return c.tok.token, nil
}

// tokenRequest is the body of one token request: with a key, a new
// assertion each time (a retried request must not replay a jti the
// provider may have seen), signed at the client's clock.
func (c *Client) tokenRequest() ([]byte, error) {
	req := map[string]string{"grant_type": "client_credentials", "scope": "ob_accept_payments ob_onboarding"}
	if c.key != nil {
		assertion, err := c.key.Assertion(c.cfg.ClientID, c.cfg.Audience, c.now())
		if err != nil {
			return nil, fmt.Errorf("sign the client assertion: %w", err)
		}
		req["client_assertion_type"], req["client_assertion"] = AssertionType, assertion
	} else {
		req["client_id"], req["client_secret"] = c.cfg.ClientID, c.cfg.ClientSecret
	}
	return json.Marshal(req)
}

// dropToken forgets tok if it is still the cached one (after a 401), so the
// next call fetches a fresh token; a token another caller already replaced
// stays.
func (c *Client) dropToken(tok string) {
	c.tok.sem <- struct{}{}
	if c.tok.token == tok {
		c.tok.token = ""
	}
	<-c.tok.sem
}

// call sends one API request and decodes a 2xx answer into out. requestID,
// when set, is sent as X-Request-Id on every attempt. A 401 drops the token
// and tries once more with a fresh one.
func (c *Client) call(ctx context.Context, op, method, path string, in any, requestID string, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return apperr.Wrap(op, err)
		}
	}
	for refreshed := false; ; refreshed = true {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return reOp(op, err)
		}
		a, err := c.roundTrip(ctx, op, func(ctx context.Context) (*http.Request, error) {
			var rd io.Reader
			if body != nil {
				rd = bytes.NewReader(body)
			}
			req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, rd)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if requestID != "" {
				req.Header.Set("X-Request-Id", requestID)
			}
			return req, nil
		})
		if err != nil {
			return err
		}
		if a.status == http.StatusUnauthorized && !refreshed {
			c.dropToken(tok)
			continue
		}
		if a.status < 200 || a.status > 299 {
			return c.failure(op, a)
		}
		if err := json.Unmarshal(a.body, out); err != nil {
			return apperr.Transient(op, fmt.Errorf("malformed answer from aiia (%d): %w", a.status, err))
		}
		return nil
	}
}

// reOp names the API operation on a token error.
func reOp(op string, err error) error {
	if ae, ok := apperr.As(err); ok {
		cp := *ae
		cp.Op = op
		return &cp
	}
	return err
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// roundTrip sends the request build makes, retrying per the policy above.
// It returns the last answer (whatever its status) or a Transient error
// when no answer came.
func (c *Client) roundTrip(ctx context.Context, op string, build func(context.Context) (*http.Request, error)) (answer, error) {
	for attempt := 1; ; attempt++ {
		a, err := c.attempt(ctx, build)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) || attempt == maxAttempts {
				return answer{}, apperr.Transient(op, err)
			}
			wait = c.backoff(attempt)
		case a.status == http.StatusTooManyRequests || a.status == http.StatusConflict || a.status >= 500:
			if attempt == maxAttempts {
				return a, nil
			}
			wait = c.backoff(attempt)
			if ra, ok := retryAfter(a.header.Get("Retry-After"), c.now()); ok {
				if ra > maxRetryWait {
					return a, nil
				}
				wait = ra + c.jitter(ra/10+10*time.Millisecond)
			}
		default:
			return a, nil
		}
		if wait > maxRetryWait {
			wait = maxRetryWait
		}
		if err := c.sleep(ctx, wait); err != nil {
			return answer{}, apperr.Transient(op, err)
		}
	}
}

func (c *Client) attempt(ctx context.Context, build func(context.Context) (*http.Request, error)) (answer, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := build(actx)
	if err != nil {
		return answer{}, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("read aiia's answer: %w", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// backoff is the exponential wait before attempt+1, with jitter: half
// fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	d := baseBackoff << (attempt - 1)
	return d/2 + c.jitter(d/2)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > 3600 {
			s = 3600
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}

// ErrorItem is one entry of Aiia's error body
// {"Errors":{"Error":[{"Source","ReasonCode","Description","Recoverable","Details"}]}}.
// Code and Message are read too, for the shorter variant of the same shape.
type ErrorItem struct {
	Source      string          `json:"Source,omitempty"`
	ReasonCode  string          `json:"ReasonCode,omitempty"`
	Description string          `json:"Description,omitempty"`
	Recoverable bool            `json:"Recoverable,omitempty"`
	Details     json.RawMessage `json:"Details,omitempty"` // a string, or an object depending on ReasonCode
	Code        string          `json:"Code,omitempty"`
	Message     string          `json:"Message,omitempty"`
}

// ErrorBody is Aiia's error shape.
type ErrorBody struct {
	Errors struct {
		Error []ErrorItem `json:"Error"`
	} `json:"Errors"`
}

// parseErrors returns the first error item of an answer, if any.
func parseErrors(body []byte) (ErrorItem, bool) {
	var eb ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors.Error) == 0 {
		return ErrorItem{}, false
	}
	return eb.Errors.Error[0], true
}

func (e ErrorItem) code() string {
	if e.ReasonCode != "" {
		return e.ReasonCode
	}
	return e.Code
}

// text is the human message: Description and Details (or Message).
func (e ErrorItem) text() string {
	var parts []string
	for _, s := range []string{e.Description, e.Message, detailsText(e.Details)} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

func detailsText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return "" // an object: kept out of messages, it is in the cause
}

func errorText(body []byte) string {
	if item, ok := parseErrors(body); ok {
		return item.code() + " " + item.text()
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return strconv.Quote(string(body))
}

// failure maps a non-2xx answer to an apperr error:
//
//	429, 409 (same X-Request-Id in flight), 5xx  → Transient
//	400 with ReasonCode INTERNAL_ERROR, PROVIDER_TEMPORARILY_UNAVAILABLE,
//	    PAYMENT_LINK_IN_PROGRESS_RETRYABLE, RATE_LIMITED → Transient
//	400 RESOURCE_NOT_FOUND, 404                  → NotFound
//	400 RESOURCE_IN_INVALID_STATE, OPERATION_CANCELLED, PAYMENT_LINK_*, FLOW_*,
//	    403 (not allowed for this merchant, e.g. refunds not enabled),
//	    422 (X-Request-Id reused for another request) → Conflict
//	400 otherwise (INVALID_INPUT…)               → Invalid, Param from "property: X"
//	401 after a fresh token, other 4xx           → Internal (our configuration or a bug)
//
// The message is Aiia's; the cause keeps the status and reason code.
func (c *Client) failure(op string, a answer) error {
	item, _ := parseErrors(a.body)
	cause := fmt.Errorf("aiia answered %d %s", a.status, errorText(a.body))
	msg := "Aiia: " + item.text()
	if item.text() == "" {
		msg = "Aiia refused the request (" + strconv.Itoa(a.status) + ")"
	}
	switch {
	case a.status == http.StatusTooManyRequests, a.status == http.StatusConflict, a.status >= 500:
		return apperr.Transient(op, cause)
	case a.status == http.StatusNotFound:
		return &apperr.Error{Op: op, Code: apperr.NotFound, Message: msg, Err: cause}
	case a.status == http.StatusForbidden, a.status == http.StatusUnprocessableEntity:
		return &apperr.Error{Op: op, Code: apperr.Conflict, Message: msg, Err: cause}
	case a.status == http.StatusBadRequest:
		rc := item.code()
		switch {
		case rc == "INTERNAL_ERROR", rc == "PROVIDER_TEMPORARILY_UNAVAILABLE", rc == "PAYMENT_LINK_IN_PROGRESS_RETRYABLE", rc == "RATE_LIMITED":
			return apperr.Transient(op, cause)
		case rc == "RESOURCE_NOT_FOUND":
			return &apperr.Error{Op: op, Code: apperr.NotFound, Message: msg, Err: cause}
		case rc == "RESOURCE_IN_INVALID_STATE", rc == "OPERATION_CANCELLED",
			strings.HasPrefix(rc, "PAYMENT_LINK_"), strings.HasPrefix(rc, "FLOW_"):
			return &apperr.Error{Op: op, Code: apperr.Conflict, Message: msg, Err: cause}
		}
		return &apperr.Error{Op: op, Code: apperr.Invalid, Message: msg, Param: paramOf(item.Description), Err: cause}
	}
	return &apperr.Error{Op: op, Code: apperr.Internal, Message: "internal error", Err: cause}
}

// paramOf turns "Validation error occurred for the property: RedirectUrl"
// into "redirect_url"; "" when the description names no property.
func paramOf(desc string) string {
	const marker = "property: "
	i := strings.LastIndex(desc, marker)
	if i < 0 {
		return ""
	}
	name := strings.TrimSpace(desc[i+len(marker):])
	name = strings.TrimRight(name, ".")
	var b strings.Builder
	rs := []rune(name)
	for j, r := range rs {
		switch {
		case r == '.':
			b.WriteRune('.')
		case unicode.IsUpper(r):
			if j > 0 && rs[j-1] != '.' && (unicode.IsLower(rs[j-1]) || j+1 < len(rs) && unicode.IsLower(rs[j+1]) && unicode.IsUpper(rs[j-1])) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '[' || r == ']':
			b.WriteRune(r)
		default:
			return ""
		}
	}
	return b.String()
}
