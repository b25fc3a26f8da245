package session

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/auth"
)

const (
	keyA = "a:" + "dGVzdC1vbmx5LWRhc2hib2FyZC1zZXNzaW9uLWtleS1BLTMyYnl0ZXM"
	keyB = "b:" + "dGVzdC1vbmx5LWRhc2hib2FyZC1zZXNzaW9uLWtleS1CLTMyYnl0ZXM"
)

func codec(t *testing.T, spec string) *Codec {
	t.Helper()
	ring, err := auth.ParseKeyring(spec, "")
	if err != nil {
		t.Fatal(err)
	}
	return &Codec{Keys: ring}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func orgSession() Session {
	return Session{ID: NewID(), ClientID: "cli-1", PartnerID: "ptn-1", OrgID: "org-1", Scope: auth.ScopeOrganization,
		Role: auth.RoleAnalyst, SecretTag: "tag", IssuedAt: t0, LastSeen: t0, Checked: t0}
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := codec(t, keyA)
	for name, s := range map[string]Session{
		"organisation": orgSession(),
		"partner": {ID: NewID(), ClientID: "ptn-1-client", PartnerID: "ptn-1", Scope: auth.ScopePartner, SecretTag: "t",
			IssuedAt: t0, LastSeen: t0.Add(time.Hour), Checked: t0},
	} {
		v, err := c.Seal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Open(v, s.LastSeen.Add(time.Minute))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != s.ID || got.ClientID != s.ClientID || got.OrgID != s.OrgID || got.Role != s.Role || !got.IssuedAt.Equal(s.IssuedAt) || !got.LastSeen.Equal(s.LastSeen) {
			t.Errorf("%s: got %+v, want %+v", name, got, s)
		}
		p := got.Principal()
		if p.ClientID != s.ClientID || p.Scope != s.Scope || !p.IssuedAt.Equal(s.IssuedAt) {
			t.Errorf("%s: principal %+v", name, p)
		}
	}
}

// TestOpenRefusesEveryTamperedByte changes each byte of a valid cookie to
// every other character of the cookie's alphabet and a few outside it:
// none opens.
func TestOpenRefusesEveryTamperedByte(t *testing.T) {
	c := codec(t, keyA)
	v, err := c.Seal(orgSession())
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00"
	for i := range len(v) {
		for _, r := range alphabet {
			if byte(r) == v[i] {
				continue
			}
			tampered := v[:i] + string(r) + v[i+1:]
			if _, err := c.Open(tampered, t0.Add(time.Minute)); err == nil {
				t.Fatalf("byte %d changed to %q: opened", i, r)
			}
		}
	}
	for _, cut := range []int{1, 2, len(v) / 2, len(v) - 1} {
		if _, err := c.Open(v[:cut], t0); err == nil {
			t.Errorf("truncated to %d bytes: opened", cut)
		}
	}
	if _, err := c.Open(v+"A", t0); err == nil {
		t.Error("one byte appended: opened")
	}
}

// TestOpenRefusesForgedPayloads signs payloads an attacker would want with
// a key the ring does not hold, and well-signed payloads that are not
// sessions: none opens.
func TestOpenRefusesForgedPayloads(t *testing.T) {
	c := codec(t, keyA)
	other := codec(t, "a:"+base64.StdEncoding.EncodeToString([]byte("an-attacker-chose-this-key-32-bytes!")))
	s := orgSession()
	s.Scope, s.OrgID, s.Role = auth.ScopePartner, "", "" // an analyst promoting itself to partner
	forged, _ := other.Seal(s)
	if _, err := c.Open(forged, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("same kid, another key: %v", err)
	}
	wrongKid := codec(t, strings.Replace(keyA, "a:", "zz:", 1))
	v, _ := wrongKid.Seal(orgSession())
	if _, err := c.Open(v, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("a kid the ring does not hold: %v", err)
	}
	// Well signed, but not a session.
	sign := func(payload string) string {
		body := base64.RawURLEncoding.EncodeToString([]byte(payload))
		mac, _ := c.Keys.SumWith("a", []byte(purposeSession+"v1.a."+body))
		return "v1.a." + body + "." + base64.RawURLEncoding.EncodeToString(mac)
	}
	good, _ := json.Marshal(orgSession())
	if _, err := c.Open(sign(string(good)), t0); err != nil {
		t.Fatalf("control: %v", err)
	}
	bad := map[string]func(m map[string]any){
		"partner scope with an organisation": func(m map[string]any) { m["scope"] = "partner" },
		"organisation without a role":        func(m map[string]any) { delete(m, "role") },
		"unknown role":                       func(m map[string]any) { m["role"] = "owner" },
		"unknown field":                      func(m map[string]any) { m["admin"] = true },
		"no session id":                      func(m map[string]any) { delete(m, "sid") },
		"no client":                          func(m map[string]any) { m["cid"] = "" },
		"no secret tag":                      func(m map[string]any) { delete(m, "stag") },
		"seen before sign-in":                func(m map[string]any) { m["seen"] = t0.Add(-time.Second) },
		"signed in in the future": func(m map[string]any) {
			m["iat"], m["seen"], m["chk"] = t0.Add(time.Hour), t0.Add(time.Hour), t0.Add(time.Hour)
		},
		"portfolio limit on an analyst": func(m map[string]any) { m["pfl"] = true },
	}
	for name, edit := range bad {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		edit(m)
		b, _ := json.Marshal(m)
		if _, err := c.Open(sign(string(b)), t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, v := range []string{"", "v1", "v1...", "v2.a.e30.AAAA", sign(string(good)) + ".x", strings.Repeat("A", 5000)} {
		if _, err := c.Open(v, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", v, err)
		}
	}
}

func TestOpenExpiry(t *testing.T) {
	c := codec(t, keyA)
	s := orgSession()
	cases := []struct {
		name     string
		lastSeen time.Time
		at       time.Time
		want     error
	}{
		{"just used", t0, t0.Add(time.Second), nil},
		{"idle 29 min 59 s", t0, t0.Add(IdleTimeout - time.Second), nil},
		{"idle 30 min", t0, t0.Add(IdleTimeout), ErrExpired},
		{"active, 11 h 59 after sign-in", t0.Add(MaxAge - 2*time.Minute), t0.Add(MaxAge - time.Minute), nil},
		{"active, 12 h after sign-in", t0.Add(MaxAge - time.Minute), t0.Add(MaxAge), ErrExpired},
	}
	for _, tc := range cases {
		s.LastSeen = tc.lastSeen
		v, err := c.Seal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Open(v, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestRotation: after a rotation (a new first key, the old one kept) the
// new key signs, sessions and forms made under the old one still open; once
// the old kid is dropped, they do not.
func TestRotation(t *testing.T) {
	before := codec(t, keyA)
	s := orgSession()
	old, _ := before.Seal(s)
	oldCSRF := before.CSRF(s)
	rotated := codec(t, keyB+","+keyA)
	if _, err := rotated.Open(old, t0); err != nil {
		t.Errorf("a session of the previous kid after the rotation: %v", err)
	}
	if !rotated.CheckCSRF(s, oldCSRF) {
		t.Error("a form of the previous kid after the rotation is refused")
	}
	v, _ := rotated.Seal(s)
	if !strings.HasPrefix(v, "v1.b.") {
		t.Errorf("the new first key does not sign: %s", v[:8])
	}
	dropped := codec(t, keyB)
	if _, err := dropped.Open(old, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("a session of a dropped kid: %v", err)
	}
	if dropped.CheckCSRF(s, oldCSRF) {
		t.Error("a form of a dropped kid is accepted")
	}
}

func TestCSRF(t *testing.T) {
	c := codec(t, keyA)
	s, other := orgSession(), orgSession()
	tok := c.CSRF(s)
	if !c.CheckCSRF(s, tok) {
		t.Fatal("the session's own token is refused")
	}
	for name, bad := range map[string]string{"empty": "", "another session's": c.CSRF(other), "truncated": tok[:len(tok)-1],
		"not base64": "!!!!", "the sign-in token of the id": c.LoginToken(s.ID)} {
		if c.CheckCSRF(s, bad) {
			t.Errorf("%s token accepted", name)
		}
	}
	// The token is no session cookie, and a session's mac no token.
	v, _ := c.Seal(s)
	if c.CheckCSRF(s, v[strings.LastIndex(v, ".")+1:]) {
		t.Error("the cookie's mac is accepted as a CSRF token")
	}
	n := NewID()
	if !c.CheckLoginToken(n, c.LoginToken(n)) || c.CheckLoginToken(NewID(), c.LoginToken(n)) || c.CheckLoginToken("", c.LoginToken("")) {
		t.Error("sign-in tokens are not bound to their nonce")
	}
}
