// Package ratelimit holds the abuse limits' arithmetic: fixed windows, the
// in-memory per-key counter that limits API calls per client in one
// container, and the RateLimit, RateLimit-Policy and Retry-After header
// values. It knows nothing of HTTP requests or of storage: the HTTP edge and
// the credential service apply it, the DynamoDB store keeps the counters that
// must be shared between containers.
//
// Headers follow draft-ietf-httpapi-ratelimit-headers-10 (September 2025):
// both fields are Structured Field Lists of named policies, e.g.
//
//	RateLimit-Policy: "api";q=50;w=1
//	RateLimit: "api";r=12;t=1
//
// q is the quota per window of w seconds, r the quota left in the current
// window and t the seconds until that window ends.
package ratelimit

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Policy allows at most Quota units in each fixed window of Window. Windows
// are aligned on the Unix epoch, so every container and every counter item
// agrees on where a window starts without sharing any state.
type Policy struct {
	Name   string // the policy's name in the headers (a token: lowercase letters, digits, '-')
	Quota  int
	Window time.Duration
}

// Enabled reports whether the policy limits anything (a zero quota or window
// means no limit).
func (p Policy) Enabled() bool { return p.Quota > 0 && p.Window > 0 }

// WindowStart is the start of the window that holds t.
func (p Policy) WindowStart(t time.Time) time.Time {
	return time.Unix(0, t.UnixNano()-mod(t.UnixNano(), int64(p.Window))).UTC()
}

// WindowEnd is the end of the window that holds t (the next window's start).
func (p Policy) WindowEnd(t time.Time) time.Time { return p.WindowStart(t).Add(p.Window) }

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Status is where one key stands in its current window.
type Status struct {
	Policy Policy
	Used   int           // units counted in the window, the current request's included
	Reset  time.Duration // until the window ends
}

// Remaining is the quota left in the window, never negative.
func (s Status) Remaining() int {
	if r := s.Policy.Quota - s.Used; r > 0 {
		return r
	}
	return 0
}

// Exceeded reports whether the window's quota is used up: Used counts the
// attempts already made, so the next one is refused when Used >= Quota.
func (s Status) Exceeded() bool { return s.Used >= s.Policy.Quota }

// StatusAt is the status of a key that has used n units of the window holding now.
func (p Policy) StatusAt(n int, now time.Time) Status {
	return Status{Policy: p, Used: n, Reset: p.WindowEnd(now).Sub(now)}
}

// seconds rounds a duration up to whole seconds: a client that waits that
// long is past the window's end.
func seconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 0 {
		return 0
	}
	return s
}

// PolicyHeader is the RateLimit-Policy value of policies.
func PolicyHeader(ps ...Policy) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, strconv.Quote(p.Name)+";q="+strconv.Itoa(p.Quota)+";w="+strconv.FormatInt(seconds(p.Window), 10))
	}
	return strings.Join(parts, ", ")
}

// Header is the RateLimit value of statuses.
func Header(ss ...Status) string {
	parts := make([]string, 0, len(ss))
	for _, s := range ss {
		parts = append(parts, strconv.Quote(s.Policy.Name)+";r="+strconv.Itoa(s.Remaining())+";t="+strconv.FormatInt(seconds(s.Reset), 10))
	}
	return strings.Join(parts, ", ")
}

// RetryAfter is the Retry-After value (delay-seconds, RFC 9110 §10.2.3) of
// the longest wait among the exceeded statuses: at least 1.
func RetryAfter(ss ...Status) string {
	var longest time.Duration
	for _, s := range ss {
		if s.Exceeded() && s.Reset > longest {
			longest = s.Reset
		}
	}
	n := seconds(longest)
	if n < 1 {
		n = 1
	}
	return strconv.FormatInt(n, 10)
}

// DefaultMaxKeys bounds a Limiter's memory: keys beyond it in one window are
// not counted (they pass), see Limiter.
const DefaultMaxKeys = 10_000

// Limiter counts units per key in the current fixed window, in memory. It
// keeps only the current window's counters — they are dropped together when
// the window turns — so it holds at most as many keys as distinct callers in
// one window, and never more than MaxKeys: a caller arriving when MaxKeys keys
// are already counted passes uncounted (failing open is the right side for
// an in-container limit; the stage throttle still applies). With the API's
// one-second window and one request at a time per Lambda container, the bound
// is far above what a container can serve.
//
// A Limiter is per container: the limit a client meets across the fleet is
// Quota times the number of containers serving it.
type Limiter struct {
	Policy  Policy
	Now     func() time.Time
	MaxKeys int

	mu     sync.Mutex
	window time.Time
	counts map[string]int
}

// NewLimiter returns a limiter for p on the clock now (time.Now if nil).
func NewLimiter(p Policy, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{Policy: p, Now: now, MaxKeys: DefaultMaxKeys}
}

// Take counts one unit for key and says whether it is within the quota. A
// refused unit is not counted, so a client that keeps calling during a
// refusal is admitted again as soon as the window turns.
func (l *Limiter) Take(key string) (Status, bool) {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.Policy.WindowStart(now); !w.Equal(l.window) || l.counts == nil {
		l.window, l.counts = w, make(map[string]int)
	}
	n, seen := l.counts[key]
	if !seen && len(l.counts) >= l.MaxKeys {
		return l.Policy.StatusAt(0, now), true
	}
	if n >= l.Policy.Quota {
		return l.Policy.StatusAt(n, now), false
	}
	n++
	l.counts[key] = n
	return l.Policy.StatusAt(n, now), true
}

// Len is the number of keys counted in the current window (for tests).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts)
}

// Counter names one key's counter in one window, for counters kept in a
// store: Start is part of its identity (a new window is a new counter, so
// nothing is ever reset), End is when it may be forgotten (its TTL).
type Counter struct {
	Key        string
	Start, End time.Time
}

// Counter is key's counter for the window holding now.
func (p Policy) Counter(key string, now time.Time) Counter {
	return Counter{Key: key, Start: p.WindowStart(now), End: p.WindowEnd(now)}
}
