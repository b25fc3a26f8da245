package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/modupay/modupay/shared/apperr"
)

// ErrorBody is the one error shape of /v1.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: Type is the family (for client branching),
// Code the precise reason, Param the offending field or header, RequestID what
// to quote to support.
type ErrorDetail struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// statusOf is the single place an error code becomes an HTTP status.
func statusOf(c apperr.Code) int {
	switch c {
	case apperr.Invalid, apperr.IdempotencyMism:
		return http.StatusUnprocessableEntity
	case apperr.Malformed:
		return http.StatusBadRequest
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict, apperr.IdempotencyBusy:
		return http.StatusConflict
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.UnsupportedType:
		return http.StatusUnsupportedMediaType
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func typeOf(c apperr.Code) string {
	switch c {
	case apperr.Unauthenticated:
		return "authentication_error"
	case apperr.Forbidden:
		return "permission_error"
	case apperr.IdempotencyBusy, apperr.IdempotencyMism:
		return "idempotency_error"
	case apperr.RateLimited:
		return "rate_limit_error"
	case apperr.Internal, apperr.Unavailable:
		return "api_error"
	}
	return "invalid_request_error"
}

// ErrorRenderer renders an error in a family's own wire format (seed 003's
// payment orders answer {"success": false, "error": {...}, "requestId"}).
// It must never show an internal cause.
type ErrorRenderer func(err error, requestID string) *Response

// StatusOf is the HTTP status of an error code in the default format.
func StatusOf(c apperr.Code) int { return statusOf(c) }

// renderError renders err as the route's family does: the route's own
// renderer when it has one (edge errors included: authentication, tenancy,
// role, body), the default shape otherwise. A 401 carries the Bearer
// challenge, but on Session routes (whose renderer sends the browser to
// sign in).
func (a *API) renderError(routeKey string, err error, requestID string) *Response {
	render := errorResponse
	rt, ok := a.routes[routeKey]
	if ok && rt.Errors != nil {
		render = rt.Errors
	}
	resp := render(err, requestID)
	if apperr.CodeOf(err) == apperr.Unauthenticated && rt.Access != Session {
		resp.Header.Set("WWW-Authenticate", `Bearer realm="modupay", error="invalid_token"`)
	}
	return resp
}

// errorResponse renders err for a client. Internal causes are never shown:
// the log line with the same request id carries them.
func errorResponse(err error, requestID string) *Response {
	code := apperr.CodeOf(err)
	d := ErrorDetail{Type: typeOf(code), Code: string(code), RequestID: requestID}
	if ae, ok := apperr.As(err); ok && code != apperr.Internal {
		d.Message, d.Param = ae.Message, ae.Param
	}
	if d.Message == "" {
		d.Message = http.StatusText(statusOf(code))
		if code == apperr.Internal {
			d.Message = "internal error; quote the request id to support"
		}
	}
	b, _ := json.Marshal(ErrorBody{Error: d})
	return Raw(statusOf(code), "application/json", b)
}
