package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/worker"
)

type runner func(context.Context, events.SQSEvent, string, *slog.Logger, worker.Parker, func(context.Context, events.SQSMessage) error) events.SQSEventResponse

var runners = []struct {
	name string
	run  runner
}{
	{"Each", worker.Each},
	{"Parallel", worker.Parallel},
}

func batch(ids ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: "body of " + id})
	}
	return ev
}

func failures(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// syncBuffer is a log sink that Parallel's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBatchOutcomes(t *testing.T) {
	cases := []struct {
		name       string
		outcome    map[string]func() error // by message id; absent = success
		wantFailed []string
		wantParked []string
		wantLog    []string
	}{
		{
			name:       "all succeed",
			wantFailed: []string{},
		},
		{
			name:       "a panic fails that record alone",
			outcome:    map[string]func() error{"m2": func() error { panic("boom on m2") }},
			wantFailed: []string{"m2"},
			wantLog:    []string{"message handler panicked", "m2", "boom on m2", "worker_test.go"},
		},
		{
			name:       "a nil-pointer panic is recovered too",
			outcome:    map[string]func() error{"m3": func() error { var p *int; return fmt.Errorf("%d", *p) }},
			wantFailed: []string{"m3"},
			wantLog:    []string{"message handler panicked", "nil pointer dereference"},
		},
		{
			name: "a panic next to a retryable failure and a parked message",
			outcome: map[string]func() error{
				"m1": func() error { return apperr.Transient("test", errors.New("down")) },
				"m2": func() error { panic(errors.New("boom")) },
				"m3": func() error { return apperr.E("test", apperr.Malformed, "never valid") },
			},
			wantFailed: []string{"m1", "m2"},
			wantParked: []string{"m3"},
		},
	}
	for _, r := range runners {
		for _, c := range cases {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				var logs syncBuffer
				log := slog.New(slog.NewJSONHandler(&logs, nil))
				var mu sync.Mutex
				handled, parked := []string{}, []string{}
				park := func(_ context.Context, source, id, body, reason string) error {
					mu.Lock()
					defer mu.Unlock()
					parked = append(parked, id)
					return nil
				}
				handle := func(_ context.Context, m events.SQSMessage) error {
					mu.Lock()
					handled = append(handled, m.MessageId)
					mu.Unlock()
					if f := c.outcome[m.MessageId]; f != nil {
						return f()
					}
					return nil
				}
				resp := r.run(context.Background(), batch("m1", "m2", "m3"), "test", log, park, handle)
				if got := failures(resp); !slices.Equal(got, c.wantFailed) {
					t.Errorf("batch item failures %v, want %v", got, c.wantFailed)
				}
				slices.Sort(handled)
				if want := []string{"m1", "m2", "m3"}; !slices.Equal(handled, want) {
					t.Errorf("handled %v, want every record %v", handled, want)
				}
				if c.wantParked == nil {
					c.wantParked = []string{}
				}
				if !slices.Equal(parked, c.wantParked) {
					t.Errorf("parked %v, want %v", parked, c.wantParked)
				}
				for _, w := range c.wantLog {
					if !strings.Contains(logs.String(), w) {
						t.Errorf("log lacks %q:\n%s", w, logs.String())
					}
				}
			})
		}
	}
}

// A panic on the first of many records does not stop the ones after it.
func TestPanicKeepsFailuresInBatchOrder(t *testing.T) {
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			log := slog.New(slog.DiscardHandler)
			handle := func(_ context.Context, m events.SQSMessage) error {
				switch m.MessageId {
				case "a", "d":
					panic("boom on " + m.MessageId)
				case "c":
					return apperr.Transient("test", errors.New("down"))
				}
				return nil
			}
			resp := r.run(context.Background(), batch("a", "b", "c", "d", "e"), "test", log, nil, handle)
			if got, want := failures(resp), []string{"a", "c", "d"}; !slices.Equal(got, want) {
				t.Errorf("batch item failures %v, want %v", got, want)
			}
		})
	}
}

// The function's deadline is kept: a record that hangs is cut Margin
// before it, and the records not started with less than Reserve left come
// back through SQS, so the invocation answers in time and the records
// already done are not redelivered.
func TestEachKeepsTheDeadline(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	park := func(context.Context, string, string, string, string) error { t.Error("parked"); return nil }
	var done []string
	handle := func(ctx context.Context, m events.SQSMessage) error {
		if m.MessageId == "hangs" {
			<-ctx.Done()
			return apperr.Transient("test", ctx.Err())
		}
		done = append(done, m.MessageId)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), worker.Reserve+time.Second)
	defer cancel()
	start := time.Now()
	resp := worker.Each(ctx, batch("a", "hangs", "b", "c"), "test", log, park, handle)
	took := time.Since(start)
	if got := failures(resp); !slices.Equal(got, []string{"hangs", "b", "c"}) || !slices.Equal(done, []string{"a"}) {
		t.Fatalf("failures %v, done %v; want [hangs b c] and [a]", got, done)
	}
	if dl, _ := ctx.Deadline(); !time.Now().Before(dl) || took < worker.Reserve {
		t.Fatalf("answered after %v: the record should have been cut %v before the deadline", took, worker.Margin)
	}
	// Too close to the deadline to start anything: the whole batch comes back.
	done = nil
	ctx2, cancel2 := context.WithTimeout(context.Background(), worker.Reserve/2)
	defer cancel2()
	if got := failures(worker.Each(ctx2, batch("a", "b"), "test", log, park, handle)); !slices.Equal(got, []string{"a", "b"}) || len(done) != 0 {
		t.Fatalf("failures %v, done %v", got, done)
	}
	// No deadline (a test or a local run): everything is handled.
	if got := failures(worker.Each(context.Background(), batch("a", "b"), "test", log, park, handle)); len(got) != 0 {
		t.Fatalf("failures %v", got)
	}
}
