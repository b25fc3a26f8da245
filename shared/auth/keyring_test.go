package auth

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseKeyring(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef\xfb\xff") // 34 bytes: +/ vs -_ differ
	tests := []struct {
		name       string
		spec       string
		active     string
		wantKids   []string
		wantActive string
	}{
		{"single std padded", "k1:" + base64.StdEncoding.EncodeToString(raw), "k1", []string{"k1"}, "k1"},
		{"single std unpadded", "k1:" + base64.RawStdEncoding.EncodeToString(raw), "k1", []string{"k1"}, "k1"},
		{"single raw url", "k1:" + base64.RawURLEncoding.EncodeToString(raw), "k1", []string{"k1"}, "k1"},
		{"single url padded", "k1:" + base64.URLEncoding.EncodeToString(raw), "k1", []string{"k1"}, "k1"},
		{"two keys, second active", "2025-01:" + b64(keyOld) + ",2026-01:" + b64(keyNew), "2026-01", []string{"2025-01", "2026-01"}, "2026-01"},
		{"whitespace tolerated", " a.b_c-D : " + b64(keyOld) + " ,\tz:" + b64(keyNew) + "\n", " z ", []string{"a.b_c-D", "z"}, "z"},
		{"no active kid: the first entry signs", "2026-01:" + b64(keyNew) + ",2025-01:" + b64(keyOld), "", []string{"2025-01", "2026-01"}, "2026-01"},
		{"64-char kid", strings.Repeat("k", 64) + ":" + b64(keyOld), strings.Repeat("k", 64), []string{strings.Repeat("k", 64)}, strings.Repeat("k", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.spec, tt.active)
			if err != nil {
				t.Fatalf("ParseKeyring: %v", err)
			}
			if got := kr.Kids(); !reflect.DeepEqual(got, tt.wantKids) {
				t.Errorf("Kids() = %v, want %v", got, tt.wantKids)
			}
			if got := kr.ActiveKid(); got != tt.wantActive {
				t.Errorf("ActiveKid() = %q, want %q", got, tt.wantActive)
			}
		})
	}
}

func TestParseKeyringDecodesSameBytes(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef\xfb\xff")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		kr, err := ParseKeyring("k:"+enc.EncodeToString(raw), "k")
		if err != nil {
			t.Fatalf("ParseKeyring: %v", err)
		}
		if got, _ := kr.key("k"); string(got) != string(raw) {
			t.Errorf("decoded key = %x, want %x", got, raw)
		}
	}
}

func TestParseKeyringErrors(t *testing.T) {
	short := b64([]byte("only-31-bytes-long-0123456789ab"))
	secretText := b64(keyOld)
	tests := []struct {
		name    string
		spec    string
		active  string
		wantErr string
	}{
		{"empty spec", "", "k", "keyring spec is empty"},
		{"blank spec", "  ", "k", "keyring spec is empty"},
		{"empty entry", "k:" + secretText + ",", "k", "entry 2 is empty"},
		{"no colon", "k" + secretText, "k", "entry 1 is not of the form kid:base64secret"},
		{"empty kid", ":" + secretText, "k", "entry 1: kid must match"},
		{"kid with space", "my key:" + secretText, "my key", "entry 1: kid must match"},
		{"kid with slash", "a/b:" + secretText, "a/b", "entry 1: kid must match"},
		{"kid too long", strings.Repeat("k", 65) + ":" + secretText, "k", "entry 1: kid must match"},
		{"duplicate kid", "k:" + secretText + ",k:" + b64(keyNew), "k", `entry 2: duplicate kid "k"`},
		{"bad base64", "k:not*base64!", "k", `entry 1 (kid "k"): secret is not valid base64`},
		{"mixed alphabets", "k:" + "ab+-" + secretText, "k", "secret is not valid base64"},
		{"empty secret", "k:", "k", `secret decodes to 0 bytes, need at least 32`},
		{"short secret", "k:" + short, "k", `entry 1 (kid "k"): secret decodes to 31 bytes, need at least 32`},
		{"active missing", "k:" + secretText, "other", `active kid "other" is not in the keyring`},
		{"active invalid and missing", "k:" + secretText, "a\nb", "active kid is not in the keyring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.spec, tt.active)
			if err == nil {
				t.Fatalf("ParseKeyring() = %v, want error containing %q", kr, tt.wantErr)
			}
			if got := err.Error(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", got, tt.wantErr)
			}
			if got := err.Error(); strings.Contains(got, secretText) || strings.Contains(got, short) {
				t.Errorf("error %q reveals a secret", got)
			}
		})
	}
}

func TestKeyringDoesNotPrintSecrets(t *testing.T) {
	kr := ringBoth(t)
	v := Verifier{Keys: kr, Issuer: testIss, Audience: testAud}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, arg := range []any{kr, v, &v} {
			got := fmt.Sprintf(format, arg)
			for _, secret := range [][]byte{keyOld, keyNew} {
				if strings.Contains(got, string(secret)) || strings.Contains(got, fmt.Sprint(secret)) || strings.Contains(got, fmt.Sprintf("%x", secret)) {
					t.Errorf("Sprintf(%q, %T) = %q, reveals a key", format, arg, got)
				}
			}
		}
	}
	if got, want := kr.String(), "Keyring(active=new, kids=new,old)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestNilKeyring(t *testing.T) {
	var kr *Keyring
	if got := kr.ActiveKid(); got != "" {
		t.Errorf("ActiveKid() = %q, want empty", got)
	}
	if got := kr.Kids(); got != nil {
		t.Errorf("Kids() = %v, want nil", got)
	}
	if got, want := kr.String(), "Keyring(nil)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
