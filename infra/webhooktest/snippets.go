// Package webhooktest runs the integration guide's webhook verification
// snippets (Python and Node.js, unchanged) as HTTP endpoints, so tests can
// prove that what we deliver passes the exact code partners copy.
//
// The receivers (receivers/receiver.py, receivers/receiver.js) use the
// standard library only and reproduce the Flask and Express glue of the guide:
// raw body bytes, header lookup as shown, 401 "Invalid signature" when the
// snippet says no, 500 when it throws, then JSON parsing and 200 "OK".
package webhooktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Path is where the guide mounts its receiver; any path is accepted.
const Path = "/webhooks/payment-api"

// startTimeout bounds how long an interpreter may take to print its port.
const startTimeout = 30 * time.Second

// Receiver is one of the guide's snippets running as an HTTP endpoint.
type Receiver struct {
	Lang string // "python" or "node"
	URL  string // http://127.0.0.1:<port>/webhooks/payment-api

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan struct{} // closed when the receiver's stdout ends (it exited)

	mu      sync.Mutex
	seen    []Verification
	changed chan struct{} // closed and replaced at each new verification
	junk    []string      // stdout lines that were not verifications
}

// Verification is one request the receiver judged.
type Verification struct {
	Verified  bool   `json:"verified"`   // the snippet returned true
	Status    int    `json:"status"`     // the HTTP status the receiver answered
	EventID   string `json:"event_id"`   // event_id of the parsed body, or empty
	WebhookID string `json:"webhook_id"` // the webhook-id header, or empty
}

// interpreters maps a language to its interpreter and script.
var interpreters = map[string]struct{ bin, script string }{
	"python": {"python3", "receiver.py"},
	"node":   {"node", "receiver.js"},
}

// Langs are the languages StartSnippet knows, in a stable order.
var Langs = []string{"python", "node"}

// receiversDir is receivers/ next to this source file, wherever the test runs.
func receiversDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "receivers")
}

// StartSnippet starts the receiver for lang with secret; it fails the test
// (tb.Fatal) if the interpreter (python3 / node) is missing — never skip — and
// stops the process at tb.Cleanup. Call it from the test's goroutine.
func StartSnippet(tb testing.TB, lang, secret string) *Receiver {
	tb.Helper()
	in, ok := interpreters[lang]
	if !ok {
		tb.Fatalf("webhooktest: unknown snippet language %q (want python or node)", lang)
	}
	bin, err := exec.LookPath(in.bin)
	if err != nil {
		tb.Fatalf("webhooktest: the %s snippet needs %s on PATH: %v", lang, in.bin, err)
	}
	script := filepath.Join(receiversDir(), in.script)
	if _, err := os.Stat(script); err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}

	r := &Receiver{
		Lang:    lang,
		stderr:  &lockedBuffer{},
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	r.cmd = exec.Command(bin, script)
	r.cmd.Dir = receiversDir()
	r.cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret)
	r.cmd.Stderr = r.stderr
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		tb.Fatalf("webhooktest: %v", err)
	}
	if err := r.cmd.Start(); err != nil {
		tb.Fatalf("webhooktest: start %s %s: %v", bin, script, err)
	}

	ports := make(chan int, 1)
	go r.read(stdout, ports)
	tb.Cleanup(func() {
		r.stop()
		if tb.Failed() {
			if out := r.Stderr(); out != "" {
				tb.Logf("webhooktest: %s receiver stderr:\n%s", lang, out)
			}
		}
	})

	select {
	case port := <-ports:
		r.URL = "http://127.0.0.1:" + strconv.Itoa(port) + Path
	case <-r.done:
		tb.Fatalf("webhooktest: the %s receiver exited before listening:\n%s", lang, r.stderr.String())
	case <-time.After(startTimeout):
		tb.Fatalf("webhooktest: the %s receiver did not listen within %v:\n%s", lang, startTimeout, r.stderr.String())
	}
	return r
}

// read consumes the receiver's stdout: the "listening <port>" line, then one
// JSON verification per line.
func (r *Receiver) read(stdout io.Reader, ports chan<- int) {
	defer close(r.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	listening := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !listening {
			if p, ok := strings.CutPrefix(line, "listening "); ok {
				if port, err := strconv.Atoi(p); err == nil {
					listening = true
					ports <- port
					continue
				}
			}
		}
		var v Verification
		if err := json.Unmarshal([]byte(line), &v); err != nil || !strings.HasPrefix(line, "{") {
			r.mu.Lock()
			r.junk = append(r.junk, line)
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		r.seen = append(r.seen, v)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
	// Drain whatever is left so the process never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, stdout)
}

// stop closes the receiver's stdin (it exits on EOF), kills it if it lingers,
// and reaps it once its stdout is drained.
func (r *Receiver) stop() {
	_ = r.stdin.Close()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	_ = r.cmd.Wait()
}

// Verifications returns what the receiver has judged so far (safe for
// concurrent use).
func (r *Receiver) Verifications() []Verification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Verification(nil), r.seen...)
}

// Wait blocks until at least n verifications were seen or the timeout passes,
// and returns them. It returns early if the receiver has exited.
func (r *Receiver) Wait(n int, timeout time.Duration) []Verification {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if len(r.seen) >= n {
			out := append([]Verification(nil), r.seen...)
			r.mu.Unlock()
			return out
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-r.done:
			return r.Verifications()
		case <-deadline.C:
			return r.Verifications()
		}
	}
}

// Stderr is what the receiver wrote to stderr so far, plus any stdout line
// that was not a verification: the place to look when a delivery fails.
func (r *Receiver) Stderr() string {
	r.mu.Lock()
	junk := strings.Join(r.junk, "\n")
	r.mu.Unlock()
	out := r.stderr.String()
	if junk != "" {
		out += fmt.Sprintf("(stdout, not verifications)\n%s\n", junk)
	}
	return out
}

// lockedBuffer is a bytes.Buffer the process writes to while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
