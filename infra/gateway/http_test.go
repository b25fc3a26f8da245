package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// capture is a toy HTTP function that records the event it got.
type capture struct {
	mu   sync.Mutex
	last *events.APIGatewayV2HTTPRequest
	fn   string
}

func (c *capture) handler(fn string) wiring.HTTPHandler {
	return func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.last, c.fn = &ev, fn
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: fn}, nil
	}
}

func (c *capture) take() (*events.APIGatewayV2HTTPRequest, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, fn := c.last, c.fn
	c.last, c.fn = nil, ""
	return ev, fn
}

func TestHTTPRequestConversion(t *testing.T) {
	c := &capture{}
	api, err := gateway.NewAPI([]gateway.Route{
		{Method: "POST", Path: "/v1/organizations/{org_id}", FunctionID: "Orgs", Handler: c.handler("Orgs")},
		{Method: "GET", Path: "/v1/organizations/{org_id}", FunctionID: "Orgs", Handler: c.handler("OrgsGet")},
		{Method: "GET", Path: "/v1/organizations/me", FunctionID: "Me", Handler: c.handler("Me")},
		{Method: "ANY", Path: "/files/{path+}", FunctionID: "Files", Handler: c.handler("Files")},
		{Method: "GET", Path: "/files/{path+}", FunctionID: "FilesGet", Handler: c.handler("FilesGet")},
		{Method: "GET", Path: "/health", FunctionID: "Docs", Handler: c.handler("Docs")},
	}, gateway.APIOptions{Identity: gateway.Identity{Region: "eu-west-3", AccountID: "123456789012"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	binary := []byte{0x00, 0xff, 0x10, 'a'}
	tests := []struct {
		name    string
		method  string
		target  string
		headers [][2]string
		body    []byte
		wantFn  string // "" means 404
		check   func(t *testing.T, ev *events.APIGatewayV2HTTPRequest)
	}{
		{
			name: "json body, repeated headers and query values, cookies, path params", method: "POST",
			target: "/v1/organizations/org-1?x=1&x=2&y=a%20b&empty=",
			headers: [][2]string{{"Content-Type", "application/json"}, {"X-Multi", "a"}, {"X-Multi", "b"},
				{"Cookie", "session=abc; theme=dark"}, {"User-Agent", "test-agent/1.0"}, {"X-Forwarded-For", "198.51.100.7"}},
			body: []byte(`{"name":"Mairie"}`), wantFn: "Orgs",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "version", ev.Version, "2.0")
				eq(t, "routeKey", ev.RouteKey, "POST /v1/organizations/{org_id}")
				eq(t, "requestContext.routeKey", ev.RequestContext.RouteKey, "POST /v1/organizations/{org_id}")
				eq(t, "rawPath", ev.RawPath, "/v1/organizations/org-1")
				eq(t, "rawQueryString", ev.RawQueryString, "x=1&x=2&y=a%20b&empty=")
				eq(t, "query", ev.QueryStringParameters, map[string]string{"x": "1,2", "y": "a b", "empty": ""})
				eq(t, "pathParameters", ev.PathParameters, map[string]string{"org_id": "org-1"})
				eq(t, "cookies", ev.Cookies, []string{"session=abc", "theme=dark"})
				eq(t, "x-multi", ev.Headers["x-multi"], "a,b")
				eq(t, "content-type", ev.Headers["content-type"], "application/json")
				eq(t, "host", ev.Headers["host"], "127.0.0.1:"+port)
				eq(t, "x-forwarded-for", ev.Headers["x-forwarded-for"], "198.51.100.7, 127.0.0.1")
				eq(t, "x-forwarded-port", ev.Headers["x-forwarded-port"], port)
				eq(t, "x-forwarded-proto", ev.Headers["x-forwarded-proto"], "http")
				eq(t, "content-length", ev.Headers["content-length"], "17")
				if _, ok := ev.Headers["cookie"]; ok {
					t.Error("cookie header must move to cookies")
				}
				for k := range ev.Headers {
					if k != strings.ToLower(k) {
						t.Errorf("header %q not lower case", k)
					}
				}
				if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
					t.Errorf("trace id %q", ev.Headers["x-amzn-trace-id"])
				}
				eq(t, "body", ev.Body, `{"name":"Mairie"}`)
				eq(t, "isBase64Encoded", ev.IsBase64Encoded, false)
				rc := ev.RequestContext
				eq(t, "accountId", rc.AccountID, "123456789012")
				eq(t, "apiId", rc.APIID, stack.LocalAPIID)
				eq(t, "domainName", rc.DomainName, "127.0.0.1")
				eq(t, "domainPrefix", rc.DomainPrefix, "127")
				eq(t, "stage", rc.Stage, "$default")
				eq(t, "http", rc.HTTP, events.APIGatewayV2HTTPRequestContextHTTPDescription{
					Method: "POST", Path: "/v1/organizations/org-1", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "test-agent/1.0",
				})
				if len(rc.RequestID) != 16 || !strings.HasSuffix(rc.RequestID, "=") {
					t.Errorf("requestId %q", rc.RequestID)
				}
				if d := time.Since(time.UnixMilli(rc.TimeEpoch)); d < 0 || d > time.Minute {
					t.Errorf("timeEpoch %d", rc.TimeEpoch)
				}
				if tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time); err != nil || tm.Unix() != rc.TimeEpoch/1000 {
					t.Errorf("time %q (%v) vs timeEpoch %d", rc.Time, err, rc.TimeEpoch)
				}
			},
		},
		{
			name: "binary body is base64", method: "POST", target: "/v1/organizations/org-2",
			headers: [][2]string{{"Content-Type", "application/octet-stream"}}, body: binary, wantFn: "Orgs",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "isBase64Encoded", ev.IsBase64Encoded, true)
				eq(t, "body", ev.Body, base64.StdEncoding.EncodeToString(binary))
			},
		},
		{
			name: "form body is base64", method: "POST", target: "/v1/organizations/org-2",
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: []byte("a=1&b=2"), wantFn: "Orgs",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "isBase64Encoded", ev.IsBase64Encoded, true)
				eq(t, "body", ev.Body, base64.StdEncoding.EncodeToString([]byte("a=1&b=2")))
			},
		},
		{
			name: "problem+json body is text", method: "POST", target: "/v1/organizations/org-2",
			headers: [][2]string{{"Content-Type", "application/problem+json; charset=utf-8"}}, body: []byte(`{}`), wantFn: "Orgs",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "isBase64Encoded", ev.IsBase64Encoded, false)
				eq(t, "body", ev.Body, `{}`)
			},
		},
		{
			name: "no body, no query, no cookies", method: "GET", target: "/health", wantFn: "Docs",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "routeKey", ev.RouteKey, "GET /health")
				if ev.QueryStringParameters != nil || ev.PathParameters != nil || ev.Cookies != nil || ev.Body != "" || ev.IsBase64Encoded {
					t.Errorf("unexpected fields: %+v", ev)
				}
			},
		},
		{
			name: "literal beats variable", method: "GET", target: "/v1/organizations/me", wantFn: "Me",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "routeKey", ev.RouteKey, "GET /v1/organizations/me")
			},
		},
		{
			name: "variable when the literal does not match", method: "GET", target: "/v1/organizations/org-9", wantFn: "OrgsGet",
		},
		{
			name: "decoded path and parameters", method: "GET", target: "/v1/organizations/a%20b", wantFn: "OrgsGet",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "rawPath", ev.RawPath, "/v1/organizations/a b")
				eq(t, "pathParameters", ev.PathParameters, map[string]string{"org_id": "a b"})
			},
		},
		{
			name: "greedy variable, method beats ANY", method: "GET", target: "/files/a/b/c.txt", wantFn: "FilesGet",
			check: func(t *testing.T, ev *events.APIGatewayV2HTTPRequest) {
				eq(t, "pathParameters", ev.PathParameters, map[string]string{"path": "a/b/c.txt"})
				eq(t, "routeKey", ev.RouteKey, "GET /files/{path+}")
			},
		},
		{name: "greedy variable with ANY", method: "DELETE", target: "/files/x", wantFn: "Files"},
		{name: "greedy needs a segment", method: "GET", target: "/files/"},
		{name: "no route", method: "GET", target: "/nope"},
		{name: "method not routed", method: "DELETE", target: "/health"},
		{name: "trailing segment", method: "GET", target: "/v1/organizations/org-1/extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.target, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				req.Header.Add(h[0], h[1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ev, fn := c.take()
			if tc.wantFn == "" {
				eq(t, "status", resp.StatusCode, 404)
				eq(t, "body", string(body), `{"message":"Not Found"}`)
				if ev != nil {
					t.Errorf("a function was invoked: %s", fn)
				}
				return
			}
			eq(t, "status", resp.StatusCode, 200)
			eq(t, "function", fn, tc.wantFn)
			if resp.Header.Get("Apigw-Requestid") == "" || ev == nil || resp.Header.Get("Apigw-Requestid") != ev.RequestContext.RequestID {
				t.Errorf("apigw-requestid header %q", resp.Header.Get("Apigw-Requestid"))
			}
			if tc.check != nil && ev != nil {
				tc.check(t, ev)
			}
		})
	}
}

func TestHTTPResponses(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0x00, 0x01}
	route := func(path string, h wiring.HTTPHandler) gateway.Route {
		return gateway.Route{Method: "GET", Path: path, FunctionID: "F" + path, Handler: h, Timeout: 200 * time.Millisecond}
	}
	api, err := gateway.NewAPI([]gateway.Route{
		route("/full", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{
				StatusCode: 201,
				Headers:    map[string]string{"Content-Type": "image/png", "X-Values": "a,b", "Content-Length": "999"},
				Cookies:    []string{"a=1; Path=/", "b=2; HttpOnly"},
				Body:       base64.StdEncoding.EncodeToString(png), IsBase64Encoded: true,
			}, nil
		}),
		route("/error", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
		}),
		route("/panic", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			panic("kaboom")
		}),
		route("/slow", func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			time.Sleep(time.Second) // ignores ctx on purpose, like a stuck handler
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}),
		route("/nostatus", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{Body: "x"}, nil
		}),
		route("/badbase64", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "!!!", IsBase64Encoded: true}, nil
		}),
		{Method: "POST", Path: "/upload", FunctionID: "Upload", Handler: func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
		}},
	}, gateway.APIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	resp, body := get(t, srv.URL+"/full")
	eq(t, "status", resp.StatusCode, 201)
	eq(t, "body", body, string(png))
	eq(t, "content-type", resp.Header.Get("Content-Type"), "image/png")
	eq(t, "x-values", resp.Header.Get("X-Values"), "a,b")
	eq(t, "set-cookie", resp.Header.Values("Set-Cookie"), []string{"a=1; Path=/", "b=2; HttpOnly"})
	eq(t, "content-length", resp.ContentLength, int64(len(png)))

	for _, path := range []string{"/error", "/panic", "/slow", "/nostatus", "/badbase64"} {
		start := time.Now()
		resp, body := get(t, srv.URL+path)
		eq(t, path+" status", resp.StatusCode, 500)
		eq(t, path+" body", body, `{"message":"Internal Server Error"}`)
		eq(t, path+" content-type", resp.Header.Get("Content-Type"), "application/json")
		if time.Since(start) > 800*time.Millisecond {
			t.Errorf("%s: waited %v, the function timeout is 200ms", path, time.Since(start))
		}
	}

	big := bytes.Repeat([]byte("a"), gateway.MaxRequestBody+1)
	resp, err = http.Post(srv.URL+"/upload", "text/plain", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eq(t, "413 status", resp.StatusCode, 413)
	resp, err = http.Post(srv.URL+"/upload", "text/plain", bytes.NewReader(big[:gateway.MaxRequestBody]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eq(t, "10 MB status", resp.StatusCode, 204)
}

func TestNewAPIRejectsConflicts(t *testing.T) {
	h := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, nil
	}
	for name, routes := range map[string][]gateway.Route{
		"same shape":      {{Method: "GET", Path: "/a/{x}", Handler: h}, {Method: "GET", Path: "/a/{y}", Handler: h}},
		"greedy not last": {{Method: "GET", Path: "/a/{x+}/b", Handler: h}},
		"partial var":     {{Method: "GET", Path: "/a/x{y}", Handler: h}},
		"no handler":      {{Method: "GET", Path: "/a"}},
	} {
		if _, err := gateway.NewAPI(routes, gateway.APIOptions{}); err == nil {
			t.Errorf("%s: NewAPI accepted %+v", name, routes)
		}
	}
}

// toyApp provides toy functions by logical id, like wiring.App.
type toyApp map[string]wiring.Function

func (a toyApp) Function(id string) (wiring.Function, bool) {
	f, ok := a[id]
	return f, ok
}

// TestTemplateRoutes builds the gateway of the real template with toy
// functions (no engine is contacted before Start) and checks /health.
func TestTemplateRoutes(t *testing.T) {
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	app := toyApp{}
	for _, f := range fns {
		id := f.LogicalID
		app[id] = wiring.Function{
			LogicalID: id,
			HTTP: func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"},
					Body: `{"function":"` + id + `","route":"` + ev.RouteKey + `"}`}, nil
			},
			SQS: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{}, nil
			},
			Stream: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return events.DynamoDBEventResponse{}, nil
			},
			Schedule: func(context.Context, events.EventBridgeEvent) error { return nil },
		}
	}
	res := &stack.Resources{Prefix: "x", Region: "eu-west-3", AccountID: stack.LocalAccountID, ByID: map[string]stack.Physical{}}
	for _, r := range tpl.ResourcesOfType("AWS::SQS::Queue") {
		res.ByID[r.LogicalID] = stack.Physical{LogicalID: r.LogicalID, URL: "http://127.0.0.1:1/q/" + r.LogicalID, ARN: "arn:q:" + r.LogicalID}
	}
	res.ByID["Table"] = stack.Physical{LogicalID: "Table", Name: "x-Table", StreamARN: "arn:stream"}
	g, err := gateway.New(tpl, res, app, gateway.Options{DynamoDBEndpoint: "http://127.0.0.1:1", SQSEndpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.SQS) != 3 || len(g.Streams) != 1 { // AuditQueue, AiiaPollQueue and WebhookQueue; the table stream
		t.Errorf("mappings: %d SQS, %d streams", len(g.SQS), len(g.Streams))
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, body := get(t, srv.URL+"/health")
	eq(t, "health status", resp.StatusCode, 200)
	eq(t, "health body", body, `{"function":"DocsFunction","route":"GET /health"}`)
	resp, _ = get(t, srv.URL+"/v1/organizations/org-1/api_clients")
	eq(t, "api clients status", resp.StatusCode, 200)
	resp, _ = get(t, srv.URL+"/v1/nothing")
	eq(t, "unknown status", resp.StatusCode, 404)

	// A function the app lacks is a startup error naming it.
	delete(app, "DocsFunction")
	if _, err := gateway.New(tpl, res, app, gateway.Options{}); err == nil || !strings.Contains(err.Error(), "DocsFunction") {
		t.Errorf("missing function: err = %v", err)
	}
	// So is a function without the handler its events need.
	app["DocsFunction"] = wiring.Function{LogicalID: "DocsFunction", SQS: app["AuditWriterFunction"].SQS}
	if _, err := gateway.New(tpl, res, app, gateway.Options{}); err == nil || !strings.Contains(err.Error(), "HTTP handler") {
		t.Errorf("wrong handler: err = %v", err)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
