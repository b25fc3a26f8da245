// Command bench prints ModuPay's budgets as measured facts (make bench): per
// route, latency through the local gateway (p50/p95), DynamoDB and SQS calls
// per request, allocations per request; per function, binary size and init
// time. Call counts are exact and checked against the budgets (the command
// fails when one is exceeded); latencies depend on the machine and are only
// reported, never asserted.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/infra/engines"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/ratelimit"
	"github.com/modupay/modupay/shared/wiring"
)

func main() {
	n := flag.Int("n", 200, "requests per route")
	initRuns := flag.Int("init-runs", 15, "process starts per function for the init time")
	webhookBurst := flag.Int("webhook-burst", 10000, "organization.created events in the webhook burst")
	only := flag.String("only", "", `"init": only the functions' binary sizes and init times against the hello-world Lambda (no engines needed); `+
		`"routes": only the route table, its overhead ratios and the dashboard's pages; "dashboard": only the dashboard's pages; "flows": only the concurrent flows and the verifier`)
	auditEntries := flag.Int("audit-entries", 1_000_000, "entries in the audit trail of the audit section's organisation")
	out := flag.String("out", "docs/performance", "directory of the result file (bench.json) and the chart (routes.png), relative to the repository")
	extra := flag.String("init-extra", "", "comma-separated extra main packages (./path) measured in the init section beside the functions")
	flows := flag.Int("flows", 200, "payer flows in the concurrent flow section")
	payers := flag.Int("payers", 16, "concurrent payers in the flow section")
	soak := flag.Duration("soak", 0, "run the flow section for this long (e.g. 5m) instead of -flows flows")
	routeFilter := flag.String("route", "", "with -only routes: measure only the routes whose name contains this text")
	settle := flag.Duration("settle", 5*time.Millisecond, "pause before each timed request and each direct replay in the route table (see client.settle)")
	cpuProfile := flag.String("cpuprofile", "", "write the bench process's CPU profile (gateway and handlers included) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	st := settings{n: *n, initRuns: *initRuns, webhookBurst: *webhookBurst, auditEntries: *auditEntries, extra: *extra, out: *out,
		flows: *flows, payers: *payers, only: *only, settle: *settle, soak: *soak, route: *routeFilter}
	switch *only {
	case "", "routes", "dashboard", "flows":
		err = run(st)
	case "init":
		err = runInit(*initRuns, *extra)
	default:
		err = fmt.Errorf("-only %q: the sections are init, routes, dashboard and flows", *only)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// budget is the most DynamoDB / SQS calls a route may make per request (-1: not budgeted).
type budget struct{ dynamo, sqs int64 }

// runInit is the init section alone: sizes and init times, the budget checked.
func runInit(initRuns int, extra string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	bins, err := measureBinaries(context.Background(), root, withExtra(initTargets(), extra), initRuns)
	if err != nil {
		return err
	}
	if printBinaries(os.Stdout, bins) {
		return fmt.Errorf("a budget was exceeded (see above)")
	}
	return nil
}

// withExtra appends the packages of the -init-extra flag, named by path.
func withExtra(targets []binaryTarget, extra string) []binaryTarget {
	for _, pkg := range strings.Split(extra, ",") {
		if pkg = strings.TrimSpace(pkg); pkg != "" {
			targets = append(targets, binaryTarget{name: pkg, pkg: pkg})
		}
	}
	return targets
}

// settings are the command's flags.
type settings struct {
	n, initRuns, webhookBurst, auditEntries, flows, payers int
	extra, out, only, route                                string
	settle, soak                                           time.Duration
}

func run(st settings) error {
	n, initRuns, webhookBurst, auditEntries, extra := st.n, st.initRuns, st.webhookBurst, st.auditEntries, st.extra
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dyn, sq := os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), os.Getenv("MODUPAY_SQS_ENDPOINT")
	if !engines.Running(dyn, sq) {
		e, err := engines.Start(ctx, engines.Options{})
		if err != nil {
			return err
		}
		defer e.Stop()
		dyn, sq = e.DynamoDBEndpoint, e.SQSEndpoint
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	// The bench passes the secrets' values (benchJWTKeys...), as the local
	// runtime does; the ids only satisfy the template.
	params := map[string]string{"Stage": "sandbox", "JWTKeysSecretId": "modupay/bench/jwt-keys", "JWTActiveKid": "bench",
		"PageKeysSecretId": "modupay/bench/page-keys", "PageActiveKid": "bench-page",
		"CSRFKeySecretId": "modupay/bench/csrf-key", "DashboardKeysSecretId": "modupay/bench/dashboard-keys", "DashboardActiveKid": "bench-dashboard",
		"DynamoDBEndpoint": dyn, "SQSEndpoint": sq}
	res, err := stack.Provision(ctx, dyn, sq, "bench"+hex.EncodeToString(b), tpl, params)
	if err != nil {
		return err
	}
	env, err := res.Env(tpl, params)
	if err != nil {
		return err
	}
	sandbox := aiiasandbox.New(aiiasandbox.Options{})
	bank := httptest.NewServer(sandbox)
	defer bank.Close()
	rec := &recorder{byRequest: map[string]callCounts{}}
	// The bench sends one client's requests back to back, faster than the
	// per-client API limit allows, to measure each route's own cost: that
	// limit is off here (it costs no DynamoDB call; infra/e2e tests it). The
	// token endpoint's limits stay: the bench never fails a secret.
	limits := wiring.DefaultRateLimits()
	limits.API = ratelimit.Policy{}
	trace := newTracer()
	archiveDir, err := os.MkdirTemp("", "modupay-bench-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(archiveDir)
	app, err := wiring.Build(ctx, wiring.Config{Stage: "sandbox", Region: stack.Region(), Table: env["MODUPAY_TABLE"],
		AuditQueueURL: env["MODUPAY_AUDIT_QUEUE_URL"], AiiaPollQueueURL: env["MODUPAY_AIIA_POLL_QUEUE_URL"], WebhookQueueURL: env["MODUPAY_WEBHOOK_QUEUE_URL"], JWTKeys: benchJWTKeys, JWTActiveKid: env["MODUPAY_JWT_ACTIVE_KID"],
		PageKeys: benchPageKeys, PageActiveKid: env["MODUPAY_PAGE_ACTIVE_KID"], CSRFKey: benchCSRFKey, Local: true,
		DashboardKeys: benchDashboardKeys, DashboardActiveKid: env["MODUPAY_DASHBOARD_ACTIVE_KID"],
		DynamoDBEndpoint: dyn, SQSEndpoint: sq, Aiia: sandbox.ClientConfig(bank.URL), AuditArchiveDir: archiveDir, DocumentsDir: filepath.Join(archiveDir, "documents"),
		SandboxBankTable: env["MODUPAY_SANDBOX_BANK_TABLE"]}, wiring.Options{Log: slog.New(rec), RateLimits: &limits,
		DynamoDBAPIOptions: []func(*middleware.Stack) error{trace.middleware}})
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stages := &stageClock{} // times the webhook path's functions during the webhook burst
	gw, err := gateway.New(tpl, res, stages.wrap(app), gateway.Options{DynamoDBEndpoint: dyn, SQSEndpoint: sq, Log: quiet, SQSWaitTimeSeconds: 1})
	if err != nil {
		return err
	}
	gw.Start(ctx)
	srv := httptest.NewServer(gw)
	defer srv.Close()

	fl, err := newFloor(ctx, stack.NewDynamoDBClient(dyn), env["MODUPAY_TABLE"])
	if err != nil {
		return err
	}
	c := &client{base: srv.URL, http: srv.Client(), rec: rec, trace: trace, floor: fl, settle: st.settle, tally: &tally{}}
	if err := app.EnsurePartner(ctx, "partner-bench", "Bench", "bench-partner", "bench-partner-secret-0123"); err != nil {
		return err
	}
	token, err := c.token("bench-partner", "bench-partner-secret-0123")
	if err != nil {
		return err
	}
	orgID, err := c.createOrg(token, "Bench Org", "")
	if err != nil {
		return err
	}
	for i := 0; i < 100; i++ { // a partner with 101 organisations: the list reads one page of them
		if _, err := c.createOrg(token, fmt.Sprintf("Filler %03d", i), ""); err != nil {
			return err
		}
	}
	var clientIDs []string
	deptID, err := c.createDept(token, orgID)
	if err != nil {
		return err
	}
	accountID := ""
	var accountIDs, invoiceIDs, linkPages []string
	if r, err := c.do(request{method: "POST", path: "/v1/departments/" + deptID + "/bank_accounts", token: token,
		body: `{"iban":"` + frenchIBAN(999999) + `","bic":"BNPAFRPPXXX","account_name":"Compte principal"}`}); err != nil || r.status != 201 {
		return fmt.Errorf("bench bank account: %d %s %v", r.status, r.body, err)
	} else {
		c.rec.take(r.id)
	}
	bigInvoice, err := issuedInvoice(c, token, orgID, deptID)
	if err != nil {
		return err
	}
	// SQS budget 0 before the response: every authenticated route and the
	// token endpoint send the request to the API call log (one SendMessage
	// to the audit queue) after their response has left — the Lambda
	// extension's post-response queue, the gateway's here — so the
	// request's own count, which the edge logs, holds none. The audit
	// section times the call until it can be read.
	scenarios := []scenario{
		{name: "POST /v1/auth/token", budget: budget{1, 0}, req: func(int) request {
			return request{method: "POST", path: "/v1/auth/token", body: `{"grant_type":"client_credentials","client_id":"bench-partner","client_secret":"bench-partner-secret-0123","scope":"partner"}`}
		}},
		{name: "POST /v1/organizations", budget: budget{1, 0}, single: true, req: func(i int) request {
			return request{method: "POST", path: "/v1/organizations", token: token, body: orgJSON(fmt.Sprintf("Org %d", i))}
		}},
		{name: "POST /v1/organizations (Idempotency-Key)", budget: budget{3, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/organizations", token: token, body: orgJSON(fmt.Sprintf("Idem %d", i)), key: fmt.Sprintf("bench-%d", i)}
		}},
		{name: "POST /v1/organizations (replayed key)", budget: budget{1, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/organizations", token: token, body: orgJSON(fmt.Sprintf("Idem %d", i)), key: fmt.Sprintf("bench-%d", i)}
		}},
		{name: "GET /v1/organizations/{org_id}", budget: budget{1, 0}, single: true, req: func(int) request {
			return request{method: "GET", path: "/v1/organizations/" + orgID, token: token}
		}},
		{name: "GET /v1/organizations (page of 20, with total)", budget: budget{-1, 1}, req: func(int) request {
			return request{method: "GET", path: "/v1/organizations?page_size=20", token: token}
		}},
		{name: "POST /v1/organizations/{org_id}/api_clients", budget: budget{1, 0}, single: true, req: func(int) request {
			return request{method: "POST", path: "/v1/organizations/" + orgID + "/api_clients", token: token, body: `{"role":"analyst"}`, collect: &clientIDs}
		}},
		{name: "GET /v1/organizations/{org_id}/api_clients", budget: budget{-1, 1}, req: func(int) request {
			return request{method: "GET", path: "/v1/organizations/" + orgID + "/api_clients?page_size=20", token: token}
		}},
		{name: "DELETE /v1/organizations/{org_id}/api_clients/{client_id}", budget: budget{2, 0}, req: func(i int) request {
			return request{method: "DELETE", path: "/v1/organizations/" + orgID + "/api_clients/" + clientIDs[i%len(clientIDs)], token: token}
		}},
		{name: "POST /v1/organizations/{org_id}/departments", budget: budget{1, 0}, single: true, req: func(i int) request {
			return request{method: "POST", path: "/v1/organizations/" + orgID + "/departments", token: token, body: fmt.Sprintf(`{"name":"Régie %d","code":"B-%d"}`, i, i)}
		}},
		{name: "GET /v1/departments/{dept_id}", budget: budget{1, 0}, single: true, req: func(int) request {
			return request{method: "GET", path: "/v1/departments/" + deptID, token: token}
		}},
		// One read (the department: tenancy and current default) and one transaction.
		{name: "POST /v1/departments/{dept_id}/bank_accounts", budget: budget{2, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/departments/" + deptID + "/bank_accounts", token: token, body: fmt.Sprintf(`{"iban":"%s","bic":"BNPAFRPPXXX","account_name":"Compte %d"}`, frenchIBAN(i), i), collect: &accountIDs}
		}},
		{name: "GET /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", budget: budget{1, 0}, single: true, req: func(i int) request {
			if accountID == "" {
				accountID = accountIDs[0]
			}
			return request{method: "GET", path: "/v1/departments/" + deptID + "/bank_accounts/" + accountID, token: token}
		}},
		{name: "GET /v1/departments/{dept_id}/bank_accounts (200 accounts)", budget: budget{1, 0}, req: func(int) request {
			return request{method: "GET", path: "/v1/departments/" + deptID + "/bank_accounts", token: token}
		}},
		{name: "GET /v1/departments/{dept_id}/kyc", budget: budget{1, 0}, single: true, req: func(int) request {
			return request{method: "GET", path: "/v1/departments/" + deptID + "/kyc", token: token}
		}},
		// Reads: the organisation, the department and the number counter (one
		// BatchGetItem) and the bank account; then one transaction.
		{name: "POST /v1/invoices", budget: budget{3, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/invoices", token: token, entity: orgID, collect: &invoiceIDs,
				body: `{"department_id":"` + deptID + `","payer":{"name":"Jean Dupont","email":"jean.dupont@example.com"},"line_items":[{"description":"Consommation eau T1","quantity":125,"unit_price":320,"vat_rate":5.5}],"due_date":"2030-03-31"}`}
		}},
		{name: "GET /v1/invoices/{invoice_id}", budget: budget{1, 0}, single: true, req: func(i int) request {
			return request{method: "GET", path: "/v1/invoices/" + invoiceIDs[i%len(invoiceIDs)], token: token, entity: orgID}
		}},
		// One read (the invoice: its status and the version its documents were
		// kept under) and one object fetch (a file here, S3 deployed).
		{name: "GET /v1/invoices/{invoice_id}/pdf", budget: budget{1, 0}, req: func(int) request {
			return request{method: "GET", path: "/v1/invoices/" + bigInvoice + "/pdf", token: token, entity: orgID}
		}},
		// One read (the invoice) and one transaction (link, intent, page token,
		// the account's count, the invoice's reservation, event).
		{name: "POST /v1/payment_links", budget: budget{2, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/payment_links", token: token, entity: orgID, collect: &linkPages,
				body: `{"invoice_id":"` + bigInvoice + `","payment_methods":["sepa_credit"],"amount":200,"return_url":"https://votreapp.fr/ok"}`}
		}},
		// One BatchGetItem: the sealed token names the link, intent, invoice,
		// account, partner and brandings.
		{name: "GET /p/{token} (hosted page)", budget: budget{1, 0}, req: func(i int) request {
			return request{method: "GET", path: linkPages[i%len(linkPages)]}
		}},
		{name: "GET /health", budget: budget{0, 0}, req: func(int) request { return request{method: "GET", path: "/health"} }},
		{name: "GET /api-docs", budget: budget{0, 0}, req: func(int) request { return request{method: "GET", path: "/api-docs"} }},
	}
	var rows []row
	if st.only != "flows" && st.only != "dashboard" {
		for _, s := range scenarios {
			if !strings.Contains(s.name, st.route) {
				continue
			}
			r, err := c.measure(s, n)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			rows = append(rows, r)
		}
		// Resolutions of transfers the bank lost track of, each on its own
		// intent (paid from the sandbox's UNKNOWN IBAN first): one read of
		// the intent, of its link and of its invoice, and the settlement's
		// one transaction (intent, invoice, link, events).
		const resolveName = "POST /v1/payment_intents/{intent_id}/resolve (received)"
		if strings.Contains(resolveName, st.route) {
			var lost []string
			for i := 0; i < min(n, 20); i++ {
				pi, err := c.lostOnce(token, orgID, deptID)
				if err != nil {
					return fmt.Errorf("lost payment %d: %w", i, err)
				}
				lost = append(lost, pi)
			}
			r, err := c.measure(scenario{name: resolveName, budget: budget{4, 0}, req: func(i int) request {
				return request{method: "POST", path: "/v1/payment_intents/" + lost[i] + "/resolve", token: token, entity: orgID, body: `{"outcome":"received"}`}
			}}, len(lost))
			if err != nil {
				return fmt.Errorf("%s: %w", resolveName, err)
			}
			rows = append(rows, r)
		}
	}
	var dash dashboardFigures
	if st.only != "flows" {
		if dash, err = measureDashboard(c, dashboardSetup{clientID: "bench-partner", secret: "bench-partner-secret-0123", token: token,
			orgID: orgID, deptID: deptID, invoiceID: bigInvoice, n: min(n, 50), route: st.route}); err != nil {
			return err
		}
	}
	if st.only == "dashboard" {
		if dash.report(os.Stdout) {
			return fmt.Errorf("a dashboard page is over its budget (see above)")
		}
		return nil
	}
	flowSet := flowSetup{db: stack.NewDynamoDBClient(dyn), table: env["MODUPAY_TABLE"], token: token, partnerID: "partner-bench", flows: st.flows, payers: st.payers, duration: st.soak,
		sqs: stack.NewSQSClient(sq), queueURLs: []string{res.ByID["AuditQueue"].URL, res.ByID["WebhookQueue"].URL, res.ByID["AiiaPollQueue"].URL}}
	if st.only == "flows" {
		flows, err := measureFlows(ctx, c, flowSet)
		if err != nil {
			return err
		}
		flows.report(os.Stdout)
		if err := writeResults(outDir(root, st.out), benchResult{Machine: machine(), Date: time.Now().UTC().Format(time.DateOnly),
			RatioLimit: ratioBudget, Flows: &flows}); err != nil {
			return err
		}
		return flows.check()
	}
	if st.only == "routes" {
		reportErr := report(os.Stdout, n, rows, nil, nil)
		failed := reportRatios(os.Stdout, rows)
		dashFailed := dash.report(os.Stdout)
		if err := writeResults(outDir(root, st.out), benchResult{Machine: machine(), Date: time.Now().UTC().Format(time.DateOnly),
			RatioLimit: ratioBudget, Routes: routeResults(n, rows)}); err != nil {
			return err
		}
		if failed {
			return fmt.Errorf("a route is over its overhead budget (see above)")
		}
		if dashFailed {
			return fmt.Errorf("a dashboard page is over its budget (see above)")
		}
		return reportErr
	}
	allocs, err := measureAllocs(ctx, app, token, orgID)
	if err != nil {
		return err
	}
	// A second organisation for the scale test, so its 100 000 invoices are alone.
	bigOrg, err := c.createOrg(token, "Grande Régie", "")
	if err != nil {
		return err
	}
	bigDept, err := c.createDept(token, bigOrg)
	if err != nil {
		return err
	}
	scale, err := measureInvoiceScale(ctx, app, c, token, "partner-bench", bigOrg, bigDept, 100_000, 1_000)
	if err != nil {
		return err
	}
	auditOrg, err := c.createOrg(token, "Journal", "")
	if err != nil {
		return err
	}
	trail, err := measureAuditScale(ctx, app, c, token, "partner-bench", auditOrg, auditEntries)
	if err != nil {
		return err
	}
	flow, err := measureAuditFlow(ctx, c, auditFlowSetup{sqs: stack.NewSQSClient(sq), auditURL: res.ByID["AuditQueue"].URL, dlqURL: res.ByID["AuditDLQ"].URL,
		stages: stages, token: token, partnerID: "partner-bench", orgID: auditOrg, samples: 50, records: 2000, writerResources: 10})
	if err != nil {
		return err
	}
	bins, err := measureBinaries(ctx, root, withExtra(initTargets(), extra), initRuns)
	if err != nil {
		return err
	}
	var payTimes, refundTimes []time.Duration
	var paid []string
	for i := 0; i < 10; i++ {
		d, pi, err := c.payOnce(token, orgID, deptID)
		if err != nil {
			return fmt.Errorf("payment %d: %w", i, err)
		}
		payTimes, paid = append(payTimes, d), append(paid, pi)
	}
	// Refunds of those payments: each intent's first refund followed to the
	// end, then the creation route's cost, 1 € at a time spread over the ten
	// intents (at most 50 refunds per intent: n ≤ 490).
	for i, pi := range paid {
		d, err := c.refundOnce(token, orgID, pi, 100)
		if err != nil {
			return fmt.Errorf("refund %d: %w", i, err)
		}
		refundTimes = append(refundTimes, d)
	}
	// One read (the intent: tenancy, status, what is refundable) and one
	// transaction (refund, the intent's reservation, refund.created).
	refundRow, err := c.measure(scenario{name: "POST /v1/refunds", budget: budget{2, 0}, req: func(i int) request {
		return request{method: "POST", path: "/v1/refunds", token: token, entity: orgID,
			body: `{"payment_intent_id":"` + paid[i%len(paid)] + `","amount":100,"reason":"Bench"}`}
	}}, min(n, 49*len(paid)))
	if err != nil {
		return fmt.Errorf("POST /v1/refunds: %w", err)
	}
	rows = append(rows, refundRow)
	orderRows, err := measurePaymentOrders(c, token, orgID, n)
	if err != nil {
		return err
	}
	rows = append(rows, orderRows...)
	// Orders paid through the sandbox bank, from a portfolio with an
	// execution account.
	var execPF []string
	if _, err := c.measure(scenario{name: "setup: POST /v1/portfolios (execution account)", budget: budget{1, 0}, req: func(int) request {
		return request{method: "POST", path: "/v1/portfolios", token: token, entity: orgID, collect: &execPF,
			body: `{"name":"Décaissements","currency":"EUR","executionAccount":{"accountId":"sandbox-treasury-1","redirectUrl":"https://back-office.example.fr/payouts"}}`}
	}}, 1); err != nil || len(execPF) == 0 {
		return fmt.Errorf("portfolio with an execution account: %v", err)
	}
	if r, err := c.do(request{method: "POST", path: "/v1/portfolios/" + execPF[0] + "/fundings", token: token, entity: orgID, body: `{"amount":100000.00}`}); err != nil || r.status != 201 {
		return fmt.Errorf("funding: %d %s %v", r.status, r.body, err)
	}
	var execAuth, execDone []time.Duration
	for i := 0; i < 5; i++ {
		a, d, err := c.executeOnce(token, orgID, execPF[0], i)
		if err != nil {
			return fmt.Errorf("executed order %d: %w", i, err)
		}
		execAuth, execDone = append(execAuth, a), append(execDone, d)
	}
	hooks, hooksErr := measureWebhooks(ctx, app, c, webhookSetup{burst: webhookBurst, sqs: stack.NewSQSClient(sq),
		queueURL: res.ByID["WebhookQueue"].URL, dlqURL: res.ByID["WebhookDLQ"].URL, auditURL: res.ByID["AuditQueue"].URL, stages: stages})
	// Last: the flows' subscription asks for every event of the partner.
	flows, flowsErr := measureFlows(ctx, c, flowSet)
	// Every section prints before any budget fails the run, so one exceeded
	// budget never hides the other figures.
	reportErr := report(os.Stdout, n, rows, allocs, bins)
	fmt.Printf("\nPayments end to end (10, sandbox bank answering at once): from the bank's authorisation to the invoice paid —\n"+
		"event router, poll queue, poller, Aiia status read, settlement transaction: p50 %s, max %s\n",
		percentile(payTimes, 50).Round(time.Millisecond), percentile(payTimes, 100).Round(time.Millisecond))
	fmt.Printf("Refunds end to end (10, sandbox bank answering at once): from the refund's 201 to its status succeeded —\n"+
		"event router, poll queue, poller, Aiia refund created and read, settlement transaction: p50 %s, max %s\n",
		percentile(refundTimes, 50).Round(time.Millisecond), percentile(refundTimes, 100).Round(time.Millisecond))
	fmt.Printf("Payment orders executed through Aiia (5, sandbox bank answering at once): from the approval's 200 to the order's authorizationUrl —\n"+
		"event router, poll queue, poller, Aiia payout and authorisation created, one transaction: p50 %s, max %s; from the account holder's\n"+
		"authorisation to COMPLETED — the poller's next scheduled read (2 s after its first), Aiia's status, the completion transaction: p50 %s, max %s\n",
		percentile(execAuth, 50).Round(time.Millisecond), percentile(execAuth, 100).Round(time.Millisecond),
		percentile(execDone, 50).Round(time.Millisecond), percentile(execDone, 100).Round(time.Millisecond))
	scale.report(os.Stdout)
	trail.report(os.Stdout)
	flow.report(os.Stdout)
	hooks.report(os.Stdout)
	ratioFailed := reportRatios(os.Stdout, rows)
	dashFailed := dash.report(os.Stdout)
	if flowsErr != nil {
		return flowsErr
	}
	flows.report(os.Stdout)
	if err := writeResults(outDir(root, st.out), benchResult{Machine: machine(), Date: time.Now().UTC().Format(time.DateOnly),
		RatioLimit: ratioBudget, Routes: routeResults(n, rows), Flows: &flows}); err != nil {
		return err
	}
	if hooksErr != nil {
		return hooksErr
	}
	if err := flows.check(); err != nil {
		return err
	}
	if ratioFailed {
		return fmt.Errorf("a route is over its overhead budget (see above)")
	}
	if dashFailed {
		return fmt.Errorf("a dashboard page is over its budget (see above)")
	}
	if err := hooks.check(); err != nil {
		return err
	}
	if err := trail.check(); err != nil {
		return err
	}
	if err := flow.check(); err != nil {
		return err
	}
	if scale.listCalls != 1 || scale.overdueMarked != scale.due || scale.overdueCalls-int64(scale.overdueMarked) > 2*8 {
		return fmt.Errorf("invoice scale budget exceeded: a page must be one call, and the overdue run must read only the due invoices")
	}
	return reportErr
}

// outDir is the results' directory: -out, relative to the repository unless absolute.
func outDir(root, out string) string {
	if filepath.IsAbs(out) {
		return out
	}
	return filepath.Join(root, out)
}

// machine names what the figures were measured on.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPU, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

func orgJSON(name string) string {
	return `{"type":"company","name":"` + name + `","siret":"73282932000074","address":{"line1":"1 rue A","postal_code":"75001","city":"Paris","country":"FR"}}`
}

type scenario struct {
	name   string
	budget budget
	req    func(i int) request
	// single: the route reads or writes one resource, so its overhead
	// ratio is held to ratioBudget.
	single bool
}

type row struct {
	name          string
	p50, p95      time.Duration
	dynamoMedian  int64
	dynamoMax     int64
	sqsMax        int64
	budget        budget
	statusFailure string
	// The same DynamoDB calls issued directly (the floor), interleaved.
	single             bool
	floorP50, floorP95 time.Duration
	floorErr           string
	// Where the route's time goes, at p50: in the handler (the edge's
	// latency), and in its DynamoDB calls through the app's client.
	handlerP50, sdkP50 time.Duration
}

func (r row) over() bool {
	return (r.budget.dynamo >= 0 && r.dynamoMedian > r.budget.dynamo) || (r.budget.sqs >= 0 && r.sqsMax > r.budget.sqs)
}

func percentile(ds []time.Duration, p int) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := (len(ds)*p+99)/100 - 1
	return ds[max(i, 0)]
}

func medianInt(xs []int64) int64 {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs[len(xs)/2]
}

func report(w io.Writer, n int, rows []row, allocs map[string]float64, bins []binaryFigures) error {
	fmt.Fprintf(w, "ModuPay bench — %d requests per route through the local gateway (DynamoDB Local, moto SQS), %s/%s, %d CPU\n\n", n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "route\tp50\tp95\tDynamoDB calls (median/max)\tbudget\tSQS calls\tallocs/req (handler)\t")
	failed := false
	for _, r := range rows {
		b := "—"
		if r.budget.dynamo >= 0 {
			b = fmt.Sprint(r.budget.dynamo)
		}
		verdict := ""
		if r.over() {
			verdict, failed = "  OVER BUDGET", true
		}
		if r.statusFailure != "" {
			verdict, failed = "  "+r.statusFailure, true
		}
		a := "—"
		if v, ok := allocs[r.name]; ok {
			a = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d / %d\t%s\t%d\t%s\t%s\n", r.name, r.p50.Round(10*time.Microsecond), r.p95.Round(10*time.Microsecond), r.dynamoMedian, r.dynamoMax, b, r.sqsMax, a, verdict)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nAuthentication: the token endpoint's one DynamoDB call is a BatchGetItem of the client and its two failed-attempt")
	fmt.Fprintln(w, "counters (a wrong secret adds one ADD per counter); authenticated routes' counts above include no call for")
	fmt.Fprintln(w, "authentication or rate limiting (tokens are verified in memory, the per-client limit is counted in memory; the")
	fmt.Fprintln(w, "revocation list is re-read at most every 30 s per container, which shows only in the max column).")
	if len(bins) > 0 && printBinaries(w, bins) {
		failed = true
	}
	if failed {
		return fmt.Errorf("a budget was exceeded (see above)")
	}
	return nil
}

// measureAllocs calls HTTP handlers directly (no gateway, no HTTP client) and
// counts heap allocations per request, SDK calls to the engines included.
func measureAllocs(ctx context.Context, app *wiring.App, token, orgID string) (map[string]float64, error) {
	out := map[string]float64{}
	type probe struct {
		name, function, routeKey, path, body string
		params                               map[string]string
	}
	probes := []probe{
		{"POST /v1/auth/token", "AuthFunction", "POST /v1/auth/token", "/v1/auth/token", `{"grant_type":"client_credentials","client_id":"bench-partner","client_secret":"bench-partner-secret-0123","scope":"partner"}`, nil},
		{"GET /v1/organizations/{org_id}", "OrganizationsFunction", "GET /v1/organizations/{org_id}", "/v1/organizations/" + orgID, "", map[string]string{"org_id": orgID}},
		{"POST /v1/organizations", "OrganizationsFunction", "POST /v1/organizations", "/v1/organizations", orgJSON("Alloc"), nil},
		{"GET /health", "DocsFunction", "GET /health", "/health", "", nil},
	}
	for _, p := range probes {
		fn, ok := app.Function(p.function)
		if !ok {
			return nil, fmt.Errorf("no %s", p.function)
		}
		ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: p.routeKey, RawPath: p.path, Body: p.body, PathParameters: p.params,
			Headers: map[string]string{"content-type": "application/json"}}
		if p.function != "AuthFunction" {
			ev.Headers["authorization"] = "Bearer " + token
		}
		ev.RequestContext.HTTP.Method, _, _ = strings.Cut(p.routeKey, " ")
		ev.RequestContext.RequestID = "alloc"
		const runs = 200
		warm, err := fn.HTTP(ctx, ev)
		if err != nil {
			return nil, err
		}
		if warm.StatusCode >= 300 {
			return nil, fmt.Errorf("allocation probe %s: status %d: %s", p.name, warm.StatusCode, warm.Body)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			if _, err := fn.HTTP(ctx, ev); err != nil {
				return nil, err
			}
		}
		runtime.ReadMemStats(&after)
		out[p.name] = float64(after.Mallocs-before.Mallocs) / runs
	}
	return out, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("template.yaml not found above the working directory")
		}
		dir = parent
	}
}

// recorder is an slog handler that keeps each request's call counts, read
// from the one log line the HTTP edge writes per request.
type recorder struct {
	mu        sync.Mutex
	byRequest map[string]callCounts
}

type callCounts struct {
	dynamo, sqs int64
	handler     time.Duration // the edge's latency: handler start to response built
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "request" {
		return nil
	}
	var id string
	var c callCounts
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request_id":
			id = a.Value.String()
		case "dynamodb_calls":
			c.dynamo = a.Value.Int64()
		case "sqs_calls":
			c.sqs = a.Value.Int64()
		case "latency_ms":
			c.handler = time.Duration(a.Value.Float64() * float64(time.Millisecond))
		}
		return true
	})
	r.mu.Lock()
	r.byRequest[id] = c
	r.mu.Unlock()
	return nil
}

func (r *recorder) take(id string) (callCounts, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.byRequest[id]
	delete(r.byRequest, id)
	return c, ok
}

var _ http.Handler = (*gateway.Gateway)(nil)

// frenchIBAN builds the i-th valid French IBAN: a RIB with a correct key, then
// ISO 13616 check digits.
func frenchIBAN(i int) string {
	bank, branch, account := "30006", "00001", fmt.Sprintf("%011d", 10000000000+i)
	// RIB key: 97 - ((89*bank + 15*branch + 3*account) mod 97)
	bn, _ := new(big.Int).SetString(bank, 10)
	br, _ := new(big.Int).SetString(branch, 10)
	ac, _ := new(big.Int).SetString(account, 10)
	sum := new(big.Int).Add(new(big.Int).Mul(bn, big.NewInt(89)), new(big.Int).Mul(br, big.NewInt(15)))
	sum.Add(sum, new(big.Int).Mul(ac, big.NewInt(3)))
	key := 97 - new(big.Int).Mod(sum, big.NewInt(97)).Int64()
	bban := fmt.Sprintf("%s%s%s%02d", bank, branch, account, key)
	// check digits: 98 - (bban + "FR00" as digits) mod 97; F=15, R=27
	n, _ := new(big.Int).SetString(bban+"1527"+"00", 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("FR%02d%s", check, bban)
}

// issuedInvoice issues an invoice large enough for many 2 € links.
func issuedInvoice(c *client, token, orgID, deptID string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/invoices", token: token, entity: orgID,
		body: `{"department_id":"` + deptID + `","payer":{"name":"Jean Dupont","email":"jean.dupont@example.com"},"line_items":[{"description":"Eau","quantity":1000,"unit_price":100000,"vat_rate":5.5}],"due_date":"2030-03-31"}`})
	if err != nil || r.status != 201 {
		return "", fmt.Errorf("bench invoice: %d %s %v", r.status, r.body, err)
	}
	c.rec.take(r.id)
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return "", err
	}
	r, err = c.do(request{method: "POST", path: "/v1/invoices/" + v.ID + "/issue", token: token, entity: orgID})
	if err != nil || r.status != 200 {
		return "", fmt.Errorf("bench issue: %d %s %v", r.status, r.body, err)
	}
	c.rec.take(r.id)
	return v.ID, nil
}
