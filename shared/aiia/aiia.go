// Package aiia is ModuPay's client for Aiia's payment initiation, modelled on
// Mastercard Open Finance Pay's "Accept Payments API" (the Gen C lineage of
// /work/shared/reference/aiia.md, spec "Accept Payments API" v1.0.0):
//
//	POST /oauth2/token              client credentials → bearer token (cached)
//	POST /destinations              payee account onboarding → destinationId
//	POST /payments                  FrenchSepaCreditTransfer → paymentId + flowUrl
//	GET  /payments/{id}             status.code (PaymentStatusCode)
//	POST /payments/{id}/refunds     → refundId
//	GET  /refunds/{id}              status.code (refund codes)
//	GET|POST /refunds/{id}/payment-rails   the payer's account, or a flow to collect it
//	POST /v2/accounts/{id}/payments and …/payment-authorizations, GET /v2/accounts/{id}/payments/{paymentId}
//	                                payouts from an organisation's account (payouts.go, Gen A)
//
// Every POST carries X-Request-Id (the caller's RequestID), reused on every
// retry, so Aiia answers a retry with its cached response and a lost answer
// never becomes a second payment. Errors are apperr errors: Transient for
// what may work later (5xx, 409 in flight, 429, timeouts, connection errors,
// malformed answers), Invalid / NotFound / Conflict for what never will.
//
// Payers authorise at their bank through FlowURL; the redirect back to
// ModuPay only says "look again": the status is always read with GetPayment.
package aiia

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/modupay/modupay/shared/backoff"
)

// Provider is what ModuPay needs from a payment-initiation provider.
// *Client implements it against Aiia; tests and other providers may too.
type Provider interface {
	// CreateDestination onboards a payee account (IBAN, BIC, holder name) and
	// returns its destinationId. Idempotent by in.RequestID.
	CreateDestination(ctx context.Context, in DestinationInput) (Destination, error)
	// CreatePayment starts a FrenchSepaCreditTransfer to an onboarded
	// destination and returns the payment's ID and the payer's FlowURL.
	// Idempotent by in.RequestID (sent as X-Request-Id).
	CreatePayment(ctx context.Context, in PaymentInput) (Payment, error)
	// GetPayment reads a payment's current status; the only source of truth.
	GetPayment(ctx context.Context, id string) (Payment, error)
	// CreateRefund refunds (part of) a credited payment. Idempotent by in.RequestID.
	CreateRefund(ctx context.Context, paymentID string, in RefundInput) (Refund, error)
	// GetRefund reads a refund's current status.
	GetRefund(ctx context.Context, id string) (Refund, error)
	// RefundSourceAccounts reads the payer's account a refund at
	// PAYMENT_RAILS_AVAILABLE is to be paid into (see refundrails.go).
	RefundSourceAccounts(ctx context.Context, refundID string) ([]SourceAccount, error)
	// CollectRefundAccount asks the payer of a refund at
	// PAYMENT_RAILS_UNAVAILABLE to connect the account to refund, and
	// returns the flow's URL. Idempotent by in.RequestID.
	CollectRefundAccount(ctx context.Context, refundID string, in CollectInput) (string, error)
}

// DestinationInput is a payee account to onboard. RequestID must be stable
// for the account (for example derived from the department and bank account
// ids) so a retried onboarding returns the same destination.
type DestinationInput struct {
	RequestID string
	IBAN      string
	BIC       string // optional
	Name      string // account holder
}

// Destination is an onboarded payee account.
type Destination struct {
	ID string
}

// PaymentInput is a payment to start. Amount is in cents; Currency must be
// EUR; Reference is the message the payee's bank shows (see Reference);
// EndToEndID travels with the SEPA transfer (see EndToEndID). RequestID must
// be unique per payment attempt and reused on every retry of that attempt.
type PaymentInput struct {
	RequestID     string
	DestinationID string
	Amount        int64
	Currency      string
	Reference     string
	EndToEndID    string
	RedirectURL   string
	// EndUserID is the payer's stable id, sent as endUser.id: required for
	// an unlicensed tenant, which ModuPay is. Never the email in clear
	// (payment.PayerID is a pseudonym).
	EndUserID  string
	PayerEmail string // optional; sent as endUser.email
}

// Payment is a payment as Aiia reports it. Status is Aiia's code (for
// example PAYMENT_EXECUTED_CREDITED); MapPaymentStatus turns it into
// ModuPay's statuses. FlowURL is only known from CreatePayment.
type Payment struct {
	ID            string
	Status        string
	FlowURL       string
	Amount        int64
	Currency      string
	FailureReason string
	UpdatedAt     time.Time
}

// RefundInput is a refund to request. Amount is in cents (EUR). Reason is
// one of Aiia's refund reasons (RefundReasonOrderCancelled…); any other text
// is sent as clientAssignedReference with reason ORDER_CANCELLED.
type RefundInput struct {
	RequestID string
	Amount    int64
	Reason    string
}

// Refund is a refund as Aiia reports it. Status is Aiia's refund code;
// MapRefundStatus turns it into ModuPay's.
type Refund struct {
	ID            string
	PaymentID     string
	Status        string
	Amount        int64
	FailureReason string
}

// Config locates Aiia and holds the credentials. TokenURL defaults to
// BaseURL + "/oauth2/token", Audience (the assertion's aud) to TokenURL
// and Timeout (per HTTP attempt) to 10 s.
//
// The client authenticates with ClientKey (private_key_jwt: a PEM bundle
// of its RSA key and registered certificate, see ParseClientKey), as the
// provider requires. ClientSecret (client_id + client_secret) is what the
// sandbox bank of a stage without a key accepts; the production functions
// refuse to start without a key.
type Config struct {
	BaseURL      string
	TokenURL     string
	Audience     string
	ClientID     string
	ClientKey    string
	ClientSecret string
	Timeout      time.Duration
}

// The environment variables ConfigFromEnv reads.
const (
	EnvBaseURL      = "MODUPAY_AIIA_BASE_URL"
	EnvTokenURL     = "MODUPAY_AIIA_TOKEN_URL"
	EnvAudience     = "MODUPAY_AIIA_ASSERTION_AUDIENCE"
	EnvClientID     = "MODUPAY_AIIA_CLIENT_ID"
	EnvClientKey    = "MODUPAY_AIIA_CLIENT_KEY"
	EnvClientSecret = "MODUPAY_AIIA_CLIENT_SECRET"
	EnvTimeout      = "MODUPAY_AIIA_TIMEOUT" // a Go duration, e.g. "10s"; optional
)

// ConfigFromEnv reads the MODUPAY_AIIA_* variables. An unparsable timeout
// is ignored (the default applies).
func ConfigFromEnv() Config {
	cfg := Config{
		BaseURL:      os.Getenv(EnvBaseURL),
		TokenURL:     os.Getenv(EnvTokenURL),
		Audience:     os.Getenv(EnvAudience),
		ClientID:     os.Getenv(EnvClientID),
		ClientKey:    os.Getenv(EnvClientKey),
		ClientSecret: os.Getenv(EnvClientSecret),
	}
	if d, err := time.ParseDuration(os.Getenv(EnvTimeout)); err == nil && d > 0 {
		cfg.Timeout = d
	}
	return cfg
}

const defaultTimeout = 10 * time.Second

// Client is the Aiia Provider. It is safe for concurrent use; build one per
// process (it caches the access token).
type Client struct {
	cfg Config
	hc  *http.Client
	now func() time.Time

	// Replaced by tests so backoff neither sleeps nor varies.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(max time.Duration) time.Duration

	tok tokenCache
	// key is cfg.ClientKey parsed (nil: none, or keyErr says why not).
	key    *ClientKey
	keyErr error
}

var _ Provider = (*Client)(nil)

// New builds a client. No network call happens here: the token is fetched on
// first use. hc defaults to a plain *http.Client (timeouts are per attempt,
// from cfg.Timeout) and now to time.Now.
func New(cfg Config, hc *http.Client, now func() time.Time) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	cfg.BaseURL = trimSlash(cfg.BaseURL)
	if cfg.TokenURL == "" && cfg.BaseURL != "" {
		cfg.TokenURL = cfg.BaseURL + "/oauth2/token"
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.TokenURL
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	c := &Client{
		cfg:    cfg,
		hc:     hc,
		now:    now,
		sleep:  backoff.Sleep,
		jitter: randomJitter,
		tok:    tokenCache{sem: make(chan struct{}, 1)},
	}
	if cfg.ClientKey != "" {
		c.key, c.keyErr = ParseClientKey(cfg.ClientKey)
	}
	return c
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
