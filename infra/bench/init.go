package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// functionDirs maps template logical ids to their directories (as the Makefile does).
var functionDirs = map[string]string{
	"AuthFunction": "auth", "OrganizationsFunction": "organizations", "DocsFunction": "docs",
	"EventRouterFunction": "eventrouter", "AuditWriterFunction": "auditwriter",
	"InvoicesFunction": "invoices", "SchedulerFunction": "scheduler", "PaymentsFunction": "payments",
	"AiiaPollerFunction": "aiiapoller", "CheckoutFunction": "checkout",
	"WebhooksFunction": "webhooks", "WebhookDispatcherFunction": "webhookdispatcher",
	"AuditFunction": "audit", "PaymentOrdersFunction": "paymentorders",
	"SandboxBankFunction": "sandboxbank", "DashboardFunction": "dashboard",
}

// The bench's secrets (bench only), passed as values as the local runtime
// passes them: deployed, init also fetches each function's secrets from
// Secrets Manager, one concurrent round of GetSecretValue calls, which these
// figures do not include (see InitConns).
const (
	benchJWTKeys       = "bench:YmVuY2gtb25seS1zaWduaW5nLWtleS0zMi1ieXRlcy1sb25nIQ"
	benchPageKeys      = "bench-page:YmVuY2gtb25seS1wYWdlLXRva2VuLWtleS0zMi1ieXRlcyE"
	benchDashboardKeys = "bench-dashboard:YmVuY2gtb25seS1kYXNoYm9hcmQtc2Vzc2lvbi1rZXktMzJi"
	benchCSRFKey       = "YmVuY2gtb25seS1jaGVja291dC1jc3JmLWtleS0zMmJ5dGVz"
)

// helloWorld is the reference every function's init is measured against: a
// Go Lambda that does nothing, built with the same flags for the same target.
const helloWorld = "helloworld"

// sdkFloor is the second reference: the hello-world plus the AWS SDK's
// configuration and a DynamoDB client built at init, what every function
// that reads the table pays before a line of ours runs.
const sdkFloor = "sdkfloor"

// InitBudget is how many times the reference's init p50 a function's init
// p50 may take: a function that links only its family's code and builds its
// SDK clients from Lambda's environment stays within it.
const InitBudget = 1.5

type binaryFigures struct {
	Function   string
	SizeBytes  int64         // linux/arm64, -tags lambda.norpc, stripped: what Lambda runs
	InitMedian time.Duration // process start to first "next invocation" request (host build)
	InitP95    time.Duration
	InitConns  int64 // connections to AWS endpoints during init (must be 0)
}

// binaryTarget is a program whose size and init the bench measures: a
// function (its logical id, its package) or the reference.
type binaryTarget struct{ name, pkg string }

// initTargets are the reference first, then every function by logical id.
func initTargets() []binaryTarget {
	var ids []string
	for id := range functionDirs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []binaryTarget{{name: helloWorld, pkg: "./infra/bench/helloworld"}, {name: sdkFloor, pkg: "./infra/bench/sdkfloor"}}
	for _, id := range ids {
		out = append(out, binaryTarget{name: id, pkg: "./functions/" + functionDirs[id]})
	}
	return out
}

// measureBinaries builds every target twice: for Lambda (size) and for this
// machine (init time). Init is timed against a stand-in Lambda Runtime API:
// the moment the process asks for its first event is the moment it is ready.
// The targets' runs are interleaved (one start of each, again and again), so
// a burst of load on the machine weighs on all of them alike, the reference
// included.
func measureBinaries(ctx context.Context, root string, targets []binaryTarget, runs int) ([]binaryFigures, error) {
	dir, err := os.MkdirTemp("", "modupay-bench-bin")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := make([]binaryFigures, len(targets))
	hosts := make([]string, len(targets))
	for i, t := range targets {
		id := t.name
		arm := filepath.Join(dir, id+"-arm64")
		if err := goBuild(ctx, root, t.pkg, arm, "linux", "arm64"); err != nil {
			return nil, err
		}
		st, err := os.Stat(arm)
		if err != nil {
			return nil, err
		}
		host := filepath.Join(dir, id+"-host")
		if err := goBuild(ctx, root, t.pkg, host, "", ""); err != nil {
			return nil, err
		}
		out[i] = binaryFigures{Function: id, SizeBytes: st.Size()}
		hosts[i] = host
	}
	times := make([][]time.Duration, len(targets))
	for r := 0; r < runs; r++ {
		for i, host := range hosts {
			d, conns, err := timeInit(ctx, host)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", targets[i].name, err)
			}
			times[i] = append(times[i], d)
			out[i].InitConns += conns
		}
	}
	for i := range out {
		ts := times[i]
		sort.Slice(ts, func(a, b int) bool { return ts[a] < ts[b] })
		out[i].InitMedian, out[i].InitP95 = ts[len(ts)/2], ts[(len(ts)*95+99)/100-1]
	}
	return out, nil
}

func goBuild(ctx context.Context, root, pkg, out, goos, goarch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// timeInit starts the binary with a stand-in runtime API and fake AWS
// endpoints that count connections, and returns the time to its first poll.
func timeInit(ctx context.Context, bin string) (time.Duration, int64, error) {
	ready := make(chan time.Time, 1)
	rt := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/2020-01-01/extension/register": // the HTTP functions' post-response extension, during init
			w.Header().Set("Lambda-Extension-Identifier", "bench-extension")
			_, _ = w.Write([]byte(`{}`))
			return
		case "/2020-01-01/extension/event/next": // the extension's first poll: not the end of init
		default: // the runtime's first poll: init is over
			select {
			case ready <- time.Now():
			default:
			}
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
		"MODUPAY_DASHBOARD_KEYS=" + benchDashboardKeys, "MODUPAY_DASHBOARD_ACTIVE_KID=bench-dashboard",
		"MODUPAY_DYNAMODB_ENDPOINT=" + endpoint, "MODUPAY_SQS_ENDPOINT=" + endpoint,
		// The audit writer as deployed: its archive is a bucket (the S3
		// client is built at init, nothing is sent before an event).
		"MODUPAY_AUDIT_ARCHIVE_BUCKET=bench-archive", "MODUPAY_S3_ENDPOINT=" + endpoint,
		// The sandbox bank's table and the Aiia client it accepts.
		"MODUPAY_SANDBOX_BANK_TABLE=bench-bank", "MODUPAY_AIIA_CLIENT_ID=bench", "MODUPAY_AIIA_CLIENT_SECRET=bench-aiia-secret",
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

// printBinaries writes the functions' table beside the reference's figures
// and says which functions exceed the init budget or opened a connection
// during init (the reference is the first row).
func printBinaries(w io.Writer, bins []binaryFigures) (failed bool) {
	fmt.Fprintln(w, "\nFunctions (binary: linux/arm64, -tags lambda.norpc, stripped; init: process start to first event request, this machine,")
	fmt.Fprintf(w, "host build with the same flags; budget: init p50 at most %.1f× the hello-world Lambda's, measured in the same run)\n", InitBudget)
	ref, floor := bins[0], bins[1]
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "function\tbinary\tinit p50\tinit p95\tp50 / hello-world\tp50 − SDK floor\tnetwork connections during init\t")
	for _, b := range bins {
		ratio := float64(b.InitMedian) / float64(ref.InitMedian)
		verdict := ""
		if b.Function != helloWorld && b.Function != sdkFloor && ratio > InitBudget {
			verdict, failed = fmt.Sprintf("  OVER BUDGET (%.1f×)", InitBudget), true
		}
		if b.InitConns != 0 {
			verdict, failed = verdict+"  CONNECTED DURING INIT", true
		}
		fmt.Fprintf(tw, "%s\t%.1f MiB\t%s\t%s\t%.2f×\t%+.1f ms\t%d\t%s\n", b.Function, float64(b.SizeBytes)/(1<<20),
			b.InitMedian.Round(100*time.Microsecond), b.InitP95.Round(100*time.Microsecond), ratio,
			float64(b.InitMedian-floor.InitMedian)/float64(time.Millisecond), b.InitConns, verdict)
	}
	tw.Flush()
	return failed
}
