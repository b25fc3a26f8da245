package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/wiring"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines decodes the JSON log lines whose msg is msg.
func (l *lockedBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// clientFrom is an HTTP client whose connections leave from ip (any address
// of 127.0.0.0/8 is the loopback on Linux), so the gateway sees that source.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// limitsWorld is a world with the default limits on a clock the test moves.
func limitsWorld(t *testing.T) (*world, *stacktest.Clock, *lockedBuffer) {
	t.Helper()
	limits := wiring.DefaultRateLimits()
	clock := stacktest.NewClock(time.Date(2026, 11, 21, 10, 0, 30, 0, time.UTC))
	limits.Now = clock.Now
	logs := &lockedBuffer{}
	return newWorldWith(t, worldOptions{rateLimits: &limits, logs: logs}), clock, logs
}

// The case: 1 000 token requests with a wrong secret from one
// address, 16 at a time, against the default limits. The first ones are
// 401s, then every answer is a 429 with Retry-After; the client is locked
// for its right secret too until the window ends; another client, from this
// address or another, is not; the logs name the client, the address and the
// counts, never the secret; and each answer costs the DynamoDB calls stated.
func TestTokenBruteForceIsLockedOut(t *testing.T) {
	w, clock, logs := limitsWorld(t)
	const (
		attempts    = 1000
		concurrency = 16
		wrongSecret = "Guessed-Secret-0123456789-never-in-logs"
		clientQuota = 10 // wiring.DefaultRateLimits().Token.PerClient
	)
	perClient := wiring.DefaultRateLimits().Token.PerClient
	if perClient.Quota != clientQuota {
		t.Fatalf("default per-client quota %d; this test expects %d", perClient.Quota, clientQuota)
	}
	body := tokenBody("ptn-1-client", wrongSecret, "")
	client := clientFrom(t, "127.0.0.1")

	type result struct {
		status     int
		retryAfter string
		rateLimit  string
		code       string
	}
	results := make([]result, attempts)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < concurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req, _ := http.NewRequestWithContext(context.Background(), "POST", w.srv.URL+"/v1/auth/token", strings.NewReader(body))
				req.Header.Set("Content-Type", jsonCT)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("attempt %d: %v", i, err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err := w.validator.ValidateResponse("POST", "/v1/auth/token", "", req.Header, resp.StatusCode, resp.Header, b); err != nil {
					t.Errorf("attempt %d: %v", i, err)
				}
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				code, _ := m["error"].(string)
				results[i] = result{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("RateLimit"), code}
			}
		}()
	}
	for i := 0; i < attempts; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d attempts in %v", attempts, time.Since(start))

	counts := map[int]int{}
	for i, r := range results {
		counts[r.status]++
		switch r.status {
		case 401:
			if r.code != "invalid_client" || !strings.HasPrefix(r.rateLimit, `"token-client";r=`) {
				t.Errorf("attempt %d: 401 %+v", i, r)
			}
		case 429:
			ra, err := strconv.Atoi(r.retryAfter)
			// 10:00:30 in a 15-minute window: 870 s to its end.
			if r.code != "rate_limited" || err != nil || ra != 870 || !strings.HasPrefix(r.rateLimit, `"token-client";r=0;t=870`) {
				t.Errorf("attempt %d: 429 %+v", i, r)
			}
		default:
			t.Errorf("attempt %d: status %d", i, r.status)
		}
	}
	// Every failure is counted before the next request is checked, except
	// those in flight together: at most the pool's size beyond the quota.
	if counts[401] < clientQuota || counts[401] > clientQuota+concurrency || counts[429] != attempts-counts[401] {
		t.Errorf("answers %v: want %d to %d 401s, then only 429s", counts, clientQuota, clientQuota+concurrency)
	}
	// Attempts are sent in order: attempt i leaves once at least
	// i-concurrency earlier ones have been answered (and counted), so from
	// attempt clientQuota+concurrency on, every answer is a 429.
	for i := clientQuota + concurrency; i < attempts; i++ {
		if results[i].status != 429 {
			t.Errorf("attempt %d: status %d after the lockout began", i, results[i].status)
		}
	}

	// The right secret is refused too while the window lasts.
	a := w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
		body: tokenBody("ptn-1-client", partnerSecret, ""), status: 429})
	if a.errCode(t) != "rate_limited" || a.header.Get("Retry-After") != "870" ||
		a.header.Get("RateLimit-Policy") != `"token-client";q=10;w=900, "token-ip";q=50;w=900` {
		t.Errorf("right secret while locked: %s %v", a.body, a.header)
	}
	// Another client is not affected, from this address (which has used
	// fewer than its 50) or from another.
	w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
		body: tokenBody("ptn-2-client", partnerSecret, ""), status: 200})
	w.doWith(clientFrom(t, "127.0.0.2"), exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
		body: tokenBody("ptn-2-client", partnerSecret, ""), status: 200})
	// The window ends: the right secret works again.
	clock.Advance(870 * time.Second)
	w.token("ptn-1-client", partnerSecret)

	// The logs: one line per failed attempt with its counts, one per
	// refusal, and never the secret.
	failed := logs.lines(t, "failed client authentication")
	if len(failed) != counts[401] {
		t.Errorf("%d failed-attempt log lines, want %d", len(failed), counts[401])
	}
	maxCount := 0.0
	for _, l := range failed {
		if l["client_id"] != "ptn-1-client" || l["source_ip"] != "127.0.0.1" {
			t.Errorf("failed-attempt line %v", l)
		}
		if n, _ := l["client_failures"].(float64); n > maxCount {
			maxCount = n
		}
	}
	if int(maxCount) != counts[401] {
		t.Errorf("highest logged client_failures %v, want %d (every failure counted once)", maxCount, counts[401])
	}
	if refused := logs.lines(t, "token request refused: too many failed attempts"); len(refused) != counts[429]+1 {
		t.Errorf("%d refusal log lines, want %d", len(refused), counts[429]+1)
	}
	if strings.Contains(logs.String(), wrongSecret) || strings.Contains(logs.String(), partnerSecret) {
		t.Error("a secret is in the logs")
	}

	// DynamoDB calls per token request, from the edge's request lines.
	calls := map[float64]map[float64]int{} // status → calls → requests
	for _, l := range logs.lines(t, "request") {
		if l["route"] != "POST /v1/auth/token" {
			continue
		}
		st, _ := l["status"].(float64)
		n, _ := l["dynamodb_calls"].(float64)
		if calls[st] == nil {
			calls[st] = map[float64]int{}
		}
		calls[st][n]++
	}
	for status, want := range map[float64]float64{200: 1, 401: 3, 429: 1} {
		for n := range calls[status] {
			if n != want {
				t.Errorf("a %v answer made %v DynamoDB calls, want %v (%v)", status, n, want, calls[status])
			}
		}
	}
}

// The per-client API limit: 50 authenticated requests per second per client
// (per container), then 429 in the /v1 error shape with Retry-After and the
// RateLimit headers, no DynamoDB call; another client is not affected; the
// next second admits the client again.
func TestAPIClientLimit(t *testing.T) {
	w, clock, logs := limitsWorld(t)
	quota := wiring.DefaultRateLimits().API.Quota
	p1, p2 := w.token("ptn-1-client", partnerSecret), w.token("ptn-2-client", partnerSecret)
	org := w.createOrg(p1, orgBody("Limitée")) // the first request of the window
	get := exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer(p1), status: 200}
	for i := 2; i <= quota; i++ {
		a := w.do(get)
		if got, want := a.header.Get("RateLimit"), `"api";r=`+strconv.Itoa(quota-i)+`;t=1`; got != want {
			t.Fatalf("request %d: RateLimit %q, want %q", i, got, want)
		}
		if got, want := a.header.Get("RateLimit-Policy"), `"api";q=`+strconv.Itoa(quota)+`;w=1`; got != want {
			t.Fatalf("request %d: RateLimit-Policy %q, want %q", i, got, want)
		}
	}
	refused := get
	refused.status = 429
	a := w.do(refused)
	if a.errCode(t) != "rate_limited" || a.json(t)["error"].(map[string]any)["type"] != "rate_limit_error" ||
		a.header.Get("Retry-After") != "1" || a.header.Get("RateLimit") != `"api";r=0;t=1` {
		t.Errorf("over the limit: %s %v", a.body, a.header)
	}
	// The same limit on every authenticated route of the function.
	w.do(exchange{method: "GET", route: "/v1/organizations", header: bearer(p1), status: 429})
	// Another client has its own quota.
	w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer(p2), status: 404})
	// Public routes are not counted.
	w.do(exchange{method: "GET", route: "/health", status: 200})
	clock.Advance(time.Second)
	w.do(get)

	for _, l := range logs.lines(t, "request") {
		if l["status"] == 429.0 && l["dynamodb_calls"] != 0.0 {
			t.Errorf("a refused request made DynamoDB calls: %v", l)
		}
	}
}
