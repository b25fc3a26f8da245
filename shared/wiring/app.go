package wiring

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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
// from the template's Globals and the function's own Environment (each
// function gets the Secrets Manager ids of only the secrets it uses, and
// ResolveSecrets fetches their values at init); locally the runtime sets
// every variable, secret values included, from the provisioned engines, so
// both paths read ConfigFromEnv.
//
// Secrets are independent: the token signing ring (JWTKeys), the payment page
// token ring (PageKeys) and the checkout form key (CSRFKey) are distinct
// values, so rotating one changes nothing signed or sealed by the others.
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
	PageKeys         string // payment page token keys, same form as JWTKeys
	PageActiveKid    string
	CSRFKey          string // base64, at least 32 bytes: signs the checkout form
	PublicBaseURL    string
	DynamoDBEndpoint string // empty in AWS; DynamoDB Local's URL locally
	SQSEndpoint      string // empty in AWS; the local SQS endpoint locally
	// SecretIDs name the Secrets Manager secrets holding the secrets whose
	// value is not set (MODUPAY_<NAME>_SECRET_ID); see ResolveSecrets.
	SecretIDs map[Secret]string
	// SecretsManagerEndpoint is empty in AWS; a local Secrets Manager
	// (moto) for `sam local` and the tests.
	SecretsManagerEndpoint string
	// Local is set (MODUPAY_LOCAL=1) only by the local runtime and the tests,
	// never by the template: only there may page URLs follow the origin the
	// API was called on, and webhook endpoints be on loopback.
	Local bool
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
		PageKeys:         os.Getenv("MODUPAY_PAGE_KEYS"),
		PageActiveKid:    os.Getenv("MODUPAY_PAGE_ACTIVE_KID"),
		CSRFKey:          os.Getenv("MODUPAY_CSRF_KEY"),
		PublicBaseURL:    os.Getenv("MODUPAY_PUBLIC_BASE_URL"),
		DynamoDBEndpoint: os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"),
		SQSEndpoint:      os.Getenv("MODUPAY_SQS_ENDPOINT"),
		SecretIDs:        secretIDsFromEnv(),
		Local:            os.Getenv("MODUPAY_LOCAL") == "1",

		SecretsManagerEndpoint: os.Getenv("MODUPAY_SECRETSMANAGER_ENDPOINT"),
	}
}

// localEngines tells whether the configuration points at local engines,
// which take a fixed key (see AWSConfig).
func (c Config) localEngines() bool {
	return c.DynamoDBEndpoint != "" || c.SQSEndpoint != "" || c.SecretsManagerEndpoint != ""
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
	cfg       Config
	functions map[string]Function
	// unavailable are the functions a missing secret or setting keeps from
	// running, with the reason: a function's environment holds only its own
	// secrets, so the others are absent and must not stop it.
	unavailable   map[string]error
	csrfKey       []byte // the checkout form's key (kept for tests)
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
	// AWS is the SDK configuration the clients are built from; nil means
	// AWSConfig's (MustFunction passes the one it fetched the secrets with,
	// so a container loads it once).
	AWS *aws.Config
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

// Build constructs every dependency once from a configuration whose secrets
// are resolved (ResolveSecrets). It makes no network call, so apart from
// fetching the secrets a function's init stays fast and cannot fail on a
// dependency's outage.
func Build(ctx context.Context, cfg Config, opts ...Options) (*App, error) {
	var err error
	if err = cfg.validate(); err != nil {
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
	var awsCfg aws.Config
	if o.AWS != nil {
		awsCfg = *o.AWS
	} else if awsCfg, err = AWSConfig(ctx, cfg.Region, cfg.localEngines()); err != nil {
		return nil, fmt.Errorf("wiring: aws config: %w", err)
	}
	db := NewDynamoDB(awsCfg, cfg.DynamoDBEndpoint, o.DynamoDBAPIOptions...)
	sq := sqs.NewFromConfig(awsCfg, func(opt *sqs.Options) {
		if cfg.SQSEndpoint != "" {
			opt.BaseEndpoint = aws.String(cfg.SQSEndpoint)
		}
		opt.APIOptions = append(opt.APIOptions, callcount.APIOption(callcount.SQS))
	})
	// A secret that is set must be valid, whoever holds it; one that is
	// absent only makes the functions that need it unavailable.
	var missing requirements
	var keys *auth.Keyring
	if cfg.JWTKeys == "" {
		missing.jwt = notSet(SecretJWTKeys)
	} else if keys, err = auth.ParseKeyring(cfg.JWTKeys, cfg.JWTActiveKid); err != nil {
		return nil, fmt.Errorf("wiring: MODUPAY_JWT_KEYS: %w", err)
	}
	var sealer *pagetoken.Sealer
	if cfg.PageKeys == "" {
		missing.page = notSet(SecretPageKeys)
	} else if sealer, err = pageTokens(cfg.PageKeys, cfg.PageActiveKid); err != nil {
		return nil, fmt.Errorf("wiring: MODUPAY_PAGE_KEYS: %w", err)
	}
	var csrfKey []byte
	if cfg.CSRFKey == "" {
		missing.csrf = notSet(SecretCSRFKey)
	} else if csrfKey, err = decodeSecret(cfg.CSRFKey); err != nil {
		return nil, fmt.Errorf("wiring: MODUPAY_CSRF_KEY: %w", err)
	}
	if cfg.PublicBaseURL == "" && !cfg.Local {
		missing.baseURL = errors.New("MODUPAY_PUBLIC_BASE_URL is not set: deployed, payment page URLs never follow the request's Host")
	} else if cfg.PublicBaseURL != "" {
		if u, perr := url.Parse(cfg.PublicBaseURL); perr != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("wiring: MODUPAY_PUBLIC_BASE_URL must be an absolute URL, got %q", cfg.PublicBaseURL)
		}
	}
	issuerName := "modupay-" + cfg.Stage
	const audience = "modupay-api"
	store := dynamo.New(db, cfg.Table, o.Now)
	idFn := func() string { return o.NewID("req") }

	creds := &credential.Service{Store: store, Now: o.Now, NewID: o.NewID, Limits: limits.Token, LimitNow: limits.Now, Log: o.Log,
		Issuer: &auth.Issuer{Keys: keys, Issuer: issuerName, Audience: audience, TTL: TokenTTL, Now: o.Now, NewID: func() string { return o.NewID("tok") }}}
	mode := validation.Mode{Strict: cfg.Stage == "production"}
	policy := webhookPolicy(cfg)
	orgs := &organization.Service{Store: store, Mode: mode, Now: o.Now, NewID: o.NewID}
	depts := &department.Service{Store: store, Mode: mode, Now: o.Now, NewID: o.NewID}
	invs := &invoice.Service{Store: store, Now: o.Now, NewID: o.NewID}
	// Locally an empty public base URL makes payment page URLs follow the
	// origin the gateway was called on; deployed, it is required (above).
	pageBase := cfg.PublicBaseURL
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
	app := &App{cfg: cfg, functions: map[string]Function{}, unavailable: map[string]error{}, csrfKey: csrfKey, Store: store, Credentials: creds, Organizations: orgs,
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
	if err := app.addHTTP("CheckoutFunction", apiOpts, (&checkout.Handlers{Flow: flow, CSRFKey: csrfKey, BaseURL: pageBase, Sandbox: !mode.Strict, Now: o.Now}).Routes()...); err != nil {
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
	for id, needs := range FunctionSecrets {
		if err := missing.check(needs, makesPageURLs[id]); err != nil {
			app.unavailable[id] = err
		}
	}
	return app, nil
}

// Secret is a secret of the environment, named by its variable.
type Secret string

const (
	SecretJWTKeys    Secret = "MODUPAY_JWT_KEYS"
	SecretPageKeys   Secret = "MODUPAY_PAGE_KEYS"
	SecretCSRFKey    Secret = "MODUPAY_CSRF_KEY"
	SecretAiiaClient Secret = "MODUPAY_AIIA_CLIENT_SECRET"
)

// Secrets lists every secret variable.
var Secrets = []Secret{SecretJWTKeys, SecretPageKeys, SecretCSRFKey, SecretAiiaClient}

// makesPageURLs are the functions that write payment page URLs (the link's
// payment_page_url, the bank's return URL): deployed, they need
// MODUPAY_PUBLIC_BASE_URL.
var makesPageURLs = map[string]bool{"PaymentsFunction": true, "CheckoutFunction": true}

// FunctionSecrets is what each function of template.yaml uses, and so the
// only secrets its environment holds: the functions that verify or issue
// tokens hold the JWT keys, those that seal or open payment page tokens the
// page keys, the checkout form the CSRF key, those that call Aiia its client
// secret. The docs, the event router, the audit writer, the scheduler and
// the webhook dispatcher (it signs with each subscription's own secret) hold
// none. The template test holds template.yaml to this table.
var FunctionSecrets = map[string][]Secret{
	"AuthFunction":              {SecretJWTKeys},
	"OrganizationsFunction":     {SecretJWTKeys},
	"InvoicesFunction":          {SecretJWTKeys},
	"PaymentsFunction":          {SecretJWTKeys, SecretPageKeys},
	"WebhooksFunction":          {SecretJWTKeys},
	"CheckoutFunction":          {SecretPageKeys, SecretCSRFKey, SecretAiiaClient},
	"AiiaPollerFunction":        {SecretAiiaClient},
	"DocsFunction":              nil,
	"SchedulerFunction":         nil,
	"WebhookDispatcherFunction": nil,
	"EventRouterFunction":       nil,
	"AuditWriterFunction":       nil,
}

// notSet says that a secret has neither a value nor a secret id.
func notSet(s Secret) error {
	return fmt.Errorf("%s is not set (deployed: %s, the id of its Secrets Manager secret)", s, s.IDVariable())
}

// requirements holds why each secret is unusable (nil: it is there).
type requirements struct {
	jwt, page, csrf, baseURL error
}

// check says why a function with these needs cannot run. The Aiia secret
// is not checked: a sandbox without an Aiia account runs without it, and
// Aiia's answer says what is wrong.
func (r requirements) check(needs []Secret, pageURLs bool) error {
	var errs []error
	for _, n := range needs {
		switch n {
		case SecretJWTKeys:
			errs = append(errs, r.jwt)
		case SecretPageKeys:
			errs = append(errs, r.page)
		case SecretCSRFKey:
			errs = append(errs, r.csrf)
		}
	}
	if pageURLs {
		errs = append(errs, r.baseURL)
	}
	return errors.Join(errs...)
}

// decodeSecret decodes a base64 secret of at least 32 bytes.
func decodeSecret(b64 string) ([]byte, error) {
	b64 = strings.TrimSpace(b64)
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if b, err = base64.RawURLEncoding.DecodeString(b64); err != nil {
			return nil, errors.New("not valid base64")
		}
	}
	if len(b) < auth.MinKeyBytes {
		return nil, fmt.Errorf("decodes to %d bytes, need at least %d", len(b), auth.MinKeyBytes)
	}
	return b, nil
}

// webhookPolicy is where webhook endpoints may be: https to public
// addresses only; the local runtime in the sandbox stage also accepts http
// to loopback, for receivers on the developer's machine. A deployed sandbox
// does not: loopback there is the function's own host, not the partner's.
func webhookPolicy(cfg Config) netguard.Policy {
	return netguard.Policy{AllowLoopback: cfg.Local && cfg.Stage == "sandbox"}
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

// pageTokens builds the payment pages' sealer from their own key ring (one
// key per kid, the active one sealing), in the form and with the rules of
// the JWT ring but independent of it: rotating the page keys keeps old pages
// readable while their kid stays in the ring, and after that their tokens
// are still found through their lookup item.
func pageTokens(spec, active string) (*pagetoken.Sealer, error) {
	if _, err := auth.ParseKeyring(spec, active); err != nil {
		return nil, err
	}
	secrets := map[string][]byte{}
	for _, part := range strings.Split(spec, ",") {
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
	return pagetoken.New(secrets, strings.TrimSpace(active))
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

// Load builds the app from the environment as a deployed function does:
// ConfigFromEnv, its secrets resolved (ResolveSecrets) with a Secrets Manager
// client made from the same aws.Config as the other clients, then Build.
func Load(ctx context.Context, opts ...Options) (*App, error) {
	cfg := ConfigFromEnv()
	awsCfg, err := AWSConfig(ctx, cfg.Region, cfg.localEngines())
	if err != nil {
		return nil, fmt.Errorf("wiring: aws config: %w", err)
	}
	if cfg, err = ResolveSecrets(ctx, cfg, NewSecretsManager(awsCfg, cfg.SecretsManagerEndpoint)); err != nil {
		return nil, err
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.AWS = &awsCfg
	return Build(ctx, cfg, o)
}

// Function returns the function with the template logical id, if it exists
// and has every secret it needs (Require says why not).
func (a *App) Function(logicalID string) (Function, bool) {
	f, err := a.Require(logicalID)
	return f, err == nil
}

// Require returns the function with the template logical id, or why it
// cannot run: unknown, or a secret or setting it needs is missing.
func (a *App) Require(logicalID string) (Function, error) {
	f, ok := a.functions[logicalID]
	if !ok {
		return Function{}, fmt.Errorf("wiring: unknown function %s", logicalID)
	}
	if err := a.unavailable[logicalID]; err != nil {
		return Function{}, fmt.Errorf("wiring: %s: %w", logicalID, err)
	}
	return f, nil
}

// Functions lists every function the app serves (those with their secrets).
func (a *App) Functions() []Function {
	out := make([]Function, 0, len(a.functions))
	for id, f := range a.functions {
		if a.unavailable[id] == nil {
			out = append(out, f)
		}
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
// Deployed, init fetches the function's secrets from Secrets Manager: one
// concurrent round of GetSecretValue calls, one per secret it holds.
func MustFunction(logicalID string) any {
	app, err := Load(context.Background())
	if err != nil {
		slog.Error("init failed", slog.String("function", logicalID), slog.String("error", err.Error()))
		os.Exit(1)
	}
	f, err := app.Require(logicalID)
	if err != nil {
		slog.Error("init failed", slog.String("function", logicalID), slog.String("error", err.Error()))
		os.Exit(1)
	}
	return f.Handler()
}
