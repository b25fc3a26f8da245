package auth

import "github.com/modupay/modupay/shared/ratelimit"

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
	// throttling): too many failed attempts were made for the client or from
	// the address, and it is the same word as the /v1 error code for
	// throttling.
	CodeRateLimited = "rate_limited"
)

// MaxTokenRequestFieldBytes bounds each of grant_type, client_id,
// client_secret and scope (DynamoDB keys are limited to 2048 bytes).
const MaxTokenRequestFieldBytes = 1024

// TokenRequest is a client-credentials token request (RFC 6749 §4.4),
// whatever form it came in. One that passes Check has GrantType
// "client_credentials" and non-empty ClientID and ClientSecret made of
// printable ASCII (RFC 6749 Appendix A: VSCHAR); Scope is "" when not sent,
// and otherwise unvalidated (the caller applies its default and answers
// invalid_scope).
type TokenRequest struct {
	GrantType, ClientID, ClientSecret, Scope string
}

// OAuthError is an RFC 6749 §5.2 error: the error code (one of the Code
// constants) and an error_description made only of the characters §5.2
// allows (%x20-21 / %x23-5B / %x5D-7E, so it needs no JSON escaping).
//
// RateLimits, when set, are where the caller stands in the failed-attempt
// limits that counted this request.
type OAuthError struct {
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
	return &OAuthError{Code: code, Description: description}
}

// CheckGrantType checks a request's grant_type: missing is invalid_request,
// anything but client_credentials unsupported_grant_type.
func CheckGrantType(grant string) *OAuthError {
	switch {
	case grant == "":
		return oauthErr(CodeInvalidRequest, "missing grant_type")
	case grant != GrantClientCredentials:
		return oauthErr(CodeUnsupportedGrantType, "only grant_type client_credentials is supported")
	}
	return nil
}

// Check checks the request, in this order: the grant type (CheckGrantType),
// then the client's credentials. Missing credentials, including none at
// all, are invalid_client: §5.2 defines invalid_client as "client
// authentication failed (e.g., ... no client authentication included ...)",
// which is more specific than invalid_request's "missing a required
// parameter". Credentials longer than MaxTokenRequestFieldBytes, or not made
// of VSCHAR, are invalid_request.
func (r TokenRequest) Check() *OAuthError {
	if oerr := CheckGrantType(r.GrantType); oerr != nil {
		return oerr
	}
	switch {
	case r.ClientID == "" && r.ClientSecret == "":
		return oauthErr(CodeInvalidClient, "client authentication required")
	case r.ClientID == "":
		return oauthErr(CodeInvalidClient, "missing client_id")
	case r.ClientSecret == "":
		return oauthErr(CodeInvalidClient, "missing client_secret")
	case len(r.ClientID) > MaxTokenRequestFieldBytes:
		return oauthErr(CodeInvalidRequest, "client_id is too long")
	case len(r.ClientSecret) > MaxTokenRequestFieldBytes:
		return oauthErr(CodeInvalidRequest, "client_secret is too long")
	case !ValidCredentialChars(r.ClientID):
		return oauthErr(CodeInvalidRequest, "client_id contains invalid characters")
	case !ValidCredentialChars(r.ClientSecret):
		return oauthErr(CodeInvalidRequest, "client_secret contains invalid characters")
	}
	return nil
}

// ValidCredentialChars reports whether s is made only of RFC 6749 Appendix
// A VSCHAR (%x20-7E), the syntax of client_id and client_secret.
func ValidCredentialChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
