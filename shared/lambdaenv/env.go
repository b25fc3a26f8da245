package lambdaenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/netguard"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/ratelimit"
)

// Options lets tests and the local runtime inject time and ids; zero values
// mean the real clock and random time-ordered ids.
type Options struct {
	Now   func() time.Time
	NewID func(prefix string) string
	Log   *slog.Logger
	// DynamoDBAPIOptions are extra SDK middlewares for the DynamoDB client
	// (tests inject faults with them, on the real engine).
	DynamoDBAPIOptions []func(*middleware.Stack) error
	// SQSAPIOptions are the same for the SQS client the functions send with.
	SQSAPIOptions []func(*middleware.Stack) error
	// Webhooks tunes the dispatcher (zero values: the documented defaults).
	Webhooks WebhookOptions
	// RateLimits are the abuse limits; nil means DefaultRateLimits().
	RateLimits *RateLimits
	// AWS is the SDK configuration the clients are built from; nil means
	// AWSConfigFromEnv's (Start passes the one it fetched the secrets with,
	// so a container fills it once).
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

// Env is one container's environment: the checked configuration, its parsed
// secrets, the SDK configuration, the clock, ids, logger and limits, and
// what the family constructors have built from them (see Shared).
type Env struct {
	Config   Config
	Now      func() time.Time
	NewID    func(prefix string) string
	Log      *slog.Logger
	Limits   RateLimits
	Webhooks WebhookOptions
	// AWS is the SDK configuration every client of the container is built from.
	AWS aws.Config
	// DynamoDBAPIOptions are extra middlewares for the DynamoDB client.
	DynamoDBAPIOptions []func(*middleware.Stack) error
	// SQSAPIOptions are extra middlewares for the SQS client.
	SQSAPIOptions []func(*middleware.Stack) error

	keys keys

	mu     sync.Mutex
	shared map[string]*sharedValue
}

type sharedValue struct {
	once sync.Once
	v    any
}

// New checks cfg, parses every secret it holds and fills the SDK
// configuration. It makes no network call, so apart from fetching the
// secrets a function's init stays fast and cannot fail on a dependency's
// outage.
func New(cfg Config, o Options) (*Env, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	k, err := parseKeys(cfg, log, o.Now)
	if err != nil {
		return nil, err
	}
	e := &Env{Config: cfg, Now: o.Now, NewID: o.NewID, Log: log, Webhooks: o.Webhooks,
		DynamoDBAPIOptions: o.DynamoDBAPIOptions, SQSAPIOptions: o.SQSAPIOptions, keys: k, shared: map[string]*sharedValue{}}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.NewID == nil {
		e.NewID = NewID
	}
	e.Limits = DefaultRateLimits()
	if o.RateLimits != nil {
		e.Limits = *o.RateLimits
	}
	if e.Limits.Now == nil {
		e.Limits.Now = time.Now
	}
	if o.AWS != nil {
		e.AWS = *o.AWS
	} else {
		e.AWS = AWSConfigFromEnv(cfg.Region, cfg.LocalEngines())
	}
	return e, nil
}

// Require says why the function with this logical id cannot run here: a
// secret or setting it needs is missing (nil: it can). A function's
// environment holds only its own secrets, so the others' absence is no
// reason.
func (e *Env) Require(logicalID string) error {
	needs, ok := FunctionSecrets[logicalID]
	if !ok {
		return fmt.Errorf("unknown function %s", logicalID)
	}
	err := e.keys.missing.check(needs, MakesPageURLs[logicalID])
	if logicalID == SandboxBankFunction {
		return errors.Join(err, e.Config.sandboxBankReady())
	}
	if slices.Contains(needs, SecretAiiaKey) {
		err = errors.Join(err, e.Config.aiiaReady())
	}
	if KeepsAuditArchive[logicalID] && e.Config.AuditArchiveBucket == "" && e.Config.AuditArchiveDir == "" {
		err = errors.Join(err, errors.New("MODUPAY_AUDIT_ARCHIVE_BUCKET is not set (deployed: the AuditArchiveBucket; locally MODUPAY_AUDIT_ARCHIVE_DIR, a directory): change entries must outlive the table's backups"))
	}
	if KeepsDocuments[logicalID] && e.Config.DocumentsBucket == "" && e.Config.DocumentsDir == "" {
		err = errors.Join(err, errors.New("MODUPAY_DOCUMENTS_BUCKET is not set (deployed: the DocumentsBucket; locally MODUPAY_DOCUMENTS_DIR, a directory): an issued invoice's documents are kept there"))
	}
	return err
}

// KeepsDocuments are the functions that keep invoices' documents (the
// invoices function, at the issue and the cancellation's credit note; the
// functions that settle refunds — payments' confirm, the poller, the
// dashboard — their credit notes) or serve them (the invoices function,
// the payment page and the dashboard).
var KeepsDocuments = map[string]bool{"InvoicesFunction": true, "CheckoutFunction": true, "DashboardFunction": true,
	"PaymentsFunction": true, "AiiaPollerFunction": true}

// SandboxBankFunction is the sandbox stage's bank (shared/handlers/sandboxbank).
const SandboxBankFunction = "SandboxBankFunction"

// sandboxBankReady says what the sandbox bank lacks: it never runs in
// production, keeps its records in its own table, and accepts only the
// stack's own Aiia client (never the credentials published in the
// repository, on a public URL).
func (c Config) sandboxBankReady() error {
	switch {
	case c.Stage == "production":
		return errors.New("the sandbox bank does not run in production")
	case c.SandboxBankTable == "":
		return errors.New("MODUPAY_SANDBOX_BANK_TABLE is not set (the template's SandboxBankTable)")
	case c.Aiia.ClientID == "" || (c.Aiia.ClientKey == "" && c.Aiia.ClientSecret == ""):
		return errors.New("the sandbox bank accepts the stack's own Aiia client: MODUPAY_AIIA_CLIENT_ID and its key (" +
			SecretAiiaKey.IDVariable() + ") or client secret (" + SecretAiiaClient.IDVariable() +
			") are required (template parameters AiiaClientID, AiiaClientKeySecretId or AiiaClientSecretId)")
	}
	if c.Aiia.ClientKey != "" {
		if _, err := aiia.ParseClientKey(c.Aiia.ClientKey); err != nil {
			return fmt.Errorf("%s: %w", SecretAiiaKey, err)
		}
	}
	return nil
}

// aiiaReady says what a function calling Aiia lacks. A key that is set
// must parse, whoever holds it. A sandbox may run without an Aiia account
// (its payments say so); production must not start without one and fail
// at the first payment, nor with a client secret: the provider
// authenticates clients by private_key_jwt only. Nor with destinations by
// api: the provider has no POST /destinations, its ids come from the
// merchant's onboarding and an operator records them.
func (c Config) aiiaReady() error {
	if c.Aiia.ClientKey != "" {
		if _, err := aiia.ParseClientKey(c.Aiia.ClientKey); err != nil {
			return fmt.Errorf("%s: %w", SecretAiiaKey, err)
		}
	}
	switch d := c.AiiaDestinations; {
	case d != "" && d != DestinationsAPI && d != DestinationsOperator:
		return fmt.Errorf("MODUPAY_AIIA_DESTINATIONS must be %s or %s, got %q", DestinationsAPI, DestinationsOperator, d)
	case c.Mode().Strict && d == DestinationsAPI:
		return errors.New("MODUPAY_AIIA_DESTINATIONS=api is refused in production: the provider has no POST /destinations " +
			"(only the sandbox bank serves it); destination ids come from the merchant's onboarding and are recorded with " +
			"`operator aiia-destination`: set it to operator (the template does for the production stage)")
	}
	if a := c.Aiia; c.Mode().Strict && (a.BaseURL == "" || a.ClientID == "" || a.ClientKey == "") {
		return errors.New("Aiia is not configured for production: MODUPAY_AIIA_BASE_URL, MODUPAY_AIIA_CLIENT_ID and the client's key and certificate (" +
			SecretAiiaKey.IDVariable() + ") are required (template parameters AiiaBaseURL, AiiaClientID, AiiaClientKeySecretId); " +
			"a client secret is no credential there")
	}
	return nil
}

// KeepsAuditArchive are the functions that append to the audit archive.
var KeepsAuditArchive = map[string]bool{"AuditWriterFunction": true}

// JWTKeys is the token signing ring (nil when MODUPAY_JWT_KEYS is absent).
func (e *Env) JWTKeys() *auth.Keyring { return e.keys.jwt }

// PageTokens seals and opens payment page tokens (nil when MODUPAY_PAGE_KEYS is absent).
func (e *Env) PageTokens() *pagetoken.Sealer { return e.keys.page }

// Stamp is the clock of the domain services: the time they record and
// show (created_at, updated_at, completed_at, events, webhook payloads) is
// in whole seconds, UTC, as the integration guide shows it
// ("2024-02-01T10:30:15Z"). Durations and ordering never rely on it: ids
// (UUIDv7) order events, and the edge times requests with Now.
func (e *Env) Stamp() time.Time { return e.Now().UTC().Truncate(time.Second) }

// DashboardKeys signs the dashboard's sessions and forms (nil when
// MODUPAY_DASHBOARD_KEYS is absent).
func (e *Env) DashboardKeys() *auth.Keyring { return e.keys.dashboard }

// CSRFKey signs the checkout form (nil when MODUPAY_CSRF_KEY is absent).
func (e *Env) CSRFKey() []byte { return e.keys.csrf }

// Shared returns the value build makes, built at most once per Env under
// key: the store, the API's edge, a service used by two families. In a
// deployed container that is once per container; in the local runtime, one
// for all the functions, as before they were split.
func Shared[T any](e *Env, key string, build func() T) T {
	e.mu.Lock()
	s, ok := e.shared[key]
	if !ok {
		s = &sharedValue{}
		e.shared[key] = s
	}
	e.mu.Unlock()
	s.once.Do(func() { s.v = build() })
	return s.v.(T)
}

// AWSConfigFromEnv fills the SDK configuration from the variables Lambda
// sets (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN: the execution role's credentials for the container's
// life). It reads no file and asks no endpoint, unlike
// config.LoadDefaultConfig, which costs a Lambda's init about 15 ms more
// (DESIGN.md) for a search Lambda never needs. The clients fill in their
// own defaults (retries, HTTP client). For local engines (local true) a
// fixed key is used: they accept any.
func AWSConfigFromEnv(region string, local bool) aws.Config {
	creds := aws.Credentials{Source: "EnvConfigCredentials",
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
	}
	if local {
		creds = aws.Credentials{Source: "StaticCredentials", AccessKeyID: "local", SecretAccessKey: "local"}
	}
	return aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
				return aws.Credentials{}, fmt.Errorf("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
			}
			return creds, nil
		}),
	}
}
