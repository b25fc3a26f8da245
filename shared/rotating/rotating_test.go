package rotating

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestRefreshAfterTheCacheTime(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	secret, fetches := "1", atomic.Int64{}
	var fail error
	var mu sync.Mutex
	var reported []error
	v := New(1, func(context.Context) (string, error) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return secret, fail
	}, strconv.Atoi, 5*time.Minute, clk.now, func(err error) { reported = append(reported, err) })
	set := func(s string, err error) { mu.Lock(); secret, fail = s, err; mu.Unlock() }

	set("2", nil)
	if got := v.Get(); got != 1 || fetches.Load() != 0 {
		t.Fatalf("before the cache time: %d after %d fetches, want 1 after none", got, fetches.Load())
	}
	clk.add(5*time.Minute + time.Second)
	if got := v.Get(); got != 2 || fetches.Load() != 1 {
		t.Fatalf("after the cache time: %d after %d fetches, want 2 after one", got, fetches.Load())
	}
	// A failed read, then a value that does not parse: the last good value
	// stays, each failure is reported, and the next try waits RetryAfter.
	set("", errors.New("throttled"))
	clk.add(5*time.Minute + time.Second)
	if got := v.Get(); got != 2 || len(reported) != 1 {
		t.Fatalf("failed read: %d, %d reported", got, len(reported))
	}
	set("three", nil)
	if v.Get(); fetches.Load() != 2 {
		t.Fatalf("retried before RetryAfter: %d fetches", fetches.Load())
	}
	clk.add(RetryAfter)
	if got := v.Get(); got != 2 || len(reported) != 2 || fetches.Load() != 3 {
		t.Fatalf("bad value: %d, %d reported, %d fetches", got, len(reported), fetches.Load())
	}
	set("4", nil)
	clk.add(RetryAfter)
	if got := v.Get(); got != 4 {
		t.Fatalf("after recovery: %d, want 4", got)
	}
}

// Many requests finding the value due make one fetch; the others are
// served the value they have meanwhile.
func TestOneFetchAtATime(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	release := make(chan struct{})
	var fetches atomic.Int64
	v := New(1, func(context.Context) (string, error) {
		fetches.Add(1)
		<-release
		return "2", nil
	}, strconv.Atoi, time.Minute, clk.now, nil)
	clk.add(2 * time.Minute)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); v.Get() }()
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 50 {
		if got := v.Get(); got != 1 {
			t.Fatalf("during the refresh: %d, want the old 1", got)
		}
	}
	close(release)
	wg.Wait()
	if got := v.Get(); got != 2 || fetches.Load() != 1 {
		t.Fatalf("after: %d with %d fetches, want 2 with 1", got, fetches.Load())
	}
}
