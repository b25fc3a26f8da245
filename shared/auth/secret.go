package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// ClientSecretPrefix starts every client secret NewClientSecret generates, so
// that leaked secrets are recognisable by secret scanners.
const ClientSecretPrefix = "mps_"

// hashPrefix names the algorithm of a stored secret hash, so that the scheme
// can change later without ambiguity.
const hashPrefix = "sha256:"

// NewClientSecret returns a new client secret: ClientSecretPrefix followed by
// 32 bytes from crypto/rand in unpadded base64url (47 characters in all, only
// [A-Za-z0-9_-] after the prefix, so it needs no escaping in a form body, JSON
// or HTTP Basic credentials). The secret is shown to the partner once; only
// HashSecret of it is stored.
func NewClientSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: generate client secret: %w", err)
	}
	return ClientSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret returns the storable form of a client secret:
// "sha256:" + lowercase hex(SHA-256(secret)).
//
// A single fast, unsalted hash is the right choice here, unlike for
// passwords. Client secrets are 256-bit random values that we generate
// (NewClientSecret), never human-chosen, so even with the stored hash in hand
// an offline guessing attack must search 2^256 values and is infeasible;
// salting and key stretching defend against dictionaries and low entropy,
// neither of which exists here. A slow KDF (bcrypt, scrypt, argon2) would only
// add tens to hundreds of milliseconds and CPU to every call of the token
// endpoint, which must make exactly one DynamoDB read and stay fast, and would
// hand attackers a cheap way to burn our Lambda CPU with bogus requests.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hashPrefix + hex.EncodeToString(sum[:])
}

// SecretMatches reports whether secret hashes to hash, a value produced by
// HashSecret. The digests are compared in constant time (crypto/subtle). It
// returns false for a malformed hash (wrong prefix, not 64 hex digits) and
// for an empty secret, so a missing or corrupt stored hash never
// authenticates anyone.
func SecretMatches(hash, secret string) bool {
	hexDigest, ok := strings.CutPrefix(hash, hashPrefix)
	if !ok || len(hexDigest) != 2*sha256.Size || secret == "" {
		return false
	}
	want, err := hex.DecodeString(hexDigest)
	if err != nil {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}
