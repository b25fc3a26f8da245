// Package lambdaenv is what every function's composition root starts from,
// once per container: its configuration read from the environment and
// checked, its secrets, the aws.Config filled from Lambda's environment,
// the clock, ids and logger, and a memo where the family constructors keep
// what they build so that each thing is built once per container (and once
// in the local runtime, which runs every function in one process).
//
// It links no SDK service client: the packages under it that build one
// (secrets, store, queues) are imported only by the functions that call
// that service, so a function's binary and init hold only what it uses.
package lambdaenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/netguard"
	"github.com/modupay/modupay/shared/validation"
)

// Config is everything a function needs from its environment. In AWS it comes
// from the template's Globals and the function's own Environment (each
// function gets the Secrets Manager ids of only the secrets it uses, and
// secrets.Resolve fetches their values at init); locally the runtime sets
// every variable, secret values included, from the provisioned engines, so
// both paths read ConfigFromEnv.
//
// Secrets are independent: the token signing ring (JWTKeys), the payment page
// token ring (PageKeys), the checkout form key (CSRFKey) and the dashboard's
// session ring (DashboardKeys) are distinct values, so rotating one changes
// nothing signed or sealed by the others.
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
	// DashboardKeys sign the partner dashboard's session cookies and its
	// forms' CSRF tokens (same form as JWTKeys, a ring of its own).
	DashboardKeys      string
	DashboardActiveKid string
	PublicBaseURL      string
	DynamoDBEndpoint   string // empty in AWS; DynamoDB Local's URL locally
	SQSEndpoint        string // empty in AWS; the local SQS endpoint locally
	// AuditArchiveBucket is the audit archive's S3 bucket (the template's
	// AuditArchiveBucket); AuditArchiveDir a directory instead, for the
	// local runtime and tests. The audit writer needs one of them.
	AuditArchiveBucket string
	AuditArchiveDir    string
	// DocumentsBucket keeps issued invoices' documents (the template's
	// DocumentsBucket); DocumentsDir a directory instead, locally. The
	// invoices function needs one of them.
	DocumentsBucket string
	DocumentsDir    string
	S3Endpoint      string // empty in AWS; a local S3 (moto) for tests
	// Refresh reads a secret again (set by secrets.Resolve for the secrets
	// it fetched; nil when the values were given, as locally): the key rings
	// are then read again after SecretsTTL, so a rotation needs no deploy.
	Refresh func(ctx context.Context, s Secret) (string, error)
	// SecretsTTL is how long a container keeps a key ring before reading
	// its secret again (MODUPAY_SECRETS_TTL, a Go duration; default 5m).
	SecretsTTL time.Duration
	// SandboxBankTable is the sandbox bank's own table (the template's
	// SandboxBankTable, sandbox stage only).
	SandboxBankTable string
	// AiiaDestinations is where payees' Aiia destination ids come from
	// (MODUPAY_AIIA_DESTINATIONS): DestinationsAPI or DestinationsOperator;
	// empty means the stage's default (see Destinations).
	AiiaDestinations string
	// SecretIDs name the Secrets Manager secrets holding the secrets whose
	// value is not set (MODUPAY_<NAME>_SECRET_ID); see secrets.Resolve.
	SecretIDs map[Secret]string
	// SecretsManagerEndpoint is empty in AWS; a local Secrets Manager
	// (moto) for `sam local` and the tests.
	SecretsManagerEndpoint string
	// Local is set (MODUPAY_LOCAL=1) only by the local runtime and the tests,
	// never by the template: only there may page URLs follow the origin the
	// API was called on, and webhook endpoints be on loopback.
	Local bool
}

// DefaultSecretsTTL is how long a container keeps a key ring read from
// Secrets Manager: a rotation is in use everywhere within it.
const DefaultSecretsTTL = 5 * time.Minute

func durationEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// ConfigFromEnv reads the MODUPAY_* variables the template declares.
func ConfigFromEnv() Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "eu-west-3"
	}
	return Config{
		Stage:              os.Getenv("MODUPAY_STAGE"),
		Region:             region,
		Table:              os.Getenv("MODUPAY_TABLE"),
		AuditQueueURL:      os.Getenv("MODUPAY_AUDIT_QUEUE_URL"),
		AiiaPollQueueURL:   os.Getenv("MODUPAY_AIIA_POLL_QUEUE_URL"),
		WebhookQueueURL:    os.Getenv("MODUPAY_WEBHOOK_QUEUE_URL"),
		Aiia:               aiia.ConfigFromEnv(),
		JWTKeys:            os.Getenv("MODUPAY_JWT_KEYS"),
		JWTActiveKid:       os.Getenv("MODUPAY_JWT_ACTIVE_KID"),
		PageKeys:           os.Getenv("MODUPAY_PAGE_KEYS"),
		PageActiveKid:      os.Getenv("MODUPAY_PAGE_ACTIVE_KID"),
		CSRFKey:            os.Getenv("MODUPAY_CSRF_KEY"),
		DashboardKeys:      os.Getenv("MODUPAY_DASHBOARD_KEYS"),
		DashboardActiveKid: os.Getenv("MODUPAY_DASHBOARD_ACTIVE_KID"),
		PublicBaseURL:      os.Getenv("MODUPAY_PUBLIC_BASE_URL"),
		DynamoDBEndpoint:   os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"),
		SQSEndpoint:        os.Getenv("MODUPAY_SQS_ENDPOINT"),
		AuditArchiveBucket: os.Getenv("MODUPAY_AUDIT_ARCHIVE_BUCKET"),
		AuditArchiveDir:    os.Getenv("MODUPAY_AUDIT_ARCHIVE_DIR"),
		DocumentsBucket:    os.Getenv("MODUPAY_DOCUMENTS_BUCKET"),
		DocumentsDir:       os.Getenv("MODUPAY_DOCUMENTS_DIR"),
		S3Endpoint:         os.Getenv("MODUPAY_S3_ENDPOINT"),
		SandboxBankTable:   os.Getenv("MODUPAY_SANDBOX_BANK_TABLE"),
		AiiaDestinations:   strings.TrimSpace(os.Getenv("MODUPAY_AIIA_DESTINATIONS")),
		SecretsTTL:         durationEnv("MODUPAY_SECRETS_TTL", DefaultSecretsTTL),
		SecretIDs:          secretIDsFromEnv(),
		Local:              os.Getenv("MODUPAY_LOCAL") == "1",

		SecretsManagerEndpoint: os.Getenv("MODUPAY_SECRETSMANAGER_ENDPOINT"),
	}
}

// LocalEngines tells whether the configuration points at local engines,
// which take a fixed key (see AWSConfig).
func (c Config) LocalEngines() bool {
	return c.DynamoDBEndpoint != "" || c.SQSEndpoint != "" || c.SecretsManagerEndpoint != "" || c.S3Endpoint != ""
}

// Validate checks the settings every function shares.
func (c Config) Validate() error {
	switch {
	case c.Stage != "sandbox" && c.Stage != "production":
		return fmt.Errorf("MODUPAY_STAGE must be sandbox or production, got %q", c.Stage)
	case c.Table == "":
		return fmt.Errorf("MODUPAY_TABLE is required")
	case c.AuditQueueURL == "":
		return fmt.Errorf("MODUPAY_AUDIT_QUEUE_URL is required")
	}
	if c.PublicBaseURL != "" {
		if u, err := url.Parse(c.PublicBaseURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("MODUPAY_PUBLIC_BASE_URL must be an absolute URL, got %q", c.PublicBaseURL)
		}
	}
	return nil
}

// Mode is the validation mode of the stage: production is strict (the
// sandbox's documented test values are refused there).
func (c Config) Mode() validation.Mode { return validation.Mode{Strict: c.Stage == "production"} }

// The ways a payee's bank account gets its Aiia destination id
// (MODUPAY_AIIA_DESTINATIONS).
const (
	// DestinationsAPI: the payment flow asks the bank (POST /destinations)
	// when it first needs the id. Only the sandbox bank serves that route:
	// the default of the local stack, the tests and the sandbox stage.
	DestinationsAPI = "api"
	// DestinationsOperator: an operator records each account's id
	// (`operator aiia-destination`) after the merchant's onboarding at the
	// provider; ModuPay never asks the bank for one. Production's only way.
	DestinationsOperator = "operator"
)

// Destinations is the way in force: the setting, else operator in
// production and api elsewhere. Production is operator whatever the
// setting, and so is a value that is neither (nothing invented is ever
// called); aiiaReady refuses both at startup.
func (c Config) Destinations() string {
	if !c.Mode().Strict && (c.AiiaDestinations == DestinationsAPI || c.AiiaDestinations == "") {
		return DestinationsAPI
	}
	return DestinationsOperator
}

// WebhookPolicy is where webhook endpoints may be: https to public
// addresses only; the local runtime in the sandbox stage also accepts http
// to loopback, for receivers on the developer's machine. A deployed sandbox
// does not: loopback there is the function's own host, not the partner's.
func (c Config) WebhookPolicy() netguard.Policy {
	return netguard.Policy{AllowLoopback: c.Local && c.Stage == "sandbox"}
}

// Issuer is the tokens' issuer claim: one per stage.
func (c Config) Issuer() string { return "modupay-" + c.Stage }

// Audience is the tokens' audience claim.
const Audience = "modupay-api"

// TokenTTL is the lifetime of access tokens (seed 000: expires_in 3600).
const TokenTTL = time.Hour

// secretIDsFromEnv reads the MODUPAY_*_SECRET_ID variables that are set.
func secretIDsFromEnv() map[Secret]string {
	ids := map[Secret]string{}
	for _, s := range Secrets {
		if id := strings.TrimSpace(os.Getenv(s.IDVariable())); id != "" {
			ids[s] = id
		}
	}
	return ids
}
