// Package wiring composes every function of template.yaml in one process,
// for the local runtime (infra/local, infra/gateway), the bench and the
// end-to-end tests. Deployed, each function's main composes only its own
// family (lambdaenv.Start with the family's Wire); no main imports this
// package, which links every family.
package wiring

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/aiiapoll"
	"github.com/modupay/modupay/shared/audit/auditwriter"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/eventrouter"
	auditapi "github.com/modupay/modupay/shared/handlers/audit"
	"github.com/modupay/modupay/shared/handlers/checkout"
	"github.com/modupay/modupay/shared/handlers/dashboard"
	"github.com/modupay/modupay/shared/handlers/docs"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/paymentorders"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/sandboxbank"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/scheduler"
	"github.com/modupay/modupay/shared/webhook/webhookdispatch"
)

// The configuration, options and function types are lambdaenv's: the local
// runtime reads the same environment a deployed function does.
type (
	Config          = lambdaenv.Config
	Options         = lambdaenv.Options
	RateLimits      = lambdaenv.RateLimits
	WebhookOptions  = lambdaenv.WebhookOptions
	Secret          = lambdaenv.Secret
	Function        = lambdaenv.Function
	HTTPHandler     = lambdaenv.HTTPHandler
	SQSHandler      = lambdaenv.SQSHandler
	StreamHandler   = lambdaenv.StreamHandler
	ScheduleHandler = lambdaenv.ScheduleHandler
	SecretGetter    = secrets.Getter
)

const (
	SecretJWTKeys    = lambdaenv.SecretJWTKeys
	SecretPageKeys   = lambdaenv.SecretPageKeys
	SecretCSRFKey    = lambdaenv.SecretCSRFKey
	SecretAiiaClient = lambdaenv.SecretAiiaClient
	SecretAiiaKey    = lambdaenv.SecretAiiaKey

	SecretDashboardKeys = lambdaenv.SecretDashboardKeys

	TokenTTL           = lambdaenv.TokenTTL
	SecretFetchTimeout = secrets.FetchTimeout
)

var (
	Secrets         = lambdaenv.Secrets
	FunctionSecrets = lambdaenv.FunctionSecrets
	makesPageURLs   = lambdaenv.MakesPageURLs
	notSet          = lambdaenv.NotSet
)

// Families is every function of template.yaml by logical id, with the
// constructor its main hands to lambdaenv.Start.
var Families = map[string]lambdaenv.Wire{
	"AuthFunction":              tokens.Wire,
	"OrganizationsFunction":     organizations.Wire,
	"InvoicesFunction":          invoices.Wire,
	"PaymentsFunction":          payments.Wire,
	"WebhooksFunction":          webhooks.Wire,
	"CheckoutFunction":          checkout.Wire,
	"DocsFunction":              docs.Wire,
	"AiiaPollerFunction":        aiiapoll.Wire,
	"WebhookDispatcherFunction": webhookdispatch.Wire,
	"EventRouterFunction":       eventrouter.Wire,
	"AuditWriterFunction":       auditwriter.Wire,
	"SchedulerFunction":         scheduler.Wire,
	"AuditFunction":             auditapi.Wire,
	"PaymentOrdersFunction":     paymentorders.Wire,
	"SandboxBankFunction":       sandboxbank.Wire,
	"DashboardFunction":         dashboard.Wire,
}

// ConfigFromEnv reads the MODUPAY_* variables the template declares.
func ConfigFromEnv() Config { return lambdaenv.ConfigFromEnv() }

// DefaultRateLimits are the limits in force (lambdaenv.DefaultRateLimits).
func DefaultRateLimits() RateLimits { return lambdaenv.DefaultRateLimits() }

// NewID returns "<prefix>-<UUIDv7>" (lambdaenv.NewID).
func NewID(prefix string) string { return lambdaenv.NewID(prefix) }

// ResolveSecrets fills the configuration's secrets from Secrets Manager (secrets.Resolve).
func ResolveSecrets(ctx context.Context, cfg Config, sm SecretGetter) (Config, error) {
	return secrets.Resolve(ctx, cfg, sm)
}

// NewSecretsManager builds the Secrets Manager client (secrets.NewSecretsManager).
func NewSecretsManager(awsCfg aws.Config, endpoint string) *secretsmanager.Client {
	return secrets.NewSecretsManager(awsCfg, endpoint)
}

// NewDynamoDB builds the DynamoDB client every function and tool uses (table.NewDynamoDB).
func NewDynamoDB(awsCfg aws.Config, endpoint string, apiOptions ...func(*middleware.Stack) error) *dynamodb.Client {
	return table.NewDynamoDB(awsCfg, endpoint, apiOptions...)
}

// App holds every function built in one process, and the services the
// local tools and tests reach directly.
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

// Build constructs every function from a configuration whose secrets are
// resolved, each through its family's Wire, all on one lambdaenv.Env: the
// store, the API edge and the services are shared, as in one container. It
// makes no network call.
func Build(ctx context.Context, cfg Config, opts ...Options) (*App, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.AWS == nil {
		var err error
		awsCfg, err := AWSConfig(ctx, cfg.Region, cfg.LocalEngines())
		if err != nil {
			return nil, fmt.Errorf("wiring: aws config: %w", err)
		}
		o.AWS = &awsCfg
	}
	env, err := lambdaenv.New(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("wiring: %w", err)
	}
	app := &App{cfg: cfg, functions: map[string]Function{}, unavailable: map[string]error{}, csrfKey: env.CSRFKey(),
		Store: table.Store(env), Credentials: tokens.Credentials(env), Organizations: organizations.Organizations(env),
		Departments: organizations.Departments(env), Invoices: invoices.Service(env), Flow: aiiabank.Flow(env), Log: env.Log}
	for id, wire := range Families {
		if err := env.Require(id); err != nil {
			app.unavailable[id] = err
			continue
		}
		f, err := wire(env)
		if err != nil {
			return nil, fmt.Errorf("wiring: %s: %w", id, err)
		}
		f.LogicalID = id
		app.functions[id] = f
	}
	return app, nil
}

// webhookPolicy is the stage's endpoint policy (Config.WebhookPolicy).
var webhookPolicy = Config.WebhookPolicy

// AWSConfig loads the SDK configuration the way tools on a developer's
// machine need it (profiles, SSO...). For local engines (local true) a
// fixed key is used: they accept any, and it keeps the SDK from looking for
// real credentials on a developer's machine. Functions fill theirs from
// Lambda's environment instead (lambdaenv.AWSConfigFromEnv).
func AWSConfig(ctx context.Context, region string, local bool) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if local {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}

// Load builds the app from the environment as a deployed function does:
// ConfigFromEnv, its secrets resolved from Secrets Manager with a client
// made from the same aws.Config as the other clients, then Build.
func Load(ctx context.Context, opts ...Options) (*App, error) {
	cfg := ConfigFromEnv()
	awsCfg := lambdaenv.AWSConfigFromEnv(cfg.Region, cfg.LocalEngines())
	cfg, err := secrets.FromSecretsManager(ctx, cfg, &awsCfg)
	if err != nil {
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
	if err := a.unavailable[logicalID]; err != nil {
		return Function{}, fmt.Errorf("wiring: %s: %w", logicalID, err)
	}
	f, ok := a.functions[logicalID]
	if !ok {
		return Function{}, fmt.Errorf("wiring: unknown function %s", logicalID)
	}
	return f, nil
}

// Functions lists every function the app serves (those with their secrets).
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
