// Package engines starts the real local engines the project runs on without
// Docker: DynamoDB Local (the official jar, Streams included) and moto's server
// for SQS (it speaks the JSON protocol the Go SDK uses and honours redrive
// policies), through sqs_server.py, which removes moto's per-message walks of
// a whole queue (see that file). Each engine runs in its own process group,
// logs to a file and is killed by Stop, or by the kernel on Linux if this
// process dies first.
package engines

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sqsServer starts moto's server with the fixes that keep its calls from
// slowing with a queue's depth (see the file); it is written to the log dir.
//
//go:embed sqs_server.py
var sqsServer []byte

// Options says where the engines listen and log.
type Options struct {
	// DynamoDBPort and SQSPort are the ports to listen on; 0 picks a free one.
	// A fixed port that is already taken is an error, never a silent reuse of
	// whatever listens there (use Running to detect and reuse engines).
	DynamoDBPort int
	SQSPort      int
	// LogDir receives dynamodb-local.log and moto.log. Empty means a new
	// temporary directory, removed by Stop.
	LogDir string
	// StartTimeout bounds the wait for both engines to answer; 0 means 2 minutes
	// (a cold JVM on a busy 2-core machine running parallel test binaries).
	StartTimeout time.Duration
}

// Engines are running engines. The endpoints are base URLs such as
// http://127.0.0.1:8000, to be used as the SDK's BaseEndpoint.
type Engines struct {
	DynamoDBEndpoint string
	SQSEndpoint      string
	LogDir           string

	procs        []*process
	releases     []func()
	removeLogDir bool
	stopOnce     sync.Once
}

// Start starts DynamoDB Local and moto's SQS, and returns once both answer a
// ListTables / ListQueues. On error nothing it started is left running.
// The engines are not tied to ctx: ctx only bounds the start; call Stop.
func Start(ctx context.Context, opts Options) (*Engines, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: java not found (apt-get install default-jre-headless): %w", err)
	}
	moto, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("start SQS: moto_server not found (pip install 'moto[server]'): %w", err)
	}
	python, pythonErr := exec.LookPath("python3")
	ddbDir, err := EnsureDynamoDBLocal(ctx)
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}

	e := &Engines{LogDir: opts.LogDir}
	if e.LogDir == "" {
		if e.LogDir, err = os.MkdirTemp("", "modupay-engines-"); err != nil {
			return nil, fmt.Errorf("create engines log dir: %w", err)
		}
		e.removeLogDir = true
	} else if err := os.MkdirAll(e.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("create engines log dir %s: %w", e.LogDir, err)
	}

	// Both engines boot concurrently: the JVM dominates, moto hides behind it.
	type result struct {
		p       *process
		release func()
		err     error
	}
	ddbCh, sqsCh := make(chan result, 1), make(chan result, 1)
	go func() {
		p, rel, err := startEngine(ctx, engineSpec{
			name: "DynamoDB Local", log: filepath.Join(e.LogDir, "dynamodb-local.log"),
			port: opts.DynamoDBPort, probe: probeDynamoDB,
			argv: func(port int) []string {
				return []string{java, "-Djava.library.path=" + filepath.Join(ddbDir, libDir),
					"-jar", filepath.Join(ddbDir, jarName), "-inMemory", "-disableTelemetry",
					"-port", strconv.Itoa(port)}
			},
		})
		ddbCh <- result{p, rel, err}
	}()
	go func() {
		// moto through sqs_server.py when the python3 on PATH has moto (the
		// one moto_server runs on, on this kind of machine); moto_server as
		// is otherwise, slower with deep queues.
		cmd := []string{moto}
		if pythonErr == nil && exec.CommandContext(ctx, python, "-c", "import moto.server").Run() == nil {
			script := filepath.Join(e.LogDir, "sqs_server.py")
			if err := os.WriteFile(script, sqsServer, 0o644); err != nil {
				sqsCh <- result{err: fmt.Errorf("start SQS: %w", err)}
				return
			}
			cmd = []string{python, script}
		}
		p, rel, err := startEngine(ctx, engineSpec{
			name: "moto SQS", log: filepath.Join(e.LogDir, "moto.log"),
			port: opts.SQSPort, probe: probeSQS,
			argv: func(port int) []string {
				return append(cmd[:len(cmd):len(cmd)], "-H", "127.0.0.1", "-p", strconv.Itoa(port))
			},
		})
		sqsCh <- result{p, rel, err}
	}()
	ddb, sqs := <-ddbCh, <-sqsCh
	for _, r := range []result{ddb, sqs} {
		if r.p != nil {
			e.procs = append(e.procs, r.p)
		}
		if r.release != nil {
			e.releases = append(e.releases, r.release)
		}
	}
	if err := errors.Join(ddb.err, sqs.err); err != nil {
		e.removeLogDir = false // keep the logs the error points to
		e.Stop()
		return nil, err
	}
	e.DynamoDBEndpoint = ddb.p.endpoint
	e.SQSEndpoint = sqs.p.endpoint
	slog.Debug("engines ready", "dynamodb", e.DynamoDBEndpoint, "sqs", e.SQSEndpoint, "logs", e.LogDir)
	return e, nil
}

// Stop kills both engines with their whole process groups and waits for them.
// It is idempotent and safe on a nil *Engines; it has no result so that it can
// be passed to t.Cleanup and defer alike (failures are logged).
func (e *Engines) Stop() {
	if e == nil {
		return
	}
	e.stopOnce.Do(func() {
		for _, p := range e.procs {
			p.kill()
		}
		for _, release := range e.releases {
			release()
		}
		if e.removeLogDir {
			if err := os.RemoveAll(e.LogDir); err != nil {
				slog.Warn("remove engines log dir", "dir", e.LogDir, "err", err)
			}
		}
	})
}

// Running reports whether a DynamoDB engine answers ListTables at
// dynamoEndpoint and an SQS engine answers ListQueues at sqsEndpoint.
func Running(dynamoEndpoint, sqsEndpoint string) bool {
	if dynamoEndpoint == "" || sqsEndpoint == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return probeDynamoDB(ctx, dynamoEndpoint) == nil && probeSQS(ctx, sqsEndpoint) == nil
}

type engineSpec struct {
	name  string
	log   string
	port  int
	argv  func(port int) []string
	probe func(ctx context.Context, endpoint string) error
}

type process struct {
	name     string
	endpoint string
	log      string
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process has been waited for
}

// startEngine starts one engine and waits until it answers. With a free port
// picked by us, a lost race for the port (another process bound it between our
// pick and the engine's bind) shows as the engine exiting: it is retried on a
// new port.
func startEngine(ctx context.Context, spec engineSpec) (*process, func(), error) {
	attempts := 1
	if spec.port == 0 {
		attempts = 3
	}
	var lastErr error
	for range attempts {
		port, release, err := reservePort(ctx, spec.port)
		if err != nil {
			return nil, nil, fmt.Errorf("start %s: %w", spec.name, err)
		}
		p, err := spawn(spec, port)
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("start %s: %w", spec.name, err)
		}
		if err := p.waitReady(ctx, spec.probe); err != nil {
			p.kill()
			release()
			lastErr = fmt.Errorf("start %s on port %d: %w (log %s: %s)", spec.name, port, err, p.log, tail(p.log))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return p, release, nil
	}
	return nil, nil, lastErr
}

func spawn(spec engineSpec, port int) (*process, error) {
	logFile, err := os.OpenFile(spec.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", spec.log, err)
	}
	argv := spec.argv(port)
	fmt.Fprintf(logFile, "--- %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	// DynamoDB Local writes dynamodb-local-metadata.json into its working
	// directory: keep it with the logs, out of the caller's tree.
	cmd.Dir = filepath.Dir(spec.log)
	// -disableTelemetry is on the command line; DDB_LOCAL_TELEMETRY=0 is the
	// engine's other switch, set too so no telemetry call is ever attempted.
	cmd.Env = append(os.Environ(), "DDB_LOCAL_TELEMETRY=0")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	p := &process{
		name:     spec.name,
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		log:      spec.log,
		cmd:      cmd,
		done:     make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls probe until it succeeds, the process exits or ctx ends.
func (p *process) waitReady(ctx context.Context, probe func(context.Context, string) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-p.done:
			return fmt.Errorf("exited during start: %v", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not answering (%v): %w", lastErr, ctx.Err())
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		lastErr = probe(pctx, p.endpoint)
		cancel()
		if lastErr == nil {
			// The answer must come from our process, not from an engine that
			// already held the port while ours failed to bind it.
			select {
			case <-p.done:
				return fmt.Errorf("exited during start: %v", p.cmd.ProcessState)
			case <-time.After(50 * time.Millisecond):
				return nil
			}
		}
	}
}

// kill sends SIGKILL to the process group and waits (bounded) for the exit.
// In-memory engines have nothing to flush, so there is no graceful phase.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		slog.Warn("kill engine", "engine", p.name, "pid", p.cmd.Process.Pid, "err", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		slog.Warn("engine did not exit after SIGKILL", "engine", p.name, "pid", p.cmd.Process.Pid)
	}
}

// reservePort returns a port to start an engine on and a func releasing the
// reservation. A fixed port must be free. A picked port is also reserved with a
// lock file (under the cache dir) held while the engine runs, so parallel test
// binaries of this project never pick the same one.
func reservePort(ctx context.Context, fixed int) (int, func(), error) {
	if fixed != 0 {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(fixed))
		if err != nil {
			return 0, nil, fmt.Errorf("port %d is not free (another engine running? reuse it via MODUPAY_*_ENDPOINT or pick another port): %w", fixed, err)
		}
		l.Close()
		return fixed, func() {}, nil
	}
	base, err := CacheDir()
	if err != nil {
		return 0, nil, err
	}
	dir := filepath.Join(base, "ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("create %s: %w", dir, err)
	}
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, nil, fmt.Errorf("pick a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		tctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		release, err := lockFile(tctx, filepath.Join(dir, strconv.Itoa(port)+".lock"))
		cancel()
		if err == nil {
			return port, release, nil
		}
	}
	return 0, nil, errors.New("pick a free port: every candidate was reserved by another process")
}

// probeDynamoDB sends a ListTables. DynamoDB Local requires a SigV4-shaped
// Authorization header but does not check the signature.
func probeDynamoDB(ctx context.Context, endpoint string) error {
	return probe(ctx, endpoint, "dynamodb", "DynamoDB_20120810.ListTables", "TableNames")
}

// probeSQS sends a ListQueues in the JSON protocol.
func probeSQS(ctx context.Context, endpoint string) error {
	return probe(ctx, endpoint, "sqs", "AmazonSQS.ListQueues", "")
}

func probe(ctx context.Context, endpoint, service, target, wantField string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %s", target, resp.StatusCode, bytes.TrimSpace(body))
	}
	if wantField != "" && !bytes.Contains(body, []byte(`"`+wantField+`"`)) {
		return fmt.Errorf("%s: unexpected answer %s", target, body)
	}
	return nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
