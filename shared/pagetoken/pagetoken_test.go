package pagetoken

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s, err := New(map[string][]byte{"k1": []byte("secret-one-0123456789abcdef0123456"), "k0": []byte("older-secret-0123456789abcdef01234")}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{PartnerID: "partner-demo", OrgID: "org-1", LinkID: "pl-1", IntentID: "pi-1", InvoiceID: "inv-1", DeptID: "dept-1", AccountID: "ba-1"}
	tok, err := s.Seal(keys)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, "pl-1") || strings.Contains(tok, "partner-demo") {
		t.Errorf("the token shows ids: %s", tok)
	}
	got, ok := s.Open(tok)
	if !ok || got != keys {
		t.Fatalf("Open = %+v, %v", got, ok)
	}
	other, _ := s.Seal(keys)
	if other == tok {
		t.Error("two tokens for the same keys are equal: the nonce is not random")
	}
	// Tampering, another kid, garbage: nothing opens.
	flip := []byte(tok)
	flip[len(flip)-5] ^= 1
	for name, bad := range map[string]string{"tampered": string(flip), "unknown kid": "k9." + strings.SplitN(tok, ".", 2)[1],
		"swapped kid": "k0." + strings.SplitN(tok, ".", 2)[1], "garbage": "k1.!!!", "empty": "", "no dot": "abc"} {
		if _, ok := s.Open(bad); ok {
			t.Errorf("%s token opened", name)
		}
	}
	// A ring without the sealing key does not open it (the caller falls back).
	s2, _ := New(map[string][]byte{"k2": []byte("another-secret-0123456789abcdef012")}, "k2")
	if _, ok := s2.Open(tok); ok {
		t.Error("a token opened under a ring without its key")
	}
}

// FuzzOpen: a payment page token comes from anyone's browser. Whatever the
// bytes, Open answers false or keys this ring sealed, never a panic.
func FuzzOpen(f *testing.F) {
	s, err := New(map[string][]byte{"k1": []byte("secret-one-0123456789abcdef0123456")}, "k1")
	if err != nil {
		f.Fatal(err)
	}
	tok, err := s.Seal(Keys{PartnerID: "p", OrgID: "o", LinkID: "pl-1", IntentID: "pi-1"})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{tok, "k1.", "k1." + strings.Repeat("A", 2000), ".", "", "k2." + tok[3:], tok + "x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if k, ok := s.Open(token); ok && token != tok && k.LinkID == "" {
			t.Fatalf("Open(%q) = %+v: opened without a link", token, k)
		}
	})
}
