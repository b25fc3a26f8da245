package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/postresponse"
	"github.com/modupay/modupay/shared/wiring"
)

// MaxRequestBody is API Gateway's payload limit: larger requests get 413.
const MaxRequestBody = 10 << 20

// Route is one HttpApi route of a function.
type Route struct {
	Method     string // upper case; "ANY" matches every method
	Path       string // e.g. /v1/organizations/{org_id} or /files/{path+}; "" is the $default route
	FunctionID string
	Handler    wiring.HTTPHandler
	Timeout    time.Duration // the function's timeout; 0 means Lambda's default 3 s
}

// APIOptions are the values API Gateway would put in requestContext.
type APIOptions struct {
	Identity
	APIID string // default stack.LocalAPIID
	Log   *slog.Logger
	// Now is the clock for requestContext.time; nil means time.Now.
	Now func() time.Time
}

// API is the local HTTP API: an http.Handler that routes each request to the
// function owning the matching route, with the payload format 2.0 event.
type API struct {
	routes []*compiledRoute
	opts   APIOptions
}

type segKind int

// Ordered from most to least specific: that order decides between routes.
const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind  segKind
	value string // literal text or parameter name
}

type compiledRoute struct {
	Route
	segs     []segment
	routeKey string
}

// NewAPI checks and compiles the routes.
func NewAPI(routes []Route, opts APIOptions) (*API, error) {
	opts.Identity = opts.Identity.withDefaults()
	if opts.APIID == "" {
		opts.APIID = stack.LocalAPIID
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{opts: opts}
	seen := map[string]string{}
	for _, r := range routes {
		if r.Handler == nil {
			return nil, fmt.Errorf("route %s %s of %s has no handler", r.Method, r.Path, r.FunctionID)
		}
		cr, err := compileRoute(r)
		if err != nil {
			return nil, fmt.Errorf("route %s %s of %s: %w", r.Method, r.Path, r.FunctionID, err)
		}
		// Two routes with the same method and the same shape can never be told apart.
		shape := cr.Method + " " + shapeOf(cr.segs)
		if cr.Path == "" {
			shape = "$default"
		}
		if other, dup := seen[shape]; dup {
			return nil, fmt.Errorf("route %s of %s conflicts with a route of %s", cr.routeKey, r.FunctionID, other)
		}
		seen[shape] = r.FunctionID
		a.routes = append(a.routes, cr)
	}
	return a, nil
}

func compileRoute(r Route) (*compiledRoute, error) {
	r.Method = strings.ToUpper(r.Method)
	if r.Method == "" {
		r.Method = "ANY"
	}
	cr := &compiledRoute{Route: r, routeKey: r.Method + " " + r.Path}
	if r.Path == "" {
		cr.routeKey = "$default"
		return cr, nil
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, errors.New("path must start with /")
	}
	names := map[string]bool{}
	parts := strings.Split(r.Path[1:], "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
			if strings.ContainsAny(p, "{}") {
				return nil, fmt.Errorf("segment %q: a path variable must be a whole segment", p)
			}
			cr.segs = append(cr.segs, segment{segLiteral, p})
			continue
		}
		name, greedy := strings.CutSuffix(p[1:len(p)-1], "+")
		if name == "" || names[name] {
			return nil, fmt.Errorf("segment %q: empty or repeated variable name", p)
		}
		names[name] = true
		if greedy {
			if i != len(parts)-1 {
				return nil, fmt.Errorf("greedy variable %q must be the last segment", p)
			}
			cr.segs = append(cr.segs, segment{segGreedy, name})
			continue
		}
		cr.segs = append(cr.segs, segment{segParam, name})
	}
	return cr, nil
}

func shapeOf(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(s.value)
		case segParam:
			b.WriteString("{}")
		case segGreedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}

// match returns the path parameters when the route matches the decoded path.
func (cr *compiledRoute) match(method string, path []string) (map[string]string, bool) {
	if cr.Method != "ANY" && cr.Method != method {
		return nil, false
	}
	if cr.Path == "" {
		return nil, true
	}
	params := map[string]string{}
	for i, s := range cr.segs {
		if s.kind == segGreedy {
			rest := strings.Join(path[i:], "/")
			if i >= len(path) || rest == "" {
				return nil, false
			}
			params[s.value] = rest
			return params, true
		}
		if i >= len(path) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if path[i] != s.value {
				return nil, false
			}
		case segParam:
			if path[i] == "" {
				return nil, false
			}
			params[s.value] = path[i]
		}
	}
	if len(path) != len(cr.segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific orders two routes matching the same request the way API
// Gateway does: literal segments beat variables which beat greedy variables,
// segment by segment from the left; then a method beats ANY; $default is last.
func moreSpecific(a, b *compiledRoute) bool {
	if (a.Path == "") != (b.Path == "") {
		return b.Path == ""
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// route finds the route for a request, or nil.
func (a *API) route(method, path string) (*compiledRoute, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *compiledRoute
	var bestParams map[string]string
	for _, cr := range a.routes {
		params, ok := cr.match(method, segs)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(cr, best) {
			best, bestParams = cr, params
		}
	}
	return best, bestParams
}

// ServeHTTP implements the HTTP API: route, build the 2.0 event, invoke,
// write the function's response. Errors answer like API Gateway: 404 for no
// route, 413 for a body over 10 MB, 500 for a function error, panic, timeout
// or invalid response.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.opts.Now()
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	log := a.opts.Log.With("request_id", requestID, "method", r.Method, "path", r.URL.Path)

	cr, params := a.route(r.Method, r.URL.Path)
	if cr == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		log.Info("http", "status", http.StatusNotFound, "route", "-")
		return
	}
	log = log.With("route", cr.routeKey, "function", cr.FunctionID)

	body, err := readBody(r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeMessage(w, status, http.StatusText(status))
		log.Info("http", "status", status, "err", err)
		return
	}
	ev := a.buildEvent(r, cr, params, body, requestID, start)

	// A client that hangs up does not stop a Lambda invocation: only the
	// function's timeout bounds it.
	// The queue of work the function leaves for after its response (the
	// API call log), run once the response is written, as the function's
	// Lambda extension does after the runtime posts it. It runs beside the
	// connection's next request: here every function serves requests
	// concurrently, whereas in Lambda the environment stays busy until the
	// extension is done (and the next request goes to another one).
	ctx, after := postresponse.With(context.WithoutCancel(r.Context()))
	defer func() {
		if after.Len() > 0 {
			go after.Run(ctx)
		}
	}()
	resp, err := call(ctx, a.opts.FunctionARN(cr.FunctionID), cr.Timeout, func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
		return cr.Handler(ctx, ev)
	})
	if err != nil {
		logInvokeError(log, "function error", cr.FunctionID, err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, r, resp, log); err != nil {
		log.Error("invalid function response", "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	log.Info("http", "status", resp.StatusCode, "duration", a.opts.Now().Sub(start).Round(time.Microsecond))
}

var errTooLarge = errors.New("request body larger than 10 MB")

func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxRequestBody {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) > MaxRequestBody {
		return nil, errTooLarge
	}
	return b, nil
}

// buildEvent makes the payload format 2.0 event of a request.
func (a *API) buildEvent(r *http.Request, cr *compiledRoute, params map[string]string, body []byte, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	hostname := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		hostname = h
	}

	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		if name == "cookie" {
			// Format 2.0 moves cookies out of the headers into their own field.
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if _, ok := headers["content-length"]; !ok && len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	// What API Gateway adds: the client address appended to any forwarded
	// chain, the listener's port and scheme, a trace id.
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-port"] = localPort(r)
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = traceID(now)
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery) // like API Gateway, keep what parses
		query = make(map[string]string, len(values))
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}
	if len(params) == 0 {
		params = nil
	}

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              cr.routeKey,
		RawPath:               r.URL.Path, // HTTP APIs deliver the path decoded
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     cr.routeKey,
			AccountID:    a.opts.AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        a.opts.APIID,
			DomainName:   hostname,
			DomainPrefix: strings.SplitN(hostname, ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText tells whether API Gateway passes a body of this content type as
// text; anything else (form posts, multipart, images, no content type) is
// base64-encoded with isBase64Encoded true.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript":
		return true
	}
	return false
}

// hopByHop headers are the server's business, not the function's.
var hopByHop = map[string]bool{"content-length": true, "connection": true, "transfer-encoding": true, "keep-alive": true}

// writeResponse writes a function's format 2.0 response. It returns an error,
// before writing anything, when the response is not one API Gateway accepts.
func writeResponse(w http.ResponseWriter, r *http.Request, resp events.APIGatewayV2HTTPResponse, log *slog.Logger) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("isBase64Encoded body: %w", err)
		}
	}
	if len(resp.MultiValueHeaders) > 0 {
		// Payload format 2.0 has no multiValueHeaders: API Gateway ignores them.
		log.Warn("multiValueHeaders are ignored by HTTP API payload format 2.0; use comma-joined headers and cookies")
	}
	h := w.Header()
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if hopByHop[strings.ToLower(k)] {
			continue
		}
		h.Set(k, resp.Headers[k])
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// Do not let net/http sniff one: API Gateway does not invent it either.
		h["Content-Type"] = nil
	}
	// A length, so the client has the whole response once it is flushed,
	// before the post-response work runs (as through API Gateway).
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified && resp.StatusCode >= 200 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// writeMessage writes API Gateway's own error responses: {"message":"..."}.
func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}

// newRequestID makes an id shaped like API Gateway's (14 base64 characters and '=').
func newRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func traceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b))
}

func localPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return "80"
}
