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
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Error codes in extensions.code.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// argumentNames maps the catalog's query parameters to this graph's
// argument names, so errors name what the client actually sent.
var argumentNames = map[string]string{"page_size": "pageSize", "page_token": "pageToken", "category": "category"}

// fieldError is one invalid argument in extensions.errors.
type fieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func badInput(msg string, fields ...problem.FieldError) *gqlerror.Error {
	ext := map[string]any{"code": CodeBadUserInput}
	if len(fields) > 0 {
		errs := make([]fieldError, len(fields))
		for i, f := range fields {
			errs[i] = fieldError{Field: argumentName(f.Field), Detail: f.Detail}
		}
		ext["errors"] = errs
	}
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

func argumentName(param string) string {
	if name, ok := argumentNames[param]; ok {
		return name
	}
	return param
}

func fieldsMessage(fields []problem.FieldError) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = argumentName(f.Field) + " " + f.Detail
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
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldsMessage(p.Errors)
		}
		return badInput(msg, p.Errors...)
	case resp.Status >= 500:
		r.log.WarnContext(ctx, "catalog failed", "field", field, "status", resp.Status, "detail", p.Detail)
		return unavailable("catalog")
	default:
		return fmt.Errorf("resolving %s: the catalog answered %d: %s", field, resp.Status, p.Detail)
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
