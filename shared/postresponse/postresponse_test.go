package postresponse

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeferWithoutQueueRunsNothing(t *testing.T) {
	if Defer(context.Background(), func(context.Context) { t.Error("ran") }) {
		t.Fatal("Defer queued without a queue")
	}
}

func TestQueueRunsOnceInOrderAfterTheRequestIsDone(t *testing.T) {
	reqCtx, cancel := context.WithCancel(context.Background())
	ctx, q := With(reqCtx)
	var got []string
	for _, s := range []string{"a", "b"} {
		if !Defer(ctx, func(ctx context.Context) {
			if ctx.Err() != nil {
				t.Errorf("%s ran under a done context", s)
			}
			got = append(got, s)
		}) {
			t.Fatal("not queued")
		}
	}
	cancel() // the request is over; the work still runs
	q.Run(ctx)
	q.Run(ctx)
	if strings.Join(got, "") != "ab" {
		t.Fatalf("ran %v, want a then b, once", got)
	}
}

// fakeRuntime is the part of the Lambda runtime API the extension uses:
// register, then event/next, which answers one INVOKE per invocation the
// test starts and records when the extension asked again.
type fakeRuntime struct {
	srv      *httptest.Server
	invokes  chan struct{}
	mu       sync.Mutex
	nexts    []time.Time
	register http.Header
}

func newFakeRuntime(t *testing.T) *fakeRuntime {
	f := &fakeRuntime{invokes: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/2020-01-01/extension/register":
			b, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || !strings.Contains(string(b), `"INVOKE"`) || strings.Contains(string(b), "SHUTDOWN") {
				http.Error(w, "bad register "+string(b), http.StatusBadRequest)
				return
			}
			f.mu.Lock()
			f.register = r.Header.Clone()
			f.mu.Unlock()
			w.Header().Set("Lambda-Extension-Identifier", "ext-1")
			_, _ = w.Write([]byte(`{"functionName":"f"}`))
		case "/2020-01-01/extension/event/next":
			if r.Header.Get("Lambda-Extension-Identifier") != "ext-1" {
				http.Error(w, "unknown extension", http.StatusForbidden)
				return
			}
			f.mu.Lock()
			f.nexts = append(f.nexts, time.Now())
			f.mu.Unlock()
			select {
			case <-f.invokes:
				_ = json.NewEncoder(w).Encode(map[string]any{"eventType": "INVOKE", "deadlineMs": time.Now().Add(5 * time.Second).UnixMilli(), "requestId": "r"})
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRuntime) nextCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.nexts)
}

// The queued work runs after the handler has returned its response and
// before the extension asks for its next event: Lambda keeps the
// environment until then, so the work is neither in the response's time
// nor lost to a freeze.
func TestExtensionRunsTheQueueAfterTheResponseBeforeNext(t *testing.T) {
	f := newFakeRuntime(t)
	x, err := Register(context.Background(), strings.TrimPrefix(f.srv.URL, "http://"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.register.Get("Lambda-Extension-Name"); got != Name {
		t.Fatalf("registered as %q", got)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go x.Run(ctx)

	var mu sync.Mutex
	var returned, ran time.Time
	h := Wrap(x, func(ctx context.Context, n int) (int, error) {
		if !Defer(ctx, func(context.Context) {
			time.Sleep(50 * time.Millisecond) // a slow SendMessage
			mu.Lock()
			ran = time.Now()
			mu.Unlock()
		}) {
			t.Error("no queue in the handler's context")
		}
		return n + 1, nil
	})
	for i := 0; i < 3; i++ {
		for f.nextCount() != i+1 {
			time.Sleep(time.Millisecond)
		}
		f.invokes <- struct{}{} // Lambda invokes: the extension's next answers
		start := time.Now()
		if got, _ := h(context.Background(), i); got != i+1 {
			t.Fatalf("handler answered %d", got)
		}
		mu.Lock()
		returned = time.Now()
		mu.Unlock()
		if took := returned.Sub(start); took >= 50*time.Millisecond {
			t.Errorf("invocation %d: the handler took %s: it waited for the queued work", i, took)
		}
		for f.nextCount() != i+2 {
			time.Sleep(time.Millisecond)
		}
		f.mu.Lock()
		next := f.nexts[i+1]
		f.mu.Unlock()
		mu.Lock()
		if ran.IsZero() || ran.Before(returned) || next.Before(ran) {
			t.Errorf("invocation %d: returned %s, work ran %s, next asked %s", i, returned.Format(time.StampMicro), ran.Format(time.StampMicro), next.Format(time.StampMicro))
		}
		ran = time.Time{}
		mu.Unlock()
	}
}

// A handler whose extension does not take its queue (its loop is not
// running) runs the work itself before returning: nothing is dropped.
func TestWrapRunsTheQueueItselfWhenTheExtensionDoesNotTakeIt(t *testing.T) {
	f := newFakeRuntime(t)
	x, err := Register(context.Background(), strings.TrimPrefix(f.srv.URL, "http://"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	x.handed <- &Queue{} // a queue already waiting: the channel is full
	ran := false
	h := Wrap(x, func(ctx context.Context, _ struct{}) (struct{}, error) {
		Defer(ctx, func(context.Context) { ran = true })
		return struct{}{}, nil
	})
	_, _ = h(context.Background(), struct{}{})
	if !ran {
		t.Fatal("the queued work was dropped")
	}
}

func TestRegisterRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errorType":"Extension.RegistrationFailed"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	if _, err := Register(context.Background(), strings.TrimPrefix(srv.URL, "http://"), slog.Default()); err == nil {
		t.Fatal("a refused registration was accepted")
	}
}
