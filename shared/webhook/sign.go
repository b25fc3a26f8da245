package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as in seed 000 and the Standard
// Webhooks specification.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" and 32 random bytes in
// standard base64 (the form Standard Webhooks libraries decode).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Signature is the X-Webhook-Signature header of seed 000:
// "sha256=" + hex(HMAC-SHA256(key = the secret string as given, including its
// "whsec_" prefix, message = the raw body)). The guide's Python and Node
// snippets compute exactly this.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// StandardSignature is one "v1,<base64>" entry of the Standard Webhooks
// webhook-signature header: HMAC-SHA256 keyed with the base64-decoded part of
// the secret after "whsec_", over "<webhook-id>.<webhook-timestamp>.<body>".
func StandardSignature(secret, msgID string, ts time.Time, body []byte) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		key = []byte(secret) // not a secret this package made; sign with the string
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Headers are the signature headers of one attempt. secrets are the
// subscription's valid secrets, the newest first: during a rotation's overlap
// webhook-signature carries one signature per secret (receivers accept any),
// while X-Webhook-Signature, which holds only one, keeps using the previous
// secret until the overlap ends, so receivers that check it are not broken by
// a rotation before they deploy the new secret.
func Headers(secrets []string, msgID string, ts time.Time, body []byte) map[string]string {
	if len(secrets) == 0 {
		return nil
	}
	std := make([]string, 0, len(secrets))
	for _, s := range secrets {
		std = append(std, StandardSignature(s, msgID, ts, body))
	}
	return map[string]string{
		"X-Webhook-Signature": Signature(secrets[len(secrets)-1], body),
		"webhook-id":          msgID,
		"webhook-timestamp":   strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature":   strings.Join(std, " "),
	}
}
