package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/modupay/modupay/infra/engines"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// LocalJWTKeys is the token signing key used when MODUPAY_JWT_KEYS is unset.
// It is public (it is in this file), so tokens it signs prove nothing outside
// this machine: local development only.
const (
	LocalJWTKid  = "local-1"
	LocalJWTKeys = LocalJWTKid + ":bW9kdXBheS1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LW5vdC1hLXNlY3JldA=="
)

// LocalPageKid is the kid of the page token key generated for a local run.
const LocalPageKid = "local-page-1"

// LocalDashboardKid is the kid of the dashboard session key generated for a
// local run.
const LocalDashboardKid = "local-dashboard-1"

// randomKey is a fresh 32-byte key in base64.
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(b)
}

// Demo partner seeded by run and invoke, so the sample events and the
// printed curl work out of the box.
const (
	demoPartnerID     = "partner-demo"
	demoPartnerName   = "Demo Partner"
	defaultDemoClient = "demo-partner"
	defaultDemoSecret = "demo-partner-secret-change-me"
)

// useEngines returns the engines to run on: the ones at the given endpoints
// when both answer (e is nil then: nothing to stop), else new ones started
// with opts, which the caller stops.
func useEngines(ctx context.Context, log *slog.Logger, dynamoEP, sqsEP string, opts engines.Options) (e *engines.Engines, dynamo, sqs string, err error) {
	if dynamoEP != "" || sqsEP != "" {
		if engines.Running(dynamoEP, sqsEP) {
			log.Info("reusing running engines", "dynamodb", dynamoEP, "sqs", sqsEP)
			return nil, dynamoEP, sqsEP, nil
		}
		log.Warn("engine endpoints given but not answering; starting engines", "dynamodb", dynamoEP, "sqs", sqsEP)
	}
	log.Info("starting engines (DynamoDB Local, moto SQS)")
	e, err = engines.Start(ctx, opts)
	if err != nil {
		return nil, "", "", err
	}
	return e, e.DynamoDBEndpoint, e.SQSEndpoint, nil
}

// localParams computes the template parameter values, from (highest first)
// -param flags, the local runtime's own values (engine endpoints, the active
// kids of the local keys) and the process environment, for parameters bound
// to a variable of the template; the others keep their defaults. It also
// returns the secrets' values (see localSecrets), which no parameter carries:
// deployed, the template names Secrets Manager secrets instead.
func localParams(log *slog.Logger, tpl *stack.Template, dynamoEP, sqsEP string, flags map[string]string) (params, secrets map[string]string) {
	local := map[string]string{
		"MODUPAY_DYNAMODB_ENDPOINT": dynamoEP,
		"MODUPAY_SQS_ENDPOINT":      sqsEP,
	}
	secrets = localSecrets(log, local)
	// The secret ids only satisfy the template: localEnvironment drops them,
	// the values being set.
	for _, s := range wiring.Secrets {
		local[s.IDVariable()] = "modupay/local/" + strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(s), "MODUPAY_")), "_", "-")
	}
	params = map[string]string{}
	vars, err := tpl.Environment()
	if err != nil {
		log.Warn("template environment", "error", err.Error())
	}
	for name, v := range vars {
		// The parameter a variable is bound to: its value, or the one
		// parameter it refers to (MODUPAY_AIIA_BASE_URL is !If [UseSandboxBank,
		// PublicBaseURL + /sandbox-bank, !Ref AiiaBaseURL]: a local Aiia URL in
		// the environment sets AiiaBaseURL, and the condition follows).
		refs := tpl.ParamRefs(v)
		if len(refs) != 1 {
			continue
		}
		ref := refs[0]
		if val, ok := local[name]; ok {
			params[ref] = val
		} else if val := os.Getenv(name); val != "" {
			params[ref] = val
		}
	}
	for k, v := range flags {
		params[k] = v
	}
	return params, secrets
}

// localSecrets are the secrets' values for a local run: those of the process
// environment, else a fixed local JWT key and fresh page, CSRF and
// dashboard keys. The
// active kids of the local keys go into local (they are template parameters).
func localSecrets(log *slog.Logger, local map[string]string) map[string]string {
	secrets := map[string]string{}
	for _, s := range wiring.Secrets {
		if v := os.Getenv(string(s)); v != "" {
			secrets[string(s)] = v
		}
	}
	if secrets[string(wiring.SecretJWTKeys)] == "" {
		secrets[string(wiring.SecretJWTKeys)] = LocalJWTKeys
		local["MODUPAY_JWT_ACTIVE_KID"] = LocalJWTKid
		if os.Getenv("MODUPAY_JWT_ACTIVE_KID") != "" {
			log.Warn("MODUPAY_JWT_ACTIVE_KID ignored: MODUPAY_JWT_KEYS is unset, so the local key " + LocalJWTKid + " signs")
		}
	}
	// The page token keys and the CSRF key are fresh for each run: the
	// local table is in memory, so no page outlives the run.
	if secrets[string(wiring.SecretPageKeys)] == "" {
		secrets[string(wiring.SecretPageKeys)] = LocalPageKid + ":" + randomKey()
		local["MODUPAY_PAGE_ACTIVE_KID"] = LocalPageKid
	}
	if secrets[string(wiring.SecretCSRFKey)] == "" {
		secrets[string(wiring.SecretCSRFKey)] = randomKey()
	}
	// So is the dashboard's session key: a restart signs everyone out.
	if secrets[string(wiring.SecretDashboardKeys)] == "" {
		secrets[string(wiring.SecretDashboardKeys)] = LocalDashboardKid + ":" + randomKey()
		local["MODUPAY_DASHBOARD_ACTIVE_KID"] = LocalDashboardKid
	}
	return secrets
}

// localEnvironment is the functions' environment: the template's Globals and
// functions' variables resolved against the provisioned resources and params,
// the secrets' values instead of their Secrets Manager ids, plus the engine
// endpoints, AWS_REGION and local credentials.
func localEnvironment(tpl *stack.Template, res *stack.Resources, params, secrets map[string]string, dynamoEP, sqsEP string) (map[string]string, error) {
	env, err := res.Env(tpl, params)
	if err != nil {
		return nil, err
	}
	for _, s := range wiring.Secrets {
		delete(env, s.IDVariable())
	}
	for k, v := range secrets {
		env[k] = v
	}
	// Whatever the template declares, the shared code finds the engines here.
	env["MODUPAY_DYNAMODB_ENDPOINT"] = dynamoEP
	env["MODUPAY_SQS_ENDPOINT"] = sqsEP
	env["AWS_REGION"] = stack.Region()
	env["AWS_ACCESS_KEY_ID"] = stack.LocalAccessKeyID
	env["AWS_SECRET_ACCESS_KEY"] = stack.LocalSecretAccessKey
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	// Set only here, never by the template: page URLs may follow the
	// gateway's origin and webhook receivers may be on this machine.
	env["MODUPAY_LOCAL"] = "1"
	// The archive bucket has no local counterpart (the template's variable
	// resolves to nothing here): the audit writer archives into a directory.
	env["MODUPAY_AUDIT_ARCHIVE_DIR"] = LocalArchiveDir()
	// Nor the documents bucket: the invoices function keeps issued
	// invoices' documents in a directory.
	env["MODUPAY_DOCUMENTS_DIR"] = LocalDocumentsDir()
	return env, nil
}

// applyEnvironment sets the process environment the functions read.
func applyEnvironment(env map[string]string) error {
	// A session token from the developer's shell would go with the local keys.
	if err := os.Unsetenv("AWS_SESSION_TOKEN"); err != nil {
		return err
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// prepare provisions the template on the engines and sets the environment.
func prepare(ctx context.Context, log *slog.Logger, tpl *stack.Template, dynamoEP, sqsEP, prefix string, flags map[string]string) (*stack.Resources, error) {
	params, secrets := localParams(log, tpl, dynamoEP, sqsEP, flags)
	res, err := stack.Provision(ctx, dynamoEP, sqsEP, prefix, tpl, params)
	if err != nil {
		return nil, err
	}
	env, err := localEnvironment(tpl, res, params, secrets, dynamoEP, sqsEP)
	if err != nil {
		return nil, err
	}
	if err := applyEnvironment(env); err != nil {
		return nil, err
	}
	return res, nil
}

// LocalArchiveDir is where the local runtime's audit writer archives change
// entries: MODUPAY_AUDIT_ARCHIVE_DIR, else modupay-local/audit-archive in the
// temporary directory. Entries are keyed by their event ids, so the runs
// that share it never overwrite one another.
func LocalArchiveDir() string {
	if d := os.Getenv("MODUPAY_AUDIT_ARCHIVE_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "modupay-local", "audit-archive")
}

// LocalDocumentsDir is where the local runtime keeps issued invoices'
// documents: MODUPAY_DOCUMENTS_DIR, else modupay-local/documents in the
// temporary directory. Documents are keyed by their invoices' ids, so the
// runs that share it never overwrite one another.
func LocalDocumentsDir() string {
	if d := os.Getenv("MODUPAY_DOCUMENTS_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "modupay-local", "documents")
}
