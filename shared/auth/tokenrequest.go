package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/ratelimit"
)

// GrantClientCredentials is the only grant type the token endpoint supports.
const GrantClientCredentials = "client_credentials"

// OAuth 2.0 error codes (RFC 6749 §5.2) for OAuthError.Code.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	// CodeRateLimited is not one of RFC 6749's codes (it defines none for
	// throttling): it answers 429 when too many failed attempts were made, and
	// is the same word as the /v1 error code for a 429.
	CodeRateLimited = "rate_limited"
)

// Limits on a token request. A real request is well under 200 bytes.
const (
	// MaxTokenRequestBytes bounds the request body.
	MaxTokenRequestBytes = 16 << 10
	// MaxTokenRequestFieldBytes bounds each of grant_type, client_id,
	// client_secret and scope (DynamoDB keys are limited to 2048 bytes).
	MaxTokenRequestFieldBytes = 1024
	// maxAuthorizationBytes bounds the Authorization header.
	maxAuthorizationBytes = 4096
)

// TokenRequest is a token endpoint request (RFC 6749 §4.4 client credentials)
// in the three forms partners use: a JSON body, a form body, or either with
// HTTP Basic client authentication.
//
// A TokenRequest returned without error has GrantType "client_credentials"
// and non-empty ClientID and ClientSecret made of printable ASCII (RFC 6749
// Appendix A: VSCHAR); Scope is "" when not sent, and otherwise valid UTF-8,
// unvalidated. UsedBasic reports whether the credentials came from the
// Authorization header.
type TokenRequest struct {
	GrantType, ClientID, ClientSecret, Scope string
	UsedBasic                                bool
}

// OAuthError is an RFC 6749 §5.2 error response: the HTTP status, the error
// code (one of the Code constants), and an error_description made only of the
// characters §5.2 allows (%x20-21 / %x23-5B / %x5D-7E, so it needs no JSON
// escaping). Status is 401 for invalid_client and 400 for every other code.
//
// When answering 401 the HTTP layer must add a WWW-Authenticate header
// (RFC 6749 §5.2 requires it when the client used the Authorization header;
// `Basic realm="modupay"` is appropriate in every case).
//
// RateLimits, when set, are where the caller stands in the failed-attempt
// limits that counted this request; the HTTP layer renders them as the
// RateLimit headers, and as Retry-After on a 429.
type OAuthError struct {
	Status            int
	Code, Description string
	RateLimits        []ratelimit.Status
}

// Error returns "oauth2: <code>: <description>".
func (e *OAuthError) Error() string {
	if e == nil {
		return "oauth2: <nil>"
	}
	if e.Description == "" {
		return "oauth2: " + e.Code
	}
	return "oauth2: " + e.Code + ": " + e.Description
}

func oauthErr(code, description string) *OAuthError {
	status := 400 // Bad Request, RFC 6749 §5.2
	if code == CodeInvalidClient {
		status = 401 // Unauthorized
	}
	return &OAuthError{Status: status, Code: code, Description: description}
}

// Token request parameter names.
const (
	paramGrantType    = "grant_type"
	paramClientID     = "client_id"
	paramClientSecret = "client_secret"
	paramScope        = "scope"
)

var tokenParams = []string{paramGrantType, paramClientID, paramClientSecret, paramScope}

func isTokenParam(name string) bool {
	for _, p := range tokenParams {
		if p == name {
			return true
		}
	}
	return false
}

// ParseTokenRequest parses a client-credentials token request from its
// Content-Type header, body and Authorization header ("" when absent).
//
// Bodies: "application/json" is an object whose members are exactly (a
// subset of) grant_type, client_id, client_secret and scope, each a string or
// null; an unknown or repeated member, another value type, or trailing data is
// invalid_request. "application/x-www-form-urlencoded" follows RFC 6749:
// unknown parameters are ignored (§3.2) and a repeated known parameter is
// invalid_request (§3.1). Media-type parameters such as charset are allowed;
// any other content type is invalid_request "unsupported content type". In
// both forms an empty value counts as absent (§3.1).
//
// Client authentication: either client_id and client_secret in the body, or
// HTTP Basic "Authorization: Basic base64(urlencode(client_id):urlencode(client_secret))"
// (§2.3.1; both parts are form-url-decoded, so "+" means a space: secrets from
// NewClientSecret never contain "+" or "%"). Using both methods (Basic and a
// body client_secret, or a body client_id that differs from the Basic one) is
// invalid_request (§2.3: one method per request); a body client_id equal to
// the Basic one is tolerated since some client libraries always send it. A
// malformed Basic header or another Authorization scheme is invalid_client.
//
// Checks happen in this order: body size (MaxTokenRequestBytes), content
// type, body syntax and field limits (MaxTokenRequestFieldBytes, UTF-8),
// Authorization header, grant_type (missing: invalid_request; anything but client_credentials:
// unsupported_grant_type), one authentication method, then credentials.
// Missing credentials, including none at all, are invalid_client 401: §5.2
// defines invalid_client as "client authentication failed (e.g., ... no
// client authentication included ...)", which is more specific than
// invalid_request's "missing a required parameter".
//
// Scope is optional and returned as sent; the caller applies its default and
// answers invalid_scope. On error the returned TokenRequest is the zero value.
// ParseTokenRequest never panics.
func ParseTokenRequest(contentType string, body []byte, authorization string) (TokenRequest, *OAuthError) {
	if len(body) > MaxTokenRequestBytes {
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "request body too large")
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "unsupported content type")
	}
	var params map[string]string
	var oerr *OAuthError
	switch mediaType {
	case "application/json":
		params, oerr = parseJSONParams(body)
	case "application/x-www-form-urlencoded":
		params, oerr = parseFormParams(body)
	default:
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "unsupported content type")
	}
	if oerr != nil {
		return TokenRequest{}, oerr
	}
	for _, name := range tokenParams {
		v := params[name]
		if len(v) > MaxTokenRequestFieldBytes {
			return TokenRequest{}, oauthErr(CodeInvalidRequest, name+" is too long")
		}
		if !utf8.ValidString(v) {
			return TokenRequest{}, oauthErr(CodeInvalidRequest, name+" is not valid UTF-8")
		}
	}

	basicID, basicSecret, usedBasic, oerr := parseBasic(authorization)
	if oerr != nil {
		return TokenRequest{}, oerr
	}

	switch grant := params[paramGrantType]; {
	case grant == "":
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "missing grant_type")
	case grant != GrantClientCredentials:
		return TokenRequest{}, oauthErr(CodeUnsupportedGrantType, "only grant_type client_credentials is supported")
	}

	req := TokenRequest{GrantType: GrantClientCredentials, Scope: params[paramScope], UsedBasic: usedBasic}
	if usedBasic {
		if params[paramClientSecret] != "" {
			return TokenRequest{}, oauthErr(CodeInvalidRequest, "client credentials sent both in the Authorization header and in the body")
		}
		if id := params[paramClientID]; id != "" && id != basicID {
			return TokenRequest{}, oauthErr(CodeInvalidRequest, "client_id in the body does not match the Authorization header")
		}
		req.ClientID, req.ClientSecret = basicID, basicSecret
		return req, nil
	}

	req.ClientID, req.ClientSecret = params[paramClientID], params[paramClientSecret]
	switch {
	case req.ClientID == "" && req.ClientSecret == "":
		return TokenRequest{}, oauthErr(CodeInvalidClient, "client authentication required")
	case req.ClientID == "":
		return TokenRequest{}, oauthErr(CodeInvalidClient, "missing client_id")
	case req.ClientSecret == "":
		return TokenRequest{}, oauthErr(CodeInvalidClient, "missing client_secret")
	case !isVSChars(req.ClientID):
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "client_id contains invalid characters")
	case !isVSChars(req.ClientSecret):
		return TokenRequest{}, oauthErr(CodeInvalidRequest, "client_secret contains invalid characters")
	}
	return req, nil
}

// parseJSONParams reads a JSON object of string (or null) members, rejecting
// unknown and repeated members. Keys are matched exactly (encoding/json's
// struct decoding would match case-insensitively).
func parseJSONParams(body []byte) (map[string]string, *OAuthError) {
	if !utf8.Valid(body) {
		return nil, oauthErr(CodeInvalidRequest, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, oauthErr(CodeInvalidRequest, "request body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, oauthErr(CodeInvalidRequest, "request body must be a JSON object")
	}
	params := make(map[string]string, len(tokenParams))
	seen := make(map[string]bool, len(tokenParams))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, oauthErr(CodeInvalidRequest, "request body is not valid JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, oauthErr(CodeInvalidRequest, "request body is not valid JSON")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, oauthErr(CodeInvalidRequest, "request body is not valid JSON")
		}
		if !isTokenParam(name) {
			return nil, oauthErr(CodeInvalidRequest, "unknown field "+describeName(name))
		}
		if seen[name] {
			return nil, oauthErr(CodeInvalidRequest, "repeated field "+name)
		}
		seen[name] = true
		if string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, oauthErr(CodeInvalidRequest, name+" must be a string")
		}
		params[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, oauthErr(CodeInvalidRequest, "request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, oauthErr(CodeInvalidRequest, "unexpected data after the JSON object")
	}
	return params, nil
}

// parseFormParams reads an application/x-www-form-urlencoded body, ignoring
// unknown parameters and rejecting repeated known ones.
func parseFormParams(body []byte) (map[string]string, *OAuthError) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthErr(CodeInvalidRequest, "malformed form body")
	}
	params := make(map[string]string, len(tokenParams))
	for _, name := range tokenParams {
		switch vs := values[name]; len(vs) {
		case 0:
		case 1:
			params[name] = vs[0]
		default:
			return nil, oauthErr(CodeInvalidRequest, "repeated parameter "+name)
		}
	}
	return params, nil
}

// parseBasic decodes an HTTP Basic Authorization header per RFC 6749 §2.3.1.
// An empty header means no Basic authentication.
func parseBasic(authorization string) (clientID, secret string, used bool, oerr *OAuthError) {
	if strings.TrimSpace(authorization) == "" {
		return "", "", false, nil
	}
	malformed := oauthErr(CodeInvalidClient, "malformed Basic authorization header")
	if len(authorization) > maxAuthorizationBytes {
		return "", "", false, malformed
	}
	authorization = strings.TrimSpace(authorization)
	scheme, credentials := authorization, ""
	if i := strings.IndexAny(authorization, " \t"); i >= 0 {
		scheme, credentials = authorization[:i], authorization[i+1:]
	}
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, oauthErr(CodeInvalidClient, "unsupported authorization scheme, use Basic")
	}
	credentials = strings.TrimSpace(credentials)
	decoded, err := base64.StdEncoding.DecodeString(credentials)
	if err != nil {
		decoded, err = base64.RawStdEncoding.DecodeString(credentials)
		if err != nil {
			return "", "", false, malformed
		}
	}
	rawID, rawSecret, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", false, malformed
	}
	if clientID, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false, malformed
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false, malformed
	}
	switch {
	case clientID == "":
		return "", "", false, oauthErr(CodeInvalidClient, "missing client_id in Basic authorization header")
	case secret == "":
		return "", "", false, oauthErr(CodeInvalidClient, "missing client_secret in Basic authorization header")
	case len(clientID) > MaxTokenRequestFieldBytes || len(secret) > MaxTokenRequestFieldBytes,
		!isVSChars(clientID), !isVSChars(secret):
		return "", "", false, malformed
	}
	return clientID, secret, true, nil
}

// isVSChars reports whether s is made only of RFC 6749 Appendix A VSCHAR
// (%x20-7E), the syntax of client_id and client_secret.
func isVSChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// describeName quotes a client-supplied field name for an error_description
// if it is short and made of characters §5.2 allows (less the quote used),
// and otherwise does not repeat it.
func describeName(name string) string {
	if name == "" || len(name) > 64 {
		return "(not shown)"
	}
	for i := 0; i < len(name); i++ {
		if !isDescriptionChar(name[i]) || name[i] == '\'' {
			return "(not shown)"
		}
	}
	return "'" + name + "'"
}

// isDescriptionChar reports whether c may appear in an RFC 6749 §5.2
// error_description: %x20-21 / %x23-5B / %x5D-7E.
func isDescriptionChar(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}
