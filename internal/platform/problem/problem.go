// Package problem writes errors as application/problem+json (RFC 9457) with
// stable type URIs that clients can switch on.
package problem

import (
	"fmt"
	"net/http"
)

// ContentType is the media type of every error response.
const ContentType = "application/problem+json"

// typeBase prefixes every problem type; the types are identifiers, documented
// in the OpenAPI document, not pages to fetch.
const typeBase = "https://shopmesh.dev/problems/"

// Stable problem types.
var (
	TypeValidation      = typeBase + "validation"
	TypeMalformed       = typeBase + "malformed-request"
	TypeTooLarge        = typeBase + "payload-too-large"
	TypeUnsupportedType = typeBase + "unsupported-media-type"
	TypeNotFound        = typeBase + "not-found"
	TypeConflict        = typeBase + "conflict"
	TypeUnauthorized    = typeBase + "unauthorized"
	TypeForbidden       = typeBase + "forbidden"
	TypeRateLimited     = typeBase + "rate-limited"
	TypeUnavailable     = typeBase + "service-unavailable"
	TypeInternal        = typeBase + "internal"
	TypeMethod          = typeBase + "method-not-allowed"
)

// FieldError names one invalid input field (a JSON path in snake_case, or a
// query parameter) and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// Error makes a Problem usable as an error, e.g. when it crosses a service
// boundary and is passed on unchanged.
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// New returns a problem of the given type and status with a detail message.
func New(typ string, status int, detail string) *Problem {
	return &Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// Validation reports invalid fields.
func Validation(errs ...FieldError) *Problem {
	p := New(TypeValidation, http.StatusBadRequest, "the request has invalid fields")
	p.Errors = errs
	return p
}

// NotFound reports a missing resource.
func NotFound(detail string) *Problem { return New(TypeNotFound, http.StatusNotFound, detail) }

// Conflict reports a clash with the current state, e.g. a duplicate SKU.
func Conflict(detail string) *Problem { return New(TypeConflict, http.StatusConflict, detail) }

// Malformed reports a body or parameter that cannot be parsed.
func Malformed(detail string) *Problem {
	return New(TypeMalformed, http.StatusBadRequest, detail)
}

// Internal reports an unexpected failure without revealing its cause.
func Internal() *Problem {
	return New(TypeInternal, http.StatusInternalServerError, "an unexpected error occurred; it has been logged")
}

// Unavailable reports a dependency that is down; the client may retry.
func Unavailable(detail string) *Problem {
	return New(TypeUnavailable, http.StatusServiceUnavailable, detail)
}
