package wiring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// IDVariable is the variable naming the Secrets Manager secret that holds
// s: MODUPAY_JWT_KEYS_SECRET_ID for MODUPAY_JWT_KEYS. Deployed, the template
// sets only these, so a function's configuration shows where its secrets
// are, never their values.
func (s Secret) IDVariable() string { return string(s) + "_SECRET_ID" }

// SecretFetchTimeout bounds the fetch of a function's secrets at init: the
// calls run concurrently, so it is the wait for the slowest one. An init
// that cannot get its secrets fails, and Lambda retries it on the next event.
const SecretFetchTimeout = 3 * time.Second

// SecretGetter is the one Secrets Manager operation init uses.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// NewSecretsManager builds the Secrets Manager client from the functions'
// aws.Config, pointed at a local endpoint when endpoint is set.
func NewSecretsManager(awsCfg aws.Config, endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(awsCfg, func(opt *secretsmanager.Options) {
		if endpoint != "" {
			opt.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// secretField is where a secret's value goes in the configuration.
func (c *Config) secretField(s Secret) *string {
	switch s {
	case SecretJWTKeys:
		return &c.JWTKeys
	case SecretPageKeys:
		return &c.PageKeys
	case SecretCSRFKey:
		return &c.CSRFKey
	case SecretAiiaClient:
		return &c.Aiia.ClientSecret
	}
	return nil
}

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

// ResolveSecrets returns cfg with each secret filled in. A secret whose
// value is set (MODUPAY_JWT_KEYS...: the local runtime, tests, `sam local`)
// is used as it is; the template never sets one. Otherwise, when its
// MODUPAY_<NAME>_SECRET_ID is set, its value is fetched from Secrets
// Manager: every such secret of the function at once, one GetSecretValue
// each, within SecretFetchTimeout. A secret with neither stays empty, and
// Build makes the functions that need it unavailable, naming it.
//
// A failed fetch is an error naming the variable and the secret id, never
// a value. sm may be nil when nothing is to be fetched.
func ResolveSecrets(ctx context.Context, cfg Config, sm SecretGetter) (Config, error) {
	type fetched struct {
		secret Secret
		value  string
		err    error
	}
	var todo []Secret
	for _, s := range Secrets {
		if *cfg.secretField(s) == "" && cfg.SecretIDs[s] != "" {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return cfg, nil
	}
	if sm == nil {
		return cfg, errors.New("wiring: secrets to fetch but no Secrets Manager client")
	}
	ctx, cancel := context.WithTimeout(ctx, SecretFetchTimeout)
	defer cancel()
	results := make([]fetched, len(todo))
	var wg sync.WaitGroup
	for i, s := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := fetchSecret(ctx, sm, cfg.SecretIDs[s])
			results[i] = fetched{secret: s, value: v, err: err}
		}()
	}
	wg.Wait()
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("wiring: %s: secret %q (from %s): %w", r.secret, cfg.SecretIDs[r.secret], r.secret.IDVariable(), r.err))
			continue
		}
		*cfg.secretField(r.secret) = r.value
	}
	return cfg, errors.Join(errs...)
}

// fetchSecret returns the secret's current string value, trimmed (a secret
// created from a file often ends with a newline). Its errors never carry
// the value.
func fetchSecret(ctx context.Context, sm SecretGetter, id string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("GetSecretValue: %w", err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	if v == "" {
		return "", errors.New("no string value (a binary or empty secret)")
	}
	return v, nil
}
