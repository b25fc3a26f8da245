package tokens

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/auth"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func basicRaw(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestParseTokenRequest(t *testing.T) {
	const secret = "mps_k3y-With_AllTheChars0123456789abcdefghijkl"
	const special = "p@ss:w0rd+/ %&=~!" // every character that needs form-encoding
	tests := []struct {
		name          string
		contentType   string
		body          string
		authorization string
		want          tokenRequest
	}{
		{
			name:        "JSON, seed form",
			contentType: ctJSON,
			body:        `{"grant_type":"client_credentials","client_id":"cli_1","client_secret":"` + secret + `","scope":"partner"}`,
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret, Scope: "partner"}},
		},
		{
			name:        "JSON without scope, with charset and whitespace",
			contentType: "Application/JSON; charset=UTF-8",
			body:        " {\n \"client_secret\" : \"" + secret + "\", \"client_id\":\"cli_1\",\"grant_type\":\"client_credentials\"}\n",
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret}},
		},
		{
			name:        "JSON null scope counts as absent",
			contentType: ctJSON,
			body:        `{"grant_type":"client_credentials","client_id":"cli_1","client_secret":"s","scope":null}`,
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: "s"}},
		},
		{
			name:        "JSON with escapes",
			contentType: ctJSON,
			body:        `{"grant_type":"client\u005fcredentials","client_id":"cli\"1","client_secret":"a\\b"}`,
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: `cli"1`, ClientSecret: `a\b`}},
		},
		{
			name:        "form",
			contentType: ctForm,
			body:        "grant_type=client_credentials&client_id=cli_1&client_secret=" + secret + "&scope=organization",
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret, Scope: "organization"}},
		},
		{
			name:        "form, charset, unknown parameters ignored, encoded values",
			contentType: ctForm + ";charset=utf-8",
			body:        "audience=x&grant_type=client_credentials&client_id=cli%201&client_secret=a+b%2Bc&audience=y",
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli 1", ClientSecret: "a b+c"}},
		},
		{
			name:          "form with Basic",
			contentType:   ctForm,
			body:          "grant_type=client_credentials&scope=partner",
			authorization: basic("cli_1", secret),
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret, Scope: "partner"}, usedBasic: true},
		},
		{
			name:          "JSON with Basic",
			contentType:   ctJSON,
			body:          `{"grant_type":"client_credentials"}`,
			authorization: basic("cli_1", secret),
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret}, usedBasic: true},
		},
		{
			name:          "Basic with url-encoded special characters",
			contentType:   ctForm,
			body:          "grant_type=client_credentials",
			authorization: basic("cli:1 x", special),
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli:1 x", ClientSecret: special}, usedBasic: true},
		},
		{
			name:          "Basic percent and plus decoding",
			contentType:   ctForm,
			body:          "grant_type=client_credentials",
			authorization: basicRaw("cli%3A1:a+b%2Bc%25"),
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli:1", ClientSecret: "a b+c%"}, usedBasic: true},
		},
		{
			name:          "Basic scheme case-insensitive, extra spaces, unpadded",
			contentType:   ctForm,
			body:          "grant_type=client_credentials",
			authorization: "  bAsIc   " + base64.RawStdEncoding.EncodeToString([]byte("cli_1:s3")) + " ",
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: "s3"}, usedBasic: true},
		},
		{
			name:          "Basic plus matching client_id in body",
			contentType:   ctForm,
			body:          "grant_type=client_credentials&client_id=cli_1",
			authorization: basic("cli_1", secret),
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "cli_1", ClientSecret: secret}, usedBasic: true},
		},
		{
			name:          "blank Authorization header is absent",
			contentType:   ctForm,
			body:          "grant_type=client_credentials&client_id=c&client_secret=s",
			authorization: "   ",
			want:          tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: "s"}},
		},
		{
			name:        "scope is returned unvalidated",
			contentType: ctForm,
			body:        "grant_type=client_credentials&client_id=c&client_secret=s&scope=read+write",
			want:        tokenRequest{TokenRequest: auth.TokenRequest{GrantType: "client_credentials", ClientID: "c", ClientSecret: "s", Scope: "read write"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTokenRequest(tt.contentType, []byte(tt.body), tt.authorization)
			if err != nil {
				t.Fatalf("parseTokenRequest() error = %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("parseTokenRequest() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseTokenRequestErrors(t *testing.T) {
	const (
		okJSON = `{"grant_type":"client_credentials","client_id":"c","client_secret":"s"}`
		okForm = "grant_type=client_credentials&client_id=c&client_secret=s"
	)
	tests := []struct {
		name          string
		contentType   string
		body          string
		authorization string
		wantStatus    int
		wantCode      string
		wantDesc      string
	}{
		// Content type.
		{"no content type", "", okJSON, "", 400, "invalid_request", "unsupported content type"},
		{"text/plain", "text/plain", okJSON, "", 400, "invalid_request", "unsupported content type"},
		{"multipart", "multipart/form-data; boundary=x", okForm, "", 400, "invalid_request", "unsupported content type"},
		{"json suffix type", "application/vnd.api+json", okJSON, "", 400, "invalid_request", "unsupported content type"},
		{"garbage content type", "application/json/x;;", okJSON, "", 400, "invalid_request", "unsupported content type"},

		// Body syntax.
		{"too large", ctForm, okForm + "&pad=" + strings.Repeat("x", maxTokenRequestBytes), "", 400, "invalid_request", "request body too large"},
		{"empty JSON body", ctJSON, "", "", 400, "invalid_request", "request body is not valid JSON"},
		{"JSON array", ctJSON, `[]`, "", 400, "invalid_request", "request body must be a JSON object"},
		{"JSON string", ctJSON, `"x"`, "", 400, "invalid_request", "request body must be a JSON object"},
		{"truncated JSON", ctJSON, `{"grant_type":"client_credentials"`, "", 400, "invalid_request", "request body is not valid JSON"},
		{"trailing data", ctJSON, okJSON + `{}`, "", 400, "invalid_request", "unexpected data after the JSON object"},
		{"trailing garbage", ctJSON, okJSON + `x`, "", 400, "invalid_request", "unexpected data after the JSON object"},
		{"invalid UTF-8 JSON", ctJSON, "{\"grant_type\":\"client_credentials\",\"client_id\":\"c\xff\",\"client_secret\":\"s\"}", "", 400, "invalid_request", "request body is not valid UTF-8"},
		{"unknown field", ctJSON, `{"grant_type":"client_credentials","client_id":"c","client_secret":"s","audience":"x"}`, "", 400, "invalid_request", "unknown field 'audience'"},
		{"field case matters", ctJSON, `{"Grant_Type":"client_credentials","client_id":"c","client_secret":"s"}`, "", 400, "invalid_request", "unknown field 'Grant_Type'"},
		{"unknown field with quote not echoed", ctJSON, `{"a\"b":1}`, "", 400, "invalid_request", "unknown field (not shown)"},
		{"unknown field non-ASCII not echoed", ctJSON, `{"é":1}`, "", 400, "invalid_request", "unknown field (not shown)"},
		{"repeated JSON field", ctJSON, `{"grant_type":"client_credentials","client_id":"c","client_id":"d","client_secret":"s"}`, "", 400, "invalid_request", "repeated field client_id"},
		{"number client_id", ctJSON, `{"grant_type":"client_credentials","client_id":42,"client_secret":"s"}`, "", 400, "invalid_request", "client_id must be a string"},
		{"bool grant_type", ctJSON, `{"grant_type":true,"client_id":"c","client_secret":"s"}`, "", 400, "invalid_request", "grant_type must be a string"},
		{"array scope", ctJSON, `{"grant_type":"client_credentials","client_id":"c","client_secret":"s","scope":["partner"]}`, "", 400, "invalid_request", "scope must be a string"},
		{"object secret", ctJSON, `{"grant_type":"client_credentials","client_id":"c","client_secret":{}}`, "", 400, "invalid_request", "client_secret must be a string"},
		{"malformed form", ctForm, "grant_type=%zz", "", 400, "invalid_request", "malformed form body"},
		{"form semicolon", ctForm, "grant_type=client_credentials;client_id=c", "", 400, "invalid_request", "malformed form body"},
		{"repeated form parameter", ctForm, okForm + "&client_secret=t", "", 400, "invalid_request", "repeated parameter client_secret"},
		{"repeated empty grant", ctForm, okForm + "&grant_type=", "", 400, "invalid_request", "repeated parameter grant_type"},
		{"field too long", ctForm, okForm + "&scope=" + strings.Repeat("a", auth.MaxTokenRequestFieldBytes+1), "", 400, "invalid_request", "scope is too long"},
		{"form scope not UTF-8", ctForm, okForm + "&scope=%ff", "", 400, "invalid_request", "scope is not valid UTF-8"},

		// Grant type.
		{"missing grant_type JSON", ctJSON, `{"client_id":"c","client_secret":"s"}`, "", 400, "invalid_request", "missing grant_type"},
		{"empty grant_type form", ctForm, "grant_type=&client_id=c&client_secret=s", "", 400, "invalid_request", "missing grant_type"},
		{"password grant", ctForm, "grant_type=password&client_id=c&client_secret=s", "", 400, "unsupported_grant_type", "only grant_type client_credentials is supported"},
		{"grant case matters", ctJSON, `{"grant_type":"Client_Credentials","client_id":"c","client_secret":"s"}`, "", 400, "unsupported_grant_type", "only grant_type client_credentials is supported"},

		// Client authentication.
		{"no credentials at all", ctForm, "grant_type=client_credentials", "", 401, "invalid_client", "client authentication required"},
		{"missing client_id", ctJSON, `{"grant_type":"client_credentials","client_secret":"s"}`, "", 401, "invalid_client", "missing client_id"},
		{"missing client_secret", ctForm, "grant_type=client_credentials&client_id=c", "", 401, "invalid_client", "missing client_secret"},
		{"empty client_secret", ctJSON, `{"grant_type":"client_credentials","client_id":"c","client_secret":""}`, "", 401, "invalid_client", "missing client_secret"},
		{"control character in client_id", ctJSON, `{"grant_type":"client_credentials","client_id":"c\n","client_secret":"s"}`, "", 400, "invalid_request", "client_id contains invalid characters"},
		{"non-ASCII secret", ctForm, "grant_type=client_credentials&client_id=c&client_secret=%C3%A9", "", 400, "invalid_request", "client_secret contains invalid characters"},
		{"both methods", ctForm, okForm, basic("c", "s"), 400, "invalid_request", "client credentials sent both in the Authorization header and in the body"},
		{"Basic plus body secret only", ctJSON, `{"grant_type":"client_credentials","client_secret":"s"}`, basic("c", "s"), 400, "invalid_request", "client credentials sent both in the Authorization header and in the body"},
		{"Basic plus different body client_id", ctForm, "grant_type=client_credentials&client_id=d", basic("c", "s"), 400, "invalid_request", "client_id in the body does not match the Authorization header"},
		{"Bearer scheme", ctForm, "grant_type=client_credentials", "Bearer abc", 401, "invalid_client", "unsupported authorization scheme, use Basic"},
		{"Basic without credentials", ctForm, "grant_type=client_credentials", "Basic", 401, "invalid_client", "malformed Basic authorization header"},
		{"Basic not base64", ctForm, "grant_type=client_credentials", "Basic !!!", 401, "invalid_client", "malformed Basic authorization header"},
		{"Basic without colon", ctForm, "grant_type=client_credentials", basicRaw("cs"), 401, "invalid_client", "malformed Basic authorization header"},
		{"Basic bad escape", ctForm, "grant_type=client_credentials", basicRaw("c:%zz"), 401, "invalid_client", "malformed Basic authorization header"},
		{"Basic empty id", ctForm, "grant_type=client_credentials", basicRaw(":s"), 401, "invalid_client", "missing client_id in Basic authorization header"},
		{"Basic empty secret", ctForm, "grant_type=client_credentials", basicRaw("c:"), 401, "invalid_client", "missing client_secret in Basic authorization header"},
		{"Basic non-ASCII", ctForm, "grant_type=client_credentials", basicRaw("c:\xc3\xa9"), 401, "invalid_client", "malformed Basic authorization header"},
		{"Basic too long", ctForm, "grant_type=client_credentials", basicRaw("c:" + strings.Repeat("s", 4000)), 401, "invalid_client", "malformed Basic authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTokenRequest(tt.contentType, []byte(tt.body), tt.authorization)
			if err == nil {
				t.Fatalf("parseTokenRequest() = %+v, nil; want %s", got, tt.wantCode)
			}
			if got != (tokenRequest{}) {
				t.Errorf("parseTokenRequest() request = %+v on error, want zero", got)
			}
			if status := oauthStatus(err.Code); status != tt.wantStatus || err.Code != tt.wantCode || err.Description != tt.wantDesc {
				t.Errorf("error = {%d %q %q}, want {%d %q %q}", status, err.Code, err.Description, tt.wantStatus, tt.wantCode, tt.wantDesc)
			}
			checkOAuthError(t, err)
		})
	}
}

// Every RFC 6749 §5.2 code answers 400, but invalid_client (401) and the
// throttling code (429).
func TestOAuthStatus(t *testing.T) {
	for code, want := range map[string]int{
		auth.CodeInvalidRequest: http.StatusBadRequest, auth.CodeInvalidClient: http.StatusUnauthorized,
		auth.CodeInvalidGrant: http.StatusBadRequest, auth.CodeUnauthorizedClient: http.StatusBadRequest,
		auth.CodeUnsupportedGrantType: http.StatusBadRequest, auth.CodeInvalidScope: http.StatusBadRequest,
		auth.CodeRateLimited: http.StatusTooManyRequests,
	} {
		if got := oauthStatus(code); got != want {
			t.Errorf("oauthStatus(%s) = %d, want %d", code, got, want)
		}
	}
}

// checkOAuthError asserts the contract every returned *OAuthError meets.
func checkOAuthError(t testing.TB, err *auth.OAuthError) {
	t.Helper()
	switch err.Code {
	case auth.CodeInvalidClient:
		if status := oauthStatus(err.Code); status != 401 {
			t.Errorf("status for %s = %d, want 401", err.Code, status)
		}
	case auth.CodeInvalidRequest, auth.CodeInvalidGrant, auth.CodeUnauthorizedClient, auth.CodeUnsupportedGrantType, auth.CodeInvalidScope:
		if status := oauthStatus(err.Code); status != 400 {
			t.Errorf("status for %s = %d, want 400", err.Code, status)
		}
	default:
		t.Errorf("code = %q, want an RFC 6749 §5.2 code", err.Code)
	}
	for i := 0; i < len(err.Description); i++ {
		if !isDescriptionChar(err.Description[i]) {
			t.Errorf("description %q has byte %#x outside RFC 6749 §5.2's set", err.Description, err.Description[i])
			break
		}
	}
}
