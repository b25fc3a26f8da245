package e2e

import (
	"context"
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
	env := map[string]string{
		"AWS_REGION": stack.Region(), "AWS_ACCESS_KEY_ID": stack.LocalAccessKeyID, "AWS_SECRET_ACCESS_KEY": stack.LocalSecretAccessKey,
		"MODUPAY_STAGE": st.Config.Stage, "MODUPAY_TABLE": st.Config.Table, "MODUPAY_AUDIT_QUEUE_URL": st.Config.AuditQueueURL,
		"MODUPAY_AIIA_POLL_QUEUE_URL": st.Config.AiiaPollQueueURL, "MODUPAY_WEBHOOK_QUEUE_URL": st.Config.WebhookQueueURL,
		"MODUPAY_PUBLIC_BASE_URL":   "https://pay.example.test",
		"MODUPAY_DYNAMODB_ENDPOINT": st.Config.DynamoDBEndpoint, "MODUPAY_SQS_ENDPOINT": endpoint,
		"MODUPAY_SECRETSMANAGER_ENDPOINT": endpoint,
		"MODUPAY_JWT_KEYS_SECRET_ID":      prefix + "/jwt-keys", "MODUPAY_JWT_ACTIVE_KID": stacktest.JWTActiveKid,
		"MODUPAY_PAGE_KEYS_SECRET_ID": prefix + "/page-keys", "MODUPAY_PAGE_ACTIVE_KID": stacktest.PageActiveKid,
		"MODUPAY_LOCAL": "",
	}
	for _, s := range wiring.Secrets {
		env[string(s)] = "" // no value in the environment
		if _, ok := env[s.IDVariable()]; !ok {
			env[s.IDVariable()] = ""
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}

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
