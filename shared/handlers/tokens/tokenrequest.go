package tokens

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/auth"
)

// Limits on a token request's HTTP form. A real request is well under 200
// bytes.
const (
	// maxTokenRequestBytes bounds the request body.
	maxTokenRequestBytes = 16 << 10
	// maxAuthorizationBytes bounds the Authorization header.
	maxAuthorizationBytes = 4096
)

// oauthStatus is the HTTP status of an RFC 6749 §5.2 error: 401 for
// invalid_client, 429 for rate_limited (too many failed attempts), 400 for
// every other code. A 401 also carries WWW-Authenticate (RFC 6749 §5.2
// requires it when the client used the Authorization header;
// `Basic realm="modupay"` is appropriate in every case).
func oauthStatus(code string) int {
	switch code {
	case auth.CodeInvalidClient:
		return http.StatusUnauthorized
	case auth.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

func oauthErr(code, description string) *auth.OAuthError {
	return &auth.OAuthError{Code: code, Description: description}
}

// tokenRequest is a parsed token request; usedBasic reports whether the
// credentials came from the Authorization header.
type tokenRequest struct {
	auth.TokenRequest
	usedBasic bool
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

// parseTokenRequest parses a client-credentials token request (RFC 6749
// §4.4) from its Content-Type header, body and Authorization header (""
// when absent), in the three forms partners use: a JSON body, a form body,
// or either with HTTP Basic client authentication.
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
// auth.NewClientSecret never contain "+" or "%"). Using both methods (Basic and a
// body client_secret, or a body client_id that differs from the Basic one) is
// invalid_request (§2.3: one method per request); a body client_id equal to
// the Basic one is tolerated since some client libraries always send it. A
// malformed Basic header or another Authorization scheme is invalid_client.
//
// Checks happen in this order: body size (maxTokenRequestBytes), content
// type, body syntax and field limits (auth.MaxTokenRequestFieldBytes, UTF-8),
// Authorization header, grant_type (auth.CheckGrantType), one authentication
// method, then credentials (auth.TokenRequest.Check).
//
// A request returned without error passes auth.TokenRequest.Check; Scope is
// returned as sent, valid UTF-8. On error the returned request is the zero
// value. parseTokenRequest never panics.
func parseTokenRequest(contentType string, body []byte, authorization string) (tokenRequest, *auth.OAuthError) {
	if len(body) > maxTokenRequestBytes {
		return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, "request body too large")
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, "unsupported content type")
	}
	var params map[string]string
	var oerr *auth.OAuthError
	switch mediaType {
	case "application/json":
		params, oerr = parseJSONParams(body)
	case "application/x-www-form-urlencoded":
		params, oerr = parseFormParams(body)
	default:
		return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, "unsupported content type")
	}
	if oerr != nil {
		return tokenRequest{}, oerr
	}
	for _, name := range tokenParams {
		v := params[name]
		if len(v) > auth.MaxTokenRequestFieldBytes {
			return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, name+" is too long")
		}
		if !utf8.ValidString(v) {
			return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, name+" is not valid UTF-8")
		}
	}

	basicID, basicSecret, usedBasic, oerr := parseBasic(authorization)
	if oerr != nil {
		return tokenRequest{}, oerr
	}

	if oerr := auth.CheckGrantType(params[paramGrantType]); oerr != nil {
		return tokenRequest{}, oerr
	}

	req := tokenRequest{TokenRequest: auth.TokenRequest{GrantType: auth.GrantClientCredentials, Scope: params[paramScope]}, usedBasic: usedBasic}
	if usedBasic {
		if params[paramClientSecret] != "" {
			return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, "client credentials sent both in the Authorization header and in the body")
		}
		if id := params[paramClientID]; id != "" && id != basicID {
			return tokenRequest{}, oauthErr(auth.CodeInvalidRequest, "client_id in the body does not match the Authorization header")
		}
		req.ClientID, req.ClientSecret = basicID, basicSecret
	} else {
		req.ClientID, req.ClientSecret = params[paramClientID], params[paramClientSecret]
	}
	if oerr := req.Check(); oerr != nil {
		return tokenRequest{}, oerr
	}
	return req, nil
}

// parseJSONParams reads a JSON object of string (or null) members, rejecting
// unknown and repeated members. Keys are matched exactly (encoding/json's
// struct decoding would match case-insensitively).
func parseJSONParams(body []byte) (map[string]string, *auth.OAuthError) {
	if !utf8.Valid(body) {
		return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, oauthErr(auth.CodeInvalidRequest, "request body must be a JSON object")
	}
	params := make(map[string]string, len(tokenParams))
	seen := make(map[string]bool, len(tokenParams))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid JSON")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid JSON")
		}
		if !isTokenParam(name) {
			return nil, oauthErr(auth.CodeInvalidRequest, "unknown field "+describeName(name))
		}
		if seen[name] {
			return nil, oauthErr(auth.CodeInvalidRequest, "repeated field "+name)
		}
		seen[name] = true
		if string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, oauthErr(auth.CodeInvalidRequest, name+" must be a string")
		}
		params[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, oauthErr(auth.CodeInvalidRequest, "request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, oauthErr(auth.CodeInvalidRequest, "unexpected data after the JSON object")
	}
	return params, nil
}

// parseFormParams reads an application/x-www-form-urlencoded body, ignoring
// unknown parameters and rejecting repeated known ones.
func parseFormParams(body []byte) (map[string]string, *auth.OAuthError) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthErr(auth.CodeInvalidRequest, "malformed form body")
	}
	params := make(map[string]string, len(tokenParams))
	for _, name := range tokenParams {
		switch vs := values[name]; len(vs) {
		case 0:
		case 1:
			params[name] = vs[0]
		default:
			return nil, oauthErr(auth.CodeInvalidRequest, "repeated parameter "+name)
		}
	}
	return params, nil
}

// parseBasic decodes an HTTP Basic Authorization header per RFC 6749 §2.3.1.
// An empty header means no Basic authentication.
func parseBasic(authorization string) (clientID, secret string, used bool, oerr *auth.OAuthError) {
	if strings.TrimSpace(authorization) == "" {
		return "", "", false, nil
	}
	malformed := oauthErr(auth.CodeInvalidClient, "malformed Basic authorization header")
	if len(authorization) > maxAuthorizationBytes {
		return "", "", false, malformed
	}
	authorization = strings.TrimSpace(authorization)
	scheme, credentials := authorization, ""
	if i := strings.IndexAny(authorization, " \t"); i >= 0 {
		scheme, credentials = authorization[:i], authorization[i+1:]
	}
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, oauthErr(auth.CodeInvalidClient, "unsupported authorization scheme, use Basic")
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
		return "", "", false, oauthErr(auth.CodeInvalidClient, "missing client_id in Basic authorization header")
	case secret == "":
		return "", "", false, oauthErr(auth.CodeInvalidClient, "missing client_secret in Basic authorization header")
	case len(clientID) > auth.MaxTokenRequestFieldBytes || len(secret) > auth.MaxTokenRequestFieldBytes,
		!auth.ValidCredentialChars(clientID), !auth.ValidCredentialChars(secret):
		return "", "", false, malformed
	}
	return clientID, secret, true, nil
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
