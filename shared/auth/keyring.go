package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modupay/modupay/shared/rotating"
)

// MinKeyBytes is the minimum decoded length of an HMAC-SHA256 signing secret:
// the hash's output size, as RFC 7518 §3.2 requires for HS256.
const MinKeyBytes = 32

// maxKidLen bounds a key id.
const maxKidLen = 64

// Keyring holds HMAC-SHA256 signing keys by kid; the active one signs, all
// verify (rotation).
//
// Rotation is done by configuration only: add the new key to the spec (tokens
// signed with the old one keep verifying), make it active, and once the
// longest-lived old token has expired remove the old key, after which tokens
// signed with it fail with "unknown kid".
//
// A Keyring is immutable once built and safe for concurrent use. Its String
// method never reveals key material, so it may be logged.
type Keyring struct {
	active string
	keys   map[string][]byte
	// live, when set, is the ring kept current from its secret (Rotating):
	// every method reads the ring it holds now.
	live *rotating.Value[*Keyring]
}

// Rotating is a Keyring that reads its secret again once its copy is older
// than the cache time (rotating.Value): a key added to the secret verifies,
// and a new first entry signs, in every container within that time,
// without a redeploy.
func Rotating(live *rotating.Value[*Keyring]) *Keyring { return &Keyring{live: live} }

// now is the ring in use.
func (k *Keyring) now() *Keyring {
	if k == nil || k.live == nil {
		return k
	}
	return k.live.Get()
}

// ParseKeyring builds a Keyring from spec, a comma-separated list of
// "kid:base64secret" entries, and the kid of the entry that signs new
// tokens; an empty activeKid means the first entry signs (the secret then
// says which key signs, and a rotation needs no configuration change).
//
// Each secret may be encoded in standard base64 (with or without padding) or
// URL-safe base64 (with or without padding), and must decode to at least
// MinKeyBytes bytes. Each kid must match [A-Za-z0-9._-]{1,64} and appear only
// once. Whitespace around entries, kids and secrets is ignored. activeKid must
// name one of the entries. Errors name the offending entry by position and kid
// but never include secret material.
func ParseKeyring(spec, activeKid string) (*Keyring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("auth: keyring spec is empty")
	}
	kr := &Keyring{keys: make(map[string][]byte)}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("auth: keyring entry %d is empty", i+1)
		}
		kid, secret, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("auth: keyring entry %d is not of the form kid:base64secret", i+1)
		}
		kid, secret = strings.TrimSpace(kid), strings.TrimSpace(secret)
		if !validKid(kid) {
			return nil, fmt.Errorf("auth: keyring entry %d: kid must match [A-Za-z0-9._-]{1,%d}", i+1, maxKidLen)
		}
		if _, dup := kr.keys[kid]; dup {
			return nil, fmt.Errorf("auth: keyring entry %d: duplicate kid %q", i+1, kid)
		}
		key, err := decodeKey(secret)
		if err != nil {
			return nil, fmt.Errorf("auth: keyring entry %d (kid %q): secret is not valid base64", i+1, kid)
		}
		if len(key) < MinKeyBytes {
			return nil, fmt.Errorf("auth: keyring entry %d (kid %q): secret decodes to %d bytes, need at least %d", i+1, kid, len(key), MinKeyBytes)
		}
		kr.keys[kid] = key
	}
	activeKid = strings.TrimSpace(activeKid)
	if activeKid == "" {
		activeKid, _, _ = strings.Cut(strings.TrimSpace(strings.Split(spec, ",")[0]), ":")
		activeKid = strings.TrimSpace(activeKid)
	}
	if _, ok := kr.keys[activeKid]; !ok {
		if !validKid(activeKid) {
			return nil, errors.New("auth: active kid is not in the keyring")
		}
		return nil, fmt.Errorf("auth: active kid %q is not in the keyring", activeKid)
	}
	kr.active = activeKid
	return kr, nil
}

// ActiveKid returns the kid of the key that signs new tokens ("" for a nil or
// zero Keyring).
func (k *Keyring) ActiveKid() string {
	k = k.now()
	if k == nil {
		return ""
	}
	return k.active
}

// Kids returns every kid in the ring, sorted.
func (k *Keyring) Kids() []string {
	k = k.now()
	if k == nil {
		return nil
	}
	kids := make([]string, 0, len(k.keys))
	for kid := range k.keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

// String describes the ring without its secrets.
func (k *Keyring) String() string {
	k = k.now()
	if k == nil {
		return "Keyring(nil)"
	}
	return fmt.Sprintf("Keyring(active=%s, kids=%s)", k.active, strings.Join(k.Kids(), ","))
}

// GoString is String, so that %#v does not print the secrets either.
func (k *Keyring) GoString() string { return k.String() }

// key returns the secret for kid.
func (k *Keyring) key(kid string) ([]byte, bool) {
	k = k.now()
	if k == nil {
		return nil, false
	}
	key, ok := k.keys[kid]
	return key, ok
}

// activeKey returns the signing kid and secret, or ok=false for a nil or zero
// Keyring.
func (k *Keyring) activeKey() (kid string, key []byte, ok bool) {
	k = k.now()
	if k == nil || k.active == "" {
		return "", nil, false
	}
	key, ok = k.keys[k.active]
	return k.active, key, ok
}

func validKid(kid string) bool {
	if kid == "" || len(kid) > maxKidLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// decodeKey accepts standard or URL-safe base64, padded or not. The alphabets
// differ only in "+/" versus "-_", and a string is canonical in at most one of
// the padded and unpadded forms unless both decode it identically, so the
// result is unambiguous.
func decodeKey(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.Strict().DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// Sum is HMAC-SHA256 of msg under the active key, and that key's kid, for
// rings that authenticate values other than JWTs (the dashboard's session
// cookies). A ring serves one purpose: callers put their own purpose in msg
// as well, so a value made for one use never verifies for another.
func (k *Keyring) Sum(msg []byte) (kid string, mac []byte, ok bool) {
	kid, key, ok := k.activeKey()
	if !ok {
		return "", nil, false
	}
	return kid, hmacSHA256(key, msg), true
}

// SumWith is HMAC-SHA256 of msg under the key kid; ok is false when the
// ring has no such kid (dropped by a rotation, or never there).
func (k *Keyring) SumWith(kid string, msg []byte) ([]byte, bool) {
	key, ok := k.key(kid)
	if !ok {
		return nil, false
	}
	return hmacSHA256(key, msg), true
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
