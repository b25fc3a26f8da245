package wiring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/pagetoken"
	"time"
)

const (
	pageSecret1 = "dGVzdC1vbmx5LXBhZ2UtdG9rZW4ta2V5LW51bWJlci0xIQ=="
	pageSecret2 = "dGVzdC1vbmx5LXBhZ2UtdG9rZW4ta2V5LW51bWJlci0yIQ=="
	csrfSecret  = "dGVzdC1vbmx5LWNoZWNrb3V0LWNzcmYta2V5LTMyLWJ5dGVzIQ=="
	otherJWT    = "k2:YW5vdGhlci10ZXN0LW9ubHktc2lnbmluZy1rZXktMzItYnl0ZXMh"
	// dashboardKeys sign the dashboard's sessions (a ring of its own).
	dashboardKeys = "d1:dGVzdC1vbmx5LWRhc2hib2FyZC1zZXNzaW9uLWtleS0zMi1ieXRlcyE="
)

// secretParams are the template parameters naming each secret's Secrets
// Manager secret.
var secretParams = map[Secret]string{
	SecretJWTKeys:    "JWTKeysSecretId",
	SecretPageKeys:   "PageKeysSecretId",
	SecretCSRFKey:    "CSRFKeySecretId",
	SecretAiiaClient: "AiiaClientSecretId",
	SecretAiiaKey:    "AiiaClientKeySecretId",

	SecretDashboardKeys: "DashboardKeysSecretId",
}

// Each function of template.yaml gets exactly the secrets FunctionSecrets
// names for it, by their Secrets Manager ids in its own Environment, and
// may read exactly those secrets; no value is ever in the template, and the
// Globals hold no secret: a leak of one function's configuration shows no
// secret, and its role reads only what that function uses.
func TestFunctionsGetOnlyTheirSecrets(t *testing.T) {
	tpl, err := stack.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	isSecret := map[string]bool{}
	for _, s := range Secrets {
		isSecret[string(s)] = true
	}
	for name := range tpl.GlobalEnvironment() {
		if isSecret[name] || strings.Contains(name, "SECRET") {
			t.Errorf("Globals hold %s: every function would get it", name)
		}
	}
	for s, param := range secretParams {
		p, ok := tpl.Parameters[param]
		if !ok {
			t.Errorf("template has no parameter %s for %s", param, s)
			continue
		}
		if p.AllowedPattern == "" || strings.Contains(p.AllowedPattern, ":") {
			t.Errorf("parameter %s: AllowedPattern %q must admit secret names only (the policy appends -??????)", param, p.AllowedPattern)
		}
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != len(FunctionSecrets) {
		t.Errorf("template has %d functions, FunctionSecrets names %d", len(fns), len(FunctionSecrets))
	}
	for _, fn := range fns {
		want, ok := FunctionSecrets[fn.LogicalID]
		if !ok {
			t.Errorf("%s is not in FunctionSecrets", fn.LogicalID)
			continue
		}
		var got, wantIDs []string
		for name, v := range fn.Environment {
			if isSecret[name] {
				t.Errorf("%s sets %s: a secret's value would be readable in its configuration", fn.LogicalID, name)
			}
			if strings.HasSuffix(name, "_SECRET_ID") {
				got = append(got, name)
			}
			for _, s := range Secrets {
				if name == s.IDVariable() && !isRef(v, secretParams[s]) {
					t.Errorf("%s: %s = %v, want !Ref %s", fn.LogicalID, name, v, secretParams[s])
				}
			}
		}
		wantParams := map[string]bool{}
		for _, s := range want {
			wantIDs = append(wantIDs, s.IDVariable())
			wantParams[secretParams[s]] = true
		}
		slices.Sort(got)
		slices.Sort(wantIDs)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("%s gets secret ids %v, want %v", fn.LogicalID, got, wantIDs)
		}
		// sam local points the functions that fetch secrets at a local
		// Secrets Manager through this variable.
		if _, ok := fn.Environment["MODUPAY_SECRETSMANAGER_ENDPOINT"]; ok != (len(want) > 0) {
			t.Errorf("%s: MODUPAY_SECRETSMANAGER_ENDPOINT declared %v, holds %d secrets", fn.LogicalID, ok, len(want))
		}
		// A ring's active kid goes with its ring.
		for ring, kid := range map[Secret]string{SecretJWTKeys: "MODUPAY_JWT_ACTIVE_KID", SecretPageKeys: "MODUPAY_PAGE_ACTIVE_KID",
			SecretDashboardKeys: "MODUPAY_DASHBOARD_ACTIVE_KID"} {
			_, hasRing := fn.Environment[ring.IDVariable()]
			_, hasKid := fn.Environment[kid]
			if hasRing != hasKid {
				t.Errorf("%s: %s without %s, or the reverse", fn.LogicalID, ring.IDVariable(), kid)
			}
		}
		if _, ok := fn.Environment["MODUPAY_LOCAL"]; ok {
			t.Errorf("%s declares MODUPAY_LOCAL: only the local runtime sets it", fn.LogicalID)
		}

		// Its role reads exactly its secrets, each by name plus the six
		// characters Secrets Manager appends.
		readable, err := secretReads(tpl.Resources[fn.LogicalID].Properties["Policies"])
		if err != nil {
			t.Errorf("%s policies: %v", fn.LogicalID, err)
			continue
		}
		gotParams := map[string]bool{}
		for _, param := range readable {
			if gotParams[param] {
				t.Errorf("%s may read %s twice", fn.LogicalID, param)
			}
			gotParams[param] = true
		}
		for param := range wantParams {
			if !gotParams[param] {
				t.Errorf("%s holds the id of %s but may not read it", fn.LogicalID, param)
			}
		}
		for param := range gotParams {
			if !wantParams[param] {
				t.Errorf("%s may read %s, which it does not use", fn.LogicalID, param)
			}
		}
	}
	for _, id := range []string{"DocsFunction", "AuditWriterFunction", "EventRouterFunction", "SchedulerFunction", "WebhookDispatcherFunction"} {
		if len(FunctionSecrets[id]) != 0 {
			t.Errorf("%s must hold no secret, holds %v", id, FunctionSecrets[id])
		}
	}
	if _, ok := tpl.GlobalEnvironment()["MODUPAY_LOCAL"]; ok {
		t.Error("Globals declare MODUPAY_LOCAL: only the local runtime sets it")
	}
	// No secret value anywhere: no dynamic reference to Secrets Manager
	// (it would resolve into the configuration), no NoEcho parameter.
	raw, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "resolve:secretsmanager") {
		t.Error("template.yaml holds a secretsmanager dynamic reference: its value would land in the functions' configuration")
	}
	for name, p := range tpl.Parameters {
		if p.NoEcho || slices.Contains([]string{"JWTKeys", "PageKeys", "CSRFKey", "AiiaClientSecret"}, name) {
			t.Errorf("parameter %s carries a secret value", name)
		}
	}
}

func isRef(v any, name string) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["Ref"] == name
}

// secretARN is the only form a readable secret may take in a policy.
var secretARN = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{([A-Za-z0-9]+SecretId)\}-\?\?\?\?\?\?$`)

// secretReads returns the parameters naming the secrets a function's inline
// policies let it read. A statement or resource under Fn::If counts (its
// else branch must be AWS::NoValue); any Secrets Manager action other than
// GetSecretValue, or a resource of another form, is an error.
func secretReads(policies any) ([]string, error) {
	var out []string
	list, _ := policies.([]any)
	for _, p := range list {
		doc, ok := p.(map[string]any)
		if !ok {
			continue // a managed policy by name: none grants secrets here
		}
		stmts, _ := doc["Statement"].([]any)
		for _, st := range stmts {
			st, err := unwrapIf(st)
			if err != nil {
				return nil, err
			}
			m, _ := st.(map[string]any)
			var actions []any
			switch a := m["Action"].(type) {
			case string:
				actions = []any{a}
			case []any:
				actions = a
			}
			secrets := false
			for _, a := range actions {
				a, _ := a.(string)
				if strings.HasPrefix(strings.ToLower(a), "secretsmanager:") {
					if a != "secretsmanager:GetSecretValue" {
						return nil, fmt.Errorf("statement %v grants %s", m["Sid"], a)
					}
					secrets = true
				}
			}
			if !secrets {
				continue
			}
			if m["Effect"] != "Allow" || len(actions) != 1 || m["Condition"] != nil {
				return nil, fmt.Errorf("statement %v: want one Allow of secretsmanager:GetSecretValue alone", m["Sid"])
			}
			var resources []any
			switch r := m["Resource"].(type) {
			case []any:
				resources = r
			default:
				resources = []any{r}
			}
			for _, r := range resources {
				r, err := unwrapIf(r)
				if err != nil {
					return nil, err
				}
				sub, _ := r.(map[string]any)
				arn, _ := sub["Fn::Sub"].(string)
				match := secretARN.FindStringSubmatch(arn)
				if match == nil {
					return nil, fmt.Errorf("statement %v: resource %v is not one secret's ARN pattern", m["Sid"], r)
				}
				out = append(out, match[1])
			}
		}
	}
	return out, nil
}

// unwrapIf returns the then branch of an Fn::If whose else branch is
// AWS::NoValue, and v itself when it is no Fn::If.
func unwrapIf(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	args, ok := m["Fn::If"].([]any)
	if !ok {
		return v, nil
	}
	if len(args) != 3 || !isRef(args[2], "AWS::NoValue") {
		return nil, fmt.Errorf("Fn::If %v: want [condition, value, AWS::NoValue]", args)
	}
	return args[1], nil
}

// A function's environment holds only its secrets: Build accepts the
// absence of the others, and only the functions that need a missing secret
// refuse to start, naming it. A secret that is set but malformed is refused.
func TestBuildToleratesAbsentSecrets(t *testing.T) {
	full := testConfig("http://127.0.0.1:1")
	for name, tc := range map[string]struct {
		mutate func(*Config)
		down   map[string]string // function → the variable it names
	}{
		"no secret at all (docs, audit writer, event router...)": {func(c *Config) {
			c.JWTKeys, c.JWTActiveKid, c.PageKeys, c.PageActiveKid, c.CSRFKey, c.PublicBaseURL, c.Aiia.ClientSecret = "", "", "", "", "", "", ""
			c.DashboardKeys = ""
		}, map[string]string{"DashboardFunction": "MODUPAY_DASHBOARD_KEYS", "SandboxBankFunction": "MODUPAY_AIIA_CLIENT_SECRET_SECRET_ID", "AuthFunction": "MODUPAY_JWT_KEYS", "OrganizationsFunction": "MODUPAY_JWT_KEYS", "InvoicesFunction": "MODUPAY_JWT_KEYS",
			"WebhooksFunction": "MODUPAY_JWT_KEYS", "AuditFunction": "MODUPAY_JWT_KEYS", "PaymentOrdersFunction": "MODUPAY_JWT_KEYS",
			"PaymentsFunction": "MODUPAY_PAGE_KEYS", "CheckoutFunction": "MODUPAY_CSRF_KEY", "AiiaPollerFunction": "MODUPAY_PUBLIC_BASE_URL"}},
		"JWT keys only (auth)": {func(c *Config) { c.PageKeys, c.PageActiveKid, c.CSRFKey = "", "", "" },
			map[string]string{"PaymentsFunction": "MODUPAY_PAGE_KEYS", "CheckoutFunction": "MODUPAY_PAGE_KEYS"}},
		// The dashboard verifies no token: it runs without the JWT keys.
		"page, CSRF and dashboard keys only (checkout, dashboard)": {func(c *Config) { c.JWTKeys, c.JWTActiveKid = "", "" },
			map[string]string{"AuthFunction": "MODUPAY_JWT_KEYS", "OrganizationsFunction": "MODUPAY_JWT_KEYS", "InvoicesFunction": "MODUPAY_JWT_KEYS",
				"WebhooksFunction": "MODUPAY_JWT_KEYS", "AuditFunction": "MODUPAY_JWT_KEYS", "PaymentsFunction": "MODUPAY_JWT_KEYS",
				"PaymentOrdersFunction": "MODUPAY_JWT_KEYS"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := full
			tc.mutate(&cfg)
			app, err := Build(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			for id := range FunctionSecrets {
				_, err := app.Require(id)
				want, down := tc.down[id]
				switch {
				case down && err == nil:
					t.Errorf("%s starts without %s", id, want)
				case down && !strings.Contains(err.Error(), want):
					t.Errorf("%s: %v, want it to name %s", id, err, want)
				case !down && err != nil:
					t.Errorf("%s: %v", id, err)
				}
			}
		})
	}
	for name, mutate := range map[string]func(*Config){
		"page keys":      func(c *Config) { c.PageKeys = "p1:short" },
		"page kid":       func(c *Config) { c.PageActiveKid = "nope" },
		"csrf key":       func(c *Config) { c.CSRFKey = "c2hvcnQ=" },
		"csrf base64":    func(c *Config) { c.CSRFKey = "not base64!" },
		"dashboard keys": func(c *Config) { c.DashboardKeys = "d1:c2hvcnQ=" },
		"dashboard kid":  func(c *Config) { c.DashboardActiveKid = "nope" },
		"base url":       func(c *Config) { c.PublicBaseURL = "pay.example.test/p" },
	} {
		t.Run("malformed "+name, func(t *testing.T) {
			cfg := full
			mutate(&cfg)
			if _, err := Build(context.Background(), cfg); err == nil {
				t.Fatal("Build accepted a malformed secret")
			}
		})
	}
}

func sealer(t *testing.T, cfg Config) *pagetoken.Sealer {
	t.Helper()
	app, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return app.Flow.Tokens
}

// The JWT keys, the page keys and the CSRF key are independent: rotating
// the signing keys leaves page tokens openable and checkout forms valid;
// rotating the page ring keeps older tokens openable while their kid stays.
func TestKeysAreSeparate(t *testing.T) {
	ctx := context.Background()
	base := testConfig("http://127.0.0.1:1")
	keys := pagetoken.Keys{PartnerID: "ptn-1", OrgID: "org-1", LinkID: "pl-1", IntentID: "pi-1"}
	tok, err := sealer(t, base).Seal(keys)
	if err != nil {
		t.Fatal(err)
	}

	rotatedJWT := base
	rotatedJWT.JWTKeys, rotatedJWT.JWTActiveKid = otherJWT, "k2"
	if got, ok := sealer(t, rotatedJWT).Open(tok); !ok || got != keys {
		t.Errorf("after rotating the JWT keys the page token no longer opens: %+v %v", got, ok)
	}
	a1, err := Build(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := Build(ctx, rotatedJWT)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a1.csrfKey, a2.csrfKey) || len(a1.csrfKey) < 32 {
		t.Error("rotating the JWT keys changed the CSRF key: open checkout forms would be refused")
	}
	otherCSRF := base
	otherCSRF.CSRFKey = pageSecret2
	a3, err := Build(ctx, otherCSRF)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a1.csrfKey, a3.csrfKey) {
		t.Error("the CSRF key does not come from MODUPAY_CSRF_KEY")
	}

	// The page ring rotates on its own: p2 seals, p1 still opens.
	rotatedPage := base
	rotatedPage.PageKeys, rotatedPage.PageActiveKid = "p1:"+pageSecret1+",p2:"+pageSecret2, "p2"
	s := sealer(t, rotatedPage)
	if got, ok := s.Open(tok); !ok || got != keys {
		t.Errorf("a token of the previous page kid no longer opens: %+v %v", got, ok)
	}
	newTok, err := s.Seal(keys)
	if err != nil || !strings.HasPrefix(newTok, "p2.") {
		t.Fatalf("new token %q, %v: want sealed by p2", newTok, err)
	}
	a4, err := Build(ctx, rotatedPage)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a1.csrfKey, a4.csrfKey) {
		t.Error("rotating the page keys changed the CSRF key")
	}
	// The page keys are not derived from the JWT keys: a ring with the JWT
	// secret under the page kid opens nothing sealed by the real page key.
	jwtAsPage := base
	jwtAsPage.PageKeys = "p1:" + strings.TrimPrefix(base.JWTKeys, "k1:")
	if _, ok := sealer(t, jwtAsPage).Open(tok); ok {
		t.Error("a page token opens with the JWT secret")
	}
	// Dropping a page kid from the ring: its tokens no longer open (the
	// payment page then finds them through their lookup item).
	onlyNew := base
	onlyNew.PageKeys, onlyNew.PageActiveKid = "p2:"+pageSecret2, "p2"
	if _, ok := sealer(t, onlyNew).Open(tok); ok {
		t.Error("a token of a removed page kid still opens")
	}
}

// Deployed (MODUPAY_LOCAL unset), the functions that write payment page URLs
// refuse to start without MODUPAY_PUBLIC_BASE_URL: the URLs never follow the
// request's Host header. Only the local runtime may leave it empty.
func TestPageURLsNeedAPublicBaseURLWhenDeployed(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.PublicBaseURL = ""
	app, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for id := range FunctionSecrets {
		_, err := app.Require(id)
		if makesPageURLs[id] != (err != nil) {
			t.Errorf("%s without a public base URL, deployed: %v", id, err)
		}
		if err != nil && !strings.Contains(err.Error(), "MODUPAY_PUBLIC_BASE_URL") {
			t.Errorf("%s: %v, want it to name MODUPAY_PUBLIC_BASE_URL", id, err)
		}
	}
	cfg.Local = true
	if app, err = Build(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	for id := range makesPageURLs {
		if _, err := app.Require(id); err != nil {
			t.Errorf("%s locally: %v", id, err)
		}
	}
	// An http base URL is the operator's choice (the local gateway's own).
	cfg.PublicBaseURL = "http://127.0.0.1:3000"
	if _, err := Build(context.Background(), cfg); err != nil {
		t.Errorf("local http base URL: %v", err)
	}
	if ConfigFromEnv().Local {
		t.Error("MODUPAY_LOCAL is set in the test's environment")
	}
	t.Setenv("MODUPAY_LOCAL", "1")
	if !ConfigFromEnv().Local {
		t.Error("MODUPAY_LOCAL=1 is not read")
	}
}

// Webhook endpoints on loopback are accepted only by the local runtime in
// the sandbox stage: a deployed sandbox refuses them, as production does.
func TestLoopbackWebhooksOnlyLocally(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		stage string
		local bool
		want  bool
	}{
		{"sandbox", true, true},
		{"sandbox", false, false},
		{"production", true, false},
		{"production", false, false},
	} {
		cfg := Config{Stage: tc.stage, Local: tc.local}
		p := webhookPolicy(cfg)
		_, err := p.CheckURL(ctx, nil, "http://127.0.0.1:8080/hooks")
		if got := err == nil; got != tc.want {
			t.Errorf("stage %s, local %v: loopback accepted %v, want %v (%v)", tc.stage, tc.local, got, tc.want, err)
		}
		for _, raw := range []string{"http://169.254.169.254/latest/meta-data", "https://169.254.169.254/"} {
			if _, err := p.CheckURL(ctx, nil, raw); err == nil {
				t.Errorf("stage %s, local %v: link-local %s accepted", tc.stage, tc.local, raw)
			}
		}
	}
}

// infra/sam/env.json, for `sam local`, follows the deployed rules: secret
// ids, never values (SAM CLI would drop them: the template declares none),
// and only the ids of the secrets each function uses.
func TestSAMEnvHoldsNoSecretValue(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "infra", "sam", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	for fn, vars := range env {
		uses, ok := FunctionSecrets[fn]
		if !ok {
			t.Errorf("env.json: %s is not a function of the template", fn)
		}
		for _, s := range Secrets {
			if _, ok := vars[string(s)]; ok {
				t.Errorf("env.json: %s sets %s: a value, where the template declares only its id", fn, s)
			}
			if _, ok := vars[s.IDVariable()]; ok && !slices.Contains(uses, s) {
				t.Errorf("env.json: %s gets %s, which it does not use", fn, s.IDVariable())
			}
		}
	}
}

// Production does not start a function that calls Aiia without Aiia's
// settings and the client's key (it would answer 500 at the first payment),
// nor with a client secret alone: the provider authenticates clients by
// private_key_jwt, nor with destinations by api (the provider has no POST
// /destinations: an operator records their ids). The sandbox does (a stage
// without an Aiia account), and so do the functions that never call Aiia.
// A key that does not parse stops whoever holds it, and so does a
// destinations setting that is neither api nor operator.
func TestProductionNeedsAiia(t *testing.T) {
	aiiaFns := map[string]bool{"CheckoutFunction": true, "AiiaPollerFunction": true}
	_, key, err := aiia.NewClientKey("modupay", aiia.MinKeyBits, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const badKey = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
	// The sandbox bank never runs in production, and accepts only the
	// stack's own client, so it needs the id and a key or a secret in the
	// sandbox.
	bankDown := func(stage, id, key, secret string) string {
		switch {
		case stage == "production":
			return "does not run in production"
		case id == "" || (key == "" && secret == ""):
			return "accepts the stack's own Aiia client"
		case key == badKey:
			return "does not parse"
		}
		return ""
	}
	for name, tc := range map[string]struct {
		stage, base, id, key, secret string
		down                         string // what the Aiia functions' refusal says; "" = they start
		destinations                 string // MODUPAY_AIIA_DESTINATIONS
	}{
		"production without Aiia":           {"production", "", "", "", "", "Aiia is not configured for production", ""},
		"production with a secret, no key":  {"production", "https://aiia.example.test", "modupay", "", "s3cret", "Aiia is not configured for production", ""},
		"production without the id":         {"production", "https://aiia.example.test", "", key, "", "Aiia is not configured for production", ""},
		"production with a key that breaks": {"production", "https://aiia.example.test", "modupay", badKey, "", "does not parse", ""},
		"production with its key":           {"production", "https://aiia.example.test", "modupay", key, "", "", ""},
		"sandbox without Aiia":              {"sandbox", "", "", "", "", "", ""},
		"sandbox with a secret":             {"sandbox", "", "modupay-sandbox", "", "s3cret", "", ""},
		"sandbox with a key that breaks":    {"sandbox", "", "modupay-sandbox", badKey, "", "does not parse", ""},
		"production with destinations by api": {"production", "https://aiia.example.test", "modupay", key, "",
			"MODUPAY_AIIA_DESTINATIONS=api is refused in production", "api"},
		"production with destinations by operator": {"production", "https://aiia.example.test", "modupay", key, "", "", "operator"},
		"production with destinations misspelt":    {"production", "https://aiia.example.test", "modupay", key, "", "must be api or operator", "Operator"},
		"sandbox with destinations by api":         {"sandbox", "", "modupay-sandbox", "", "s3cret", "", "api"},
		"sandbox with destinations by operator":    {"sandbox", "", "modupay-sandbox", "", "s3cret", "", "operator"},
		"sandbox with destinations misspelt":       {"sandbox", "", "modupay-sandbox", "", "s3cret", "must be api or operator", "automatic"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			cfg.Stage, cfg.Aiia.BaseURL, cfg.Aiia.ClientID, cfg.Aiia.ClientKey, cfg.Aiia.ClientSecret = tc.stage, tc.base, tc.id, tc.key, tc.secret
			cfg.AiiaDestinations = tc.destinations
			app, err := Build(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for id := range FunctionSecrets {
				_, err := app.Require(id)
				if id == "SandboxBankFunction" {
					if want := bankDown(tc.stage, tc.id, tc.key, tc.secret); (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
						t.Errorf("%s: %v, want %q", id, err, want)
					}
					continue
				}
				switch {
				case aiiaFns[id] && tc.down != "" && (err == nil || !strings.Contains(err.Error(), tc.down)):
					t.Errorf("%s: %v, want it refused: %s", id, err, tc.down)
				case (!aiiaFns[id] || tc.down == "") && err != nil:
					t.Errorf("%s: %v", id, err)
				}
			}
			if strings.Contains(fmt.Sprint(app.Require("CheckoutFunction")), "BEGIN") {
				t.Error("a refusal quotes the key")
			}
			// The flow asks the bank for destinations only where api is
			// chosen, or is the default (a sandbox without the setting).
			_, api := app.Flow.Bank.(aiiabank.Bank).Onboarding.(aiiabank.APIDestinations)
			if want := tc.stage == "sandbox" && (tc.destinations == "" || tc.destinations == "api"); api != want {
				t.Errorf("destinations by POST /destinations: %v, want %v", api, want)
			}
		})
	}
}
