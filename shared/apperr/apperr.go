// Package apperr is the one application error type. Every layer says what it was
// doing (Op) and what kind of failure it is (Code); exactly one place, the HTTP
// edge, maps codes to statuses and wire formats, and workers map them to
// "retry" or "park".
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Code is the kind of failure. It decides the HTTP status and whether a worker retries.
type Code string

const (
	Invalid         Code = "validation_failed"      // 422: a field is wrong; Param names it
	Malformed       Code = "malformed_request"      // 400: the request cannot be read (bad JSON, missing header)
	Unauthenticated Code = "unauthenticated"        // 401
	Forbidden       Code = "forbidden"              // 403: authenticated, not allowed by role
	NotFound        Code = "not_found"              // 404: absent, or not the caller's (never tell which)
	Conflict        Code = "conflict"               // 409: state or uniqueness conflict
	IdempotencyBusy Code = "idempotency_key_in_use" // 409: same key still executing
	IdempotencyMism Code = "idempotency_key_reused" // 422: same key, different request
	TooLarge        Code = "request_too_large"      // 413
	UnsupportedType Code = "unsupported_media_type" // 415
	RateLimited     Code = "rate_limited"           // 429
	Unavailable     Code = "unavailable"            // 503: a dependency failed; safe to retry
	Internal        Code = "internal_error"         // 500: a bug or an unexpected failure
)

// Error is an application error: Op is what was being done ("organization.create"),
// Code the kind, Message the text safe to show a client, Param the offending
// field (JSON path) when there is one, Err the cause (logged, never shown).
type Error struct {
	Op      string
	Code    Code
	Message string
	Param   string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Param != "" {
		fmt.Fprintf(&b, " (%s)", e.Param)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// MessageOf is err's client-safe message: its Message when it is an
// *Error, "internal error" otherwise.
func MessageOf(err error) string {
	if ae, ok := As(err); ok && ae.Message != "" {
		return ae.Message
	}
	return "internal error"
}

// E builds an error with a code and a client-safe message.
func E(op string, code Code, msg string) *Error { return &Error{Op: op, Code: code, Message: msg} }

// orgNotFound is the one message of an organisation that does not exist or
// is not the caller's, wherever it is found out (the edge's tenancy, a
// store's read or condition): every layer answers it the same way.
const orgNotFound = "organization not found"

// OrganizationNotFound is that 404.
func OrganizationNotFound(op string) *Error { return E(op, NotFound, orgNotFound) }

// IsOrganizationNotFound reports whether err is that 404, for a family
// that names it with a code of its own.
func IsOrganizationNotFound(err error) bool {
	ae, ok := As(err)
	return ok && ae.Code == NotFound && ae.Message == orgNotFound
}

// Field builds a 422 naming the offending field.
func Field(op, param, msg string) *Error {
	return &Error{Op: op, Code: Invalid, Message: msg, Param: param}
}

// Wrap marks an unexpected cause as Internal unless it already carries a code;
// the op is prefixed so logs say where it happened.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return &Error{Op: op, Code: Internal, Message: "internal error", Err: err}
}

// Transient wraps a dependency failure that is safe to retry.
func Transient(op string, err error) error {
	return &Error{Op: op, Code: Unavailable, Message: "a dependency is unavailable, retry later", Err: err}
}

// CodeOf returns the code of err, Internal when it has none.
func CodeOf(err error) Code {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return Internal
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var ae *Error
	ok := errors.As(err, &ae)
	return ae, ok
}

// Retryable says whether a worker should let the message come back (true) or
// park it with a reason (false): only unavailability and unexpected failures
// are worth another attempt; a malformed or invalid message never gets better.
func Retryable(err error) bool {
	switch CodeOf(err) {
	case Unavailable, Internal, RateLimited, IdempotencyBusy:
		return true
	}
	return false
}
