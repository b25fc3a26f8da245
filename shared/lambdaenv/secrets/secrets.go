// Package secrets fetches a function's secrets from Secrets Manager at init.
// Only the functions that hold a secret link it (see lambdaenv.FunctionSecrets).
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modupay/modupay/shared/lambdaenv"
)

// FetchTimeout bounds the fetch of a function's secrets at init: the
// calls run concurrently, so it is the wait for the slowest one. An init
// that cannot get its secrets fails, and Lambda retries it on the next event.
const FetchTimeout = 3 * time.Second

// Getter is the one Secrets Manager operation init uses.
type Getter interface {
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

// FromSecretsManager is the lambdaenv.Resolve of the functions that hold
// secrets: Resolve with a Secrets Manager client built from awsCfg, only
// when there is something to fetch.
func FromSecretsManager(ctx context.Context, cfg lambdaenv.Config, awsCfg *aws.Config) (lambdaenv.Config, error) {
	if len(toFetch(cfg)) == 0 {
		return cfg, nil
	}
	return Resolve(ctx, cfg, NewSecretsManager(*awsCfg, cfg.SecretsManagerEndpoint))
}

func toFetch(cfg lambdaenv.Config) []lambdaenv.Secret {
	var todo []lambdaenv.Secret
	for _, s := range lambdaenv.Secrets {
		if *cfg.SecretField(s) == "" && cfg.SecretIDs[s] != "" {
			todo = append(todo, s)
		}
	}
	return todo
}

// Resolve returns cfg with each secret filled in. A secret whose
// value is set (MODUPAY_JWT_KEYS...: the local runtime, tests, `sam local`)
// is used as it is; the template never sets one. Otherwise, when its
// MODUPAY_<NAME>_SECRET_ID is set, its value is fetched from Secrets
// Manager: every such secret of the function at once, one GetSecretValue
// each, within FetchTimeout. A secret with neither stays empty, and
// the functions that need it are unavailable, naming it.
//
// A failed fetch is an error naming the variable and the secret id, never
// a value. sm may be nil when nothing is to be fetched.
func Resolve(ctx context.Context, cfg lambdaenv.Config, sm Getter) (lambdaenv.Config, error) {
	type fetched struct {
		secret lambdaenv.Secret
		value  string
		err    error
	}
	todo := toFetch(cfg)
	if len(todo) == 0 {
		return cfg, nil
	}
	if sm == nil {
		return cfg, errors.New("wiring: secrets to fetch but no Secrets Manager client")
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
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
		*cfg.SecretField(r.secret) = r.value
	}
	// What was fetched here is read again later, so a rotated key reaches
	// this container without a redeploy (lambdaenv.Config.Refresh).
	fetchedIDs := map[lambdaenv.Secret]string{}
	for _, s := range todo {
		fetchedIDs[s] = cfg.SecretIDs[s]
	}
	cfg.Refresh = func(ctx context.Context, s lambdaenv.Secret) (string, error) {
		id, ok := fetchedIDs[s]
		if !ok {
			return "", fmt.Errorf("%s was not fetched from Secrets Manager", s)
		}
		v, err := fetchSecret(ctx, sm, id)
		if err != nil {
			return "", fmt.Errorf("%s: secret %q: %w", s, id, err)
		}
		return v, nil
	}
	return cfg, errors.Join(errs...)
}

// fetchSecret returns the secret's current string value, trimmed (a secret
// created from a file often ends with a newline). Its errors never carry
// the value.
func fetchSecret(ctx context.Context, sm Getter, id string) (string, error) {
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
