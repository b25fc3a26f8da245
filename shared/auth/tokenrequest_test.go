package auth

import (
	"strings"
	"testing"
)

func TestTokenRequestCheck(t *testing.T) {
	const secret = "mps_k3y-With_AllTheChars0123456789abcdefghijkl"
	long := strings.Repeat("a", MaxTokenRequestFieldBytes+1)
	tests := []struct {
		name               string
		req                TokenRequest
		wantCode, wantDesc string // "" when the request passes
	}{
		{"client credentials", TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret, Scope: "partner"}, "", ""},
		{"every printable character", TokenRequest{GrantType: "client_credentials", ClientID: "cli:1 x", ClientSecret: "p@ss:w0rd+/ %&=~!\"\\"}, "", ""},
		{"scope unvalidated", TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: "s", Scope: "read write é"}, "", ""},

		// Grant type, checked first.
		{"missing grant_type", TokenRequest{ClientID: "c", ClientSecret: "s"}, CodeInvalidRequest, "missing grant_type"},
		{"password grant", TokenRequest{GrantType: "password", ClientID: "c", ClientSecret: "s"}, CodeUnsupportedGrantType, "only grant_type client_credentials is supported"},
		{"grant case matters", TokenRequest{GrantType: "Client_Credentials", ClientID: "c", ClientSecret: "s"}, CodeUnsupportedGrantType, "only grant_type client_credentials is supported"},
		{"grant before credentials", TokenRequest{GrantType: "password"}, CodeUnsupportedGrantType, "only grant_type client_credentials is supported"},

		// Client credentials.
		{"no credentials at all", TokenRequest{GrantType: "client_credentials"}, CodeInvalidClient, "client authentication required"},
		{"missing client_id", TokenRequest{GrantType: "client_credentials", ClientSecret: "s"}, CodeInvalidClient, "missing client_id"},
		{"missing client_secret", TokenRequest{GrantType: "client_credentials", ClientID: "c"}, CodeInvalidClient, "missing client_secret"},
		{"client_id too long", TokenRequest{GrantType: "client_credentials", ClientID: long, ClientSecret: "s"}, CodeInvalidRequest, "client_id is too long"},
		{"client_secret too long", TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: long}, CodeInvalidRequest, "client_secret is too long"},
		{"control character in client_id", TokenRequest{GrantType: "client_credentials", ClientID: "c\n", ClientSecret: "s"}, CodeInvalidRequest, "client_id contains invalid characters"},
		{"non-ASCII secret", TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: "é"}, CodeInvalidRequest, "client_secret contains invalid characters"},
		{"DEL in secret", TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: "s\x7f"}, CodeInvalidRequest, "client_secret contains invalid characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Check()
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check() = nil, want %s", tt.wantCode)
			}
			if err.Code != tt.wantCode || err.Description != tt.wantDesc {
				t.Errorf("error = {%q %q}, want {%q %q}", err.Code, err.Description, tt.wantCode, tt.wantDesc)
			}
			for i := 0; i < len(err.Description); i++ {
				if c := err.Description[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
					t.Errorf("description %q has byte %#x outside RFC 6749 §5.2's set", err.Description, c)
					break
				}
			}
		})
	}
}

func TestCheckGrantType(t *testing.T) {
	for grant, want := range map[string]string{
		"client_credentials": "", "": CodeInvalidRequest, "password": CodeUnsupportedGrantType,
		"authorization_code": CodeUnsupportedGrantType, "client_credentials ": CodeUnsupportedGrantType,
	} {
		got := ""
		if err := CheckGrantType(grant); err != nil {
			got = err.Code
		}
		if got != want {
			t.Errorf("CheckGrantType(%q) answers %q, want %q", grant, got, want)
		}
	}
}

func TestValidCredentialChars(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "cli_1": true, " ~": true, "p@ss:w0rd+/ %&=~!": true,
		"\x1f": false, "\x7f": false, "é": false, "a\tb": false,
	} {
		if got := ValidCredentialChars(s); got != want {
			t.Errorf("ValidCredentialChars(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestOAuthErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *OAuthError
		want string
	}{
		{"with description", &OAuthError{Code: "invalid_request", Description: "missing grant_type"}, "oauth2: invalid_request: missing grant_type"},
		{"without description", &OAuthError{Code: "invalid_client"}, "oauth2: invalid_client"},
		{"nil", nil, "oauth2: <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
