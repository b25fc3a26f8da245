package engines_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/infra/engines"
)

func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real engines")
	}
	ctx := context.Background()
	e, err := engines.Start(ctx, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	if _, err := os.Stat("dynamodb-local-metadata.json"); err == nil {
		t.Error("DynamoDB Local wrote its metadata file into the caller's directory")
	}
	if !engines.Running(e.DynamoDBEndpoint, e.SQSEndpoint) {
		t.Fatalf("engines not answering at %s and %s", e.DynamoDBEndpoint, e.SQSEndpoint)
	}
	if engines.Running(e.DynamoDBEndpoint, "") || engines.Running("http://127.0.0.1:1", e.SQSEndpoint) {
		t.Fatal("Running must need both engines")
	}

	// A fixed port that is taken is refused, never mistaken for our engine.
	port := portOf(t, e.DynamoDBEndpoint)
	if _, err := engines.Start(ctx, engines.Options{DynamoDBPort: port}); err == nil || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("Start on a taken port: err = %v, want a 'not free' error", err)
	}

	e.Stop()
	e.Stop() // idempotent
	deadline := time.Now().Add(5 * time.Second)
	for engines.Running(e.DynamoDBEndpoint, e.SQSEndpoint) || listening(e.DynamoDBEndpoint) || listening(e.SQSEndpoint) {
		if time.Now().After(deadline) {
			t.Fatal("engines still listening after Stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEnsureDynamoDBLocalConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("may download DynamoDB Local")
	}
	// Concurrent callers all get the verified directory (downloaded once).
	errs := make(chan error, 4)
	dirs := make(chan string, 4)
	for range 4 {
		go func() {
			dir, err := engines.EnsureDynamoDBLocal(context.Background())
			errs <- err
			dirs <- dir
		}()
	}
	var first string
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		dir := <-dirs
		if first == "" {
			first = dir
		} else if dir != first {
			t.Fatalf("dirs differ: %s vs %s", dir, first)
		}
	}
}

func portOf(t *testing.T, endpoint string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func listening(endpoint string) bool {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
