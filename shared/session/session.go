// Package session is the partner dashboard's sign-in state: who signed in
// (the API client's identity, as a token would carry it) and when, kept in
// the browser's cookie and authenticated with HMAC-SHA256 under the
// dashboard's own key ring, so no session is stored and no DynamoDB call is
// spent reading one. It is pure: the clock is the caller's.
//
// A cookie is "v1.<kid>.<payload>.<mac>", payload and mac in unpadded
// base64url; the mac covers the version, the kid and the payload. Any
// change to any byte, a kid the ring does not hold, a payload that is not
// exactly a session, an idle time over IdleTimeout or an age over MaxAge
// is refused.
package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/auth"
)

// The lifetimes of a session.
const (
	// IdleTimeout ends a session nobody used for this long; each use
	// re-issues the cookie, so an active session slides on.
	IdleTimeout = 30 * time.Minute
	// MaxAge ends a session this long after sign-in, however active.
	MaxAge = 12 * time.Hour
	// CheckEvery is how often a session's API client is read again (its
	// status and its secret) and its sign-out looked for. The revocation
	// list every container reads (every 30 s) remembers 70 minutes, longer
	// than a session may stay unused, so it alone ends revoked and
	// signed-out sessions; this second check, from the records themselves,
	// holds when a container could not read the list again.
	CheckEvery = 30 * time.Minute
)

// clockSkew is how far in the future a session's times may be (containers'
// clocks differ a little).
const clockSkew = time.Minute

// Errors of Open. Both mean "sign in again"; they differ in the log only.
var (
	ErrInvalid = errors.New("session: invalid")
	ErrExpired = errors.New("session: expired")
)

// Session is one signed-in API client.
type Session struct {
	// ID is random (128 bits): the CSRF token of the session's forms
	// derives from it.
	ID               string     `json:"sid"`
	ClientID         string     `json:"cid"`
	PartnerID        string     `json:"pid"`
	OrgID            string     `json:"oid,omitempty"`
	Scope            auth.Scope `json:"scope"`
	Role             auth.Role  `json:"role,omitempty"`
	PortfolioLimited bool       `json:"pfl,omitempty"`
	// SecretTag is a digest of the client's stored secret hash at sign-in:
	// a client whose secret was replaced since no longer matches it.
	SecretTag string `json:"stag"`
	// IssuedAt is the sign-in; LastSeen the last request; Checked the last
	// time the client was read and found active with the same secret.
	IssuedAt time.Time `json:"iat"`
	LastSeen time.Time `json:"seen"`
	Checked  time.Time `json:"chk"`
}

// Principal is who the session speaks for, as a token would say it.
func (s Session) Principal() auth.Principal {
	return auth.Principal{ClientID: s.ClientID, PartnerID: s.PartnerID, OrgID: s.OrgID, Scope: s.Scope, Role: s.Role,
		PortfolioLimited: s.PortfolioLimited, TokenID: s.ID, IssuedAt: s.IssuedAt, ExpiresAt: s.IssuedAt.Add(MaxAge)}
}

// NewID returns a random session id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Codec seals sessions into cookies and opens them, with its own key ring:
// the active key signs, every key of the ring verifies, so a rotation (a new
// first key) keeps open sessions while the old kid stays in the ring.
type Codec struct {
	Keys *auth.Keyring
}

const version = "v1"

// purposes keep each use of the ring apart: a session's mac never
// verifies as a CSRF token, nor the other way round.
const (
	purposeSession = "modupay dashboard session\x00"
	purposeCSRF    = "modupay dashboard csrf\x00"
	purposeLogin   = "modupay dashboard sign-in\x00"
)

// Seal returns the cookie value of s.
func (c *Codec) Seal(s Session) (string, error) {
	payload, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	kid := c.Keys.ActiveKid()
	mac, ok := c.Keys.SumWith(kid, []byte(purposeSession+version+"."+kid+"."+body))
	if !ok {
		return "", errors.New("session: the ring has no active key")
	}
	return version + "." + kid + "." + body + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// maxCookie bounds what Open reads: a session is a few hundred bytes.
const maxCookie = 2048

// Open authenticates a cookie value and checks its times at now.
func (c *Codec) Open(value string, now time.Time) (Session, error) {
	if len(value) > maxCookie {
		return Session{}, ErrInvalid
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[0] != version {
		return Session{}, ErrInvalid
	}
	kid, body, sig := parts[1], parts[2], parts[3]
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return Session{}, ErrInvalid
	}
	want, ok := c.Keys.SumWith(kid, []byte(purposeSession+version+"."+kid+"."+body))
	if !ok || !hmac.Equal(got, want) {
		return Session{}, ErrInvalid
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return Session{}, ErrInvalid
	}
	var s Session
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil || dec.More() {
		return Session{}, ErrInvalid
	}
	if !s.valid() {
		return Session{}, ErrInvalid
	}
	switch {
	case s.IssuedAt.After(now.Add(clockSkew)) || s.LastSeen.After(now.Add(clockSkew)) || s.Checked.After(now.Add(clockSkew)):
		return Session{}, ErrInvalid
	case now.Sub(s.IssuedAt) >= MaxAge, now.Sub(s.LastSeen) >= IdleTimeout:
		return Session{}, ErrExpired
	}
	return s, nil
}

// valid checks the session's shape: the identity rules of a token's
// principal, a session id, and times in order.
func (s Session) valid() bool {
	if s.ID == "" || s.ClientID == "" || s.PartnerID == "" || s.SecretTag == "" || s.IssuedAt.IsZero() ||
		s.LastSeen.Before(s.IssuedAt) || s.Checked.Before(s.IssuedAt) {
		return false
	}
	switch s.Scope {
	case auth.ScopePartner:
		return s.OrgID == "" && s.Role == "" && !s.PortfolioLimited
	case auth.ScopeOrganization:
		return s.OrgID != "" && s.Role.Valid() && (!s.PortfolioLimited || s.Role == auth.RolePortfolioManager)
	}
	return false
}

// CSRF is the token the session's forms carry: a MAC of the session's id
// under the active key, so it lasts as long as the session, slides with it,
// and is worth nothing to any other session.
func (c *Codec) CSRF(s Session) string {
	_, mac, _ := c.Keys.Sum([]byte(purposeCSRF + s.ID))
	return base64.RawURLEncoding.EncodeToString(mac)
}

// CheckCSRF says whether token is the session's CSRF token under any key of
// the ring (a form shown before a rotation still posts), compared in
// constant time.
func (c *Codec) CheckCSRF(s Session, token string) bool {
	return c.check(purposeCSRF+s.ID, token)
}

// LoginToken is the sign-in form's CSRF token, bound to the random nonce
// the form's page set in a cookie: a page of another site can neither read
// the nonce nor set the cookie, so it cannot post a sign-in of its own
// choosing (login CSRF).
func (c *Codec) LoginToken(nonce string) string {
	_, mac, _ := c.Keys.Sum([]byte(purposeLogin + nonce))
	return base64.RawURLEncoding.EncodeToString(mac)
}

// CheckLoginToken says whether token is the sign-in form's token for nonce.
func (c *Codec) CheckLoginToken(nonce, token string) bool {
	return nonce != "" && c.check(purposeLogin+nonce, token)
}

func (c *Codec) check(msg, token string) bool {
	got, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(got) == 0 {
		return false
	}
	ok := false
	for _, kid := range c.Keys.Kids() {
		want, found := c.Keys.SumWith(kid, []byte(msg))
		if found && hmac.Equal(got, want) {
			ok = true
		}
	}
	return ok
}
