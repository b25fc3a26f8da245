// Package auth is ModuPay's authentication core: the client-credentials token
// request and its checks (RFC 6749 §4.4, failing with the error codes of
// §5.2), client secret generation and hashing, and issuing and verifying the
// HS256 access tokens (JWT, RFC 7519) that every other API call presents as
// a bearer token.
//
// The package is pure: it performs no I/O, talks to no AWS service, and keeps
// no state beyond the immutable values it is given. Callers inject the clock
// (Issuer.Now, Verifier.Now) and the token-id generator (Issuer.NewID) so that
// every behaviour is deterministic under test.
//
// The token endpoint flow built on this package is:
//
//  1. The endpoint (package handlers/tokens) reads the request's body and
//     Authorization header into a TokenRequest that passes
//     TokenRequest.Check, or an *OAuthError carrying the RFC 6749 §5.2
//     error code, which it answers with the code's status.
//  2. The caller loads the API client by TokenRequest.ClientID (one read) and
//     checks the presented secret with SecretMatches against the stored
//     HashSecret value, then decides the scope.
//  3. Issuer.Issue signs a token for the resulting Principal.
//
// Every other endpoint calls Verifier.Verify on the bearer token and
// authorises the request from the returned Principal: Allowed(principal,
// action) answers from the role matrix (roles.go), the one table of what
// each organisation role may do.
package auth
