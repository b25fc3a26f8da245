// Package aiiasandbox is a stand-in for Aiia (Mastercard Open Finance
// Pay's Accept Payments API), serving the routes and shapes shared/aiia
// expects: the local stack's and the tests' bank (records in memory), and
// the sandbox stage's, deployed as SandboxBankFunction under /sandbox-bank/
// (records in DynamoDB, see Store; without the test hooks, see PublicOnly):
//
//	POST /oauth2/token                      client credentials (JSON body) → bearer token
//	POST /destinations, GET /destinations/{id}   payee onboarding (ModuPay's shape; not in Aiia's public spec)
//	POST /payments, GET /payments/{id}      FrenchSepaCreditTransfer only, with the rail's rules
//	POST /payments/{id}/refunds, GET /refunds/{id}
//	GET|POST /refunds/{id}/payment-rails    the payer's account, or a flow to collect it (refundrails.go)
//	GET|POST /payment-rails/start/{id}      the payer's page of that flow
//	GET|POST /flow/{id}                     the bank authorisation page (the payment's flowUrl)
//	POST /v2/accounts/{id}/payments, POST /v2/accounts/{id}/payment-authorizations,
//	GET /v2/accounts/{id}/payments/{paymentId}, GET|POST /payout-authorizations/{id}
//	                                        payouts from a connected account (payouts.go)
//	POST /_sandbox/payments/{id}/status     force a payment status  {"code","reason","detailsCode"}
//	POST /_sandbox/refunds/{id}/status      force a refund status
//	POST /_sandbox/faults, DELETE /_sandbox/faults   queue or clear injected faults (see Fault)
//	POST /_sandbox/tokens/expire            forget every token (clients must refresh)
//	GET  /                                  an index of payments, for people
//
// Every POST honours X-Request-Id as Aiia does: the same id and body replay
// the first answer, a different body is refused (422), and a second request
// while the first is in flight gets 409.
//
// The payer drives the outcome on the authorisation page with the IBAN they
// pay from (the integration guide's test IBANs):
//
//	FR7612345678901234567890123  PROVIDER_PROCESSING → INITIATED → PAYMENT_EXECUTED_CREDITED
//	FR7612345678901234567890124  PROVIDER_PROCESSING → FAILED "fonds insuffisants"
//	FR7612345678901234567890125  PROVIDER_PROCESSING → FAILED "compte bloqué"
//	FR7612345678901234567890126  as the first; its refunds: PREPARING → PENDING → FAILED "compte clôturé"
//	FR7612345678901234567890127  as the first; its refunds: PREPARING → PAYMENT_RAILS_AVAILABLE (no settlement account)
//	FR7612345678901234567890128  as the first, but its first 3 status reads after the authorisation answer 503
//	FR7612345678901234567890129  PROVIDER_PROCESSING → INITIATED → PAYMENT_EXECUTED_DEBITED, never CREDITED
//	FR7612345678901234567890130  PROVIDER_PROCESSING → INITIATED → UNKNOWN (the provider lost track of it)
//	FR7612345678901234567890131  as the first; its refunds: PREPARING → PAYMENT_RAILS_UNAVAILABLE (the payer is asked for an account)
//	any other IBAN               as the first (success); refunds PREPARING → PENDING → PAYMENT_EXECUTED_DEBITED
//	"Refuser"                    CANCELLED "refusé par le payeur"
//
// Statuses are computed from timestamps on every read (AuthorizeDelay,
// SettleDelay, RefundDelay): no background work, and delays of zero make
// everything immediate for tests.
package aiiasandbox

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modupay/modupay/shared/aiia"
)

// The client id the sandbox accepts by default, and where it listens.
const (
	DefaultClientID = "modupay-sandbox"
	DefaultAddr     = "127.0.0.1:3001"
)

// DefaultClientKey is the key and certificate a sandbox without
// credentials registers: made once per process (never published, so a
// sandbox started without any is no open door), as a PEM bundle.
var DefaultClientKey = sync.OnceValue(func() string {
	_, bundle, err := aiia.NewClientKey(DefaultClientID, aiia.MinKeyBits, time.Now())
	if err != nil {
		panic("aiiasandbox: make the default client key: " + err.Error())
	}
	return bundle
})

// Options configure the sandbox. Zero delays mean "at once"; DefaultOptions
// has the few seconds that make local settlement visible.
type Options struct {
	// ClientID is the one client accepted (default DefaultClientID). It
	// authenticates as the provider requires, with private_key_jwt: an
	// assertion signed by the key of ClientKey's certificate (a PEM bundle
	// as aiia.ParseClientKey reads; only the certificate is used here,
	// ClientConfig hands the bundle to clients). With ClientSecret instead,
	// client_id + client_secret (a deployed sandbox whose stack has no key
	// yet). With neither, a key made once per process (DefaultClientKey).
	ClientID, ClientKey, ClientSecret string
	// Audience is the aud assertions must name; default the token URL the
	// request came to.
	Audience string

	AuthorizeDelay time.Duration // payer's authorisation → INITIATED (or FAILED)
	SettleDelay    time.Duration // INITIATED → PAYMENT_EXECUTED_CREDITED (or DEBITED; UNKNOWN halfway)
	RefundDelay    time.Duration // refund creation → PAYMENT_EXECUTED_DEBITED (PENDING halfway)
	FlowTTL        time.Duration // how long the authorisation page can be used; 0 = 1 hour
	TokenTTL       time.Duration // access token lifetime; 0 = 1 hour

	// NoSettlementAccount is a merchant without a Mastercard settlement
	// account: the provider pays no refund out, every refund stops at
	// PAYMENT_RAILS_AVAILABLE (the payer's account) and the merchant pays
	// it. Otherwise refunds are executed (PAYMENT_EXECUTED_DEBITED),
	// except for the test IBANs that say otherwise.
	NoSettlementAccount bool

	// FailEvery > 0 answers every FailEvery-th API request (token
	// included) with a 500 before processing it.
	FailEvery int

	// RedirectPrefixes are the redirect URLs registered for the client, as
	// at Aiia's onboarding: a payment whose redirectUrl starts with none of
	// them is refused (400 INVALID_INPUT). None: any absolute URL.
	RedirectPrefixes []string

	// PublicURL is where browsers reach the server the sandbox is
	// mounted on (e.g. "http://127.0.0.1:3001"); default: the URL Start
	// listens on, else the request's Host.
	PublicURL string
	// PathPrefix is the path the sandbox's routes are mounted under
	// ("/sandbox-bank" behind the stack's API; default none): flowUrl and
	// the pages' forms and links start with PublicURL + PathPrefix.
	PathPrefix string

	Now func() time.Time // default time.Now

	// Store keeps the records; default a MemoryStore. The deployed
	// sandbox bank passes its DynamoStore.
	Store Store

	// PublicOnly turns off what only the person running a private sandbox
	// may use: the /_sandbox test hooks (forced statuses, faults, token
	// expiry) and the index of every payment. The deployed sandbox bank is
	// shared by every partner: one partner's injected fault must not fail
	// another's payment, nor the index show their payments.
	PublicOnly bool
}

// DefaultOptions are the local stack's: settlement takes a few seconds.
func DefaultOptions() Options {
	return Options{
		ClientID:       DefaultClientID,
		AuthorizeDelay: 2 * time.Second,
		SettleDelay:    6 * time.Second,
		RefundDelay:    3 * time.Second,
	}
}

// The environment variables OptionsFromEnv reads, besides
// MODUPAY_AIIA_CLIENT_ID and MODUPAY_AIIA_CLIENT_KEY or
// MODUPAY_AIIA_CLIENT_SECRET (the credentials to accept, when set).
const (
	EnvAddr           = "MODUPAY_AIIA_SANDBOX_ADDR"
	EnvAuthorizeDelay = "MODUPAY_AIIA_SANDBOX_AUTHORIZE_DELAY" // Go durations: "2s", "0"
	EnvSettleDelay    = "MODUPAY_AIIA_SANDBOX_SETTLE_DELAY"
	EnvRefundDelay    = "MODUPAY_AIIA_SANDBOX_REFUND_DELAY"
	EnvFailEvery      = "MODUPAY_AIIA_SANDBOX_FAIL_EVERY"
	EnvRedirects      = "MODUPAY_AIIA_SANDBOX_REDIRECTS" // comma-separated URL prefixes
	// EnvSettlementAccount "false": no settlement account (NoSettlementAccount).
	EnvSettlementAccount = "MODUPAY_AIIA_SANDBOX_SETTLEMENT_ACCOUNT"
)

// OptionsFromEnv is DefaultOptions overridden by the environment; values
// that do not parse are ignored.
func OptionsFromEnv() Options {
	o := DefaultOptions()
	if v := os.Getenv(aiia.EnvClientID); v != "" {
		o.ClientID = v
	}
	if v := os.Getenv(aiia.EnvClientKey); v != "" {
		o.ClientKey = v
	}
	if v := os.Getenv(aiia.EnvClientSecret); v != "" {
		o.ClientSecret = v
	}
	for env, d := range map[string]*time.Duration{EnvAuthorizeDelay: &o.AuthorizeDelay, EnvSettleDelay: &o.SettleDelay, EnvRefundDelay: &o.RefundDelay} {
		if v, err := time.ParseDuration(os.Getenv(env)); err == nil && v >= 0 {
			*d = v
		}
	}
	if v, err := strconv.ParseBool(os.Getenv(EnvSettlementAccount)); err == nil {
		o.NoSettlementAccount = !v
	}
	if n, err := strconv.Atoi(os.Getenv(EnvFailEvery)); err == nil && n >= 0 {
		o.FailEvery = n
	}
	for _, p := range strings.Split(os.Getenv(EnvRedirects), ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.RedirectPrefixes = append(o.RedirectPrefixes, p)
		}
	}
	return o
}

// Server is the sandbox. It is an http.Handler; Start also serves it on an
// address.
type Server struct {
	opts Options
	mux  *http.ServeMux

	store Store

	// cert is the registered client certificate (assertions required),
	// kid its thumbprint; nil: client_id + client_secret.
	cert *x509.Certificate
	kid  string

	mu  sync.Mutex
	srv *http.Server
	url string
}

// New builds a sandbox.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientKey == "" && opts.ClientSecret == "" {
		opts.ClientKey = DefaultClientKey()
	}
	if opts.FlowTTL <= 0 {
		opts.FlowTTL = time.Hour
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore()
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), store: opts.Store}
	if opts.ClientKey != "" {
		// Only the certificate is the sandbox's: the key stays the
		// client's (a bundle that does not parse registers no client).
		if k, err := aiia.ParseClientKey(opts.ClientKey); err == nil {
			s.cert, s.kid = k.Certificate, k.KeyID
		}
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /oauth2/token", s.api(false, false, s.token))
	s.mux.HandleFunc("POST /destinations", s.api(true, true, s.createDestination))
	s.mux.HandleFunc("GET /destinations/{id}", s.api(true, false, s.getDestination))
	s.mux.HandleFunc("POST /payments", s.api(true, true, s.createPayment))
	s.mux.HandleFunc("GET /payments/{id}", s.api(true, false, s.getPayment))
	s.mux.HandleFunc("POST /payments/{id}/refunds", s.api(true, true, s.createRefund))
	s.mux.HandleFunc("GET /refunds/{id}", s.api(true, false, s.getRefund))
	s.mux.HandleFunc("GET /refunds/{id}/payment-rails", s.api(true, false, s.refundRails))
	s.mux.HandleFunc("POST /refunds/{id}/payment-rails", s.api(true, true, s.collectRefundAccount))

	s.mux.HandleFunc("POST /v2/accounts/{accountId}/payments", s.api(true, true, s.createPayout))
	s.mux.HandleFunc("POST /v2/accounts/{accountId}/payment-authorizations", s.api(true, true, s.createPayoutAuthorization))
	s.mux.HandleFunc("GET /v2/accounts/{accountId}/payments/{paymentId}", s.api(true, false, s.getPayout))

	s.mux.HandleFunc("GET /payout-authorizations/{id}", s.payoutPage)
	s.mux.HandleFunc("POST /payout-authorizations/{id}", s.payoutPage)
	s.mux.HandleFunc("GET /payment-rails/start/{id}", s.collectPage)
	s.mux.HandleFunc("POST /payment-rails/start/{id}", s.collectSubmit)
	s.mux.HandleFunc("GET /flow/{id}", s.flowPage)
	s.mux.HandleFunc("POST /flow/{id}", s.flowSubmit)
	s.mux.HandleFunc("/", s.notFound)
	if s.opts.PublicOnly {
		return
	}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("POST /_sandbox/payments/{id}/status", s.forcePaymentStatus)
	s.mux.HandleFunc("POST /_sandbox/refunds/{id}/status", s.forceRefundStatus)
	s.mux.HandleFunc("POST /_sandbox/faults", s.addFaults)
	s.mux.HandleFunc("DELETE /_sandbox/faults", s.clearFaults)
	s.mux.HandleFunc("POST /_sandbox/tokens/expire", s.expireTokensRoute)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start serves the sandbox on addr ("127.0.0.1:0" picks a port) until
// Close, and returns its base URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }() // ends with ErrServerClosed on Close
	return s.URL(), nil
}

// Close stops a server started with Start.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// URL is the base URL Start listens on ("" before Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// ClientConfig is the shared/aiia configuration that talks to this sandbox
// at baseURL (s.URL() after Start, or an httptest server's URL).
func (s *Server) ClientConfig(baseURL string) aiia.Config {
	cfg := aiia.Config{BaseURL: baseURL, TokenURL: baseURL + "/oauth2/token", ClientID: s.opts.ClientID, Audience: s.opts.Audience}
	if s.cert != nil {
		cfg.ClientKey = s.opts.ClientKey
	} else {
		cfg.ClientSecret = s.opts.ClientSecret
	}
	return cfg
}

// ExpireTokens forgets every access token, so clients get 401 and must
// fetch a new one: tokens carry the generation they were issued in, and
// this starts a new one.
func (s *Server) ExpireTokens() error {
	ctx := context.Background()
	var g generation
	found, err := s.store.Update(ctx, kindMeta, metaTokens, &g, func() error { g.N++; return nil })
	if err == nil && !found {
		err = s.store.Put(ctx, kindMeta, metaTokens, generation{N: 1}, time.Time{})
	}
	return err
}

// basePath is the path the pages' forms and links start with.
func (s *Server) basePath() string { return strings.TrimSuffix(s.opts.PathPrefix, "/") }

// baseURL is where the payer's browser reaches this sandbox.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/") + s.basePath()
	}
	s.mu.Lock()
	u := s.url
	s.mu.Unlock()
	if u != "" {
		return u + s.basePath()
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.basePath()
}
