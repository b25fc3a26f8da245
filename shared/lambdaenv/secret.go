package lambdaenv

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/rotating"
)

// Secret is a secret of the environment, named by its variable.
type Secret string

const (
	SecretJWTKeys    Secret = "MODUPAY_JWT_KEYS"
	SecretPageKeys   Secret = "MODUPAY_PAGE_KEYS"
	SecretCSRFKey    Secret = "MODUPAY_CSRF_KEY"
	SecretAiiaClient Secret = "MODUPAY_AIIA_CLIENT_SECRET"
	// SecretAiiaKey is the Aiia client's private key and registered
	// certificate (a PEM bundle, aiia.ParseClientKey): private_key_jwt, as
	// the provider requires; the client secret is the sandbox bank's only.
	SecretAiiaKey Secret = "MODUPAY_AIIA_CLIENT_KEY"
	// SecretDashboardKeys sign the dashboard's sessions and its forms.
	SecretDashboardKeys Secret = "MODUPAY_DASHBOARD_KEYS"
)

// Secrets lists every secret variable.
var Secrets = []Secret{SecretJWTKeys, SecretPageKeys, SecretCSRFKey, SecretAiiaClient, SecretAiiaKey, SecretDashboardKeys}

// IDVariable is the variable naming the Secrets Manager secret that holds
// s: MODUPAY_JWT_KEYS_SECRET_ID for MODUPAY_JWT_KEYS. Deployed, the template
// sets only these, so a function's configuration shows where its secrets
// are, never their values.
func (s Secret) IDVariable() string { return string(s) + "_SECRET_ID" }

// FunctionSecrets is what each function of template.yaml uses, and so the
// only secrets its environment holds: the functions that verify or issue
// tokens hold the JWT keys, those that seal or open payment page tokens the
// page keys, the checkout form the CSRF key, those that call Aiia its client
// secret. The docs, the event router, the audit writer, the scheduler and
// the webhook dispatcher (it signs with each subscription's own secret) hold
// none. The template test holds template.yaml to this table.
var FunctionSecrets = map[string][]Secret{
	"AuthFunction":          {SecretJWTKeys},
	"OrganizationsFunction": {SecretJWTKeys},
	"InvoicesFunction":      {SecretJWTKeys},
	"PaymentsFunction":      {SecretJWTKeys, SecretPageKeys},
	"WebhooksFunction":      {SecretJWTKeys},
	"AuditFunction":         {SecretJWTKeys},
	"PaymentOrdersFunction": {SecretJWTKeys},
	"CheckoutFunction":      {SecretPageKeys, SecretCSRFKey, SecretAiiaClient, SecretAiiaKey},
	// The dashboard signs its sessions with its own ring; it verifies no
	// token (its sign-in checks client secrets against their hashes).
	"DashboardFunction":  {SecretDashboardKeys},
	"AiiaPollerFunction": {SecretAiiaClient, SecretAiiaKey},
	// The sandbox bank accepts what the others send: an assertion signed by
	// the key of the bundle's certificate, else the client secret.
	"SandboxBankFunction":       {SecretAiiaClient, SecretAiiaKey},
	"DocsFunction":              nil,
	"SchedulerFunction":         nil,
	"WebhookDispatcherFunction": nil,
	"EventRouterFunction":       nil,
	"AuditWriterFunction":       nil,
}

// MakesPageURLs are the functions that write payment page URLs (the link's
// payment_page_url, the bank's return URL, the refund account page the
// poller gives the provider): deployed, they need MODUPAY_PUBLIC_BASE_URL.
var MakesPageURLs = map[string]bool{"PaymentsFunction": true, "CheckoutFunction": true, "SandboxBankFunction": true, "AiiaPollerFunction": true}

// SecretField is where a secret's value goes in the configuration.
func (c *Config) SecretField(s Secret) *string {
	switch s {
	case SecretJWTKeys:
		return &c.JWTKeys
	case SecretPageKeys:
		return &c.PageKeys
	case SecretCSRFKey:
		return &c.CSRFKey
	case SecretAiiaClient:
		return &c.Aiia.ClientSecret
	case SecretAiiaKey:
		return &c.Aiia.ClientKey
	case SecretDashboardKeys:
		return &c.DashboardKeys
	}
	return nil
}

// NotSet says that a secret has neither a value nor a secret id.
func NotSet(s Secret) error {
	return fmt.Errorf("%s is not set (deployed: %s, the id of its Secrets Manager secret)", s, s.IDVariable())
}

// keys are the secrets of a configuration, parsed. A secret that is set
// must be valid, whoever holds it; one that is absent only makes the
// functions that need it unavailable (missing says why).
type keys struct {
	jwt       *auth.Keyring
	dashboard *auth.Keyring
	page      *pagetoken.Sealer
	csrf      []byte
	missing   requirements
}

func parseKeys(cfg Config, log *slog.Logger, now func() time.Time) (keys, error) {
	var k keys
	var err error
	if cfg.JWTKeys == "" {
		k.missing.jwt = NotSet(SecretJWTKeys)
	} else if k.jwt, err = auth.ParseKeyring(cfg.JWTKeys, cfg.JWTActiveKid); err != nil {
		return k, fmt.Errorf("MODUPAY_JWT_KEYS: %w", err)
	} else if cfg.Refresh != nil {
		k.jwt = auth.Rotating(rotatingFrom(cfg, log, now, SecretJWTKeys, k.jwt, func(spec string) (*auth.Keyring, error) {
			return auth.ParseKeyring(spec, cfg.JWTActiveKid)
		}))
	}
	if cfg.PageKeys == "" {
		k.missing.page = NotSet(SecretPageKeys)
	} else if k.page, err = pageTokens(cfg.PageKeys, cfg.PageActiveKid); err != nil {
		return k, fmt.Errorf("MODUPAY_PAGE_KEYS: %w", err)
	} else if cfg.Refresh != nil {
		k.page = pagetoken.Rotating(rotatingFrom(cfg, log, now, SecretPageKeys, k.page, func(spec string) (*pagetoken.Sealer, error) {
			return pageTokens(spec, cfg.PageActiveKid)
		}))
	}
	if cfg.DashboardKeys == "" {
		k.missing.dashboard = NotSet(SecretDashboardKeys)
	} else if k.dashboard, err = auth.ParseKeyring(cfg.DashboardKeys, cfg.DashboardActiveKid); err != nil {
		return k, fmt.Errorf("MODUPAY_DASHBOARD_KEYS: %w", err)
	} else if cfg.Refresh != nil {
		k.dashboard = auth.Rotating(rotatingFrom(cfg, log, now, SecretDashboardKeys, k.dashboard, func(spec string) (*auth.Keyring, error) {
			return auth.ParseKeyring(spec, cfg.DashboardActiveKid)
		}))
	}
	if cfg.CSRFKey == "" {
		k.missing.csrf = NotSet(SecretCSRFKey)
	} else if k.csrf, err = decodeSecret(cfg.CSRFKey); err != nil {
		return k, fmt.Errorf("MODUPAY_CSRF_KEY: %w", err)
	}
	if cfg.PublicBaseURL == "" && !cfg.Local {
		k.missing.baseURL = errors.New("MODUPAY_PUBLIC_BASE_URL is not set: deployed, payment page URLs never follow the request's Host")
	}
	return k, nil
}

// requirements holds why each secret is unusable (nil: it is there).
type requirements struct {
	jwt, page, csrf, dashboard, baseURL error
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
		case SecretDashboardKeys:
			errs = append(errs, r.dashboard)
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

// pageTokens builds the payment pages' sealer from their own key ring (one
// key per kid, the active one sealing), in the form and with the rules of
// the JWT ring but independent of it: rotating the page keys keeps old pages
// readable while their kid stays in the ring, and after that their tokens
// are still found through their lookup item.
// rotatingFrom keeps the value parsed from secret s current: read again
// from Secrets Manager once older than cfg.SecretsTTL; a read or a value
// that fails keeps the last good one and is logged (naming the secret,
// never its value).
func rotatingFrom[T any](cfg Config, log *slog.Logger, now func() time.Time, s Secret, initial T, parse func(string) (T, error)) *rotating.Value[T] {
	ttl := cfg.SecretsTTL
	if ttl <= 0 {
		ttl = DefaultSecretsTTL
	}
	return rotating.New(initial, func(ctx context.Context) (string, error) { return cfg.Refresh(ctx, s) }, parse, ttl, now,
		func(err error) {
			log.Warn("secret refresh failed: the last good value stays in use", slog.String("secret", string(s)), slog.String("error", err.Error()))
		})
}

func pageTokens(spec, active string) (*pagetoken.Sealer, error) {
	ring, err := auth.ParseKeyring(spec, active)
	if err != nil {
		return nil, err
	}
	active = ring.ActiveKid()
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
