package auth

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewClientSecret(t *testing.T) {
	format := regexp.MustCompile(`^mps_[A-Za-z0-9_-]{43}$`)
	seen := make(map[string]bool)
	for range 100 {
		s, err := NewClientSecret()
		if err != nil {
			t.Fatalf("NewClientSecret: %v", err)
		}
		if !format.MatchString(s) {
			t.Fatalf("NewClientSecret() = %q, want match for %v", s, format)
		}
		if seen[s] {
			t.Fatalf("NewClientSecret() repeated %q", s)
		}
		seen[s] = true
		if !SecretMatches(HashSecret(s), s) {
			t.Errorf("SecretMatches(HashSecret(%q), same) = false, want true", s)
		}
	}
}

func TestHashSecret(t *testing.T) {
	tests := []struct {
		name, secret, want string
	}{
		{"abc (FIPS 180-2 vector)", "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"empty", "", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashSecret(tt.secret); got != tt.want {
				t.Errorf("HashSecret(%q) = %q, want %q", tt.secret, got, tt.want)
			}
		})
	}
}

func TestSecretMatches(t *testing.T) {
	const secret = "mps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	good := HashSecret(secret)
	digest := strings.TrimPrefix(good, "sha256:")
	tests := []struct {
		name   string
		hash   string
		secret string
		want   bool
	}{
		{"match", good, secret, true},
		{"uppercase hex digest", "sha256:" + strings.ToUpper(digest), secret, true},
		{"wrong secret", good, secret + "x", false},
		{"secret differs in case", good, strings.ToLower(secret), false},
		{"empty secret never matches", HashSecret(""), "", false},
		{"empty hash", "", secret, false},
		{"no prefix", digest, secret, false},
		{"other algorithm", "sha512:" + digest, secret, false},
		{"uppercase prefix", "SHA256:" + digest, secret, false},
		{"short digest", good[:len(good)-2], secret, false},
		{"long digest", good + "00", secret, false},
		{"non-hex digest", "sha256:" + strings.Repeat("zz", 32), secret, false},
		{"odd characters", "sha256:" + digest[:63] + "g", secret, false},
		{"prefix only", "sha256:", secret, false},
		{"hash of the hash", HashSecret(good), good, true}, // any string is a secret; documents no special casing
		{"plaintext stored by mistake", secret, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SecretMatches(tt.hash, tt.secret); got != tt.want {
				t.Errorf("SecretMatches(%q, %q) = %v, want %v", tt.hash, tt.secret, got, tt.want)
			}
		})
	}
}
