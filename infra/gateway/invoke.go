// Package gateway is the local stand-in for what AWS puts in front of the
// functions: the HTTP API (payload format 2.0), the SQS and DynamoDB stream
// event source mappings, and EventBridge schedules. It calls the functions'
// handlers in process, with the events AWS would build, and treats their
// results (errors, partial batch failures, timeouts, panics) the way AWS does.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// defaultTimeout is Lambda's default function timeout.
const defaultTimeout = 3 * time.Second

// TimeoutError is the error of an invocation that outlived its function's
// timeout, worded like Lambda's.
type TimeoutError struct{ After time.Duration }

func (e TimeoutError) Error() string {
	return fmt.Sprintf("Task timed out after %.2f seconds", e.After.Seconds())
}

// PanicError is the error of an invocation whose handler panicked: Lambda
// reports it as a function error, and so do we; the runtime keeps going.
type PanicError struct {
	Value any
	Stack []byte
}

func (e PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Identity is the account and region the local stack pretends to run in.
type Identity struct {
	Region    string // default stack.Region()
	AccountID string // default stack.LocalAccountID
}

func (id Identity) withDefaults() Identity {
	if id.Region == "" {
		id.Region = stack.Region()
	}
	if id.AccountID == "" {
		id.AccountID = stack.LocalAccountID
	}
	return id
}

// FunctionARN is the ARN a function of the local stack would have.
func (id Identity) FunctionARN(logicalID string) string {
	id = id.withDefaults()
	return "arn:aws:lambda:" + id.Region + ":" + id.AccountID + ":function:" + logicalID
}

// call runs one invocation the way the Lambda runtime would: the context
// carries a deadline of timeout and a lambdacontext (request id, function
// ARN), a panic becomes a PanicError, and past the deadline the call returns a
// TimeoutError without waiting for the handler (its goroutine finishes on its
// own, as a frozen Lambda sandbox would never let it; its result is dropped).
func call[T any](ctx context.Context, functionARN string, timeout time.Duration, h func(context.Context) (T, error)) (T, error) {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	lc := &lambdacontext.LambdaContext{AwsRequestID: uuid.NewString(), InvokedFunctionArn: functionARN}
	ctx, cancel := context.WithTimeout(lambdacontext.NewContext(ctx, lc), timeout)
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.err = PanicError{Value: p, Stack: debug.Stack()}
			}
			done <- r
		}()
		r.v, r.err = h(ctx)
	}()
	select {
	case r := <-done:
		cancel()
		return r.v, r.err
	case <-ctx.Done():
		cancel()
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, TimeoutError{After: timeout}
		}
		return zero, ctx.Err()
	}
}

// logInvokeError logs a failed invocation, with the stack of a panic.
func logInvokeError(log *slog.Logger, msg, functionID string, err error, attrs ...any) {
	attrs = append([]any{"function", functionID, "err", err}, attrs...)
	var p PanicError
	if errors.As(err, &p) {
		attrs = append(attrs, "stack", string(p.Stack))
	}
	log.Error(msg, attrs...)
}

// InvokeJSON invokes fn once with payload decoded into the event type its
// handler takes, like `sam local invoke -e`, and returns the handler's result
// as JSON ("null" for a schedule handler, which returns only an error).
func InvokeJSON(ctx context.Context, fn wiring.Function, payload []byte, timeout time.Duration, id Identity) (json.RawMessage, error) {
	arn := id.FunctionARN(fn.LogicalID)
	var out any
	var err error
	switch {
	case fn.HTTP != nil:
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode %s event as an HTTP API 2.0 request: %w", fn.LogicalID, err)
		}
		out, err = call(ctx, arn, timeout, func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) { return fn.HTTP(ctx, ev) })
	case fn.SQS != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode %s event as an SQS event: %w", fn.LogicalID, err)
		}
		out, err = call(ctx, arn, timeout, func(ctx context.Context) (events.SQSEventResponse, error) { return fn.SQS(ctx, ev) })
	case fn.Stream != nil:
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode %s event as a DynamoDB stream event: %w", fn.LogicalID, err)
		}
		out, err = call(ctx, arn, timeout, func(ctx context.Context) (events.DynamoDBEventResponse, error) { return fn.Stream(ctx, ev) })
	case fn.Schedule != nil:
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode %s event as an EventBridge event: %w", fn.LogicalID, err)
		}
		_, err = call(ctx, arn, timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn.Schedule(ctx, ev) })
	default:
		return nil, fmt.Errorf("function %s has no handler", fn.LogicalID)
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode %s response: %w", fn.LogicalID, err)
	}
	return b, nil
}
