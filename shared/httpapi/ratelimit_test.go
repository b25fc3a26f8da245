package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/ratelimit"
)

// tokenIsClient accepts any token and takes it as the client id.
type tokenIsClient struct{}

func (tokenIsClient) Verify(token string) (auth.Principal, error) {
	if token == "bad" {
		return auth.Principal{}, errors.New("bad token")
	}
	return auth.Principal{ClientID: token, PartnerID: "ptn-1", Scope: auth.ScopePartner}, nil
}

// The per-client limit: counted after authentication, per client, with the
// draft's headers on every counted answer (errors included) and a 429 in
// the /v1 error shape with Retry-After once the window's quota is used.
func TestClientLimit(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 250_000_000, time.UTC)
	calls := 0
	api, err := httpapi.New(httpapi.Options{Verifier: tokenIsClient{}, NewID: func() string { return "req-1" },
		ClientLimit: ratelimit.Policy{Name: "api", Quota: 3, Window: time.Second}, LimitNow: func() time.Time { return now }},
		httpapi.Route{Key: "GET /v1/things", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			calls++
			if r.Query.Get("missing") != "" {
				return nil, errNotFound
			}
			return httpapi.JSON(http.StatusOK, map[string]string{"ok": "yes"})
		}},
		httpapi.Route{Key: "GET /health", Access: httpapi.Public, Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"})
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	call := func(path, query, token string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET " + path, RawPath: path, RawQueryString: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path, SourceIP: "198.51.100.7"}}}
		if token != "" {
			ev.Headers = map[string]string{"authorization": "Bearer " + token}
		}
		ctx, _ := callcount.With(context.Background())
		resp, err := api.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	type want struct {
		status            int
		limit, retryAfter string
	}
	steps := []struct {
		name               string
		path, query, token string
		want               want
	}{
		{"first", "/v1/things", "", "cli-a", want{200, `"api";r=2;t=1`, ""}},
		{"an error answer is counted and says so", "/v1/things", "missing=1", "cli-a", want{404, `"api";r=1;t=1`, ""}},
		{"last of the quota", "/v1/things", "", "cli-a", want{200, `"api";r=0;t=1`, ""}},
		{"over the quota", "/v1/things", "", "cli-a", want{429, `"api";r=0;t=1`, "1"}},
		{"another client has its own quota", "/v1/things", "", "cli-b", want{200, `"api";r=2;t=1`, ""}},
		{"a rejected token is not counted", "/v1/things", "", "bad", want{401, "", ""}},
		{"public routes are not limited", "/health", "", "", want{200, "", ""}},
	}
	for _, s := range steps {
		resp := call(s.path, s.query, s.token)
		got := want{resp.StatusCode, resp.Headers["RateLimit"], resp.Headers["Retry-After"]}
		if got != s.want {
			t.Errorf("%s: got %+v, want %+v", s.name, got, s.want)
		}
		wantPolicy := ""
		if s.want.limit != "" {
			wantPolicy = `"api";q=3;w=1`
		}
		if p := resp.Headers["RateLimit-Policy"]; p != wantPolicy {
			t.Errorf("%s: RateLimit-Policy %q, want %q", s.name, p, wantPolicy)
		}
		if s.want.status == 429 {
			var body httpapi.ErrorBody
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("429 body %s: %v", resp.Body, err)
			}
			if body.Error.Type != "rate_limit_error" || body.Error.Code != "rate_limited" || body.Error.RequestID != "req-1" || body.Error.Message == "" {
				t.Errorf("429 body = %+v", body.Error)
			}
		}
	}
	if calls != 4 {
		t.Errorf("handler ran %d times, want 4 (never for a refused request)", calls)
	}

	// The next window admits the client again.
	now = now.Add(time.Second)
	if resp := call("/v1/things", "", "cli-a"); resp.StatusCode != 200 || resp.Headers["RateLimit"] != `"api";r=2;t=1` {
		t.Errorf("next window: status %d, RateLimit %q", resp.StatusCode, resp.Headers["RateLimit"])
	}
}

var errNotFound = apperr.E("thing.get", apperr.NotFound, "no such thing")
