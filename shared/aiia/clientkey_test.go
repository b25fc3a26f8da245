package aiia

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/modupay/modupay/shared/apperr"
)

// A bundle is an RSA key of at least MinKeyBits and the certificate of
// that key; anything else is refused, without quoting the key.
func TestParseClientKey(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	k, bundle, err := NewClientKey("modupay", MinKeyBits, now)
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID != Thumbprint(k.Certificate) || len(k.KeyID) != 43 {
		t.Errorf("kid %q", k.KeyID)
	}
	keyPEM, certPEM, _ := strings.Cut(bundle, "-----BEGIN CERTIFICATE-----")
	certPEM = "-----BEGIN CERTIFICATE-----" + certPEM
	if again, err := ParseClientKey(certPEM + keyPEM); err != nil || again.KeyID != k.KeyID {
		t.Errorf("the certificate first: %v", err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.Private)}))
	if _, err := ParseClientKey(pkcs1 + certPEM); err != nil {
		t.Errorf("a PKCS #1 key: %v", err)
	}
	_, otherBundle, err := NewClientKey("modupay", MinKeyBits, now)
	if err != nil {
		t.Fatal(err)
	}
	_, otherCert, _ := strings.Cut(otherBundle, "-----BEGIN CERTIFICATE-----")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	for name, c := range map[string]struct{ bundle, says string }{
		"empty":                     {"", "no RSA private key"},
		"the key alone":             {keyPEM, "no certificate"},
		"the certificate alone":     {certPEM, "no RSA private key"},
		"another key's cert":        {keyPEM + "-----BEGIN CERTIFICATE-----" + otherCert, "not the private key's"},
		"a 1024-bit key":            {smallPEM + certPEM, "at least 2048"},
		"an EC key":                 {ecPEM + certPEM, "not RSA"},
		"a key that does not parse": {"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n" + certPEM, "does not parse"},
	} {
		_, err := ParseClientKey(c.bundle)
		if err == nil || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "BEGIN") {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.says)
		}
	}
}

// With a key, the token request is private_key_jwt: the assertion signed
// by the key, kid its certificate's thumbprint, iss = sub = the client id,
// aud the token URL, living 5 minutes, and a fresh jti on every request,
// retries included; no client secret is sent.
func TestTokenRequestWithAKey(t *testing.T) {
	f, ts := newFake(t)
	clk := newClock()
	k, bundle, err := NewClientKey("modupay", MinKeyBits, clk.now())
	if err != nil {
		t.Fatal(err)
	}
	f.tokenReply = &reply{status: 503, body: `{}`}
	c := New(Config{BaseURL: ts.URL, ClientID: "modupay", ClientKey: bundle, ClientSecret: "never-sent"}, ts.Client(), clk.now)
	c.sleep = func(context.Context, time.Duration) error { return nil }
	_, err = c.GetPayment(t.Context(), "p-1")
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("a token URL answering 503: %v", err)
	}
	jtis := map[string]bool{}
	for _, r := range f.requests {
		var body map[string]string
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatal(err)
		}
		if body["client_secret"] != "" || body["client_id"] != "" || body["client_assertion_type"] != AssertionType || body["grant_type"] != "client_credentials" {
			t.Fatalf("token request %v", body)
		}
		var claims jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(body["client_assertion"], &claims, func(*jwt.Token) (any, error) { return &k.Private.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clk.now), jwt.WithAudience(ts.URL+"/oauth2/token"),
			jwt.WithIssuer("modupay"), jwt.WithSubject("modupay"))
		if err != nil || tok.Header["kid"] != k.KeyID || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != AssertionTTL || claims.ID == "" {
			t.Fatalf("assertion %+v %v: %v", claims, tok.Header, err)
		}
		jtis[claims.ID] = true
	}
	if len(f.requests) < 2 || len(jtis) != len(f.requests) {
		t.Errorf("%d token requests with %d distinct jti: a retry replays an assertion", len(f.requests), len(jtis))
	}
	// A bundle that does not parse is the operator's error, before any call.
	bad := New(Config{BaseURL: ts.URL, ClientID: "modupay", ClientKey: "junk"}, ts.Client(), clk.now)
	n := f.tokenCalls()
	if _, err := bad.GetPayment(t.Context(), "p-1"); apperr.CodeOf(err) != apperr.Internal || f.tokenCalls() != n {
		t.Errorf("a broken key: %v after %d calls", err, f.tokenCalls()-n)
	}
}

// The cost of authenticating: one assertion per token request (a token
// lives an hour), `go test -run '^$' -bench Assertion ./shared/aiia`.
func BenchmarkAssertion(b *testing.B) {
	k, _, err := NewClientKey("modupay", MinKeyBits, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := k.Assertion("modupay", "https://auth.example/oauth2/token", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
