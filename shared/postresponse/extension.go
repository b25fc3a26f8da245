package postresponse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Extension is an internal Lambda extension (Lambda Extensions API,
// 2020-01-01) that runs each invocation's queue after the response: the
// runtime posts the handler's response, which API Gateway returns at once,
// while Lambda keeps the execution environment running until every
// extension has asked for its next event. It registers for INVOKE only
// (internal extensions cannot receive SHUTDOWN; none is needed: nothing is
// left queued between invocations).
type Extension struct {
	base   string // http://<runtime API>/2020-01-01/extension
	id     string
	client *http.Client
	handed chan *Queue
	log    *slog.Logger
}

// Name is the extension's name, as Lambda lists it.
const Name = "modupay-post-response"

// Register registers the extension with the runtime API at runtimeAPI
// (AWS_LAMBDA_RUNTIME_API). It must be called during init, before the
// runtime asks for its first event, and Run started right after.
func Register(ctx context.Context, runtimeAPI string, log *slog.Logger) (*Extension, error) {
	x := &Extension{base: "http://" + runtimeAPI + "/2020-01-01/extension", client: &http.Client{}, handed: make(chan *Queue, 1), log: log}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.base+"/register", bytes.NewReader([]byte(`{"events":["INVOKE"]}`)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Lambda-Extension-Name", Name)
	req.Header.Set("Content-Type", "application/json")
	resp, err := x.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("register extension: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("register extension: %d %s", resp.StatusCode, b)
	}
	if x.id = resp.Header.Get("Lambda-Extension-Identifier"); x.id == "" {
		return nil, fmt.Errorf("register extension: no Lambda-Extension-Identifier")
	}
	return x, nil
}

// Wrap returns h giving each invocation a queue, handed to the extension
// when h returns (panics included). Should the extension not take it (its
// loop stopped), the queue runs before the response, as without one.
func Wrap[E, R any](x *Extension, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) {
		ctx, q := With(ctx)
		defer func() {
			select {
			case x.handed <- q:
			default:
				q.Run(ctx)
			}
		}()
		return h(ctx, ev)
	}
}

// invokeEvent is what event/next answers (the fields used).
type invokeEvent struct {
	EventType  string `json:"eventType"`
	DeadlineMs int64  `json:"deadlineMs"`
}

// Run is the extension's loop: it waits for an invocation, then for its
// handler's queue, runs it, and asks for the next event, which tells Lambda
// the invocation is over for this extension. A failing event/next is
// retried: an extension that stops asking would hold every later
// invocation of the environment until its timeout.
func (x *Extension) Run(ctx context.Context) {
	for failures := 0; ctx.Err() == nil; {
		ev, err := x.next(ctx)
		if err != nil {
			failures++
			x.log.Error("post-response extension: event/next failed", slog.String("error", err.Error()), slog.Int("failures", failures))
			time.Sleep(time.Duration(min(failures, 10)) * 100 * time.Millisecond)
			continue
		}
		failures = 0
		if ev.EventType != "INVOKE" {
			continue
		}
		wait := time.Until(time.UnixMilli(ev.DeadlineMs))
		if ev.DeadlineMs == 0 || wait <= 0 {
			wait = 15 * time.Minute
		}
		t := time.NewTimer(wait)
		select {
		case q := <-x.handed:
			q.Run(ctx)
		case <-t.C: // the handler timed out: Lambda resets the environment
		}
		t.Stop()
	}
}

func (x *Extension) next(ctx context.Context) (invokeEvent, error) {
	var ev invokeEvent
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.base+"/event/next", nil)
	if err != nil {
		return ev, err
	}
	req.Header.Set("Lambda-Extension-Identifier", x.id)
	resp, err := x.client.Do(req)
	if err != nil {
		return ev, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ev, err
	}
	if resp.StatusCode != http.StatusOK {
		return ev, fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return ev, json.Unmarshal(b, &ev)
}
