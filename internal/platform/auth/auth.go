// Package auth carries the caller's identity from the gateway, which verified
// the bearer token, to the services behind it. Services trust identity
// headers only on calls their sidecar relays from the gateway's sidecar.
package auth

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Roles.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Headers the gateway sets on calls to services. It never passes a client's
// own values through: it builds every outgoing request's headers itself.
const (
	HeaderUserID    = "X-Shopmesh-User-Id"
	HeaderUserEmail = "X-Shopmesh-User-Email"
	HeaderUserRoles = "X-Shopmesh-User-Roles" // comma-separated
)

// callerHeader is set by the calling app's Dapr sidecar to that app's id,
// overwriting any value the caller supplied.
const callerHeader = "dapr-caller-app-id"

// Identity is a verified caller.
type Identity struct {
	UserID string
	Email  string
	Roles  []string
}

// HasRole reports whether the identity holds role.
func (id Identity) HasRole(role string) bool { return slices.Contains(id.Roles, role) }

// Header returns the headers that carry id to a service.
func (id Identity) Header() http.Header {
	h := http.Header{}
	h.Set(HeaderUserID, id.UserID)
	h.Set(HeaderUserEmail, id.Email)
	h.Set(HeaderUserRoles, strings.Join(id.Roles, ","))
	return h
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity ctx carries, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// fromGateway reads the identity headers of a call relayed from the gateway.
func fromGateway(r *http.Request) (Identity, bool) {
	if r.Header.Get(callerHeader) != contracts.AppGateway {
		return Identity{}, false
	}
	id := Identity{UserID: r.Header.Get(HeaderUserID), Email: r.Header.Get(HeaderUserEmail)}
	if id.UserID == "" {
		return Identity{}, false
	}
	for _, role := range strings.Split(r.Header.Get(HeaderUserRoles), ",") {
		if role = strings.TrimSpace(role); role != "" {
			id.Roles = append(id.Roles, role)
		}
	}
	return id, true
}

// Require admits only calls from the gateway that carry an identity holding
// one of roles (any identity when none are given), and puts it in the
// request context. Mount it on sidecar routes that act for a user.
func Require(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := fromGateway(c.Request)
		if !ok {
			httpserver.Abort(c, problem.New(problem.TypeUnauthorized, http.StatusUnauthorized, "this call needs a verified caller"))
			return
		}
		if len(roles) > 0 && !slices.ContainsFunc(roles, id.HasRole) {
			httpserver.Abort(c, problem.New(problem.TypeForbidden, http.StatusForbidden, "the caller lacks the role this call needs"))
			return
		}
		c.Request = c.Request.WithContext(WithIdentity(c.Request.Context(), id))
		c.Next()
	}
}
