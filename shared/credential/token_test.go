package credential_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/ratelimit"
)

// memStore keeps clients and counters in maps, with the store's contract:
// a counter is identified by key and window start, an absent one reads 0.
// It counts its calls as the DynamoDB store would make them.
type memStore struct {
	credential.Store // the methods the token endpoint does not use
	mu               sync.Mutex
	clients          map[string]credential.Client
	counters         map[string]int
	reads, updates   int
	failUpdates      error
}

func counterID(c ratelimit.Counter) string { return c.Key + "@" + c.Start.Format(time.RFC3339) }

func (m *memStore) GetClientWithCounters(_ context.Context, id string, cs ...ratelimit.Counter) (credential.Client, []int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	counts := make([]int, len(cs))
	for i, c := range cs {
		counts[i] = m.counters[counterID(c)]
	}
	c, ok := m.clients[id]
	if !ok {
		return credential.Client{}, counts, apperr.E("mem", apperr.NotFound, "client not found")
	}
	return c, counts, nil
}

func (m *memStore) AddToCounters(_ context.Context, cs ...ratelimit.Counter) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates += len(cs)
	if m.failUpdates != nil {
		return nil, m.failUpdates
	}
	out := make([]int, len(cs))
	for i, c := range cs {
		m.counters[counterID(c)]++
		out[i] = m.counters[counterID(c)]
	}
	return out, nil
}

const (
	goodSecret  = "the-right-secret-0123456789"
	wrongSecret = "Sup3r-S3cret-Guess-must-not-leak"
)

type tokenWorld struct {
	svc   *credential.Service
	store *memStore
	now   time.Time
	logs  *bytes.Buffer
}

func newTokenWorld(t *testing.T, limits credential.TokenLimits) *tokenWorld {
	t.Helper()
	kr, err := auth.ParseKeyring("k1:"+base64.StdEncoding.EncodeToString([]byte("key-0123456789abcdef-0123456789a")), "k1")
	if err != nil {
		t.Fatal(err)
	}
	w := &tokenWorld{now: time.Date(2026, 11, 21, 10, 0, 30, 0, time.UTC), logs: &bytes.Buffer{}}
	w.store = &memStore{counters: map[string]int{}, clients: map[string]credential.Client{
		"cli-a":       {ID: "cli-a", PartnerID: "ptn-1", Scope: auth.ScopePartner, SecretHash: auth.HashSecret(goodSecret), Status: credential.StatusActive},
		"cli-b":       {ID: "cli-b", PartnerID: "ptn-1", Scope: auth.ScopePartner, SecretHash: auth.HashSecret(goodSecret), Status: credential.StatusActive},
		"cli-revoked": {ID: "cli-revoked", PartnerID: "ptn-1", Scope: auth.ScopePartner, SecretHash: auth.HashSecret(goodSecret), Status: credential.StatusRevoked},
	}}
	clock := func() time.Time { return w.now }
	w.svc = &credential.Service{Store: w.store, Now: clock, LimitNow: clock, Limits: limits,
		Log:    slog.New(slog.NewJSONHandler(w.logs, nil)),
		Issuer: &auth.Issuer{Keys: kr, Issuer: "modupay-test", Audience: "modupay-api", TTL: time.Hour, Now: clock, NewID: func() string { return "tok" }}}
	return w
}

// issued is the outcome of a request that got its token; the others are
// the error's code.
const issued = ""

func (w *tokenWorld) token(client, secret, ip string) (string, *auth.OAuthError) {
	_, err := w.svc.Token(context.Background(), auth.TokenRequest{GrantType: auth.GrantClientCredentials, ClientID: client, ClientSecret: secret}, ip)
	if err == nil {
		return issued, nil
	}
	var oerr *auth.OAuthError
	if !errors.As(err, &oerr) {
		panic(err)
	}
	return oerr.Code, oerr
}

var testLimits = credential.TokenLimits{
	PerClient: ratelimit.Policy{Name: "token-client", Quota: 3, Window: 15 * time.Minute},
	PerIP:     ratelimit.Policy{Name: "token-ip", Quota: 5, Window: 15 * time.Minute},
}

func TestTokenLimits(t *testing.T) {
	type attempt struct {
		client, secret, ip string
		outcome            string
	}
	wrong := func(client, ip string) attempt { return attempt{client, wrongSecret, ip, auth.CodeInvalidClient} }
	tests := []struct {
		name     string
		attempts []attempt
		// then, after the attempts:
		last attempt
	}{
		{"the right secret passes", nil, attempt{"cli-a", goodSecret, "203.0.113.1", issued}},
		{"failures up to the client's quota are 401s, then the client is locked, right secret included",
			[]attempt{wrong("cli-a", "203.0.113.1"), wrong("cli-a", "203.0.113.2"), wrong("cli-a", "203.0.113.3"),
				{"cli-a", wrongSecret, "203.0.113.4", auth.CodeRateLimited}},
			attempt{"cli-a", goodSecret, "198.51.100.9", auth.CodeRateLimited}},
		{"a locked client does not lock its neighbours",
			[]attempt{wrong("cli-a", "203.0.113.1"), wrong("cli-a", "203.0.113.2"), wrong("cli-a", "203.0.113.3")},
			attempt{"cli-b", goodSecret, "203.0.113.1", issued}},
		{"one address trying many clients is locked at the address's quota",
			[]attempt{wrong("c1", "203.0.113.7"), wrong("c2", "203.0.113.7"), wrong("c3", "203.0.113.7"), wrong("c4", "203.0.113.7"), wrong("c5", "203.0.113.7"),
				{"c6", wrongSecret, "203.0.113.7", auth.CodeRateLimited}},
			attempt{"cli-b", goodSecret, "203.0.113.7", auth.CodeRateLimited}},
		{"another address is not locked by it",
			[]attempt{wrong("c1", "203.0.113.7"), wrong("c2", "203.0.113.7"), wrong("c3", "203.0.113.7"), wrong("c4", "203.0.113.7"), wrong("c5", "203.0.113.7")},
			attempt{"cli-b", goodSecret, "203.0.113.8", issued}},
		{"an IPv6 /64 counts as one address",
			[]attempt{wrong("c1", "2001:db8:1:2::1"), wrong("c2", "2001:db8:1:2::2"), wrong("c3", "2001:db8:1:2:ffff::3"), wrong("c4", "2001:db8:1:2::4"), wrong("c5", "2001:db8:1:2::5")},
			attempt{"cli-b", goodSecret, "2001:db8:1:2::99", auth.CodeRateLimited}},
		{"the next /64 is another address",
			[]attempt{wrong("c1", "2001:db8:1:2::1"), wrong("c2", "2001:db8:1:2::2"), wrong("c3", "2001:db8:1:2::3"), wrong("c4", "2001:db8:1:2::4"), wrong("c5", "2001:db8:1:2::5")},
			attempt{"cli-b", goodSecret, "2001:db8:1:3::1", issued}},
		{"unknown and revoked clients are counted like wrong secrets",
			[]attempt{wrong("no-such-client", "203.0.113.1"), wrong("no-such-client", "203.0.113.2"), wrong("no-such-client", "203.0.113.3")},
			attempt{"no-such-client", wrongSecret, "203.0.113.4", auth.CodeRateLimited}},
		{"a revoked client with its right secret is a failure",
			[]attempt{{"cli-revoked", goodSecret, "203.0.113.1", auth.CodeInvalidClient}, {"cli-revoked", goodSecret, "203.0.113.2", auth.CodeInvalidClient}, {"cli-revoked", goodSecret, "203.0.113.3", auth.CodeInvalidClient}},
			attempt{"cli-revoked", goodSecret, "203.0.113.4", auth.CodeRateLimited}},
		{"no address (a direct invocation): only the client is counted",
			[]attempt{wrong("c1", ""), wrong("c2", ""), wrong("c3", ""), wrong("c4", ""), wrong("c5", ""), wrong("c6", "")},
			attempt{"cli-b", goodSecret, "", issued}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTokenWorld(t, testLimits)
			for i, a := range append(tt.attempts, tt.last) {
				if got, _ := w.token(a.client, a.secret, a.ip); got != a.outcome {
					t.Errorf("attempt %d (%s from %q): outcome %q, want %q", i, a.client, a.ip, got, a.outcome)
				}
			}
		})
	}
}

// The windows are fixed: a lockout ends with its window, and the answers
// carry where the caller stands.
func TestTokenLockoutEndsWithItsWindow(t *testing.T) {
	w := newTokenWorld(t, testLimits) // 10:00:30, in the window 10:00–10:15
	for i := 0; i < 3; i++ {
		_, oerr := w.token("cli-a", wrongSecret, "203.0.113.1")
		if oerr == nil || oerr.Code != auth.CodeInvalidClient {
			t.Fatalf("failure %d: %+v", i, oerr)
		}
		if got, want := ratelimit.Header(oerr.RateLimits...), `"token-client";r=`+string(rune('2'-i))+`;t=870, "token-ip";r=`+string(rune('4'-i))+`;t=870`; got != want {
			t.Errorf("failure %d: RateLimit %s, want %s", i, got, want)
		}
	}
	w.now = w.now.Add(14 * time.Minute) // 10:14:30
	outcome, oerr := w.token("cli-a", goodSecret, "203.0.113.1")
	if outcome != auth.CodeRateLimited || oerr.Description == "" {
		t.Fatalf("right secret during the lockout: %q %+v", outcome, oerr)
	}
	if got := ratelimit.RetryAfter(oerr.RateLimits...); got != "30" {
		t.Errorf("Retry-After %s, want 30", got)
	}
	w.now = w.now.Add(30 * time.Second) // 10:15:00, the next window
	if outcome, oerr := w.token("cli-a", goodSecret, "203.0.113.1"); outcome != issued {
		t.Fatalf("right secret after the window: %q %+v", outcome, oerr)
	}
}

// One read per request, whatever its outcome; a failure adds one counter
// update per limit; a refused request writes nothing.
func TestTokenStoreCalls(t *testing.T) {
	w := newTokenWorld(t, testLimits)
	w.token("cli-a", goodSecret, "203.0.113.1")
	if w.store.reads != 1 || w.store.updates != 0 {
		t.Errorf("success: %d reads, %d updates; want 1, 0", w.store.reads, w.store.updates)
	}
	for i := 0; i < 3; i++ {
		w.token("cli-a", wrongSecret, "203.0.113.1")
	}
	if w.store.reads != 4 || w.store.updates != 6 {
		t.Errorf("after 3 failures: %d reads, %d updates; want 4, 6", w.store.reads, w.store.updates)
	}
	w.token("cli-a", wrongSecret, "203.0.113.1")
	if w.store.reads != 5 || w.store.updates != 6 {
		t.Errorf("after a refusal: %d reads, %d updates; want 5, 6", w.store.reads, w.store.updates)
	}
}

// A failure to count must not turn a failed authentication into an
// internal error: it is logged.
func TestTokenFailureWhenCountingFails(t *testing.T) {
	w := newTokenWorld(t, testLimits)
	w.store.failUpdates = errors.New("throttled")
	if outcome, _ := w.token("cli-a", wrongSecret, "203.0.113.1"); outcome != auth.CodeInvalidClient {
		t.Fatalf("outcome %q, want %s", outcome, auth.CodeInvalidClient)
	}
	if !strings.Contains(w.logs.String(), "not counted") {
		t.Errorf("the lost count is not logged: %s", w.logs)
	}
}

// Failed and refused attempts are logged with the client id, the address
// and the counts — never the secret, in any form.
func TestTokenLogsNeverHoldTheSecret(t *testing.T) {
	w := newTokenWorld(t, testLimits)
	for i := 0; i < 5; i++ {
		w.token("cli-a", wrongSecret, "203.0.113.1")
	}
	w.token("cli-a", goodSecret, "203.0.113.1")
	logs := w.logs.String()
	for _, want := range []string{`"msg":"failed client authentication"`, `"client_id":"cli-a"`, `"source_ip":"203.0.113.1"`,
		`"client_failures":3`, `"ip_failures":3`, `"msg":"token request refused: too many failed attempts"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{wrongSecret, goodSecret, auth.HashSecret(wrongSecret), auth.HashSecret(goodSecret),
		base64.StdEncoding.EncodeToString([]byte(wrongSecret))} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold a secret (or its hash or encoding) %q:\n%s", secret, logs)
		}
	}
}
