package tokens

import (
	"testing"

	"github.com/modupay/modupay/shared/auth"
)

// FuzzParseTokenRequest checks that parseTokenRequest never panics, that an
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
		req, err := parseTokenRequest(contentType, body, authorization)
		if err != nil {
			checkOAuthError(t, err)
			return
		}
		if req.GrantType != auth.GrantClientCredentials || req.ClientID == "" || req.ClientSecret == "" {
			t.Fatalf("parseTokenRequest(%q, %q, %q) = %+v, nil; want grant and credentials", contentType, body, authorization, req)
		}
		if !auth.ValidCredentialChars(req.ClientID) || !auth.ValidCredentialChars(req.ClientSecret) {
			t.Fatalf("parseTokenRequest(%q, %q, %q) = %+v, nil; credentials not printable ASCII", contentType, body, authorization, req)
		}
	})
}
