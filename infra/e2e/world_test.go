// Package e2e drives the whole stack as a partner does: HTTP requests to the
// local gateway, which calls the same handlers as the Lambdas, on DynamoDB
// Local and the SQS endpoint, with the stream and queue pollers running.
// Every response is validated against the OpenAPI document.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/ratelimit"
	"github.com/modupay/modupay/shared/wiring"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// faults makes the DynamoDB client fail on demand, on the real engine.
type faults struct {
	hits atomic.Int64 // calls failed so far
	err  atomic.Pointer[error]
	// when, if set, limits the fault to the calls whose input it accepts.
	when atomic.Pointer[func(input any) bool]
}

func (f *faults) set(err error) {
	f.when.Store(nil)
	if err == nil {
		f.err.Store(nil)
		return
	}
	f.err.Store(&err)
}

// setWhen makes only the calls whose input satisfies when fail.
func (f *faults) setWhen(err error, when func(input any) bool) {
	f.when.Store(&when)
	f.err.Store(&err)
}

func (f *faults) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("e2e-faults",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if e := f.err.Load(); e != nil {
				if w := f.when.Load(); w == nil || (*w)(in.Parameters) {
					f.hits.Add(1)
					return middleware.InitializeOutput{}, middleware.Metadata{}, *e
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

var (
	errThrottled = &types.ProvisionedThroughputExceededException{Message: strPtr("throttled (injected)")}
	errBoom      = errors.New("boom (injected)")
)

func strPtr(s string) *string { return &s }

// world is one stack: its app, gateway and an HTTP server in front.
type world struct {
	t         *testing.T
	cfg       wiring.Config
	app       *wiring.App
	srv       *httptest.Server
	clock     *stacktest.Clock
	faults    *faults
	queues    map[string]string // queue logical id -> URL
	validator *openapi.Validator
	seen      map[string]bool // route keys exercised
	sandbox   *aiiasandbox.Server
	mu        sync.Mutex
	// restart stops the process abruptly — its queue pollers, stream
	// readers and schedules, with whatever they hold in flight — and starts
	// a new one (a new app, nothing kept in memory) behind the same server.
	restart func()
}

// swapHandler is the server's handler, replaced when the process restarts.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

const partnerSecret = "partner-secret-0123456789"

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, worldOptions{})
}

// worldOptions change a world's defaults.
type worldOptions struct {
	// runningClock makes the app's clock follow the wall clock (work
	// scheduled by queue delays needs it); otherwise it moves when advanced.
	runningClock bool
	webhooks     wiring.WebhookOptions
	// rateLimits replaces the abuse limits. nil: the defaults on the wall
	// clock, without the per-client API limit — tests send one client's
	// requests back to back, and whether one lands past 50 in a second would
	// depend on the machine's speed. The limits' own tests pass the defaults.
	rateLimits *wiring.RateLimits
	// logs receives the app's and the gateway's JSON log lines (nil: none).
	logs io.Writer
	// bank replaces the sandbox bank's options (nil: every step at once).
	bank *aiiasandbox.Options
	// deployedBank puts the sandbox stage's bank in place of the in-process
	// one, as deployed: SandboxBankFunction behind the gateway under
	// /sandbox-bank/, its records in the stack's SandboxBankTable, the
	// app's Aiia client pointed at it (w.sandbox is then nil). It keeps the
	// bank's default delays, so it needs runningClock.
	deployedBank bool
	// dynamoOptions and sqsOptions are more SDK middlewares for the app's
	// clients (the fault tests' failures inside the SDK's retry loop).
	dynamoOptions, sqsOptions []func(*middleware.Stack) error
	// visibility replaces the named queues' VisibilityTimeout, so a message
	// whose handler failed comes back within a test's time.
	visibility map[string]time.Duration
}

func newWorldWith(t *testing.T, opts worldOptions) *world {
	t.Helper()
	st := stacktest.New(t)
	// The bank: the local Aiia sandbox, deciding at once (no delays) unless
	// the test says otherwise.
	bankOpts := aiiasandbox.Options{}
	if opts.bank != nil {
		bankOpts = *opts.bank
	}
	var sandbox *aiiasandbox.Server
	var listener net.Listener
	if opts.deployedBank {
		// The gateway's address must be known before the app is built: its
		// Aiia client calls the gateway.
		var err error
		if listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		base := "http://" + listener.Addr().String()
		st.Config.Aiia = aiia.Config{BaseURL: base + "/sandbox-bank", ClientID: "modupay-sandbox", ClientSecret: "e2e-only-aiia-secret"}
		st.Config.SandboxBankTable = st.Resources.ByID["SandboxBankTable"].Name
		st.Config.PublicBaseURL = base
	} else {
		// The pages' base is the gateway's address, known before the app
		// is built (the poller names the refund account page with it).
		var err error
		if listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		st.Config.PublicBaseURL = "http://" + listener.Addr().String()
		if len(bankOpts.RedirectPrefixes) == 0 {
			bankOpts.RedirectPrefixes = []string{st.Config.PublicBaseURL + "/p/"}
		}
		sandbox = aiiasandbox.New(bankOpts)
		bank := httptest.NewServer(sandbox)
		t.Cleanup(bank.Close)
		st.Config.Aiia = sandbox.ClientConfig(bank.URL)
	}
	clock := stacktest.NewClock(time.Now().UTC().Truncate(time.Second))
	if opts.runningClock {
		clock = stacktest.NewRunningClock()
	}
	w := &world{t: t, cfg: st.Config, clock: clock, faults: &faults{}, seen: map[string]bool{}, sandbox: sandbox, queues: map[string]string{}}
	for id, p := range st.Resources.ByID {
		if p.URL != "" {
			w.queues[id] = p.URL
		}
	}
	if len(opts.visibility) > 0 {
		shortenVisibility(t, w, opts.visibility)
	}
	var err error
	w.validator, err = openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	if opts.rateLimits == nil {
		limits := wiring.DefaultRateLimits()
		limits.API = ratelimit.Policy{}
		opts.rateLimits = &limits
	}
	logs := opts.logs
	if logs == nil {
		logs = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	// A process: the app and its gateway (routes, queue pollers, stream
	// readers, schedules), behind a server that outlives it (w.restart).
	var front swapHandler
	var stop func()
	start := func() {
		app, err := wiring.Build(context.Background(), st.Config, wiring.Options{Now: w.clock.Now, Log: log,
			DynamoDBAPIOptions: append([]func(*middleware.Stack) error{w.faults.middleware}, opts.dynamoOptions...), SQSAPIOptions: opts.sqsOptions,
			Webhooks: opts.webhooks, RateLimits: opts.rateLimits})
		if err != nil {
			t.Fatal(err)
		}
		gw, err := gateway.New(st.Template, st.Resources, app, gateway.Options{
			DynamoDBEndpoint: st.Config.DynamoDBEndpoint, SQSEndpoint: st.Config.SQSEndpoint, Log: log,
			SQSWaitTimeSeconds: 1, StreamPollInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		gw.Start(ctx)
		w.mu.Lock()
		w.app = app
		w.mu.Unlock()
		front.set(gw)
		stop = func() {
			cancel()
			gw.Wait()
		}
	}
	start()
	w.restart = func() {
		stop()
		start()
	}
	if listener != nil {
		w.srv = &httptest.Server{Listener: listener, Config: &http.Server{Handler: &front}}
		w.srv.Start()
	} else {
		w.srv = httptest.NewServer(&front)
	}
	t.Cleanup(func() {
		w.srv.Close()
		stop()
	})
	ctx := context.Background()
	for _, p := range []string{"ptn-1", "ptn-2"} {
		if err := w.app.EnsurePartner(ctx, p, p, p+"-client", partnerSecret); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// exchange is one request and the status expected of it.
type exchange struct {
	method, route string // the route key's parts, e.g. "GET", "/v1/organizations/{org_id}"
	path, query   string // path defaults to route
	header        map[string]string
	body          string
	status        int
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// errCode is error.code of the /v1 shape, or error of the OAuth shape.
func (a answer) errCode(t *testing.T) string {
	t.Helper()
	m := a.json(t)
	if e, ok := m["error"].(map[string]any); ok {
		return fmt.Sprint(e["code"])
	}
	return fmt.Sprint(m["error"])
}

func (a answer) errParam(t *testing.T) string {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	return fmt.Sprint(e["param"])
}

// do sends ex over HTTP, checks the status and validates the answer against
// the OpenAPI document (status, headers, body).
func (w *world) do(ex exchange) answer {
	w.t.Helper()
	return w.doWith(w.srv.Client(), ex)
}

// doWith is do through client (another source address, for one).
func (w *world) doWith(client *http.Client, ex exchange) answer {
	t := w.t
	t.Helper()
	if ex.path == "" {
		ex.path = ex.route
	}
	u := w.srv.URL + ex.path
	if ex.query != "" {
		u += "?" + ex.query
	}
	req, err := http.NewRequest(ex.method, u, strings.NewReader(ex.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ex.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", ex.method, ex.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: body}
	if ex.status != -1 && a.status != ex.status {
		t.Errorf("%s %s?%s: status %d, want %d; body %s", ex.method, ex.path, ex.query, a.status, ex.status, a.body)
	}
	if err := w.validator.ValidateResponse(ex.method, ex.path, ex.query, req.Header, a.status, a.header, a.body); err != nil {
		t.Errorf("%s %s?%s: response does not match the OpenAPI document: %v", ex.method, ex.path, ex.query, err)
	}
	if a.header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", ex.method, ex.path)
	}
	if problem := wireFormProblem(ex.path, a.body); problem != "" {
		t.Errorf("%s %s: %s", ex.method, ex.path, problem)
	}
	w.mu.Lock()
	w.seen[ex.method+" "+ex.route] = true
	w.mu.Unlock()
	return a
}

// wireFormProblem checks, in every JSON answer of the suite, the forms the
// integration guide shows: timestamps in whole seconds of UTC
// ("2024-02-01T10:30:15Z"; seed 003's payment orders keep that document's
// milliseconds, always ".000Z", in their answers, events and audit
// entries), and one spelling of the status "cancelled". The OpenAPI
// document is not checked: its examples quote the guides.
func wireFormProblem(path string, body []byte) string {
	var v any
	if strings.HasPrefix(path, "/api-docs") || json.Unmarshal(body, &v) != nil {
		return ""
	}
	const seed003 = true // ".000Z" is seed 003's form; RFC3339Nano never writes it
	var problem string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			if x == "canceled" {
				problem = fmt.Sprintf("%s is %q, spelled cancelled everywhere else", key, x)
			}
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil || len(x) < 20 {
				return
			}
			frac := strings.Contains(x, ".")
			switch {
			case !strings.HasSuffix(x, "Z"):
				problem = fmt.Sprintf("%s = %s is not in UTC", key, x)
			case seed003 && frac && !strings.HasSuffix(x, ".000Z"):
				problem = fmt.Sprintf("%s = %s has a fraction of a second", key, x)
			case !seed003 && frac:
				problem = fmt.Sprintf("%s = %s has a fraction of a second", key, x)
			}
		}
	}
	walk("", v)
	return problem
}

func bearer(token string, kv ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

const jsonCT = "application/json"

// seedOrganization is the integration guide's quickstart body, verbatim.
const seedOrganization = `{
    "type": "public_entity",
    "name": "Mairie de Lyon",
    "siret": "21690123400019",
    "vat_number": "FR21216901234",
    "address": {
      "line1": "1 Place de la Comédie",
      "postal_code": "69001",
      "city": "Lyon",
      "country": "FR"
    }
  }`

func orgBody(name string) string {
	return `{"type":"company","name":"` + name + `","siret":"73282932000074","address":{"line1":"1 rue A","postal_code":"75001","city":"Paris","country":"FR"}}`
}

func tokenBody(id, secret, scope string) string {
	b, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": scope})
	return string(b)
}

func (w *world) token(id, secret string) string {
	w.t.Helper()
	a := w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT}, body: tokenBody(id, secret, ""), status: 200})
	tok, _ := a.json(w.t)["access_token"].(string)
	return tok
}

func (w *world) createOrg(token, body string) string {
	w.t.Helper()
	a := w.do(exchange{method: "POST", route: "/v1/organizations", header: bearer(token), body: body, status: 201})
	id, _ := a.json(w.t)["id"].(string)
	return id
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func jsonBytes(v any) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.Bytes()
}
