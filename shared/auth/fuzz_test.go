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

// FuzzParseTokenRequest checks that ParseTokenRequest never panics, that an
// error is always an RFC 6749 §5.2 code with status 400 (401 for
// invalid_client) and a description in §5.2's character set, and that a
// success always carries the client_credentials grant and credentials.
func FuzzParseTokenRequest(f *testing.F) {
	for _, s := range []struct{ ct, body, auth string }{
		{ctJSON, `{"grant_type":"client_credentials","client_id":"cli_1","client_secret":"mps_x","scope":"partner"}`, ""},
		{ctJSON, `{"grant_type":"client_credentials","scope":"organization"}`, basic("cli_1", "mps_x")},
		{ctJSON + "; charset=utf-8", `{"grant_type":"client_credentials","client_id":1}`, ""},
		{ctJSON, `{"grant_type":"client_credentials","extra":{"a":[1,2,{"b":null}]}}`, ""},
		{ctJSON, `{"grant_type":"client_credentials","grant_type":"client_credentials"}`, ""},
		{ctJSON, `[{"grant_type":"client_credentials"}]`, ""},
		{ctJSON, `{"grant_type":"client_credentials"} {}`, ""},
		{ctJSON, `{"\u00e9\"":"x"}`, ""},
		{ctJSON, "{\"client_id\":\"\xff\"}", ""},
		{ctJSON, ``, ""},
		{ctForm, "grant_type=client_credentials&client_id=cli_1&client_secret=mps_x", ""},
		{ctForm, "grant_type=client_credentials&scope=partner", basic("cli:1", "p@ss w+rd%")},
		{ctForm, "grant_type=client_credentials&client_id=cli_1&client_id=cli_2", ""},
		{ctForm, "grant_type=client_credentials;client_id=a", ""},
		{ctForm, "grant_type=%zz", ""},
		{ctForm, "grant_type=password", "Bearer x"},
		{ctForm, "grant_type=client_credentials", "Basic !!"},
		{ctForm, "grant_type=client_credentials", basicRaw("%:%")},
		{ctForm, "grant_type=client_credentials", basicRaw("a:\x00")},
		{"text/plain", "grant_type=client_credentials", ""},
		{"", "", ""},
		{"application/json; charset", "{}", ""},
		{"multipart/form-data; boundary=\"", "", ""},
	} {
		f.Add(s.ct, []byte(s.body), s.auth)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, authorization string) {
		req, err := ParseTokenRequest(contentType, body, authorization)
		if err != nil {
			checkOAuthError(t, err)
			return
		}
		if req.GrantType != GrantClientCredentials || req.ClientID == "" || req.ClientSecret == "" {
			t.Fatalf("ParseTokenRequest(%q, %q, %q) = %+v, nil; want grant and credentials", contentType, body, authorization, req)
		}
		if !isVSChars(req.ClientID) || !isVSChars(req.ClientSecret) {
			t.Fatalf("ParseTokenRequest(%q, %q, %q) = %+v, nil; credentials not printable ASCII", contentType, body, authorization, req)
		}
	})
}
