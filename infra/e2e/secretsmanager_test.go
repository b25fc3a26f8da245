package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/wiring"
)

// A deployed function's configuration names its secrets and holds none:
// init fetches them from Secrets Manager (here moto's, on the engines' SQS
// endpoint, which serves every moto service) with the same aws.Config as the
// other clients. The payments function, given only the ids of the JWT and
// page keys, signs tokens and seals page tokens that the stack's keys
// verify and open; a missing secret fails init naming its id, no value.
func TestSecretsComeFromSecretsManager(t *testing.T) {
	st := stacktest.New(t)
	ctx := context.Background()
	endpoint := st.Config.SQSEndpoint

	awsCfg, err := wiring.AWSConfig(ctx, stack.Region(), true)
	if err != nil {
		t.Fatal(err)
	}
	sm := wiring.NewSecretsManager(awsCfg, endpoint)
	prefix := "modupay/" + st.Resources.Prefix
	for name, value := range map[string]string{"jwt-keys": stacktest.JWTKeys, "page-keys": stacktest.PageKeys + "\n"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + "/" + name), SecretString: aws.String(value)}); err != nil {
			t.Fatalf("create secret %s (moto's Secrets Manager): %v", name, err)
		}
	}

	// The environment the template gives PaymentsFunction, deployed: ids
	// and kids, no value.
	setDeployedEnv(t, st, map[string]string{
		"MODUPAY_JWT_KEYS_SECRET_ID": prefix + "/jwt-keys", "MODUPAY_JWT_ACTIVE_KID": stacktest.JWTActiveKid,
		"MODUPAY_PAGE_KEYS_SECRET_ID": prefix + "/page-keys", "MODUPAY_PAGE_ACTIVE_KID": stacktest.PageActiveKid,
		// Where a confirmed refund's credit note is kept (the bucket,
		// deployed): not a secret.
		"MODUPAY_DOCUMENTS_DIR": t.TempDir(),
	})

	start := time.Now()
	app, err := wiring.Load(ctx)
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	t.Logf("init with two secrets fetched: %v", time.Since(start))
	if _, err := app.Require("PaymentsFunction"); err != nil {
		t.Fatalf("PaymentsFunction: %v", err)
	}
	// The CSRF key's id is not in this environment: only checkout needs it.
	if _, err := app.Require("CheckoutFunction"); err == nil || !strings.Contains(err.Error(), "MODUPAY_CSRF_KEY") {
		t.Errorf("CheckoutFunction without its CSRF key: %v", err)
	}

	// A token issued with the fetched keys verifies with the stack's.
	tok, _, err := app.Credentials.Issuer.Issue(auth.Principal{ClientID: "c-1", PartnerID: "ptn-1", Scope: auth.ScopePartner})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := auth.ParseKeyring(stacktest.JWTKeys, stacktest.JWTActiveKid)
	if err != nil {
		t.Fatal(err)
	}
	v := &auth.Verifier{Keys: ring, Issuer: "modupay-sandbox", Audience: "modupay-api", Now: time.Now}
	if p, err := v.Verify(tok); err != nil || p.PartnerID != "ptn-1" {
		t.Errorf("token signed with the fetched keys: %+v, %v", p, err)
	}
	// A page token sealed with the fetched page keys opens with the stack's.
	keys := pagetoken.Keys{PartnerID: "ptn-1", OrgID: "org-1", LinkID: "pl-1", IntentID: "pi-1"}
	sealed, err := app.Flow.Tokens.Seal(keys)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := wiring.Build(ctx, st.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := plain.Flow.Tokens.Open(sealed); !ok || got != keys {
		t.Errorf("page token sealed with the fetched keys: %+v, %v", got, ok)
	}

	// A secret that does not exist: init fails naming its id, and no value.
	t.Setenv("MODUPAY_PAGE_KEYS_SECRET_ID", prefix+"/no-such-secret")
	_, err = wiring.Load(ctx)
	if err == nil {
		t.Fatal("init succeeded without its page keys")
	}
	if msg := err.Error(); !strings.Contains(msg, prefix+"/no-such-secret") || !strings.Contains(msg, "MODUPAY_PAGE_KEYS") ||
		strings.Contains(msg, strings.TrimPrefix(stacktest.JWTKeys, stacktest.JWTActiveKid+":")) {
		t.Errorf("init error %q: want the id and the variable, no value", msg)
	}
}

// A key ring rotated in Secrets Manager is in use without a redeploy: a
// container reads its secret again once its copy is older than
// MODUPAY_SECRETS_TTL. The first entry of the ring signs; a key added
// after it only verifies. Rotation: add the new key first (it signs after
// one cache time, the old one still verifies), then drop the old one (its
// tokens are refused after one more). A value that cannot be read or
// parsed leaves the last good ring in use.
func TestKeysRotateWithoutRedeploy(t *testing.T) {
	st := stacktest.New(t)
	ctx := context.Background()
	endpoint := st.Config.SQSEndpoint
	awsCfg, err := wiring.AWSConfig(ctx, stack.Region(), true)
	if err != nil {
		t.Fatal(err)
	}
	sm := wiring.NewSecretsManager(awsCfg, endpoint)
	id := "modupay/" + st.Resources.Prefix + "/jwt-keys"
	k1 := "k1:" + base64.StdEncoding.EncodeToString([]byte("rotation-test-key-one-32-bytes!!"))
	k2 := "k2:" + base64.StdEncoding.EncodeToString([]byte("rotation-test-key-two-32-bytes!!"))
	put := func(v string) {
		t.Helper()
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: aws.String(k1)}); err != nil {
		t.Fatal(err)
	}
	// As the template gives it: the secret's id, no active kid.
	setDeployedEnv(t, st, map[string]string{"MODUPAY_JWT_KEYS_SECRET_ID": id, "MODUPAY_JWT_ACTIVE_KID": "", "MODUPAY_SECRETS_TTL": "5m"})
	clock := stacktest.NewClock(time.Now().UTC())
	app, err := wiring.Load(ctx, wiring.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	issuer := app.Credentials.Issuer
	verifier := &auth.Verifier{Keys: issuer.Keys, Issuer: "modupay-sandbox", Audience: "modupay-api", Now: clock.Now}
	issue := func() (token, kid string) {
		t.Helper()
		tok, _, err := issuer.Issue(auth.Principal{ClientID: "c-1", PartnerID: "ptn-1", Scope: auth.ScopePartner})
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(tok, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(head)
		var h struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(raw, &h)
		return tok, h.Kid
	}
	verifies := func(tok string) bool { _, err := verifier.Verify(tok); return err == nil }

	old, kid := issue()
	if kid != "k1" {
		t.Fatalf("signed with %q, want k1", kid)
	}
	put(k2 + "," + k1) // the new key first: it signs from the next refresh on
	if _, kid = issue(); kid != "k1" {
		t.Errorf("within the cache time: signed with %q, want still k1", kid)
	}
	clock.Advance(5*time.Minute + time.Second)
	newer, kid := issue()
	if kid != "k2" || !verifies(old) || !verifies(newer) {
		t.Errorf("after the cache time: signed with %q; old token verifies %v, new %v", kid, verifies(old), verifies(newer))
	}
	put(k2) // the old key dropped
	clock.Advance(5*time.Minute + time.Second)
	if verifies(old) || !verifies(newer) {
		t.Errorf("after dropping k1: old token verifies %v (want false), new %v", verifies(old), verifies(newer))
	}
	put("not a key ring") // a broken value is not installed
	clock.Advance(5*time.Minute + time.Second)
	if tok, kid := issue(); kid != "k2" || !verifies(tok) || !verifies(newer) {
		t.Errorf("after a broken value: signed with %q; verifies %v", kid, verifies(tok))
	}
}

// setDeployedEnv gives the process the environment the template gives a
// deployed function of st's stack: secret ids (vars), never values.
func setDeployedEnv(t *testing.T, st *stacktest.Stack, vars map[string]string) {
	t.Helper()
	env := map[string]string{
		"AWS_REGION": stack.Region(), "AWS_ACCESS_KEY_ID": stack.LocalAccessKeyID, "AWS_SECRET_ACCESS_KEY": stack.LocalSecretAccessKey,
		"MODUPAY_STAGE": st.Config.Stage, "MODUPAY_TABLE": st.Config.Table, "MODUPAY_AUDIT_QUEUE_URL": st.Config.AuditQueueURL,
		"MODUPAY_AIIA_POLL_QUEUE_URL": st.Config.AiiaPollQueueURL, "MODUPAY_WEBHOOK_QUEUE_URL": st.Config.WebhookQueueURL,
		"MODUPAY_PUBLIC_BASE_URL":   "https://pay.example.test",
		"MODUPAY_DYNAMODB_ENDPOINT": st.Config.DynamoDBEndpoint, "MODUPAY_SQS_ENDPOINT": st.Config.SQSEndpoint,
		"MODUPAY_SECRETSMANAGER_ENDPOINT": st.Config.SQSEndpoint, "MODUPAY_LOCAL": "",
	}
	for _, s := range wiring.Secrets {
		env[string(s)] = "" // no value in the environment
		env[s.IDVariable()] = ""
	}
	for k, v := range vars {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}
