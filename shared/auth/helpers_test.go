package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Fixed test material. The keys are 32 bytes each.
var (
	testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	keyOld  = []byte("old-key-0123456789abcdef-0123456")
	keyNew  = []byte("new-key-0123456789abcdef-0123456")
)

const (
	testIss = "modupay-sandbox"
	testAud = "modupay-api"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func mustKeyring(t testing.TB, spec, active string) *Keyring {
	t.Helper()
	kr, err := ParseKeyring(spec, active)
	if err != nil {
		t.Fatalf("ParseKeyring(%q): %v", active, err)
	}
	return kr
}

// ringOld holds only "old"; ringBoth holds both with "new" active; ringNew
// holds only "new".
func ringOld(t testing.TB) *Keyring {
	return mustKeyring(t, "old:"+b64(keyOld), "old")
}

func ringBoth(t testing.TB) *Keyring {
	return mustKeyring(t, "old:"+b64(keyOld)+",new:"+b64(keyNew), "new")
}

func ringNew(t testing.TB) *Keyring {
	return mustKeyring(t, "new:"+b64(keyNew), "new")
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func testIssuer(kr *Keyring, now time.Time) *Issuer {
	return &Issuer{
		Keys: kr, Issuer: testIss, Audience: testAud, TTL: time.Hour,
		Now: fixedClock(now), NewID: func() string { return "tok-1" },
	}
}

func testVerifier(kr *Keyring, now time.Time) *Verifier {
	return &Verifier{Keys: kr, Issuer: testIss, Audience: testAud, Now: fixedClock(now)}
}

var (
	partnerPrincipal = Principal{ClientID: "cli_partner", PartnerID: "ptn_1", Scope: ScopePartner}
	orgPrincipal     = Principal{ClientID: "cli_org", PartnerID: "ptn_1", OrgID: "org_9", Scope: ScopeOrganization, Role: RoleAdmin}
)

func mustIssue(t testing.TB, i *Issuer, p Principal) string {
	t.Helper()
	tok, _, err := i.Issue(p)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

// craft builds a compact JWS from arbitrary header and claims, signed with
// HMAC-SHA256 under key (or with an empty signature when key is nil). It lets
// tests produce tokens this package would never issue.
func craft(t testing.TB, header, claims map[string]any, key []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signing := seg(h) + "." + seg(c)
	if key == nil {
		return signing + "."
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + seg(mac.Sum(nil))
}

func seg(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// stdHeader is what Issue puts in a header, signed with keyOld.
func stdHeader() map[string]any {
	return map[string]any{"alg": "HS256", "typ": "JWT", "kid": "old"}
}

// stdClaims is a valid partner-scope claim set at testNow.
func stdClaims() map[string]any {
	return map[string]any{
		"iss":   testIss,
		"aud":   []string{testAud},
		"sub":   "cli_partner",
		"exp":   testNow.Add(time.Hour).Unix(),
		"iat":   testNow.Unix(),
		"nbf":   testNow.Unix(),
		"jti":   "tok-1",
		"pid":   "ptn_1",
		"scope": "partner",
	}
}

// orgClaims is a valid organisation-scope claim set at testNow.
func orgClaims() map[string]any {
	c := stdClaims()
	c["sub"] = "cli_org"
	c["scope"] = "organization"
	c["oid"] = "org_9"
	c["role"] = "admin"
	return c
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
		} else {
			m[k] = kv[i+1]
		}
	}
	return m
}

// decodeSegment decodes one part of a compact JWS into a map.
func decodeSegment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decode part %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("unmarshal part %d: %v", i, err)
	}
	return m
}
