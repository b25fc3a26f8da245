package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// configFrom reads env as ConfigFromEnv reads the process environment.
func configFrom(env map[string]string) wiring.Config {
	for k, v := range env {
		os.Setenv(k, v)
	}
	defer func() {
		for k := range env {
			os.Unsetenv(k)
		}
	}()
	return wiring.ConfigFromEnv()
}

func TestLocalEnvironment(t *testing.T) {
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := &stack.Resources{Prefix: "modupay-local", Region: "eu-west-3", AccountID: stack.LocalAccountID, ByID: map[string]stack.Physical{}}
	for _, r := range tpl.ResourcesOfType("AWS::SQS::Queue") {
		res.ByID[r.LogicalID] = stack.Physical{Name: "modupay-local-" + r.LogicalID, URL: "http://q/" + r.LogicalID, ARN: "arn:" + r.LogicalID}
	}
	res.ByID["Table"] = stack.Physical{Name: "modupay-local-Table"}
	res.ByID["SandboxBankTable"] = stack.Physical{Name: "modupay-local-SandboxBankTable"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// No keys in the environment: the local key signs.
	t.Setenv("MODUPAY_JWT_KEYS", "")
	t.Setenv("MODUPAY_JWT_ACTIVE_KID", "")
	t.Setenv("MODUPAY_PUBLIC_BASE_URL", "http://localhost:3000")
	params, secrets := localParams(log, tpl, "http://d", "http://s", map[string]string{"Stage": "production"})
	env, err := localEnvironment(tpl, res, params, secrets, "http://d", "http://s")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"MODUPAY_STAGE":             "production", // -param wins
		"MODUPAY_TABLE":             "modupay-local-Table",
		"MODUPAY_AUDIT_QUEUE_URL":   "http://q/AuditQueue",
		"MODUPAY_JWT_KEYS":          LocalJWTKeys,
		"MODUPAY_JWT_ACTIVE_KID":    LocalJWTKid,
		"MODUPAY_PUBLIC_BASE_URL":   "http://localhost:3000", // from the process environment
		"MODUPAY_DYNAMODB_ENDPOINT": "http://d",
		"MODUPAY_SQS_ENDPOINT":      "http://s",
		"AWS_ACCESS_KEY_ID":         stack.LocalAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     stack.LocalSecretAccessKey,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	// The page and CSRF keys are generated, distinct from the JWT key and
	// from one run to the next; MODUPAY_LOCAL marks the local runtime.
	if env["MODUPAY_LOCAL"] != "1" {
		t.Errorf("MODUPAY_LOCAL = %q, want 1", env["MODUPAY_LOCAL"])
	}
	if !strings.HasPrefix(env["MODUPAY_PAGE_KEYS"], LocalPageKid+":") || env["MODUPAY_PAGE_ACTIVE_KID"] != LocalPageKid || len(env["MODUPAY_CSRF_KEY"]) < 43 {
		t.Errorf("page keys %q (kid %q), CSRF key %q", env["MODUPAY_PAGE_KEYS"], env["MODUPAY_PAGE_ACTIVE_KID"], env["MODUPAY_CSRF_KEY"])
	}
	if _, again := localParams(log, tpl, "http://d", "http://s", nil); again["MODUPAY_PAGE_KEYS"] == env["MODUPAY_PAGE_KEYS"] || again["MODUPAY_CSRF_KEY"] == env["MODUPAY_CSRF_KEY"] {
		t.Error("the local page and CSRF keys are the same on every run")
	}
	// Locally the values are set and no secret is fetched: no secret id.
	for _, s := range wiring.Secrets {
		if id, ok := env[s.IDVariable()]; ok {
			t.Errorf("%s = %q in the local environment", s.IDVariable(), id)
		}
	}
	if _, err := wiring.Build(context.Background(), configFrom(env)); err != nil {
		t.Errorf("the local environment does not build: %v", err)
	}

	// Keys in the environment are used as they are.
	t.Setenv("MODUPAY_JWT_KEYS", "k9:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")
	t.Setenv("MODUPAY_JWT_ACTIVE_KID", "k9")
	params, secrets = localParams(log, tpl, "http://d", "http://s", nil)
	env, err = localEnvironment(tpl, res, params, secrets, "http://d", "http://s")
	if err != nil {
		t.Fatal(err)
	}
	if env["MODUPAY_JWT_ACTIVE_KID"] != "k9" || env["MODUPAY_JWT_KEYS"] != "k9:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=" || env["MODUPAY_STAGE"] != "sandbox" {
		t.Errorf("env = %v", env)
	}

	// The Aiia the process names (make run: its local sandbox, which `run`
	// always sets) is the one the app uses, though the template's value is
	// a condition on it (deployed, the sandbox stage's own bank).
	for _, tc := range []struct{ set, want string }{
		{"http://127.0.0.1:3001", "http://127.0.0.1:3001"},
	} {
		t.Setenv("MODUPAY_AIIA_BASE_URL", tc.set)
		params, secrets = localParams(log, tpl, "http://d", "http://s", nil)
		if env, err = localEnvironment(tpl, res, params, secrets, "http://d", "http://s"); err != nil {
			t.Fatal(err)
		}
		if got := env["MODUPAY_AIIA_BASE_URL"]; got != tc.want {
			t.Errorf("MODUPAY_AIIA_BASE_URL %q in the process: the app uses %q, want %q", tc.set, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote(`{"a":"it's"}`); got != `'{"a":"it'\''s"}'` {
		t.Errorf("shellQuote = %s", got)
	}
}
