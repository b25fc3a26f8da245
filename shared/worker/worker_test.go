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
