package wiring

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets is Secrets Manager as ResolveSecrets sees it: values by id,
// failures by id, and the ids asked for.
type fakeSecrets struct {
	values map[string]string
	fail   map[string]error
	delay  time.Duration

	mu       sync.Mutex
	asked    []string
	inFlight int
	maxAtOne int
}

func (f *fakeSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	f.mu.Lock()
	f.asked = append(f.asked, id)
	f.inFlight++
	f.maxAtOne = max(f.maxAtOne, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.fail[id]; err != nil {
		return nil, err
	}
	v, ok := f.values[id]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

const (
	jwtID  = "modupay/sandbox/jwt-keys"
	pageID = "modupay/sandbox/page-keys"
	csrfID = "modupay/sandbox/csrf-key"
	aiiaID = "modupay/sandbox/aiia-client-secret"
)

func TestResolveSecrets(t *testing.T) {
	full := testConfig("http://127.0.0.1:1")
	values := map[string]string{jwtID: full.JWTKeys + "\n", pageID: full.PageKeys, csrfID: full.CSRFKey, aiiaID: "aiia-secret"}
	allIDs := map[Secret]string{SecretJWTKeys: jwtID, SecretPageKeys: pageID, SecretCSRFKey: csrfID, SecretAiiaClient: aiiaID}
	for name, tc := range map[string]struct {
		plain     map[Secret]string // values set in the environment
		ids       map[Secret]string
		want      map[Secret]string
		wantAsked []string
	}{
		"plain values win, nothing fetched": {
			plain:     map[Secret]string{SecretJWTKeys: "k9:plain", SecretCSRFKey: "plain-csrf"},
			ids:       map[Secret]string{SecretJWTKeys: jwtID, SecretCSRFKey: csrfID},
			want:      map[Secret]string{SecretJWTKeys: "k9:plain", SecretCSRFKey: "plain-csrf"},
			wantAsked: nil,
		},
		"ids fetched, values trimmed": {
			ids:       allIDs,
			want:      map[Secret]string{SecretJWTKeys: full.JWTKeys, SecretPageKeys: full.PageKeys, SecretCSRFKey: full.CSRFKey, SecretAiiaClient: "aiia-secret"},
			wantAsked: []string{aiiaID, csrfID, jwtID, pageID},
		},
		"only the function's own ids (checkout)": {
			ids:       map[Secret]string{SecretPageKeys: pageID, SecretCSRFKey: csrfID},
			want:      map[Secret]string{SecretPageKeys: full.PageKeys, SecretCSRFKey: full.CSRFKey},
			wantAsked: []string{csrfID, pageID},
		},
		"one plain, one fetched": {
			plain:     map[Secret]string{SecretPageKeys: "p9:plain"},
			ids:       map[Secret]string{SecretJWTKeys: jwtID, SecretPageKeys: pageID},
			want:      map[Secret]string{SecretJWTKeys: full.JWTKeys, SecretPageKeys: "p9:plain"},
			wantAsked: []string{jwtID},
		},
		"neither: stays empty (docs, audit writer...)": {
			want: map[Secret]string{},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var cfg Config
			for s, v := range tc.plain {
				*cfg.SecretField(s) = v
			}
			cfg.SecretIDs = tc.ids
			sm := &fakeSecrets{values: values}
			got, err := ResolveSecrets(context.Background(), cfg, sm)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range Secrets {
				if g, w := *got.SecretField(s), tc.want[s]; g != w {
					t.Errorf("%s = %q, want %q", s, g, w)
				}
			}
			slices.Sort(sm.asked)
			if !slices.Equal(sm.asked, tc.wantAsked) {
				t.Errorf("asked for %v, want %v (one call per secret to fetch)", sm.asked, tc.wantAsked)
			}
		})
	}
	// Nothing to fetch needs no client.
	if _, err := ResolveSecrets(context.Background(), Config{}, nil); err != nil {
		t.Errorf("no ids, no client: %v", err)
	}
}

// A failed fetch names the variable and the secret id, never a value: not
// the secret's, and not the other secrets fetched in the same round.
func TestResolveSecretsFailureNamesTheID(t *testing.T) {
	full := testConfig("http://127.0.0.1:1")
	sm := &fakeSecrets{
		values: map[string]string{jwtID: full.JWTKeys, pageID: full.PageKeys},
		fail:   map[string]error{pageID: errors.New("AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue")},
	}
	cfg := Config{SecretIDs: map[Secret]string{SecretJWTKeys: jwtID, SecretPageKeys: pageID, SecretCSRFKey: csrfID}}
	_, err := ResolveSecrets(context.Background(), cfg, sm)
	if err == nil {
		t.Fatal("a failed fetch was not an error")
	}
	msg := err.Error()
	for _, want := range []string{pageID, "MODUPAY_PAGE_KEYS", "AccessDeniedException", csrfID, "MODUPAY_CSRF_KEY", "can't find"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, jwtID) {
		t.Errorf("error %q names %s, which was fetched", msg, jwtID)
	}
	for _, secret := range []string{full.JWTKeys, full.PageKeys, strings.TrimPrefix(full.JWTKeys, "k1:"), strings.TrimPrefix(full.PageKeys, "p1:")} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds a secret value", msg)
		}
	}

	// An empty (or binary) secret is refused the same way.
	sm = &fakeSecrets{values: map[string]string{csrfID: "  \n"}}
	_, err = ResolveSecrets(context.Background(), Config{SecretIDs: map[Secret]string{SecretCSRFKey: csrfID}}, sm)
	if err == nil || !strings.Contains(err.Error(), csrfID) {
		t.Errorf("empty secret: %v, want an error naming %s", err, csrfID)
	}
}

// The secrets are fetched concurrently, and the whole round is bounded by
// SecretFetchTimeout: a Secrets Manager that does not answer fails init
// within it, naming each secret.
func TestResolveSecretsConcurrentAndBounded(t *testing.T) {
	ids := map[Secret]string{SecretJWTKeys: jwtID, SecretPageKeys: pageID, SecretCSRFKey: csrfID}
	sm := &fakeSecrets{values: map[string]string{jwtID: "a", pageID: "b", csrfID: "c"}, delay: 200 * time.Millisecond}
	if _, err := ResolveSecrets(context.Background(), Config{SecretIDs: ids}, sm); err != nil {
		t.Fatal(err)
	}
	if sm.maxAtOne != 3 {
		t.Errorf("at most %d calls in flight at once, want 3: not concurrent", sm.maxAtOne)
	}

	sm = &fakeSecrets{values: map[string]string{jwtID: "a", pageID: "b"}, delay: time.Hour}
	start := time.Now()
	_, err := ResolveSecrets(context.Background(), Config{SecretIDs: map[Secret]string{SecretJWTKeys: jwtID, SecretPageKeys: pageID}}, sm)
	if d := time.Since(start); d > SecretFetchTimeout+time.Second {
		t.Errorf("a silent Secrets Manager held init %v", d)
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), jwtID) || !strings.Contains(err.Error(), pageID) {
		t.Errorf("timeout: %v", err)
	}
}

// ConfigFromEnv reads the secret ids next to the values, and a function
// whose secret has neither refuses to start naming both variables.
func TestSecretIDsFromEnv(t *testing.T) {
	t.Setenv("MODUPAY_JWT_KEYS_SECRET_ID", jwtID)
	t.Setenv("MODUPAY_AIIA_CLIENT_SECRET_SECRET_ID", aiiaID)
	t.Setenv("MODUPAY_PAGE_KEYS_SECRET_ID", " ")
	t.Setenv("MODUPAY_SECRETSMANAGER_ENDPOINT", "http://127.0.0.1:9324")
	cfg := ConfigFromEnv()
	want := map[Secret]string{SecretJWTKeys: jwtID, SecretAiiaClient: aiiaID}
	if len(cfg.SecretIDs) != len(want) || cfg.SecretIDs[SecretJWTKeys] != jwtID || cfg.SecretIDs[SecretAiiaClient] != aiiaID {
		t.Errorf("SecretIDs = %v, want %v", cfg.SecretIDs, want)
	}
	if cfg.SecretsManagerEndpoint != "http://127.0.0.1:9324" || !cfg.LocalEngines() {
		t.Errorf("endpoint %q, local engines %v", cfg.SecretsManagerEndpoint, cfg.LocalEngines())
	}
	if err := notSet(SecretJWTKeys); !strings.Contains(err.Error(), "MODUPAY_JWT_KEYS is not set") || !strings.Contains(err.Error(), "MODUPAY_JWT_KEYS_SECRET_ID") {
		t.Errorf("notSet = %v", err)
	}
}
