package graphql

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gqlgen "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Error codes in extensions.code.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// fieldError is one invalid argument in extensions.errors.
type fieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// badInput is a BAD_USER_INPUT error; fields name the invalid arguments
// under the service's names, which args turns into the graph's.
func badInput(msg string, args argumentNames, fields ...problem.FieldError) *gqlerror.Error {
	ext := map[string]any{"code": CodeBadUserInput}
	if len(fields) > 0 {
		errs := make([]fieldError, len(fields))
		for i, f := range fields {
			errs[i] = fieldError{Field: args.of(f.Field), Detail: f.Detail}
		}
		ext["errors"] = errs
	}
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

// argumentNames turns the names a service gives invalid input — query
// parameters and JSON paths in snake_case, headers — into the graph's
// argument paths, so errors name what the client actually sent: page_size
// is pageSize, and with prefix "input." shipping_address.postal_code is
// input.shippingAddress.postalCode.
type argumentNames struct {
	prefix string
	// headers maps header names (lower case) to the argument that carries
	// them, such as idempotency-key to idempotencyKey.
	headers map[string]string
}

// arguments are the names of top-level arguments.
var arguments = argumentNames{}

func (a argumentNames) of(field string) string {
	if arg, ok := a.headers[strings.ToLower(field)]; ok {
		return a.prefix + arg
	}
	segments := strings.Split(field, ".")
	for i, s := range segments {
		segments[i] = camel(s)
	}
	return a.prefix + strings.Join(segments, ".")
}

// camel turns snake_case into camelCase.
func camel(s string) string {
	words := strings.Split(s, "_")
	for i := 1; i < len(words); i++ {
		if w := words[i]; w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, "")
}

func (a argumentNames) message(fields []problem.FieldError) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = a.of(f.Field) + " " + f.Detail
	}
	return strings.Join(parts, "; ")
}

func unavailable(service string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "the " + service + " is unavailable; retry later",
		Extensions: map[string]any{"code": CodeUnavailable},
	}
}

func coded(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// authorize is the field middleware that applies the access table: a
// field the caller may not see resolves to null with an UNAUTHENTICATED or
// FORBIDDEN error, and its resolver never runs.
func (r *Resolver) authorize(ctx context.Context, next gqlgen.Resolver) (any, error) {
	fc := gqlgen.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return next(ctx)
	}
	need := authz.FieldAccess(fc.Object, fc.Field.Name)
	switch err := authz.Check(ctx, need); {
	case err == nil:
		return next(ctx)
	case errors.Is(err, authz.ErrUnauthenticated):
		return nil, coded(CodeUnauthenticated, fc.Field.Name+" needs a signed-in caller: send Authorization: Bearer <access token>")
	default:
		return nil, coded(CodeForbidden, fc.Field.Name+" needs the "+need.String()+" role")
	}
}

// usersFailure turns a users call that brought no usable answer into a
// GraphQL error.
func (r *Resolver) usersFailure(ctx context.Context, field string, resp usersclient.Response, err error) error {
	if err != nil {
		if errors.Is(err, usersclient.ErrUnavailable) {
			r.log.WarnContext(ctx, "users unavailable", "field", field, "err", err)
			return unavailable("accounts service")
		}
		return fmt.Errorf("resolving %s: %w", field, err)
	}
	p, _ := resp.Problem()
	switch {
	case resp.Status == http.StatusUnauthorized:
		return coded(CodeUnauthenticated, p.Detail)
	case resp.Status == http.StatusForbidden:
		return coded(CodeForbidden, p.Detail)
	case resp.Status >= 500:
		r.log.WarnContext(ctx, "users failed", "field", field, "status", resp.Status, "detail", p.Detail)
		return unavailable("accounts service")
	default:
		return fmt.Errorf("resolving %s: the users service answered %d: %s", field, resp.Status, p.Detail)
	}
}

// failure turns a call that brought no usable answer into a GraphQL error.
func (r *Resolver) failure(ctx context.Context, field string, resp catalogclient.Response, err error) error {
	if err != nil {
		if errors.Is(err, catalogclient.ErrUnavailable) {
			r.log.WarnContext(ctx, "catalog unavailable", "field", field, "err", err)
			return unavailable("catalog")
		}
		return fmt.Errorf("resolving %s: %w", field, err)
	}
	p, _ := resp.Problem()
	switch {
	case resp.Status == http.StatusBadRequest:
		return problemInput(p, arguments)
	case resp.Status >= 500:
		r.log.WarnContext(ctx, "catalog failed", "field", field, "status", resp.Status, "detail", p.Detail)
		return unavailable("catalog")
	default:
		return fmt.Errorf("resolving %s: the catalog answered %d: %s", field, resp.Status, p.Detail)
	}
}

// problemInput is the BAD_USER_INPUT error of a service's 400 or 422.
func problemInput(p problem.Problem, args argumentNames) *gqlerror.Error {
	msg := p.Detail
	if len(p.Errors) > 0 {
		msg = args.message(p.Errors)
	}
	if msg == "" {
		msg = "the input is invalid"
	}
	return badInput(msg, args, p.Errors...)
}

// answerFailure turns a call that brought no usable answer into a GraphQL
// error: the service's problem, by status, with the same codes a field's
// access check gives (401 UNAUTHENTICATED, 403 FORBIDDEN). down is the
// service client's ErrUnavailable, whose text names the service; args
// names the arguments invalid input is reported under.
func (r *Resolver) answerFailure(ctx context.Context, field string, down error, a servicecall.Answer, err error, args argumentNames) error {
	if err != nil {
		if errors.Is(err, down) {
			r.log.WarnContext(ctx, "service unavailable", "field", field, "err", err)
			return coded(CodeUnavailable, down.Error()+"; retry later")
		}
		return fmt.Errorf("resolving %s: %w", field, err)
	}
	p, _ := a.Problem()
	detail := p.Detail
	if detail == "" {
		detail = strings.ToLower(http.StatusText(a.Status))
	}
	switch {
	case a.Status == http.StatusBadRequest || a.Status == http.StatusUnprocessableEntity:
		return problemInput(p, args)
	case a.Status == http.StatusUnauthorized:
		return coded(CodeUnauthenticated, detail)
	case a.Status == http.StatusForbidden:
		return coded(CodeForbidden, detail)
	case a.Status == http.StatusNotFound:
		return coded(CodeNotFound, detail)
	case a.Status == http.StatusConflict:
		return coded(CodeConflict, detail)
	case a.Status >= 500:
		r.log.WarnContext(ctx, "service failed", "field", field, "status", a.Status, "detail", p.Detail)
		return coded(CodeUnavailable, down.Error()+"; retry later")
	default:
		return fmt.Errorf("resolving %s: the service answered %d: %s", field, a.Status, p.Detail)
	}
}

// presentError passes on errors shaped for clients (ours and gqlgen's own,
// which carry a code or wrap nothing) and hides any other resolver error
// behind INTERNAL_SERVER_ERROR, logging what it hides.
func (r *Resolver) presentError(ctx context.Context, err error) *gqlerror.Error {
	e := gqlgen.DefaultErrorPresenter(ctx, err)
	if _, coded := e.Extensions["code"]; coded || e.Err == nil {
		return e
	}
	r.log.ErrorContext(ctx, "graphql resolver failed", "path", e.Path.String(), "err", err)
	return &gqlerror.Error{
		Message:    "internal error",
		Path:       e.Path,
		Locations:  e.Locations,
		Extensions: map[string]any{"code": CodeInternal},
	}
}

// recoverPanic keeps a panicking resolver from taking the request down.
func (r *Resolver) recoverPanic(ctx context.Context, v any) error {
	r.log.ErrorContext(ctx, "graphql resolver panicked", "panic", v)
	return &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": CodeInternal}}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// widen makes an optional Int argument an int64.
func widen(n *int) *int64 {
	if n == nil {
		return nil
	}
	v := int64(*n)
	return &v
}
