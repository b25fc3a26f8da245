package openapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/openapi"
)

const (
	partnerBrandingPath = "/v1/branding"
	orgBrandingPath     = "/v1/organizations/org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f/branding"
)

// Every branding the Go rules accept, as stored, matches the document's
// Branding on all four routes; shapes the code never answers do not.
func TestValidateBrandingResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}

	accepted := []branding.Branding{
		{},
		{DisplayName: "Régies de Lyon", LogoURL: "https://cdn.lyon.fr/logo.png", PrimaryColor: "#b00020"},
		{DisplayName: "  Ville de Lyon — Eau  "},
		{DisplayName: strings.Repeat("é", 80)},
		{LogoURL: "https://cdn.example.com/" + strings.Repeat("a", 500-len("https://cdn.example.com/"))},
		{LogoURL: "HTTPS://CDN.EXAMPLE.COM/LOGO.PNG"},
		{LogoURL: "https://cdn.example.com:8443/logo.svg?v=2#top"},
		{PrimaryColor: branding.DefaultColor},
		{PrimaryColor: " #000000 "},
		{PrimaryColor: "#0b4f8a"},
	}
	for _, b := range accepted {
		in := b
		if err := b.Validate(); err != nil {
			t.Fatalf("%+v: the Go rules refuse it: %v", in, err)
		}
		body := mustJSON(t, b)
		for _, c := range []struct{ method, path string }{
			{"GET", partnerBrandingPath}, {"PUT", partnerBrandingPath}, {"GET", orgBrandingPath}, {"PUT", orgBrandingPath},
		} {
			if err := v.ValidateResponse(c.method, c.path, "", nil, 200, h, body); err != nil {
				t.Errorf("%s %s, %s: %v", c.method, c.path, body, err)
			}
		}
	}

	// Values the Go rules refuse for their shape: a stored branding never
	// holds them, and the document says so.
	for _, b := range []branding.Branding{
		{DisplayName: strings.Repeat("n", 81)},
		{LogoURL: "http://cdn.example.com/logo.png"},
		{LogoURL: "https:///logo.png"},
		{LogoURL: "https://@cdn.example.com/logo.png"},
		{LogoURL: "javascript:alert(1)"},
		{LogoURL: "https://cdn.example.com/" + strings.Repeat("a", 501-len("https://cdn.example.com/"))},
		{PrimaryColor: "red"},
		{PrimaryColor: "#B0002"},
		{PrimaryColor: "#B00020;}body{display:none"},
	} {
		raw := b
		if err := b.Validate(); err == nil {
			t.Fatalf("%+v: the Go rules accept it", raw)
		}
		if err := v.ValidateResponse("GET", partnerBrandingPath, "", nil, 200, h, mustJSON(t, raw)); err == nil {
			t.Errorf("%s: the document accepts a branding the Go rules refuse", mustJSON(t, raw))
		}
	}
	// A lower-case colour is stored upper-case, never answered as sent.
	if err := v.ValidateResponse("GET", orgBrandingPath, "", nil, 200, h, []byte(`{"display_name":"","logo_url":"","primary_color":"#b00020"}`)); err == nil {
		t.Error("a lower-case colour must not match: the stored colour is upper-case")
	}

	errBody := func(typ, code, param string) []byte {
		return mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "x", Param: param, RequestID: "r1"}})
	}
	full := mustJSON(t, branding.Branding{DisplayName: "Régies de Lyon", LogoURL: "https://cdn.lyon.fr/logo.png", PrimaryColor: "#B00020"})
	tests := []struct {
		name, method, path string
		status             int
		body               []byte
		valid              bool
	}{
		{"an organisation token on the partner's branding", "GET", partnerBrandingPath, 403, errBody("permission_error", "forbidden", ""), true},
		{"an organisation token sets the partner's branding", "PUT", partnerBrandingPath, 403, errBody("permission_error", "forbidden", ""), true},
		{"a role that may not set the organisation's", "PUT", orgBrandingPath, 403, errBody("permission_error", "forbidden", ""), true},
		{"another tenant's organisation", "GET", orgBrandingPath, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"another tenant's organisation, on PUT", "PUT", orgBrandingPath, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"a colour too light", "PUT", partnerBrandingPath, 422, errBody("invalid_request_error", "validation_failed", "primary_color"), true},
		{"an unknown field", "PUT", orgBrandingPath, 422, errBody("invalid_request_error", "validation_failed", "font"), true},
		{"malformed JSON", "PUT", partnerBrandingPath, 400, errBody("invalid_request_error", "malformed_request", ""), true},
		{"X-Entity-Id contradicts the path", "GET", orgBrandingPath, 400, errBody("invalid_request_error", "malformed_request", "X-Entity-Id"), true},
		{"a body too large", "PUT", orgBrandingPath, 413, errBody("invalid_request_error", "request_too_large", ""), true},
		{"another media type", "PUT", partnerBrandingPath, 415, errBody("invalid_request_error", "unsupported_media_type", ""), true},
		{"no token", "GET", partnerBrandingPath, 401, errBody("authentication_error", "unauthenticated", ""), true},
		{"a dependency down", "PUT", orgBrandingPath, 503, errBody("api_error", "unavailable", ""), true},

		{"the partner's branding has no organisation to miss", "GET", partnerBrandingPath, 404, errBody("invalid_request_error", "not_found", ""), false},
		{"every role reads the organisation's", "GET", orgBrandingPath, 403, errBody("permission_error", "forbidden", ""), false},
		{"a read cannot be invalid", "GET", orgBrandingPath, 422, errBody("invalid_request_error", "validation_failed", "x"), false},
		{"PUT replaces, nothing conflicts", "PUT", partnerBrandingPath, 409, errBody("invalid_request_error", "conflict", ""), false},
		{"PUT answers 200, not 201", "PUT", orgBrandingPath, 201, full, false},
		{"a field missing", "GET", partnerBrandingPath, 200, edit(t, full, func(m map[string]any) { delete(m, "logo_url") }), false},
		{"a field null", "GET", partnerBrandingPath, 200, edit(t, full, func(m map[string]any) { m["logo_url"] = nil }), false},
		{"an unknown field", "GET", orgBrandingPath, 200, edit(t, full, func(m map[string]any) { m["org_id"] = "org-1" }), false},
		{"the resolved page brand is not answered", "GET", orgBrandingPath, 200, edit(t, full, func(m map[string]any) { m["resolved"] = true }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse(tt.method, tt.path, "", nil, tt.status, h, tt.body)
			if tt.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("want an error, got none")
			}
		})
	}
}

// The document's branding examples obey the Go rules, and its colours
// (accepted and refused) are judged as the Go rules judge them.
func TestBrandingExamplesFollowTheRules(t *testing.T) {
	for color, ok := range map[string]bool{
		branding.DefaultColor: true, "#B00020": true, "#b00020": true,
		"#FFFF00": false, "#FFA500": false,
	} {
		b := branding.Branding{PrimaryColor: color}
		if got := b.Validate() == nil; got != ok {
			t.Errorf("%s: accepted = %v, the document says %v", color, got, ok)
		}
	}
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/branding", "/v1/organizations/{org_id}/branding"} {
		put := doc.Paths.Value(path).Put
		for name, ex := range put.RequestBody.Value.Content.Get("application/json").Examples {
			var b branding.Branding
			if err := jsonRoundTrip(ex.Value.Value, &b); err != nil {
				t.Fatalf("PUT %s example %s: %v", path, name, err)
			}
			if err := b.Validate(); err != nil {
				t.Errorf("PUT %s example %s is refused by the Go rules: %v", path, name, err)
			}
		}
	}
}

// Every branding route documents its tag, the document's bearerAuth and the
// statuses the handlers can answer.
func TestBrandingOperations(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		org          bool
		want, absent []string
	}{
		{"GET", "/v1/branding", false, []string{"200", "400", "401", "403", "500", "503"}, []string{"404", "422"}},
		{"PUT", "/v1/branding", false, []string{"200", "400", "401", "403", "413", "415", "422", "500", "503"}, []string{"201", "404", "409"}},
		{"GET", "/v1/organizations/{org_id}/branding", true, []string{"200", "400", "401", "404", "500", "503"}, []string{"403", "422"}},
		{"PUT", "/v1/organizations/{org_id}/branding", true, []string{"200", "400", "401", "403", "404", "413", "415", "422", "500", "503"}, []string{"201", "409"}},
	} {
		key := c.method + " " + c.path
		op := doc.Paths.Value(c.path).GetOperation(c.method)
		if op == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		if len(op.Tags) != 1 || op.Tags[0] != "Branding" {
			t.Errorf("%s: tags %v, want [Branding]", key, op.Tags)
		}
		if op.Security != nil {
			t.Errorf("%s: must use the document's bearerAuth", key)
		}
		if c.org && (!hasParam(op, "path", "org_id") || !hasParam(op, "header", "X-Entity-Id")) {
			t.Errorf("%s: org_id and X-Entity-Id must be documented", key)
		}
		for _, code := range c.want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s: no %s response", key, code)
			}
		}
		for _, code := range c.absent {
			if op.Responses.Value(code) != nil {
				t.Errorf("%s: documents %s, which it never answers", key, code)
			}
		}
		if c.method == http.MethodPut {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				t.Errorf("%s: no JSON request body", key)
			}
		}
	}
	// The payment page says it wears the white label.
	page := doc.Paths.Value("/p/{token}").Get
	for _, want := range []string{"white label", "display_name", "logo_url", "primary_color", "#0B4F8A", "partner's name"} {
		if !strings.Contains(page.Description, want) {
			t.Errorf("GET /p/{token}: the description does not mention %q", want)
		}
	}
}

// jsonRoundTrip decodes v, as loaded from the document, into out strictly,
// as the handlers decode a body.
func jsonRoundTrip(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}
