package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modupay/modupay/infra/engines"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/wiring"
)

// runCmd runs the whole stack in the foreground until SIGINT or SIGTERM,
// then stops everything it started. Its order is the readiness contract:
// engines, tables and queues, app, demo partner, event sources, and only then
// the listener, so GET /health answering 200 means everything is up.
func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	tplPath := fs.String("template", "template.yaml", "SAM template to run")
	addr := fs.String("addr", envOr("MODUPAY_GATEWAY_ADDR", "127.0.0.1:3000"), "address of the local API (env MODUPAY_GATEWAY_ADDR)")
	dynamoEP := fs.String("dynamodb-endpoint", os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), "reuse the DynamoDB engine there when it answers")
	sqsEP := fs.String("sqs-endpoint", os.Getenv("MODUPAY_SQS_ENDPOINT"), "reuse the SQS engine there when it answers")
	dynamoPort := fs.Int("dynamodb-port", 8000, "port of DynamoDB Local when started here")
	sqsPort := fs.Int("sqs-port", 9324, "port of the SQS engine when started here")
	logDir := fs.String("engine-logs", "", "directory for the engines' logs (default: a temporary one)")
	prefix := fs.String("prefix", "modupay-local", "physical names are <prefix>-<LogicalId>")
	params := paramFlag{}
	fs.Var(params, "param", "template parameter override Name=Value (repeatable)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := setupLog(*verbose)

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	tpl, err := stack.Load(*tplPath)
	if err != nil {
		return err
	}
	// The address is checked first (failing after a long start is worse) but
	// listened on last: until everything is up, connections are refused.
	probe, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set -addr or MODUPAY_GATEWAY_ADDR): %w", *addr, err)
	}
	probe.Close()

	// The local Aiia sandbox; the app talks to it unless MODUPAY_AIIA_BASE_URL
	// names another Aiia. Set before prepare, so template parameters bound
	// to these variables see them too.
	if os.Getenv("MODUPAY_PUBLIC_BASE_URL") == "" {
		// Where the pages are: the payment pages follow the Host asked, but
		// the poller, which answers no request, names the refund account
		// page to the bank with it.
		_, port, _ := net.SplitHostPort(*addr)
		os.Setenv("MODUPAY_PUBLIC_BASE_URL", "http://127.0.0.1:"+port)
	}
	sandboxOpts := aiiasandbox.OptionsFromEnv()
	if len(sandboxOpts.RedirectPrefixes) == 0 {
		// The payment pages of this gateway are the client's registered
		// redirects, as at Aiia's onboarding (pages follow the Host asked).
		_, port, _ := net.SplitHostPort(*addr)
		sandboxOpts.RedirectPrefixes = []string{"http://127.0.0.1:" + port + "/p/", "http://localhost:" + port + "/p/"}
		if base := os.Getenv("MODUPAY_PUBLIC_BASE_URL"); base != "" {
			sandboxOpts.RedirectPrefixes = append(sandboxOpts.RedirectPrefixes, strings.TrimRight(base, "/")+"/p/")
		}
	}
	sandbox := aiiasandbox.New(sandboxOpts)
	sandboxAddr := envOr(aiiasandbox.EnvAddr, aiiasandbox.DefaultAddr)
	sandboxURL, err := sandbox.Start(sandboxAddr)
	if err != nil {
		return fmt.Errorf("start the Aiia sandbox on %s (set %s): %w", sandboxAddr, aiiasandbox.EnvAddr, err)
	}
	defer sandbox.Close(context.Background())
	if os.Getenv(aiia.EnvBaseURL) == "" {
		// The app's Aiia client is the sandbox's registered one: its key
		// (made for this process unless MODUPAY_AIIA_CLIENT_KEY gives one),
		// or the secret it was given.
		c := sandbox.ClientConfig(sandboxURL)
		for k, v := range map[string]string{
			aiia.EnvBaseURL: c.BaseURL, aiia.EnvTokenURL: c.TokenURL,
			aiia.EnvClientID: c.ClientID, aiia.EnvClientKey: c.ClientKey, aiia.EnvClientSecret: c.ClientSecret,
		} {
			if os.Getenv(k) == "" && v != "" {
				os.Setenv(k, v)
			}
		}
	}

	eng, dyn, sqs, err := useEngines(ctx, log, *dynamoEP, *sqsEP, engines.Options{
		DynamoDBPort: *dynamoPort, SQSPort: *sqsPort, LogDir: *logDir,
	})
	if err != nil {
		return err
	}
	defer eng.Stop()

	res, err := prepare(ctx, log, tpl, dyn, sqs, *prefix, params)
	if err != nil {
		return err
	}
	app, err := wiring.Build(ctx, wiring.ConfigFromEnv())
	if err != nil {
		return fmt.Errorf("build the app: %w", err)
	}
	g, err := gateway.New(tpl, res, app, gateway.Options{DynamoDBEndpoint: dyn, SQSEndpoint: sqs, Log: log})
	if err != nil {
		return err
	}
	clientID := envOr("MODUPAY_DEMO_CLIENT_ID", defaultDemoClient)
	clientSecret := envOr("MODUPAY_DEMO_CLIENT_SECRET", defaultDemoSecret)
	if err := app.EnsurePartner(ctx, demoPartnerID, demoPartnerName, clientID, clientSecret); err != nil {
		return fmt.Errorf("seed the demo partner: %w", err)
	}

	// Event sources outlive ctx by a little: they stop after the listener.
	sources, stopSources := context.WithCancel(context.Background())
	defer stopSources()
	g.Start(sources)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	printBanner(ln.Addr().String(), dyn, sqs, res, eng, clientID, clientSecret, sandboxURL)

	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err = <-serveErr:
		log.Error("server stopped", "err", err)
	}
	stopSignals() // a second Ctrl-C kills at once (engines still die with us on Linux)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("server shutdown", "err", err)
	}
	if err := sandbox.Close(shutdown); err != nil {
		log.Warn("aiia sandbox shutdown", "err", err)
	}
	stopSources()
	g.Wait()
	eng.Stop()
	log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func printBanner(addr, dyn, sqs string, res *stack.Resources, eng *engines.Engines, clientID, clientSecret, aiiaSandbox string) {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(host, port)
	body, _ := json.Marshal(map[string]string{
		"grant_type": "client_credentials", "client_id": clientID, "client_secret": clientSecret, "scope": "partner",
	})
	var b strings.Builder
	fmt.Fprintf(&b, "\nModuPay local stack is ready.\n\n")
	fmt.Fprintf(&b, "  API          %s   (GET %s/health)\n", base, base)
	fmt.Fprintf(&b, "  DynamoDB     %s   table %s\n", dyn, res.ByID["Table"].Name)
	fmt.Fprintf(&b, "  SQS          %s\n", sqs)
	fmt.Fprintf(&b, "  Aiia sandbox %s   (the app uses %s)\n", aiiaSandbox, os.Getenv(aiia.EnvBaseURL))
	fmt.Fprintf(&b, "  Audit archive %s\n", os.Getenv("MODUPAY_AUDIT_ARCHIVE_DIR"))
	if eng != nil {
		fmt.Fprintf(&b, "  Engine logs  %s\n", eng.LogDir)
	} else {
		fmt.Fprintf(&b, "  Engines      reused (not stopped by Ctrl-C)\n")
	}
	fmt.Fprintf(&b, "\n  Demo partner %s: client_id=%s client_secret=%s\n", demoPartnerID, clientID, clientSecret)
	fmt.Fprintf(&b, "\n  curl -s -X POST %s/v1/auth/token -H 'Content-Type: application/json' -d %s\n", base, shellQuote(string(body)))
	fmt.Fprintf(&b, "\n  Reuse these engines from tests or another shell:\n  export MODUPAY_DYNAMODB_ENDPOINT=%s MODUPAY_SQS_ENDPOINT=%s\n", dyn, sqs)
	fmt.Fprintf(&b, "\nCtrl-C stops everything.\n\n")
	fmt.Print(b.String())
}

// shellQuote single-quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
