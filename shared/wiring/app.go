package wiring

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/aiiapoll"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/eventrouter"
	"github.com/modupay/modupay/shared/handlers/checkout"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/netguard"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/queue"
	"github.com/modupay/modupay/shared/ratelimit"
	"github.com/modupay/modupay/shared/scheduler"
	"github.com/modupay/modupay/shared/validation"
	"github.com/modupay/modupay/shared/webhook"
)

// Config is everything a function needs from its environment. In AWS it comes
// from the template's Globals (Environment.Variables); locally the runtime sets
// the same variables from the provisioned engines, so both paths read ConfigFromEnv.
type Config struct {
	Stage            string // "sandbox" or "production"
	Region           string
	Table            string
	AuditQueueURL    string
	AiiaPollQueueURL string
	WebhookQueueURL  string
	Aiia             aiia.Config
	JWTKeys          string // "kid:base64secret[,kid:base64secret...]"
	JWTActiveKid     string
	PublicBaseURL    string
	DynamoDBEndpoint string // empty in AWS; DynamoDB Local's URL locally
	SQSEndpoint      string // empty in AWS; the local SQS endpoint locally
}

// ConfigFromEnv reads the MODUPAY_* variables the template declares.
func ConfigFromEnv() Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "eu-west-3"
	}
	return Config{
		Stage:            os.Getenv("MODUPAY_STAGE"),
		Region:           region,
		Table:            os.Getenv("MODUPAY_TABLE"),
		AuditQueueURL:    os.Getenv("MODUPAY_AUDIT_QUEUE_URL"),
		AiiaPollQueueURL: os.Getenv("MODUPAY_AIIA_POLL_QUEUE_URL"),
		WebhookQueueURL:  os.Getenv("MODUPAY_WEBHOOK_QUEUE_URL"),
		Aiia:             aiia.ConfigFromEnv(),
		JWTKeys:          os.Getenv("MODUPAY_JWT_KEYS"),
		JWTActiveKid:     os.Getenv("MODUPAY_JWT_ACTIVE_KID"),
		PublicBaseURL:    os.Getenv("MODUPAY_PUBLIC_BASE_URL"),
		DynamoDBEndpoint: os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"),
		SQSEndpoint:      os.Getenv("MODUPAY_SQS_ENDPOINT"),
	}
}

func (c Config) validate() error {
	switch {
	case c.Stage != "sandbox" && c.Stage != "production":
		return fmt.Errorf("MODUPAY_STAGE must be sandbox or production, got %q", c.Stage)
	case c.Table == "":
		return fmt.Errorf("MODUPAY_TABLE is required")
	case c.AuditQueueURL == "":
		return fmt.Errorf("MODUPAY_AUDIT_QUEUE_URL is required")
	}
	return nil
}

// TokenTTL is the lifetime of access tokens (seed 000: expires_in 3600).
const TokenTTL = time.Hour

// App holds the dependencies built once per container and the functions made from them.
type App struct {
	cfg           Config
	functions     map[string]Function
	Store         *dynamo.Store
	Credentials   *credential.Service
	Organizations *organization.Service
	Departments   *department.Service
	Invoices      *invoice.Service
	Flow          *payment.Flow
	Log           *slog.Logger
}

// Options lets tests and the local runtime inject time and ids; zero values
// mean the real clock and random time-ordered ids.
type Options struct {
	Now   func() time.Time
	NewID func(prefix string) string
	Log   *slog.Logger
	// DynamoDBAPIOptions are extra SDK middlewares for the DynamoDB client
	// (tests inject faults with them, on the real engine).
	DynamoDBAPIOptions []func(*middleware.Stack) error
	// Webhooks tunes the dispatcher (zero values: the documented defaults).
	Webhooks WebhookOptions
	// RateLimits are the abuse limits; nil means DefaultRateLimits().
	RateLimits *RateLimits
}

// RateLimits are the abuse limits below the stage-wide throttle of
// template.yaml, which stays the last guard. A zero policy means no limit.
type RateLimits struct {
	// API limits authenticated requests per API client, counted in memory
	// per container: a DynamoDB counter would add a write to every request
	// (whose auth costs no DynamoDB call today). The limit a client meets is
	// this quota times the containers serving it; each function has its own.
	API ratelimit.Policy
	// Token limits failed token requests per client_id and per source
	// address, counted in DynamoDB so that every container sees them.
	Token credential.TokenLimits
	// Now is the limits' clock; nil means the wall clock (limits measure
	// real time, whatever clock the business rules are given).
	Now func() time.Time
}

// DefaultRateLimits are the limits in force:
//   - API: 50 requests per second per client per container, half the
//     stage's 100 requests/s, so one client on one container cannot take
//     the whole stage;
//   - token endpoint: 10 failed attempts per client_id and 50 per source
//     address (IPv6: per /64) in 15-minute windows; then 429 until the
//     window ends, for the right secret too.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		API: ratelimit.Policy{Name: "api", Quota: 50, Window: time.Second},
		Token: credential.TokenLimits{
			PerClient: ratelimit.Policy{Name: "token-client", Quota: 10, Window: 15 * time.Minute},
			PerIP:     ratelimit.Policy{Name: "token-ip", Quota: 50, Window: 15 * time.Minute},
		},
	}
}

// WebhookOptions are the dispatcher's timing; tests shorten them so retries
// and timeouts happen in seconds (the defaults are unit-tested).
type WebhookOptions struct {
	Schedule     []time.Duration
	Timeout      time.Duration
	DisableAfter time.Duration
	// Resolver resolves endpoint hosts when subscriptions are saved (nil:
	// the system's resolver).
	Resolver netguard.Resolver
}

// NewID returns "<prefix>-<UUIDv7>": unguessable enough for resource ids (74
// random bits) and time-ordered, so key order is creation order.
func NewID(prefix string) string {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return prefix + "-" + id.String()
}

// Build constructs every dependency once. It makes no network call, so a
// function's init stays fast and cannot fail on a dependency's outage.
func Build(ctx context.Context, cfg Config, opts ...Options) (*App, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("wiring: %w", err)
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = NewID
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	limits := DefaultRateLimits()
	if o.RateLimits != nil {
		limits = *o.RateLimits
	}
	if limits.Now == nil {
		limits.Now = time.Now
	}
	awsCfg, err := AWSConfig(ctx, cfg.Region, cfg.DynamoDBEndpoint != "" || cfg.SQSEndpoint != "")
	if err != nil {
		return nil, fmt.Errorf("wiring: aws config: %w", err)
	}
	db := NewDynamoDB(awsCfg, cfg.DynamoDBEndpoint, o.DynamoDBAPIOptions...)
	sq := sqs.NewFromConfig(awsCfg, func(opt *sqs.Options) {
		if cfg.SQSEndpoint != "" {
			opt.BaseEndpoint = aws.String(cfg.SQSEndpoint)
		}
		opt.APIOptions = append(opt.APIOptions, callcount.APIOption(callcount.SQS))
	})
	keys, err := auth.ParseKeyring(cfg.JWTKeys, cfg.JWTActiveKid)
	if err != nil {
		return nil, fmt.Errorf("wiring: MODUPAY_JWT_KEYS: %w", err)
	}
	issuerName := "modupay-" + cfg.Stage
	const audience = "modupay-api"
	store := dynamo.New(db, cfg.Table, o.Now)
	idFn := func() string { return o.NewID("req") }

	creds := &credential.Service{Store: store, Now: o.Now, NewID: o.NewID, Limits: limits.Token, LimitNow: limits.Now, Log: o.Log,
		Issuer: &auth.Issuer{Keys: keys, Issuer: issuerName, Audience: audience, TTL: TokenTTL, Now: o.Now, NewID: func() string { return o.NewID("tok") }}}
	mode := validation.Mode{Strict: cfg.Stage == "production"}
	// Webhook endpoints: https to public addresses only; the sandbox (and
	// the local stack) also accepts http to loopback, for receivers on the
	// developer's machine.
	policy := netguard.Policy{AllowLoopback: !mode.Strict}
	orgs := &organization.Service{Store: store, Mode: mode, Now: o.Now, NewID: o.NewID}
	depts := &department.Service{Store: store, Mode: mode, Now: o.Now, NewID: o.NewID}
	invs := &invoice.Service{Store: store, Now: o.Now, NewID: o.NewID}
	// An empty public base URL makes payment page URLs follow the origin the
	// API was called on (the API's own URL in AWS, the gateway locally).
	pageBase := cfg.PublicBaseURL
	sealer, err := pageTokens(cfg)
	if err != nil {
		return nil, fmt.Errorf("wiring: page tokens: %w", err)
	}
	pays := &payment.Service{Store: store, Mode: mode, PageBaseURL: pageBase, Tokens: sealer, Now: o.Now, NewID: o.NewID}

	apiOpts := httpapi.Options{
		Verifier:    &auth.Verifier{Keys: keys, Issuer: issuerName, Audience: audience, Now: o.Now, Leeway: 30 * time.Second},
		Revocations: dynamo.NewRevocationCache(store),
		Idempotency: store,
		Logger:      o.Log,
		Now:         o.Now,
		NewID:       idFn,
		ClientLimit: limits.API,
		LimitNow:    limits.Now,
	}
	app := &App{cfg: cfg, functions: map[string]Function{}, Store: store, Credentials: creds, Organizations: orgs,
		Departments: depts, Invoices: invs, Log: o.Log}
	if err := app.addHTTP("AuthFunction", apiOpts, (&tokens.Handlers{Credentials: creds}).Routes()...); err != nil {
		return nil, err
	}
	if err := app.addHTTP("OrganizationsFunction", apiOpts, (&organizations.Handlers{Organizations: orgs, Departments: depts,
		Branding: &branding.Service{Store: store, Now: o.Now, NewID: o.NewID}}).Routes()...); err != nil {
		return nil, err
	}
	if err := app.addHTTP("InvoicesFunction", apiOpts, (&invoices.Handlers{Invoices: invs}).Routes()...); err != nil {
		return nil, err
	}
	if err := app.addHTTP("PaymentsFunction", apiOpts, (&payments.Handlers{Payments: pays}).Routes()...); err != nil {
		return nil, err
	}
	if err := app.addHTTP("DocsFunction", apiOpts, docsRoutes()...); err != nil {
		return nil, err
	}
	sched := &scheduler.Scheduler{Log: o.Log, Jobs: []scheduler.Job{
		{Name: "mark_overdue_invoices", Run: invs.MarkOverdue},
		{Name: "expire_payment_links", Run: pays.ExpireLinks},
	}}
	app.functions["SchedulerFunction"] = Function{LogicalID: "SchedulerFunction", Schedule: sched.Handle}
	pollQueue := queue.Publisher{Client: sq, URL: cfg.AiiaPollQueueURL}
	router := &eventrouter.Router{Audit: queue.Publisher{Client: sq, URL: cfg.AuditQueueURL}, Poll: pollQueue, Log: o.Log}
	flow := &payment.Flow{Store: store, Bank: aiiabank.Bank{Provider: aiia.New(cfg.Aiia, nil, o.Now)}, Tokens: sealer, Now: o.Now, NewID: o.NewID}
	if !mode.Strict {
		// No card processor is configured for production; the sandbox simulates
		// one with documented test cards.
		flow.Cards = payment.SandboxCards{NewID: o.NewID}
	}
	app.Flow = flow
	poller := &aiiapoll.Poller{Poll: flow.Poll, Onboard: flow.Onboard, Park: store.Park, Now: o.Now, Log: o.Log,
		Requeue: func(ctx context.Context, m aiiapoll.Message, delay time.Duration) error {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return pollQueue.SendDelayed(ctx, string(b), delay)
		}}
	app.functions["AiiaPollerFunction"] = Function{LogicalID: "AiiaPollerFunction", SQS: poller.Handle}
	csrfKey := sha256.Sum256([]byte("modupay-checkout-csrf\x00" + cfg.JWTKeys))
	if err := app.addHTTP("CheckoutFunction", apiOpts, (&checkout.Handlers{Flow: flow, CSRFKey: csrfKey[:], BaseURL: pageBase, Sandbox: !mode.Strict, Now: o.Now}).Routes()...); err != nil {
		return nil, err
	}
	hooks := &webhook.Service{Store: store, Now: o.Now, NewID: o.NewID, CheckURL: func(ctx context.Context, raw string) error {
		_, err := policy.CheckURL(ctx, o.Webhooks.Resolver, raw)
		return err
	}}
	if err := app.addHTTP("WebhooksFunction", apiOpts, (&webhooks.Handlers{Webhooks: hooks}).Routes()...); err != nil {
		return nil, err
	}
	hookQueue := queue.Publisher{Client: sq, URL: cfg.WebhookQueueURL}
	timeout := o.Webhooks.Timeout
	if timeout == 0 {
		timeout = webhook.DefaultTimeout
	}
	dispatcher := &webhook.Dispatcher{Store: store, Client: policy.Client(timeout), Now: o.Now, NewID: o.NewID, Log: o.Log,
		Schedule: o.Webhooks.Schedule, Timeout: timeout, DisableAfter: o.Webhooks.DisableAfter,
		Requeue: func(ctx context.Context, m webhook.Message, delay time.Duration) error {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return hookQueue.SendDelayed(ctx, string(b), delay)
		}}
	app.functions["WebhookDispatcherFunction"] = Function{LogicalID: "WebhookDispatcherFunction", SQS: dispatcher.Handle}
	router.Webhooks, router.Subscriptions = hookQueue, store.ListSubscriptions
	app.functions["EventRouterFunction"] = Function{LogicalID: "EventRouterFunction", Stream: router.Handle}
	writer := &audit.Writer{Store: store, Log: o.Log}
	app.functions["AuditWriterFunction"] = Function{LogicalID: "AuditWriterFunction", SQS: writer.Handle}
	return app, nil
}

// AWSConfig loads the SDK configuration. For local engines (local true) a
// fixed key is used: they accept any, and it keeps the SDK from looking for
// real credentials (profile files, instance metadata) on a developer's machine.
func AWSConfig(ctx context.Context, region string, local bool) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if local {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}

// pageTokens derives the payment pages' token keys from the signing key ring
// (one per kid, the active one sealing): rotating the signing keys keeps old
// pages readable while their kid stays in the ring, and after that their
// tokens are still found through their lookup item.
func pageTokens(cfg Config) (*pagetoken.Sealer, error) {
	secrets := map[string][]byte{}
	for _, part := range strings.Split(cfg.JWTKeys, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			if secret, err = base64.RawURLEncoding.DecodeString(b64); err != nil {
				continue // ParseKeyring already refused a bad key ring
			}
		}
		secrets[kid] = secret
	}
	return pagetoken.New(secrets, cfg.JWTActiveKid)
}

// NewDynamoDB builds the DynamoDB client every function and tool uses: calls
// counted per request, and pointed at DynamoDB Local when endpoint is set.
func NewDynamoDB(awsCfg aws.Config, endpoint string, apiOptions ...func(*middleware.Stack) error) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsCfg, func(opt *dynamodb.Options) {
		if endpoint != "" {
			opt.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local's CRC32 response header does not match what recent SDKs
			// expect; only the local endpoint skips that validation.
			opt.DisableValidateResponseChecksum = true
		}
		opt.APIOptions = append(opt.APIOptions, callcount.APIOption(callcount.DynamoDB))
		opt.APIOptions = append(opt.APIOptions, apiOptions...)
	})
}

func (a *App) addHTTP(logicalID string, opts httpapi.Options, routes ...httpapi.Route) error {
	api, err := httpapi.New(opts, routes...)
	if err != nil {
		return fmt.Errorf("wiring: %s: %w", logicalID, err)
	}
	a.functions[logicalID] = Function{LogicalID: logicalID, HTTP: api.Handle, Routes: api.RouteKeys()}
	return nil
}

// Function returns the function with the template logical id, if it exists.
func (a *App) Function(logicalID string) (Function, bool) {
	f, ok := a.functions[logicalID]
	return f, ok
}

// Functions lists every function the app serves.
func (a *App) Functions() []Function {
	out := make([]Function, 0, len(a.functions))
	for _, f := range a.functions {
		out = append(out, f)
	}
	return out
}

// EnsurePartner creates (or updates the secret of) a partner and its partner-scoped
// API client. Used by the operator command and to seed the local sandbox partner.
func (a *App) EnsurePartner(ctx context.Context, partnerID, name, clientID, clientSecret string) error {
	return a.Credentials.EnsurePartner(ctx, partnerID, name, clientID, clientSecret)
}

// MustFunction is for mains: it builds the app from the environment and
// returns the handler of one function, or exits with the reason (at init,
// before any event, which is where a misconfiguration should stop a container).
func MustFunction(logicalID string) any {
	ctx := context.Background()
	app, err := Build(ctx, ConfigFromEnv())
	if err != nil {
		slog.Error("init failed", slog.String("function", logicalID), slog.String("error", err.Error()))
		os.Exit(1)
	}
	f, ok := app.Function(logicalID)
	if !ok {
		slog.Error("init failed: unknown function", slog.String("function", logicalID))
		os.Exit(1)
	}
	return f.Handler()
}
