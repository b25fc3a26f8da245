// Command local runs ModuPay on this machine without Docker: the real engines
// (DynamoDB Local, moto's SQS), the table and queues of template.yaml, and
// every function in process behind a local API Gateway and event source
// mappings.
//
//	go run ./infra/local run       # the whole stack; GET /health answering 200 means ready
//	go run ./infra/local invoke -function AuthFunction -event events/auth-token.json
//	go run ./infra/local engines   # only the engines, for tests to reuse
//
// Environment: MODUPAY_DYNAMODB_ENDPOINT and MODUPAY_SQS_ENDPOINT name engines
// to reuse when they answer; MODUPAY_GATEWAY_ADDR the API's address (default
// 127.0.0.1:3000); MODUPAY_DEMO_CLIENT_ID / MODUPAY_DEMO_CLIENT_SECRET the demo
// partner's credentials; MODUPAY_JWT_KEYS / MODUPAY_JWT_ACTIVE_KID the token
// keys (a fixed, public, local-only key when unset); MODUPAY_PAGE_KEYS /
// MODUPAY_PAGE_ACTIVE_KID and MODUPAY_CSRF_KEY the payment page and checkout
// form keys (fresh random ones for each run when unset); MODUPAY_CACHE_DIR
// where DynamoDB Local is cached. The runtime sets MODUPAY_LOCAL=1, which no
// deployed function has: page URLs may then follow the gateway's origin and
// sandbox webhook endpoints may be on loopback.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

const usage = `usage: go run ./infra/local <command> [flags]

commands:
  run      start the engines (or reuse them), provision template.yaml, serve every
           function on 127.0.0.1:3000; Ctrl-C stops everything
  invoke   invoke one function once with an event file, like sam local invoke -e
  engines  start only DynamoDB Local and the SQS engine, print their endpoints

"go run ./infra/local <command> -h" lists a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "invoke":
		err = invokeCmd(os.Args[2:])
	case "engines":
		err = enginesCmd(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	var exit exitError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, &exit):
		os.Exit(int(exit))
	default:
		slog.Error("local: " + err.Error())
		os.Exit(1)
	}
}

// exitError ends the command with a status and no further message (the
// command already printed what there was to say).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// setupLog sends the runtime's own logs to stderr as text.
func setupLog(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	return log
}

// paramFlag collects repeated -param Name=Value flags.
type paramFlag map[string]string

func (p paramFlag) String() string {
	var parts []string
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
