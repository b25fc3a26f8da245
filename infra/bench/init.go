package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"
)

// functionDirs maps template logical ids to their directories (as the Makefile does).
var functionDirs = map[string]string{
	"AuthFunction": "auth", "OrganizationsFunction": "organizations", "DocsFunction": "docs",
	"EventRouterFunction": "eventrouter", "AuditWriterFunction": "auditwriter",
	"InvoicesFunction": "invoices", "SchedulerFunction": "scheduler", "PaymentsFunction": "payments",
	"AiiaPollerFunction": "aiiapoller", "CheckoutFunction": "checkout",
	"WebhooksFunction": "webhooks", "WebhookDispatcherFunction": "webhookdispatcher",
}

// The bench's secrets (bench only), passed as values as the local runtime
// passes them: deployed, init also fetches each function's secrets from
// Secrets Manager, one concurrent round of GetSecretValue calls, which these
// figures do not include (see InitConns).
const (
	benchJWTKeys  = "bench:YmVuY2gtb25seS1zaWduaW5nLWtleS0zMi1ieXRlcy1sb25nIQ"
	benchPageKeys = "bench-page:YmVuY2gtb25seS1wYWdlLXRva2VuLWtleS0zMi1ieXRlcyE"
	benchCSRFKey  = "YmVuY2gtb25seS1jaGVja291dC1jc3JmLWtleS0zMmJ5dGVz"
)

type binaryFigures struct {
	Function   string
	SizeBytes  int64         // linux/arm64, -tags lambda.norpc, stripped: what Lambda runs
	InitMedian time.Duration // process start to first "next invocation" request (host build)
	InitP95    time.Duration
	InitConns  int64 // connections to AWS endpoints during init (must be 0)
}

// measureBinaries builds every function twice: for Lambda (size) and for this
// machine (init time). Init is timed against a stand-in Lambda Runtime API:
// the moment the process asks for its first event is the moment it is ready.
func measureBinaries(ctx context.Context, root string, runs int) ([]binaryFigures, error) {
	dir, err := os.MkdirTemp("", "modupay-bench-bin")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var ids []string
	for id := range functionDirs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []binaryFigures
	for _, id := range ids {
		arm := filepath.Join(dir, id+"-arm64")
		if err := goBuild(ctx, root, functionDirs[id], arm, "linux", "arm64"); err != nil {
			return nil, err
		}
		st, err := os.Stat(arm)
		if err != nil {
			return nil, err
		}
		host := filepath.Join(dir, id+"-host")
		if err := goBuild(ctx, root, functionDirs[id], host, "", ""); err != nil {
			return nil, err
		}
		f := binaryFigures{Function: id, SizeBytes: st.Size()}
		var times []time.Duration
		for i := 0; i < runs; i++ {
			d, conns, err := timeInit(ctx, host)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			times = append(times, d)
			f.InitConns += conns
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		f.InitMedian, f.InitP95 = times[len(times)/2], times[(len(times)*95+99)/100-1]
		out = append(out, f)
	}
	return out, nil
}

func goBuild(ctx context.Context, root, fnDir, out, goos, goarch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+fnDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", fnDir, err, b)
	}
	return nil
}

// timeInit starts the binary with a stand-in runtime API and fake AWS
// endpoints that count connections, and returns the time to its first poll.
func timeInit(ctx context.Context, bin string) (time.Duration, int64, error) {
	ready := make(chan time.Time, 1)
	rt := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ready <- time.Now():
		default:
		}
		<-r.Context().Done() // hold the long poll, as Lambda does, until we stop
	})}
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	go rt.Serve(rl)
	defer rt.Close()
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer al.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := al.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	endpoint := "http://" + al.Addr().String()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + rl.Addr().String(), "AWS_REGION=eu-west-3",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"MODUPAY_STAGE=sandbox", "MODUPAY_TABLE=bench", "MODUPAY_AUDIT_QUEUE_URL=" + endpoint + "/123456789012/q",
		"MODUPAY_JWT_KEYS=" + benchJWTKeys, "MODUPAY_JWT_ACTIVE_KID=bench",
		"MODUPAY_PAGE_KEYS=" + benchPageKeys, "MODUPAY_PAGE_ACTIVE_KID=bench-page",
		"MODUPAY_CSRF_KEY=" + benchCSRFKey, "MODUPAY_LOCAL=1",
		"MODUPAY_DYNAMODB_ENDPOINT=" + endpoint, "MODUPAY_SQS_ENDPOINT=" + endpoint,
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case t := <-ready:
		return t.Sub(start), conns.Load(), nil
	case <-time.After(10 * time.Second):
		return 0, 0, fmt.Errorf("%s never asked for an event", filepath.Base(bin))
	}
}
