// Package postresponse runs a request's bookkeeping after its response has
// left, so that the caller does not wait for it: the API call log's
// SendMessage (seed 000: every API call is kept) would otherwise add an SQS
// round trip to every request.
//
// Whoever invokes a handler and can act after the response decides: it
// puts a Queue in the handler's context (With), delivers the response, then
// runs the queue (Run). In Lambda that is an internal extension (see
// Extension): the runtime posts the response, and the execution environment
// is not frozen before the extension has run the queue and asked for its
// next event, so nothing queued is lost. The local gateway runs the queue
// after writing the response. A handler called without a queue (unit tests,
// a runtime where the extension could not register) runs the work itself,
// before returning (Defer answers false).
package postresponse

import (
	"context"
	"sync"
	"time"
)

// Queue is one invocation's work to run after its response.
type Queue struct {
	mu  sync.Mutex
	fns []func(context.Context)
}

type key struct{}

// With returns ctx carrying a new queue, and the queue.
func With(ctx context.Context) (context.Context, *Queue) {
	q := &Queue{}
	return context.WithValue(ctx, key{}, q), q
}

// Defer queues fn when ctx carries a queue and says so; false means there
// is none and the caller runs fn itself.
func Defer(ctx context.Context, fn func(context.Context)) bool {
	q, _ := ctx.Value(key{}).(*Queue)
	if q == nil {
		return false
	}
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
	return true
}

// Len is how much work is queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fns)
}

// Timeout bounds the queue's run: the work is bookkeeping, and a Lambda
// environment is billed (and busy) while it runs.
const Timeout = 2 * time.Second

// Run runs the queued work in order, once, under a context of its own
// (the request's may be done), bounded by Timeout.
func (q *Queue) Run(ctx context.Context) {
	q.mu.Lock()
	fns := q.fns
	q.fns = nil
	q.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Timeout)
	defer cancel()
	for _, fn := range fns {
		fn(ctx)
	}
}
