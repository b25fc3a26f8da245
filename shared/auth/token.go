package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is wrapped by every error Verify returns, so callers
// recognise a rejected token with errors.Is. The message adds a short, fixed
// reason (for example "invalid token: expired", "invalid token: unknown
// kid") suitable for logs; it never echoes attacker-controlled token content.
var ErrInvalidToken = errors.New("invalid token")

// MaxTokenBytes is the longest token Verify will parse. Tokens Issue produces
// are a few hundred bytes plus 37 per portfolio id; anything longer is
// rejected before any decoding work.
const MaxTokenBytes = 4096

// signingAlg is the only JWS algorithm issued or accepted.
const signingAlg = "HS256"

// claims is the JWT payload. Registered claims: iss, sub (client id), aud,
// exp, nbf, iat, jti. Private claims: pid (partner id), oid (org id, omitted
// for partner scope), scope, role (omitted when empty), pfl (true when a
// portfolio manager is limited to some portfolios; the list itself stays on
// the client's record, so a token's size never depends on it).
type claims struct {
	jwt.RegisteredClaims
	PartnerID        string `json:"pid"`
	OrgID            string `json:"oid,omitempty"`
	Scope            Scope  `json:"scope"`
	Role             Role   `json:"role,omitempty"`
	PortfolioLimited bool   `json:"pfl,omitempty"`
}

// Issuer signs access tokens with the active key of Keys. All fields except
// Now and NewID are required. Issuer is safe for concurrent use if Now and
// NewID are.
type Issuer struct {
	Keys     *Keyring
	Issuer   string        // "iss", e.g. "modupay-sandbox"
	Audience string        // "aud", e.g. "modupay-api"
	TTL      time.Duration // 3600s in production use
	Now      func() time.Time
	NewID    func() string // jti
}

// Issue signs a token for p and returns it with its lifetime in whole seconds
// (the OAuth expires_in value).
//
// Only p's identity fields (ClientID, PartnerID, OrgID, Scope, Role,
// PortfolioLimited) are used; TokenID, IssuedAt and ExpiresAt are ignored and set
// by the Issuer: jti from NewID (default: 128 random bits), iat and nbf from Now
// truncated to the second (default: time.Now), exp = iat + TTL. TTL must be at
// least one second; a fractional part is dropped. The header carries
// alg HS256, typ JWT and the active kid.
//
// Issue returns an error (never wrapping ErrInvalidToken) when the Issuer is
// misconfigured or p does not have a valid shape (see Principal); such errors
// are programming errors, not client errors.
func (i *Issuer) Issue(p Principal) (token string, expiresIn int, err error) {
	if i == nil {
		return "", 0, errors.New("auth: issue: nil Issuer")
	}
	kid, key, ok := i.Keys.activeKey()
	if !ok {
		return "", 0, errors.New("auth: issue: Issuer has no signing key")
	}
	if i.Issuer == "" || i.Audience == "" {
		return "", 0, errors.New("auth: issue: Issuer and Audience are required")
	}
	if i.TTL < time.Second {
		return "", 0, fmt.Errorf("auth: issue: TTL %v is below one second", i.TTL)
	}
	if reason := checkShape(p.ClientID, p.PartnerID, p.OrgID, p.Scope, p.Role, p.PortfolioLimited); reason != "" {
		return "", 0, fmt.Errorf("auth: issue: invalid principal: %s", reason)
	}
	jti := ""
	if i.NewID != nil {
		jti = i.NewID()
	} else {
		jti = rand.Text()
	}
	if jti == "" {
		return "", 0, errors.New("auth: issue: NewID returned an empty id")
	}

	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	iat := now().Truncate(time.Second)
	expiresIn = int(i.TTL / time.Second)
	exp := iat.Add(time.Duration(expiresIn) * time.Second)

	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.Issuer,
			Subject:   p.ClientID,
			Audience:  jwt.ClaimStrings{i.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(iat),
			IssuedAt:  jwt.NewNumericDate(iat),
			ID:        jti,
		},
		PartnerID:        p.PartnerID,
		OrgID:            p.OrgID,
		Scope:            p.Scope,
		Role:             p.Role,
		PortfolioLimited: p.PortfolioLimited,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = kid // NewWithClaims already sets alg and typ: JWT
	token, err = t.SignedString(key)
	if err != nil {
		return "", 0, fmt.Errorf("auth: issue: sign: %w", err)
	}
	return token, expiresIn, nil
}

// Verifier checks access tokens against Keys. Keys, Issuer and Audience are
// required; Now defaults to time.Now; Leeway (clock skew tolerance applied to
// exp, nbf and iat; negative means zero) defaults to zero. Verifier is safe for
// concurrent use if Now is.
type Verifier struct {
	Keys             *Keyring
	Issuer, Audience string
	Now              func() time.Time
	Leeway           time.Duration
}

// Verify checks token (the compact JWS, without any "Bearer " prefix) and
// returns the principal it speaks for. It never panics, whatever the input.
//
// A token is accepted only if all of these hold: it is at most MaxTokenBytes
// long; it is canonical unpadded base64url; its header has alg HS256, typ JWT,
// no crit, and a kid present in Keys; the HMAC-SHA256 signature verifies with
// that kid's key; iss and aud equal the Verifier's; exp, iat, sub, jti and pid
// are present; now < exp + Leeway, and nbf and iat are not later than
// now + Leeway; and the principal has a valid shape (see Principal: scope
// partner or organization, organization requires oid and a valid role, partner
// forbids oid, role and pfl).
//
// Every failure wraps ErrInvalidToken.
func (v *Verifier) Verify(token string) (Principal, error) {
	if v == nil || v.Keys == nil || v.Issuer == "" || v.Audience == "" {
		// jwt.WithIssuer("") and WithAudience() would silently skip the
		// checks, so a half-configured Verifier must fail closed.
		return Principal{}, invalid("verifier misconfigured")
	}
	if token == "" {
		return Principal{}, invalid("empty")
	}
	if len(token) > MaxTokenBytes {
		return Principal{}, invalid("too long")
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	leeway := max(v.Leeway, 0)

	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{signingAlg}),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	var c claims
	t, err := parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		return v.keyFor(t)
	})
	if err != nil {
		return Principal{}, invalid(reasonFor(err, t, &c))
	}

	// Claims the jwt validator does not require.
	switch {
	case c.IssuedAt == nil:
		return Principal{}, invalid("missing claim iat")
	case c.ID == "":
		return Principal{}, invalid("missing claim jti")
	case !c.ExpiresAt.After(c.IssuedAt.Time):
		return Principal{}, invalid("exp not after iat")
	}
	if reason := checkShape(c.Subject, c.PartnerID, c.OrgID, c.Scope, c.Role, c.PortfolioLimited); reason != "" {
		return Principal{}, invalid(reason)
	}
	return Principal{
		ClientID:         c.Subject,
		PartnerID:        c.PartnerID,
		OrgID:            c.OrgID,
		Scope:            c.Scope,
		Role:             c.Role,
		PortfolioLimited: c.PortfolioLimited,
		TokenID:          c.ID,
		IssuedAt:         c.IssuedAt.UTC(),
		ExpiresAt:        c.ExpiresAt.UTC(),
	}, nil
}

// keyFor is the jwt.Keyfunc: it checks the header fields the library leaves to
// the caller and selects the key by kid. The library has already checked alg
// against WithValidMethods when it calls this.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if typ, ok := t.Header["typ"]; !ok || typ != "JWT" {
		return nil, reasonError("wrong typ")
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: extensions we do not understand must be rejected.
		return nil, reasonError("unsupported crit header")
	}
	raw, ok := t.Header["kid"]
	if !ok {
		return nil, reasonError("missing kid")
	}
	kid, ok := raw.(string)
	if !ok || kid == "" {
		return nil, reasonError("invalid kid")
	}
	key, ok := v.Keys.key(kid)
	if !ok {
		return nil, reasonError("unknown kid")
	}
	return key, nil
}

// reasonError is a verification failure found by this package's own checks
// inside the jwt callback; its text is the reason.
type reasonError string

func (e reasonError) Error() string { return string(e) }

// invalid wraps ErrInvalidToken with a short reason.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}

// reasonFor maps a jwt parse error to a short fixed reason. t may be nil and c
// partly filled, depending on how far parsing got.
func reasonFor(err error, t *jwt.Token, c *claims) string {
	var re reasonError
	switch {
	case errors.As(err, &re):
		return string(re)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// ParseUnverified could not resolve alg to a known method.
		if t != nil {
			if _, ok := t.Header["alg"].(string); ok {
				return "wrong alg"
			}
		}
		return "missing alg"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// Raised both for a method outside WithValidMethods and for a bad MAC.
		if t != nil && t.Method != nil && t.Method.Alg() != signingAlg {
			return "wrong alg"
		}
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case c.ExpiresAt == nil:
			return "missing claim exp"
		case c.Issuer == "":
			return "missing claim iss"
		default:
			return "missing claim aud"
		}
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrInvalidType):
		return "malformed claim"
	}
	return "rejected"
}
