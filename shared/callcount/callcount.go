// Package callcount counts the AWS calls one request or one message makes, so
// logs and benchmarks can state "this route costs N DynamoDB calls" as a fact.
package callcount

import (
	"context"
	"sync/atomic"

	"github.com/aws/smithy-go/middleware"
)

// Counter is the tally for one unit of work (a request, an SQS message).
type Counter struct {
	DynamoDB atomic.Int64
	SQS      atomic.Int64
	Other    atomic.Int64
}

type key struct{}

// With returns a context carrying a fresh counter.
func With(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{}
	return context.WithValue(ctx, key{}, c), c
}

// From returns the counter of ctx, or nil.
func From(ctx context.Context) *Counter {
	c, _ := ctx.Value(key{}).(*Counter)
	return c
}

// Service names which tally a client's calls land in.
type Service int

const (
	DynamoDB Service = iota
	SQS
	Other
)

// APIOption is an SDK client option (append to Options.APIOptions) that adds
// one to the context's counter per operation call, retries not included:
// the count is of what our code asked for, which is what budgets are about.
func APIOption(svc Service) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("modupay-callcount",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if c := From(ctx); c != nil {
					switch svc {
					case DynamoDB:
						c.DynamoDB.Add(1)
					case SQS:
						c.SQS.Add(1)
					default:
						c.Other.Add(1)
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}
