// Package pagetoken seals the keys of a payment page into its URL's token,
// so that the page is rendered with one read: the token is AES-256-GCM
// encrypted and authenticated, so it reveals no id and cannot be forged,
// and its 96-bit random nonce plus the ids make it unguessable. Keys come
// from the service's key ring (one per kid): a token sealed under a key that
// is later removed no longer opens, and the caller falls back to looking the
// token up.
package pagetoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/modupay/modupay/shared/rotating"
)

// Keys are what a page reads.
type Keys struct {
	PartnerID string `json:"p"`
	OrgID     string `json:"o"`
	LinkID    string `json:"l"`
	IntentID  string `json:"i"`
	InvoiceID string `json:"v"`
	DeptID    string `json:"d"`
	AccountID string `json:"a"`
}

// Sealer seals and opens tokens.
type Sealer struct {
	active string
	aeads  map[string]cipher.AEAD
	// live, when set, is the ring kept current from its secret (Rotating).
	live *rotating.Value[*Sealer]
}

// Rotating is a Sealer that reads its key ring again once its copy is older
// than the cache time (rotating.Value).
func Rotating(live *rotating.Value[*Sealer]) *Sealer { return &Sealer{live: live} }

func (s *Sealer) now() *Sealer {
	if s.live == nil {
		return s
	}
	return s.live.Get()
}

// New derives one AES-256 key per kid from the given secrets (the service's
// signing keys, kid → secret), the active kid sealing new tokens.
func New(secrets map[string][]byte, active string) (*Sealer, error) {
	s := &Sealer{active: active, aeads: map[string]cipher.AEAD{}}
	for kid, secret := range secrets {
		k := sha256.Sum256(append([]byte("modupay payment page token\x00"), secret...))
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads[kid] = aead
	}
	if s.aeads[active] == nil {
		return nil, errors.New("pagetoken: the active kid has no secret")
	}
	return s, nil
}

// Seal makes a token: "<kid>.<base64url(nonce|ciphertext)>".
func (s *Sealer) Seal(k Keys) (string, error) {
	s = s.now()
	plain, err := json.Marshal(k)
	if err != nil {
		return "", err
	}
	aead := s.aeads[s.active]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, plain, []byte(s.active))
	return s.active + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the keys of a token sealed by this ring, or false.
func (s *Sealer) Open(token string) (Keys, bool) {
	s = s.now()
	kid, body, ok := strings.Cut(token, ".")
	aead := s.aeads[kid]
	if !ok || aead == nil || len(body) > 1024 {
		return Keys{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return Keys{}, false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(kid))
	if err != nil {
		return Keys{}, false
	}
	var k Keys
	if json.Unmarshal(plain, &k) != nil || k.LinkID == "" {
		return Keys{}, false
	}
	return k, true
}
