// Package enginetest gives tests real engines: the ones named by
// MODUPAY_DYNAMODB_ENDPOINT and MODUPAY_SQS_ENDPOINT when they answer,
// otherwise engines started once per test binary on free ports, so that the
// binaries `go test ./...` runs in parallel never share or fight over engines.
//
// A package using Endpoints should call Main from its TestMain so the engines
// it started stop when the tests end; without it they still die with the test
// binary on Linux (parent-death signal), only later.
package enginetest

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/modupay/modupay/infra/engines"
)

var (
	once    sync.Once
	started *engines.Engines
	dynamo  string
	sqs     string
	errOnce error
	mu      sync.Mutex // guards started against Main's stop racing a late Endpoints
)

// Endpoints returns the DynamoDB and SQS endpoints to test against, starting
// engines on first use. It fails tb if no engine can be had: these tests are
// about the real engines, there is no fallback. Under -short (make quick) it
// skips tb instead, before starting anything.
func Endpoints(tb testing.TB) (dynamoEndpoint, sqsEndpoint string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: needs DynamoDB Local and the SQS engine; make test runs it")
	}
	once.Do(func() {
		envDynamo, envSQS := os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), os.Getenv("MODUPAY_SQS_ENDPOINT")
		if engines.Running(envDynamo, envSQS) {
			dynamo, sqs = envDynamo, envSQS
			return
		}
		e, err := engines.Start(context.Background(), engines.Options{})
		if err != nil {
			errOnce = err
			return
		}
		mu.Lock()
		started = e
		mu.Unlock()
		dynamo, sqs = e.DynamoDBEndpoint, e.SQSEndpoint
	})
	if errOnce != nil {
		tb.Fatalf("local engines: %v", errOnce)
	}
	return dynamo, sqs
}

// Main runs the tests, stops the engines Endpoints started, if any, and exits
// with the tests' code. Call it from TestMain: func TestMain(m *testing.M) { enginetest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	started.Stop()
	mu.Unlock()
	os.Exit(code)
}
