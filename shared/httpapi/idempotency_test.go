package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
)

// memIdempotency is an idempotency.Store in memory, keeping what the API
// asks it to store, so tests can look at the record itself.
type memIdempotency struct {
	mu       sync.Mutex
	recs     map[string]idempotency.Record
	released int
}

func (m *memIdempotency) Begin(_ context.Context, rec *idempotency.Record) (*idempotency.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.recs[rec.Scope+"\x00"+rec.Key]; ok {
		if old.Completed || old.Reserved == "" || old.Fingerprint != rec.Fingerprint {
			return &old, nil
		}
		rec.Reserved = old.Reserved // an unlocked record of the same request
	}
	m.recs[rec.Scope+"\x00"+rec.Key] = *rec
	return nil, nil
}

func (m *memIdempotency) Unlock(_ context.Context, rec idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.Scope+"\x00"+rec.Key] = rec
	m.released++
	return nil
}

func (m *memIdempotency) Complete(_ context.Context, rec idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.Scope+"\x00"+rec.Key] = rec
	return nil
}

func (m *memIdempotency) Release(_ context.Context, scope, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, scope+"\x00"+key)
	m.released++
	return nil
}

type staticVerifier struct{}

func (staticVerifier) Verify(string) (auth.Principal, error) {
	return auth.Principal{ClientID: "cli-1", PartnerID: "ptn-1", Scope: auth.ScopePartner}, nil
}

const secretValue = "whsec_s3cr3t-value-0123456789"

// A route's Redact fields never reach the idempotency record: the first
// response shows the secret, the record holds null, and a replay answers
// the same status and resource with the field null, saying which field was
// redacted. Error responses and routes without Redact are stored as they are.
func TestIdempotencyRedactsSecrets(t *testing.T) {
	store := &memIdempotency{recs: map[string]idempotency.Record{}}
	calls := 0
	api, err := httpapi.New(httpapi.Options{Verifier: staticVerifier{}, Idempotency: store, NewID: func() string { return "req-1" }},
		httpapi.Route{Key: "POST /secrets", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Redact: []string{"secret", "absent"}, Handler: func(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			calls++
			if bytes.Contains(r.Body, []byte("fail")) {
				return httpapi.JSON(http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": "nope"}})
			}
			return httpapi.JSON(http.StatusCreated, map[string]any{"id": "sub-1", "secret": secretValue, "url": "https://x.test"})
		}},
		httpapi.Route{Key: "POST /plain", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			return httpapi.JSON(http.StatusCreated, map[string]any{"id": "x-1", "secret": secretValue})
		}},
		httpapi.Route{Key: "POST /text", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Redact: []string{"secret"}, Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			calls++
			return httpapi.Raw(http.StatusOK, "text/plain", []byte(secretValue)), nil
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, key, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "POST " + path, RawPath: path, Body: body,
			Headers: map[string]string{"authorization": "Bearer t", "idempotency-key": key, "content-type": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: path}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	record := func(key string) idempotency.Record {
		t.Helper()
		rec, ok := store.recs["cli-1\x00"+key]
		if !ok {
			t.Fatalf("no record for %s", key)
		}
		return rec
	}

	first := post("/secrets", "k1", `{}`)
	if first.StatusCode != 201 || !bytes.Contains([]byte(first.Body), []byte(secretValue)) {
		t.Fatalf("first: %d %s, want 201 with the secret", first.StatusCode, first.Body)
	}
	if h := first.Headers[httpapi.HeaderIdempotentRedacted]; h != "" {
		t.Errorf("first response has %s: %q", httpapi.HeaderIdempotentRedacted, h)
	}
	rec := record("k1")
	if bytes.Contains(rec.Body, []byte(secretValue)) {
		t.Errorf("the record keeps the secret: %s", rec.Body)
	}
	for k, v := range rec.Header {
		if bytes.Contains([]byte(v), []byte(secretValue)) {
			t.Errorf("the record's header %s keeps the secret", k)
		}
	}
	if got, want := string(rec.Body), `{"id":"sub-1","secret":null,"url":"https://x.test"}`; got != want {
		t.Errorf("stored body %s, want %s", got, want)
	}

	replay := post("/secrets", "k1", `{}`)
	if calls != 1 {
		t.Errorf("handler ran %d times, want 1", calls)
	}
	if replay.StatusCode != 201 {
		t.Errorf("replay status %d, want 201", replay.StatusCode)
	}
	for k, want := range map[string]string{"Idempotent-Replayed": "true", httpapi.HeaderIdempotentRedacted: "secret", "Content-Type": "application/json"} {
		if got := replay.Headers[k]; got != want {
			t.Errorf("replay header %s = %q, want %q", k, got, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(replay.Body), &body); err != nil {
		t.Fatal(err)
	}
	if v, ok := body["secret"]; !ok || v != nil || body["id"] != "sub-1" || body["url"] != "https://x.test" {
		t.Errorf("replay body %s, want the resource with secret null", replay.Body)
	}

	// An error carries no secret: stored and replayed as it is.
	fail := post("/secrets", "k2", `{"fail":true}`)
	again := post("/secrets", "k2", `{"fail":true}`)
	if fail.StatusCode != 422 || again.StatusCode != 422 || again.Body != fail.Body || again.Headers[httpapi.HeaderIdempotentRedacted] != "" {
		t.Errorf("error replay: %d %s / %d %s %v", fail.StatusCode, fail.Body, again.StatusCode, again.Body, again.Headers)
	}

	// A route without Redact is unchanged.
	post("/plain", "k3", `{}`)
	if !bytes.Contains(record("k3").Body, []byte(secretValue)) {
		t.Errorf("a route without Redact was changed: %s", record("k3").Body)
	}

	// A body that cannot be redacted is not stored: the key is released,
	// so a retry runs again instead of replaying it.
	calls = 0
	post("/text", "k4", `{}`)
	post("/text", "k4", `{}`)
	if _, ok := store.recs["cli-1\x00k4"]; ok || calls != 2 || store.released != 2 {
		t.Errorf("unredactable body: stored %v, handler ran %d times, %d releases; want not stored, 2, 2", ok, calls, store.released)
	}
}
