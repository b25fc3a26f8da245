// Package httpapi is the HTTP edge every API function shares: it turns an API
// Gateway (HTTP API, payload 2.0) event into a Request, authenticates it,
// applies idempotency, calls the route's handler and turns whatever comes back,
// errors included, into a response. A handler never returns a Lambda error:
// API Gateway would answer a bare 500 with no request id.
package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/ratelimit"
)

// Request is what a handler sees: no API Gateway types, no raw event.
type Request struct {
	Method     string
	Path       string
	RouteKey   string
	PathParams map[string]string
	Query      url.Values
	Header     http.Header
	Body       []byte
	RequestID  string
	SourceIP   string
	UserAgent  string
	// Principal is set on authenticated routes; nil on public ones.
	Principal *auth.Principal
	// Session is what a Session route's authenticator found (the
	// dashboard's session), for its handlers; nil elsewhere.
	Session any
	// Tenant is what the route may act on, resolved from the principal and
	// the route's Tenancy before the handler runs (zero on public routes).
	Tenant Tenant
	// limit is where the client stands in its rate limit, once counted.
	limit *ratelimit.Status
}

func newRequest(ev events.APIGatewayV2HTTPRequest) (*Request, error) {
	r := &Request{
		Method:     ev.RequestContext.HTTP.Method,
		Path:       ev.RawPath,
		RouteKey:   ev.RouteKey,
		PathParams: ev.PathParameters,
		Header:     http.Header{},
		RequestID:  ev.RequestContext.RequestID,
		SourceIP:   ev.RequestContext.HTTP.SourceIP,
		UserAgent:  ev.RequestContext.HTTP.UserAgent,
	}
	if r.Path == "" {
		r.Path = ev.RequestContext.HTTP.Path
	}
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	// Payload 2.0 moves the Cookie header into cookies, one per entry.
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		return r, apperr.E("http.query", apperr.Malformed, "the query string cannot be parsed")
	}
	r.Query = q
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return r, apperr.E("http.body", apperr.Malformed, "the body is not valid base64")
		}
		r.Body = b
	} else {
		r.Body = []byte(ev.Body)
	}
	return r, nil
}

// MediaType is the request's Content-Type without parameters, lower-cased.
func (r *Request) MediaType() string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

type ctxKey struct{}

// requestFrom lets deep code (logging) find the request without threading it.
func requestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}

// RequestIDFrom is the id of the request ctx serves ("" outside a request),
// for what runs below the handler and must tie its work to the request (the
// bench's per-request trace of DynamoDB calls).
func RequestIDFrom(ctx context.Context) string {
	if r := requestFrom(ctx); r != nil {
		return r.RequestID
	}
	return ""
}

// Origin is the scheme and host the client called (API Gateway passes the
// original protocol in X-Forwarded-Proto), e.g. "https://api.modupay.fr".
func (r *Request) Origin() string {
	scheme := r.Header.Get("X-Forwarded-Proto")
	if scheme != "http" {
		scheme = "https"
	}
	return scheme + "://" + r.Header.Get("Host")
}

// Cookie is the value of the request's cookie name ("" when absent).
func (r *Request) Cookie(name string) string {
	c, err := (&http.Request{Header: r.Header}).Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// Identify sets the caller of a public route that authenticates it itself
// (the token endpoint, once the client's secret matched), so that the
// request's log line and API call name it.
func (r *Request) Identify(p auth.Principal) { r.Principal = &p }
