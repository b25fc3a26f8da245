package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks that Verify never panics, that every failure wraps
// ErrInvalidToken, and that anything it accepts is a well-formed principal.
func FuzzVerify(f *testing.F) {
	kr := ringBoth(f)
	iss := testIssuer(kr, testNow)
	partnerTok := mustIssue(f, iss, partnerPrincipal)
	orgTok := mustIssue(f, iss, Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RolePortfolioManager, PortfolioLimited: true})
	oldTok := mustIssue(f, testIssuer(ringOld(f), testNow), orgPrincipal)
	parts := strings.Split(partnerTok, ".")
	for _, seed := range []string{
		partnerTok,
		orgTok,
		oldTok,
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		"." + parts[1] + "." + parts[2],
		craft(f, map[string]any{"alg": "none", "typ": "JWT", "kid": "old"}, stdClaims(), nil),
		craft(f, map[string]any{"alg": "HS512", "typ": "JWT", "kid": "old"}, stdClaims(), keyOld),
		craft(f, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "old"}, stdClaims(), keyOld),
		craft(f, with(stdHeader(), "kid", nil), stdClaims(), keyOld),
		craft(f, stdHeader(), with(stdClaims(), "exp", 1e300), keyOld),
		craft(f, stdHeader(), with(stdClaims(), "exp", -1e300), keyOld),
		craft(f, stdHeader(), with(stdClaims(), "aud", []any{1, nil}), keyOld),
		craft(f, stdHeader(), with(orgClaims(), "pfl", []any{"a", 2}), keyOld),
		seg([]byte(`{"alg":"HS256","typ":"JWT","kid":"old"}`)) + "." + seg([]byte(`null`)) + "." + parts[2],
		seg([]byte(`null`)) + "." + parts[1] + "." + parts[2],
		seg([]byte(`{"alg":"HS256","kid":{"a":1}}`)) + "." + parts[1] + "." + parts[2],
		"",
		".",
		"..",
		"...",
		"a.b.c",
		"eyJ.eyJ.x",
		"Bearer " + partnerTok,
		strings.Repeat("A", MaxTokenBytes) + "..",
	} {
		f.Add(seed)
	}
	v := testVerifier(kr, testNow.Add(time.Minute))
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify(%q) error %q does not wrap ErrInvalidToken", token, err)
			}
			return
		}
		if p.PartnerID == "" {
			t.Fatalf("Verify(%q) accepted a principal without PartnerID: %+v", token, p)
		}
		if reason := checkShape(p.ClientID, p.PartnerID, p.OrgID, p.Scope, p.Role, p.PortfolioLimited); reason != "" {
			t.Fatalf("Verify(%q) accepted a malformed principal (%s): %+v", token, reason, p)
		}
	})
}
