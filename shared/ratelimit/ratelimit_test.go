package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestWindowsAreAlignedOnTheEpoch(t *testing.T) {
	p := ratelimit.Policy{Name: "p", Quota: 10, Window: 15 * time.Minute}
	tests := []struct {
		name       string
		at         time.Time
		start, end time.Time
	}{
		{"at a window's start", t0, t0, t0.Add(15 * time.Minute)},
		{"inside", t0.Add(7*time.Minute + 3*time.Second), t0, t0.Add(15 * time.Minute)},
		{"last nanosecond", t0.Add(15*time.Minute - 1), t0, t0.Add(15 * time.Minute)},
		{"next window", t0.Add(15 * time.Minute), t0.Add(15 * time.Minute), t0.Add(30 * time.Minute)},
		{"another zone, same instant", t0.Add(time.Minute).In(time.FixedZone("CET", 3600)), t0, t0.Add(15 * time.Minute)},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 45, 0, 0, time.UTC), time.Unix(0, 0).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.WindowStart(tt.at); !got.Equal(tt.start) {
				t.Errorf("WindowStart = %v, want %v", got, tt.start)
			}
			if got := p.WindowEnd(tt.at); !got.Equal(tt.end) {
				t.Errorf("WindowEnd = %v, want %v", got, tt.end)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	api := ratelimit.Policy{Name: "api", Quota: 50, Window: time.Second}
	client := ratelimit.Policy{Name: "token-client", Quota: 10, Window: 15 * time.Minute}
	ip := ratelimit.Policy{Name: "token-ip", Quota: 50, Window: 15 * time.Minute}
	tests := []struct {
		name                     string
		statuses                 []ratelimit.Status
		policy, limit, retryWant string
	}{
		{"one policy, quota left", []ratelimit.Status{{Policy: api, Used: 12, Reset: 300 * time.Millisecond}},
			`"api";q=50;w=1`, `"api";r=38;t=1`, "1"},
		{"used up: remaining never negative", []ratelimit.Status{{Policy: api, Used: 60, Reset: time.Second}},
			`"api";q=50;w=1`, `"api";r=0;t=1`, "1"},
		{"two policies, the exceeded one decides Retry-After", []ratelimit.Status{
			{Policy: client, Used: 10, Reset: 839*time.Second + time.Millisecond}, {Policy: ip, Used: 3, Reset: 839*time.Second + time.Millisecond}},
			`"token-client";q=10;w=900, "token-ip";q=50;w=900`, `"token-client";r=0;t=840, "token-ip";r=47;t=840`, "840"},
		{"nothing exceeded: Retry-After is still at least 1", []ratelimit.Status{{Policy: ip, Used: 0, Reset: 0}},
			`"token-ip";q=50;w=900`, `"token-ip";r=50;t=0`, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []ratelimit.Policy
			for _, s := range tt.statuses {
				ps = append(ps, s.Policy)
			}
			if got := ratelimit.PolicyHeader(ps...); got != tt.policy {
				t.Errorf("PolicyHeader = %s, want %s", got, tt.policy)
			}
			if got := ratelimit.Header(tt.statuses...); got != tt.limit {
				t.Errorf("Header = %s, want %s", got, tt.limit)
			}
			if got := ratelimit.RetryAfter(tt.statuses...); got != tt.retryWant {
				t.Errorf("RetryAfter = %s, want %s", got, tt.retryWant)
			}
		})
	}
}

func TestLimiterCountsPerKeyAndWindow(t *testing.T) {
	type step struct {
		at        time.Duration // from t0
		key       string
		allowed   bool
		remaining int
		reset     time.Duration
	}
	p := ratelimit.Policy{Name: "api", Quota: 3, Window: time.Second}
	tests := []struct {
		name  string
		steps []step
	}{
		{"quota then refusal", []step{
			{0, "a", true, 2, time.Second}, {100 * time.Millisecond, "a", true, 1, 900 * time.Millisecond},
			{200 * time.Millisecond, "a", true, 0, 800 * time.Millisecond}, {300 * time.Millisecond, "a", false, 0, 700 * time.Millisecond},
			{999 * time.Millisecond, "a", false, 0, time.Millisecond},
		}},
		{"keys are independent", []step{
			{0, "a", true, 2, time.Second}, {0, "a", true, 1, time.Second}, {0, "a", true, 0, time.Second}, {0, "a", false, 0, time.Second},
			{0, "b", true, 2, time.Second},
		}},
		{"the next window starts afresh", []step{
			{0, "a", true, 2, time.Second}, {0, "a", true, 1, time.Second}, {0, "a", true, 0, time.Second}, {0, "a", false, 0, time.Second},
			{time.Second, "a", true, 2, time.Second},
		}},
		{"a refused call is not counted", []step{
			{900 * time.Millisecond, "a", true, 2, 100 * time.Millisecond}, {900 * time.Millisecond, "a", true, 1, 100 * time.Millisecond},
			{900 * time.Millisecond, "a", true, 0, 100 * time.Millisecond}, {950 * time.Millisecond, "a", false, 0, 50 * time.Millisecond},
			{950 * time.Millisecond, "a", false, 0, 50 * time.Millisecond}, {1000 * time.Millisecond, "a", true, 2, time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: t0}
			l := ratelimit.NewLimiter(p, clk.Now)
			for i, s := range tt.steps {
				clk.Set(t0.Add(s.at))
				st, ok := l.Take(s.key)
				if ok != s.allowed || st.Remaining() != s.remaining || st.Reset != s.reset {
					t.Errorf("step %d (%s at +%v): allowed %v, remaining %d, reset %v; want %v, %d, %v",
						i, s.key, s.at, ok, st.Remaining(), st.Reset, s.allowed, s.remaining, s.reset)
				}
			}
		})
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clk := &clock{t: t0}
	l := ratelimit.NewLimiter(ratelimit.Policy{Name: "api", Quota: 1, Window: time.Second}, clk.Now)
	l.MaxKeys = 100
	for i := 0; i < 1000; i++ {
		l.Take(fmt.Sprintf("client-%d", i))
	}
	if got, want := l.Len(), 100; got != want {
		t.Fatalf("keys held = %d, want the bound %d", got, want)
	}
	// Beyond the bound a new key passes (fails open) without being held;
	// keys already held are still limited.
	if _, ok := l.Take("client-5000"); !ok {
		t.Error("a key beyond the bound was refused; want it to pass uncounted")
	}
	if _, ok := l.Take("client-0"); ok {
		t.Error("a held key over its quota passed")
	}
	// The window turns: every counter goes at once.
	clk.Set(t0.Add(time.Second))
	l.Take("client-1")
	if got, want := l.Len(), 1; got != want {
		t.Fatalf("keys held after the window turned = %d, want %d", got, want)
	}
}

func TestLimiterIsSafeForConcurrentUse(t *testing.T) {
	clk := &clock{t: t0}
	l := ratelimit.NewLimiter(ratelimit.Policy{Name: "api", Quota: 100, Window: time.Second}, clk.Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, ok := l.Take("a"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("allowed %d of 400 concurrent calls, want exactly the quota 100", allowed)
	}
}
