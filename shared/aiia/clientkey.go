package aiia

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The provider authenticates API clients with OAuth2 client credentials
// and private_key_jwt (RFC 7523): the token request carries an assertion,
// a JWT signed RS256 by the client's private key, whose certificate was
// registered at onboarding. The claims sent:
//
//	header  alg RS256, typ JWT, kid = base64url(SHA-256(certificate DER))
//	iss     the client id
//	sub     the client id
//	aud     Config.Audience; by default the token URL (RFC 7523's rule;
//	        third-party clients send "auth.mastercard.com": confirm at onboarding)
//	iat     now
//	exp     now + AssertionTTL
//	jti     random, once per assertion (the provider refuses a replay)
const (
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// AssertionTTL is the assertion's lifetime: long enough for clock skew
	// and a retried request, short enough that a leaked one expires.
	AssertionTTL = 5 * time.Minute
	// MinKeyBits is the smallest RSA key accepted (the provider recommends
	// 4096).
	MinKeyBits = 2048
)

// ClientKey is the client's private key with its registered certificate.
type ClientKey struct {
	Private     *rsa.PrivateKey
	Certificate *x509.Certificate
	// KeyID is the assertion header's kid: the certificate's SHA-256
	// thumbprint, base64url without padding.
	KeyID string
}

// ParseClientKey reads a PEM bundle holding one RSA private key (PKCS #8
// "PRIVATE KEY" or PKCS #1 "RSA PRIVATE KEY") and its certificate, in any
// order: what the Secrets Manager secret of MODUPAY_AIIA_CLIENT_KEY holds.
// The certificate must be of the key. Errors never quote the key.
func ParseClientKey(bundle string) (*ClientKey, error) {
	var priv *rsa.PrivateKey
	var cert *x509.Certificate
	rest := []byte(strings.TrimSpace(bundle))
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("aiia client key: the PKCS #8 private key does not parse")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, errors.New("aiia client key: the private key is not RSA (the provider accepts RSA only)")
			}
			priv = rk
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("aiia client key: the PKCS #1 private key does not parse")
			}
			priv = k
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("aiia client key: the certificate does not parse: %v", err)
			}
			cert = c
		}
	}
	switch {
	case priv == nil:
		return nil, errors.New("aiia client key: no RSA private key in the PEM bundle")
	case cert == nil:
		return nil, errors.New("aiia client key: no certificate in the PEM bundle (the one registered at onboarding)")
	case priv.N.BitLen() < MinKeyBits:
		return nil, fmt.Errorf("aiia client key: the RSA key has %d bits, at least %d are needed", priv.N.BitLen(), MinKeyBits)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		return nil, errors.New("aiia client key: the certificate is not the private key's")
	}
	return &ClientKey{Private: priv, Certificate: cert, KeyID: Thumbprint(cert)}, nil
}

// Thumbprint is a certificate's kid: base64url(SHA-256(DER)), unpadded.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Assertion signs the client assertion of a token request made at now.
func (k *ClientKey) Assertion(clientID, audience string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: clientID, Subject: clientID, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AssertionTTL)),
		ID: base64.RawURLEncoding.EncodeToString(jti[:]),
	})
	t.Header["kid"] = k.KeyID
	return t.SignedString(k.Private)
}

// NewClientKey makes a key pair and a self-signed certificate for the
// client id, as `openssl req -x509 -newkey rsa` does for onboarding: for
// the local stack and the tests (make run registers it with the local
// sandbox). bits below MinKeyBits are raised to it. Returns the key and its
// PEM bundle (PKCS #8 key, then the certificate).
func NewClientKey(clientID string, bits int, now time.Time) (*ClientKey, string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, max(bits, MinKeyBits))
	if err != nil {
		return nil, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, "", err
	}
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: clientID},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, "", err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, "", err
	}
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	k, err := ParseClientKey(bundle)
	return k, bundle, err
}
