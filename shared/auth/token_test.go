package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
	}{
		{"partner", partnerPrincipal},
		{"organization admin", orgPrincipal},
		{"organization analyst", Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RoleAnalyst}},
		{"organization finance manager", Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RoleFinanceManager}},
		{"portfolio manager, all portfolios", Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RolePortfolioManager}},
		{"portfolio manager, some portfolios", Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RolePortfolioManager, PortfolioLimited: true}},
		{"non-ASCII ids", Principal{ClientID: "clié", PartnerID: "partenaire-é", Scope: ScopePartner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Issue at a non-whole second: iat is truncated.
			issuedAt := testNow.Add(700 * time.Millisecond)
			in := tt.p
			in.TokenID, in.IssuedAt, in.ExpiresAt = "ignored", time.Unix(1, 0), time.Unix(2, 0)
			tok, expiresIn, err := testIssuer(ringOld(t), issuedAt).Issue(in)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if got, want := expiresIn, 3600; got != want {
				t.Errorf("expiresIn = %d, want %d", got, want)
			}
			got, err := testVerifier(ringOld(t), testNow.Add(30*time.Minute)).Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := tt.p
			want.TokenID = "tok-1"
			want.IssuedAt = testNow
			want.ExpiresAt = testNow.Add(time.Hour)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Verify() =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestIssueTokenLayout(t *testing.T) {
	tests := []struct {
		name       string
		p          Principal
		wantClaims map[string]any
	}{
		{
			name: "partner omits oid, role and pfl",
			p:    partnerPrincipal,
			wantClaims: map[string]any{
				"iss": testIss, "aud": []any{testAud}, "sub": "cli_partner",
				"exp": float64(testNow.Add(time.Hour).Unix()), "iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()),
				"jti": "tok-1", "pid": "ptn_1", "scope": "partner",
			},
		},
		{
			name: "portfolio manager carries oid, role and pfl",
			p:    Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization, Role: RolePortfolioManager, PortfolioLimited: true},
			wantClaims: map[string]any{
				"iss": testIss, "aud": []any{testAud}, "sub": "c",
				"exp": float64(testNow.Add(time.Hour).Unix()), "iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()),
				"jti": "tok-1", "pid": "p", "oid": "o", "scope": "organization", "role": "portfolio_manager", "pfl": true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustIssue(t, testIssuer(ringBoth(t), testNow), tt.p)
			gotHeader := decodeSegment(t, tok, 0)
			wantHeader := map[string]any{"alg": "HS256", "typ": "JWT", "kid": "new"}
			if !reflect.DeepEqual(gotHeader, wantHeader) {
				t.Errorf("header = %v, want %v", gotHeader, wantHeader)
			}
			if got := decodeSegment(t, tok, 1); !reflect.DeepEqual(got, tt.wantClaims) {
				t.Errorf("claims = %v, want %v", got, tt.wantClaims)
			}
		})
	}
}

func TestIssueDefaults(t *testing.T) {
	i := &Issuer{Keys: ringOld(t), Issuer: testIss, Audience: testAud, TTL: 90*time.Second + 500*time.Millisecond}
	before := time.Now().Truncate(time.Second)
	tok, expiresIn, err := i.Issue(partnerPrincipal)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if got, want := expiresIn, 90; got != want {
		t.Errorf("expiresIn = %d, want %d (fractional TTL dropped)", got, want)
	}
	p, err := (&Verifier{Keys: ringOld(t), Issuer: testIss, Audience: testAud}).Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := p.TokenID; len(got) < 16 {
		t.Errorf("default jti = %q, want a random id of at least 16 characters", got)
	}
	if p.IssuedAt.Before(before) || p.IssuedAt.After(time.Now()) {
		t.Errorf("IssuedAt = %v, want about now", p.IssuedAt)
	}
	if got, want := p.ExpiresAt.Sub(p.IssuedAt), 90*time.Second; got != want {
		t.Errorf("exp - iat = %v, want %v", got, want)
	}
	tok2 := mustIssue(t, i, partnerPrincipal)
	p2, err := (&Verifier{Keys: ringOld(t), Issuer: testIss, Audience: testAud}).Verify(tok2)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p2.TokenID == p.TokenID {
		t.Errorf("two default jtis are both %q, want distinct", p.TokenID)
	}
}

func TestIssueErrors(t *testing.T) {
	good := func() *Issuer { return testIssuer(ringOld(t), testNow) }
	tests := []struct {
		name    string
		issuer  *Issuer
		p       Principal
		wantErr string
	}{
		{"nil issuer", nil, partnerPrincipal, "nil Issuer"},
		{"no keys", func() *Issuer { i := good(); i.Keys = nil; return i }(), partnerPrincipal, "no signing key"},
		{"zero keyring", func() *Issuer { i := good(); i.Keys = &Keyring{}; return i }(), partnerPrincipal, "no signing key"},
		{"no issuer", func() *Issuer { i := good(); i.Issuer = ""; return i }(), partnerPrincipal, "Issuer and Audience are required"},
		{"no audience", func() *Issuer { i := good(); i.Audience = ""; return i }(), partnerPrincipal, "Issuer and Audience are required"},
		{"zero TTL", func() *Issuer { i := good(); i.TTL = 0; return i }(), partnerPrincipal, "below one second"},
		{"empty jti", func() *Issuer { i := good(); i.NewID = func() string { return "" }; return i }(), partnerPrincipal, "empty id"},
		{"no client id", good(), Principal{PartnerID: "p", Scope: ScopePartner}, "missing claim sub"},
		{"no partner id", good(), Principal{ClientID: "c", Scope: ScopePartner}, "missing claim pid"},
		{"no scope", good(), Principal{ClientID: "c", PartnerID: "p"}, "missing claim scope"},
		{"unknown scope", good(), Principal{ClientID: "c", PartnerID: "p", Scope: "global"}, "invalid scope"},
		{"partner with org", good(), Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopePartner}, "partner scope with oid"},
		{"partner with role", good(), Principal{ClientID: "c", PartnerID: "p", Role: RoleAdmin, Scope: ScopePartner}, "partner scope with role"},
		{"partner with portfolios", good(), Principal{ClientID: "c", PartnerID: "p", PortfolioLimited: true, Scope: ScopePartner}, "partner scope with pfl"},
		{"org without org id", good(), Principal{ClientID: "c", PartnerID: "p", Role: RoleAdmin, Scope: ScopeOrganization}, "missing claim oid"},
		{"org without role", good(), Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: ScopeOrganization}, "missing claim role"},
		{"org with unknown role", good(), Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Role: "owner", Scope: ScopeOrganization}, "invalid role"},
		{"portfolios on admin", good(), Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Role: RoleAdmin, PortfolioLimited: true, Scope: ScopeOrganization}, "pfl without portfolio_manager role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, expiresIn, err := tt.issuer.Issue(tt.p)
			if err == nil {
				t.Fatalf("Issue() = %q, %d, nil; want error containing %q", tok, expiresIn, tt.wantErr)
			}
			if got := err.Error(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", got, tt.wantErr)
			}
			if errors.Is(err, ErrInvalidToken) {
				t.Errorf("Issue error %q wraps ErrInvalidToken, want a configuration error", err)
			}
			if tok != "" || expiresIn != 0 {
				t.Errorf("Issue() = %q, %d on error, want zero values", tok, expiresIn)
			}
		})
	}
}

func TestVerifyExpiry(t *testing.T) {
	tok := mustIssue(t, testIssuer(ringOld(t), testNow), partnerPrincipal)
	exp := testNow.Add(time.Hour)
	tests := []struct {
		name       string
		now        time.Time
		leeway     time.Duration
		wantReason string // "" means valid
	}{
		{"at iat", testNow, 0, ""},
		{"one second before exp", exp.Add(-time.Second), 0, ""},
		{"one nanosecond before exp", exp.Add(-time.Nanosecond), 0, ""},
		{"exactly at exp", exp, 0, "expired"},
		{"after exp", exp.Add(time.Second), 0, "expired"},
		{"at exp within leeway", exp, 30 * time.Second, ""},
		{"just within leeway", exp.Add(29 * time.Second), 30 * time.Second, ""},
		{"exactly at exp plus leeway", exp.Add(30 * time.Second), 30 * time.Second, "expired"},
		{"negative leeway counts as zero", exp.Add(-time.Second), -time.Minute, ""},
		{"before iat and nbf", testNow.Add(-time.Second), 0, "not valid yet"},
		{"before iat within leeway", testNow.Add(-20 * time.Second), 30 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(ringOld(t), tt.now)
			v.Leeway = tt.leeway
			_, err := v.Verify(tok)
			checkReason(t, err, tt.wantReason)
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	oldTok := mustIssue(t, testIssuer(ringOld(t), testNow), partnerPrincipal)
	newTok := mustIssue(t, testIssuer(ringBoth(t), testNow), partnerPrincipal)
	if got, want := decodeSegment(t, newTok, 0)["kid"], "new"; got != want {
		t.Errorf("kid after rotation = %v, want %v", got, want)
	}
	tests := []struct {
		name       string
		ring       *Keyring
		token      string
		wantReason string
	}{
		{"old token, old ring", ringOld(t), oldTok, ""},
		{"old token, ring with both", ringBoth(t), oldTok, ""},
		{"new token, ring with both", ringBoth(t), newTok, ""},
		{"old token after old key removed", ringNew(t), oldTok, "unknown kid"},
		{"new token, ring without new key", ringOld(t), newTok, "unknown kid"},
		{"old kid name reused with another secret", mustKeyring(t, "old:"+b64(keyNew), "old"), oldTok, "bad signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testVerifier(tt.ring, testNow).Verify(tt.token)
			checkReason(t, err, tt.wantReason)
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	valid := mustIssue(t, testIssuer(ringOld(t), testNow), partnerPrincipal)
	parts := strings.Split(valid, ".")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(stdClaims()))
	rs256.Header["kid"] = "old"
	rs256Tok, err := rs256.SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	hs512 := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(stdClaims()))
	hs512.Header["kid"] = "old"
	hs512Tok, err := hs512.SignedString(keyOld)
	if err != nil {
		t.Fatal(err)
	}

	// A payload from another principal spliced under the valid signature.
	forged := craft(t, stdHeader(), with(stdClaims(), "pid", "ptn_other"), keyOld)
	tamperedPayload := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	tamperedSig := parts[0] + "." + parts[1] + "." + flipFirstChar(parts[2])

	tests := []struct {
		name       string
		token      string
		wantReason string
	}{
		{"control: valid", valid, ""},
		{"control: crafted valid partner", craft(t, stdHeader(), stdClaims(), keyOld), ""},
		{"control: crafted valid organization", craft(t, stdHeader(), orgClaims(), keyOld), ""},
		{"control: aud as a string", craft(t, stdHeader(), with(stdClaims(), "aud", testAud), keyOld), ""},
		{"control: aud list containing ours", craft(t, stdHeader(), with(stdClaims(), "aud", []string{"other", testAud}), keyOld), ""},

		{"empty", "", "empty"},
		{"too long", strings.Repeat("a", MaxTokenBytes+1), "too long"},
		{"garbage", "not a token", "malformed"},
		{"one dot", "abc.def", "malformed"},
		{"four parts", valid + ".x", "malformed"},
		{"only dots", "..", "malformed"},
		{"bearer prefix left in", "Bearer " + valid, "malformed"},
		{"header not JSON", seg([]byte("nope")) + "." + parts[1] + "." + parts[2], "malformed"},
		{"header JSON array", seg([]byte("[]")) + "." + parts[1] + "." + parts[2], "malformed"},
		{"claims not JSON", parts[0] + "." + seg([]byte("{")) + "." + parts[2], "malformed"},
		{"padded segment", parts[0] + "=." + parts[1] + "." + parts[2], "malformed"},
		{"std base64 alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", "malformed"},
		{"non-canonical signature base64", parts[0] + "." + parts[1] + "." + nonCanonical(parts[2]), "malformed"},

		{"tampered payload", tamperedPayload, "bad signature"},
		{"tampered signature", tamperedSig, "bad signature"},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:8], "bad signature"},
		{"empty signature", parts[0] + "." + parts[1] + ".", "bad signature"},
		{"signed with a key not in the ring", craft(t, stdHeader(), stdClaims(), []byte("some-other-key-0123456789abcdefgh")), "bad signature"},

		{"alg none", craft(t, map[string]any{"alg": "none", "typ": "JWT", "kid": "old"}, stdClaims(), nil), "wrong alg"},
		{"alg None", craft(t, map[string]any{"alg": "None", "typ": "JWT", "kid": "old"}, stdClaims(), nil), "wrong alg"},
		{"alg missing", craft(t, map[string]any{"typ": "JWT", "kid": "old"}, stdClaims(), keyOld), "missing alg"},
		{"alg not a string", craft(t, map[string]any{"alg": 256, "typ": "JWT", "kid": "old"}, stdClaims(), keyOld), "missing alg"},
		{"HS512", hs512Tok, "wrong alg"},
		{"RS256 properly signed", rs256Tok, "wrong alg"},
		{"RS256 header over HMAC signature", craft(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "old"}, stdClaims(), keyOld), "wrong alg"},
		{"lowercase hs256", craft(t, map[string]any{"alg": "hs256", "typ": "JWT", "kid": "old"}, stdClaims(), keyOld), "wrong alg"},

		{"missing kid", craft(t, with(stdHeader(), "kid", nil), stdClaims(), keyOld), "missing kid"},
		{"empty kid", craft(t, with(stdHeader(), "kid", ""), stdClaims(), keyOld), "invalid kid"},
		{"kid not a string", craft(t, with(stdHeader(), "kid", 1), stdClaims(), keyOld), "invalid kid"},
		{"unknown kid", craft(t, with(stdHeader(), "kid", "nope"), stdClaims(), keyOld), "unknown kid"},
		{"missing typ", craft(t, with(stdHeader(), "typ", nil), stdClaims(), keyOld), "wrong typ"},
		{"other typ", craft(t, with(stdHeader(), "typ", "at+jwt"), stdClaims(), keyOld), "wrong typ"},
		{"crit header", craft(t, with(stdHeader(), "crit", []string{"exp"}), stdClaims(), keyOld), "unsupported crit header"},

		{"wrong issuer", craft(t, stdHeader(), with(stdClaims(), "iss", "modupay-production"), keyOld), "wrong issuer"},
		{"wrong audience", craft(t, stdHeader(), with(stdClaims(), "aud", []string{"other-api"}), keyOld), "wrong audience"},
		{"missing iss", craft(t, stdHeader(), with(stdClaims(), "iss", nil), keyOld), "missing claim iss"},
		{"missing aud", craft(t, stdHeader(), with(stdClaims(), "aud", nil), keyOld), "missing claim aud"},
		{"missing exp", craft(t, stdHeader(), with(stdClaims(), "exp", nil), keyOld), "missing claim exp"},
		{"missing iat", craft(t, stdHeader(), with(stdClaims(), "iat", nil), keyOld), "missing claim iat"},
		{"missing jti", craft(t, stdHeader(), with(stdClaims(), "jti", nil), keyOld), "missing claim jti"},
		{"missing sub", craft(t, stdHeader(), with(stdClaims(), "sub", nil), keyOld), "missing claim sub"},
		{"missing pid", craft(t, stdHeader(), with(stdClaims(), "pid", nil), keyOld), "missing claim pid"},
		{"missing scope", craft(t, stdHeader(), with(stdClaims(), "scope", nil), keyOld), "missing claim scope"},
		{"missing nbf is fine", craft(t, stdHeader(), with(stdClaims(), "nbf", nil), keyOld), ""},
		{"exp as string", craft(t, stdHeader(), with(stdClaims(), "exp", "soon"), keyOld), "malformed"},
		{"pid as number", craft(t, stdHeader(), with(stdClaims(), "pid", 7), keyOld), "malformed"},
		{"aud as number", craft(t, stdHeader(), with(stdClaims(), "aud", 7), keyOld), "malformed"},
		{"iat equal to exp", craft(t, stdHeader(), with(stdClaims(), "exp", testNow.Add(time.Hour).Unix(), "iat", testNow.Add(time.Hour).Unix(), "nbf", nil), keyOld), "issued in the future"},
		{"iat in the future", craft(t, stdHeader(), with(stdClaims(), "iat", testNow.Add(time.Minute).Unix(), "nbf", nil), keyOld), "issued in the future"},
		{"nbf in the future", craft(t, stdHeader(), with(stdClaims(), "nbf", testNow.Add(time.Minute).Unix()), keyOld), "not valid yet"},
		{"expired", craft(t, stdHeader(), with(stdClaims(), "exp", testNow.Add(-time.Second).Unix(), "iat", testNow.Add(-time.Hour).Unix()), keyOld), "expired"},
		{"exp before iat", craft(t, stdHeader(), with(stdClaims(), "exp", testNow.Add(time.Hour).Unix(), "iat", testNow.Add(2*time.Hour).Unix(), "nbf", nil), keyOld), "issued in the future"},

		{"unknown scope", craft(t, stdHeader(), with(stdClaims(), "scope", "admin"), keyOld), "invalid scope"},
		{"partner scope with oid", craft(t, stdHeader(), with(stdClaims(), "oid", "org_9"), keyOld), "partner scope with oid"},
		{"partner scope with role", craft(t, stdHeader(), with(stdClaims(), "role", "admin"), keyOld), "partner scope with role"},
		{"partner scope with pfl", craft(t, stdHeader(), with(stdClaims(), "pfl", true), keyOld), "partner scope with pfl"},
		{"organization without oid", craft(t, stdHeader(), with(orgClaims(), "oid", nil), keyOld), "missing claim oid"},
		{"organization without role", craft(t, stdHeader(), with(orgClaims(), "role", nil), keyOld), "missing claim role"},
		{"organization with unknown role", craft(t, stdHeader(), with(orgClaims(), "role", "owner"), keyOld), "invalid role"},
		{"organization pfl on analyst", craft(t, stdHeader(), with(orgClaims(), "role", "analyst", "pfl", true), keyOld), "pfl without portfolio_manager role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := testVerifier(ringOld(t), testNow).Verify(tt.token)
			checkReason(t, err, tt.wantReason)
			if err != nil && !reflect.DeepEqual(p, Principal{}) {
				t.Errorf("Verify() principal = %+v on error, want zero", p)
			}
		})
	}
}

func TestVerifyExpNotAfterIat(t *testing.T) {
	// Only reachable with leeway: without it, iat <= now < exp already implies
	// exp > iat.
	at := testNow.Add(time.Second).Unix()
	tok := craft(t, stdHeader(), with(stdClaims(), "exp", at, "iat", at, "nbf", nil), keyOld)
	v := testVerifier(ringOld(t), testNow)
	v.Leeway = 10 * time.Second
	_, err := v.Verify(tok)
	checkReason(t, err, "exp not after iat")
}

func TestVerifierMisconfigured(t *testing.T) {
	tok := mustIssue(t, testIssuer(ringOld(t), testNow), partnerPrincipal)
	tests := []struct {
		name string
		v    *Verifier
	}{
		{"nil verifier", nil},
		{"no keys", &Verifier{Issuer: testIss, Audience: testAud, Now: fixedClock(testNow)}},
		{"zero keyring", &Verifier{Keys: &Keyring{}, Issuer: testIss, Audience: testAud, Now: fixedClock(testNow)}},
		{"no issuer", &Verifier{Keys: ringOld(t), Audience: testAud, Now: fixedClock(testNow)}},
		{"no audience", &Verifier{Keys: ringOld(t), Issuer: testIss, Now: fixedClock(testNow)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(tok)
			if err == nil {
				t.Fatal("Verify() error = nil, want an error")
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %q does not wrap ErrInvalidToken", err)
			}
		})
	}
}

// checkReason asserts err is nil when want is "", and otherwise that it wraps
// ErrInvalidToken with exactly that reason.
func checkReason(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("Verify() error = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Verify() error = nil, want %q", want)
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("error %q does not wrap ErrInvalidToken", err)
	}
	if got, want := err.Error(), "invalid token: "+want; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// flipFirstChar changes the first character of a base64url segment to another
// character of the alphabet that keeps the encoding canonical.
func flipFirstChar(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

// nonCanonical changes the last character of an unpadded base64url segment so
// that it decodes to the same bytes with non-zero trailing bits. A 32-byte
// HMAC encodes to 43 characters; the last one carries 2 unused bits.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}
