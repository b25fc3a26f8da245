package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/postresponse"
	"github.com/modupay/modupay/shared/ratelimit"
)

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, r *Request) (*Response, error)

// Access says who may call a route.
type Access int

const (
	Bearer Access = iota // a valid, unrevoked access token
	Public               // anyone (token endpoint, docs, health)
	// Session: a valid, unrevoked dashboard session (Options.Sessions).
	// Its principal meets the same revocation list, tenancy rule and role
	// matrix as a token's.
	Session
)

// Route is one "METHOD /path/{param}" of template.yaml.
type Route struct {
	Key    string // the API Gateway route key, e.g. "GET /v1/organizations/{org_id}"
	Access Access
	// Tenancy says where the route finds its organisation; required of
	// Bearer routes, resolved by the edge into Request.Tenant.
	Tenancy Tenancy
	// Action is what the route does, in the role matrix (auth.Allowed);
	// required of Bearer routes, checked by the edge after the tenancy.
	Action  auth.Action
	Handler HandlerFunc
	// Consumes lists the accepted request media types when a body is sent;
	// empty means application/json.
	Consumes []string
	// Redact names the top-level fields of the JSON response body that hold
	// a secret shown once (an API client's secret, a webhook signing secret).
	// The idempotency record keeps them as null, so no secret rests in the
	// table for the record's 24 hours: a replay answers the same status and
	// resource with these fields null and "Idempotent-Redacted" naming them.
	Redact []string
	// Errors renders this route's errors when its family has its own
	// format (nil: the default shape, ErrorBody).
	Errors ErrorRenderer
}

// TokenVerifier checks an access token without any I/O.
type TokenVerifier interface {
	Verify(token string) (auth.Principal, error)
}

// SessionAuthenticator reads the principal of a Session route's request
// (the dashboard's cookie). A missing, forged or expired session is
// apperr.Unauthenticated. It may set Request.Session for the handlers.
type SessionAuthenticator interface {
	Authenticate(ctx context.Context, r *Request) (auth.Principal, error)
}

// RevocationChecker says whether a client's tokens have been revoked. It must
// answer from memory on the hot path (the auth budget is zero DynamoDB calls per
// request); implementations refresh in the background or on a bounded schedule.
type RevocationChecker interface {
	Revoked(ctx context.Context, clientID string, issuedAt time.Time) (bool, error)
}

// API serves the routes of one function.
type API struct {
	routes      map[string]Route
	verifier    TokenVerifier
	sessions    SessionAuthenticator
	revocations RevocationChecker
	idempotency idempotency.Store
	log         *slog.Logger
	now         func() time.Time
	newID       func() string
	maxBody     int
	limiter     *ratelimit.Limiter
	calls       CallLog
}

// CallLog keeps the API call log (seed 000: every API call, one year): it
// receives one record per request whose caller is known, after the
// response is computed. Record may fail; the request never does because
// of it.
type CallLog interface {
	Record(ctx context.Context, c apicall.Call) error
}

// callLogTimeout bounds what recording a call may add to a response when
// the queue is slow or down (the SDK would otherwise retry for longer).
const callLogTimeout = 2 * time.Second

// Options are the API's dependencies. Verifier is required when any route is
// Bearer; Idempotency enables the Idempotency-Key header on POST routes.
type Options struct {
	Verifier TokenVerifier
	// Sessions is required when any route is Session.
	Sessions    SessionAuthenticator
	Revocations RevocationChecker
	Idempotency idempotency.Store
	Logger      *slog.Logger
	Now         func() time.Time
	NewID       func() string
	// MaxBody bounds request bodies; 1 MiB by default, far above any legitimate
	// body and far below API Gateway's 10 MB.
	MaxBody int
	// ClientLimit limits authenticated requests per API client, counted in
	// this API's memory (so per container: see ratelimit.Limiter); a zero
	// policy means no limit. LimitNow is its clock (time.Now if nil).
	ClientLimit ratelimit.Policy
	LimitNow    func() time.Time
	// Calls receives the API call log; nil keeps none (public-only
	// functions, unit tests).
	Calls CallLog
}

// New builds an API from its routes. Duplicate keys are a programming error.
func New(opts Options, routes ...Route) (*API, error) {
	a := &API{
		routes: map[string]Route{}, verifier: opts.Verifier, sessions: opts.Sessions, revocations: opts.Revocations,
		idempotency: opts.Idempotency, log: opts.Logger, now: opts.Now, newID: opts.NewID, maxBody: opts.MaxBody,
		calls: opts.Calls,
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.maxBody == 0 {
		a.maxBody = 1 << 20
	}
	if opts.ClientLimit.Enabled() {
		a.limiter = ratelimit.NewLimiter(opts.ClientLimit, opts.LimitNow)
	}
	for _, rt := range routes {
		if _, dup := a.routes[rt.Key]; dup {
			return nil, fmt.Errorf("httpapi: route %q declared twice", rt.Key)
		}
		if rt.Access == Bearer && a.verifier == nil {
			return nil, fmt.Errorf("httpapi: route %q needs a token verifier", rt.Key)
		}
		if rt.Access == Session && a.sessions == nil {
			return nil, fmt.Errorf("httpapi: route %q needs a session authenticator", rt.Key)
		}
		authenticated := rt.Access == Bearer || rt.Access == Session
		if authenticated && (rt.Tenancy <= tenancyUnset || rt.Tenancy > OrgOfResource) {
			return nil, fmt.Errorf("httpapi: route %q declares no tenancy", rt.Key)
		}
		if authenticated && rt.Action == "" {
			return nil, fmt.Errorf("httpapi: route %q declares no action", rt.Key)
		}
		if authenticated && !rt.Action.Valid() {
			return nil, fmt.Errorf("httpapi: route %q declares the action %q, which the role matrix does not know", rt.Key, rt.Action)
		}
		a.routes[rt.Key] = rt
	}
	return a, nil
}

// RouteKeys lists the routes served, for tests that compare with template.yaml.
func (a *API) RouteKeys() []string {
	keys := make([]string, 0, len(a.routes))
	for k := range a.routes {
		keys = append(keys, k)
	}
	return keys
}

// Handle is the Lambda handler. It never returns an error: every failure,
// panics included, becomes a response carrying the request id.
func (a *API) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := a.now()
	ctx, calls := callcount.With(ctx)
	req, err := newRequest(ev)
	if req.RequestID == "" && a.newID != nil {
		req.RequestID = a.newID()
	}
	ctx = context.WithValue(ctx, ctxKey{}, req)
	var resp *Response
	if err != nil {
		resp = a.renderError(req.RouteKey, err, req.RequestID)
	} else {
		resp, err = a.serve(ctx, req)
		if err != nil {
			resp = a.renderError(req.RouteKey, err, req.RequestID)
		}
	}
	if req.limit != nil {
		setLimitHeaders(resp, *req.limit)
	}
	a.recordCall(ctx, req, resp, start, a.now().Sub(start))
	a.logRequest(ctx, req, resp, err, a.now().Sub(start), calls)
	return toEvent(resp, req.RequestID), nil
}

func (a *API) serve(ctx context.Context, req *Request) (resp *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apperr.Wrap("http.serve", fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	rt, ok := a.routes[req.RouteKey]
	if !ok {
		return nil, apperr.E("http.route", apperr.NotFound, "no such route")
	}
	if len(req.Body) > a.maxBody {
		return nil, apperr.E("http.body", apperr.TooLarge, fmt.Sprintf("the body exceeds %d bytes", a.maxBody))
	}
	if len(req.Body) > 0 && !consumes(rt, req.MediaType()) {
		return nil, apperr.E("http.body", apperr.UnsupportedType,
			"Content-Type must be one of: "+strings.Join(consumed(rt), ", "))
	}
	if rt.Access == Bearer || rt.Access == Session {
		authenticate := a.authenticate
		if rt.Access == Session {
			authenticate = a.authenticateSession
		}
		if err := authenticate(ctx, req); err != nil {
			return nil, err
		}
		if err := a.limit(req); err != nil {
			return nil, err
		}
		if req.Tenant, err = resolveTenant(req, rt.Tenancy); err != nil {
			return nil, err
		}
		// The role after the tenancy, so another tenant's organisation is a
		// 404 whatever the role; before idempotency, so a refused request
		// neither uses up its key nor costs a write.
		if err := authorize(req.Principal, rt.Action); err != nil {
			return nil, err
		}
		// An id no resource can have (ours are under 64 characters) is an
		// unknown id, answered before any handler builds a key of it. (The
		// public payment page's sealed token is longer, and no key.)
		for name, v := range req.PathParams {
			if len(v) > maxPathParam {
				if name == "org_id" {
					return nil, apperr.OrganizationNotFound("http.path")
				}
				return nil, &apperr.Error{Op: "http.path", Code: apperr.NotFound, Param: name, Message: "no resource has this id"}
			}
		}
	}
	// Idempotency keys are scoped to an API client, so they apply to
	// authenticated POSTs; the token endpoint is safe to retry as it is,
	// and a browser's form sends none.
	if req.Method == http.MethodPost && a.idempotency != nil && req.Principal != nil && rt.Access == Bearer {
		if key := req.Header.Get("Idempotency-Key"); key != "" {
			return a.idempotent(ctx, req, rt, key)
		}
	}
	return rt.Handler(ctx, req)
}

// maxPathParam bounds the ids in a path (see serve).
const maxPathParam = 256

func consumed(rt Route) []string {
	if len(rt.Consumes) == 0 {
		return []string{"application/json"}
	}
	return rt.Consumes
}

func consumes(rt Route, mt string) bool {
	for _, c := range consumed(rt) {
		if c == mt {
			return true
		}
	}
	return false
}

func (a *API) authenticate(ctx context.Context, req *Request) error {
	const op = "http.authenticate"
	h := req.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return apperr.E(op, apperr.Unauthenticated, "missing Authorization header; send \"Authorization: Bearer <access_token>\"")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return apperr.E(op, apperr.Unauthenticated, "the Authorization header must be \"Bearer <access_token>\"")
	}
	p, err := a.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		return &apperr.Error{Op: op, Code: apperr.Unauthenticated, Message: "the access token is invalid or expired", Err: err}
	}
	return a.admit(ctx, req, p, "the client of this access token has been revoked")
}

// authenticateSession reads a Session route's principal from its session,
// then applies the same revocation list as to tokens.
func (a *API) authenticateSession(ctx context.Context, req *Request) error {
	p, err := a.sessions.Authenticate(ctx, req)
	if err != nil {
		return err
	}
	return a.admit(ctx, req, p, "the client of this session has been revoked")
}

// admit checks an authenticated principal against the revocation list
// (issued before its client's revocation: refused) and makes it the
// request's.
func (a *API) admit(ctx context.Context, req *Request, p auth.Principal, revokedMessage string) error {
	const op = "http.authenticate"
	if a.revocations != nil {
		revoked, err := a.revocations.Revoked(ctx, p.ClientID, p.IssuedAt)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		if revoked {
			return apperr.E(op, apperr.Unauthenticated, revokedMessage)
		}
	}
	req.Principal = &p
	return nil
}

// limit counts an authenticated request against its client's quota. It runs
// after authentication, from memory: no DynamoDB call is added to any route.
func (a *API) limit(req *Request) error {
	if a.limiter == nil {
		return nil
	}
	st, ok := a.limiter.Take(req.Principal.ClientID)
	req.limit = &st
	if !ok {
		return apperr.E("http.rate_limit", apperr.RateLimited, fmt.Sprintf(
			"too many requests for this API client: at most %d per %d s; retry after the number of seconds in Retry-After",
			st.Policy.Quota, int64(st.Policy.Window/time.Second)))
	}
	return nil
}

// setLimitHeaders tells the client where it stands, on every answer to a
// counted request, and when to come back on a 429.
func setLimitHeaders(resp *Response, st ratelimit.Status) {
	SetRateLimitHeaders(resp.Header, resp.Status == http.StatusTooManyRequests, st)
}

// SetRateLimitHeaders sets RateLimit-Policy and RateLimit for statuses and,
// when refused, Retry-After. The names are set as the draft spells them
// (http.Header.Set would write "Ratelimit"); header names are
// case-insensitive, this is only for readers of raw responses.
func SetRateLimitHeaders(h http.Header, refused bool, ss ...ratelimit.Status) {
	ps := make([]ratelimit.Policy, len(ss))
	for i, s := range ss {
		ps[i] = s.Policy
	}
	h["RateLimit-Policy"] = []string{ratelimit.PolicyHeader(ps...)}
	h["RateLimit"] = []string{ratelimit.Header(ss...)}
	if refused {
		h.Set("Retry-After", ratelimit.RetryAfter(ss...))
	}
}

func toEvent(resp *Response, requestID string) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{}
	for k, v := range resp.Header {
		headers[k] = strings.Join(v, ", ")
	}
	headers["X-Request-Id"] = requestID
	if _, ok := headers["Cache-Control"]; !ok {
		headers["Cache-Control"] = "no-store"
	}
	headers["X-Content-Type-Options"] = "nosniff"
	if resp.Binary {
		return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: headers, Cookies: resp.Cookies,
			Body: base64.StdEncoding.EncodeToString(resp.Body), IsBase64Encoded: true}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: headers, Cookies: resp.Cookies, Body: string(resp.Body)}
}

// recordCall sends the request to the API call log: authenticated
// requests, and the token endpoint once it knows the client (the handler
// sets Principal). The call goes to the tenant the edge resolved, or, when
// the request was refused before that (another organisation's id, a role
// without the right), to the caller's own: never to a tenant the caller
// was not allowed to act on. It is one SQS message, counted in the
// request's sqs_calls; a failure is logged and the response stands.
func (a *API) recordCall(ctx context.Context, req *Request, resp *Response, start time.Time, latency time.Duration) {
	p := req.Principal
	if a.calls == nil || p == nil {
		return
	}
	partnerID, orgID := p.PartnerID, p.OrgID
	if req.Tenant.PartnerID != "" {
		partnerID, orgID = req.Tenant.PartnerID, req.Tenant.OrgID
	}
	c := apicall.Call{RequestID: req.RequestID, Timestamp: start.UTC(), PartnerID: partnerID, OrgID: orgID,
		Method: req.Method, Route: req.RouteKey, Status: resp.Status, LatencyMS: latency.Milliseconds(),
		ClientID: p.ClientID, UserType: string(p.Scope), IPAddress: req.SourceIP}
	send := func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, callLogTimeout)
		defer cancel()
		if err := a.calls.Record(ctx, c); err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "api call not recorded", slog.String("request_id", req.RequestID),
				slog.String("route", req.RouteKey), slog.String("error", err.Error()))
		}
	}
	// After the response when the invoker runs a post-response queue (the
	// Lambda extension, the local gateway): the caller does not wait for
	// the SendMessage. Otherwise now, before answering.
	if !postresponse.Defer(ctx, send) {
		send(ctx)
	}
}

func (a *API) logRequest(ctx context.Context, req *Request, resp *Response, err error, latency time.Duration, calls *callcount.Counter) {
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestID),
		slog.String("route", req.RouteKey),
		slog.Int("status", resp.Status),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
		slog.Int64("dynamodb_calls", calls.DynamoDB.Load()),
		slog.Int64("sqs_calls", calls.SQS.Load()),
		slog.String("source_ip", req.SourceIP),
	}
	if p := req.Principal; p != nil {
		attrs = append(attrs, slog.String("partner_id", p.PartnerID), slog.String("client_id", p.ClientID))
		if p.OrgID != "" {
			attrs = append(attrs, slog.String("organization_id", p.OrgID))
		}
	}
	if org := req.Header.Get("X-Entity-Id"); org != "" {
		attrs = append(attrs, slog.String("entity_id", org))
	}
	level := slog.LevelInfo
	if resp.Status >= 500 {
		level = slog.LevelError
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
	} else if err != nil {
		attrs = append(attrs, slog.String("error_code", string(apperr.CodeOf(err))))
	}
	a.log.LogAttrs(ctx, level, "request", attrs...)
}
