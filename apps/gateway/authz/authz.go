// Package authz decides who may call what, from the table in table.go: REST
// routes by method and route pattern, GraphQL by field. It reads the
// identity package authn verified; an anonymous caller on a protected route
// gets 401 with a Bearer challenge, a caller without the role 403.
package authz

import (
	"context"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

// Access is who may call.
type Access int

// Levels of access. Every verified caller is a customer.
const (
	Public   Access = iota // anyone, with or without a token
	Customer               // any verified caller
	Admin                  // verified callers with the admin role
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Customer:
		return "customer"
	default:
		return "admin"
	}
}

// Rule grants Access to Method (or "*") on Pattern.
type Rule struct {
	Method  string
	Pattern string
	Access  Access
}

func (r Rule) matches(method, route string) bool {
	if r.Method != "*" && r.Method != method {
		return false
	}
	if base, ok := strings.CutSuffix(r.Pattern, "/**"); ok {
		return route == base || strings.HasPrefix(route, base+"/")
	}
	return route == r.Pattern
}

// Table is an ordered list of rules.
type Table []Rule

// Lookup returns the access of the first rule matching method and route
// (the route pattern, as Gin's FullPath), and whether one matched. Without
// a match the route is admin-only.
func (t Table) Lookup(method, route string) (Access, bool) {
	for _, r := range t {
		if r.matches(method, route) {
			return r.Access, true
		}
	}
	return Admin, false
}

// Errors of Check.
var (
	ErrUnauthenticated = errors.New("this needs a signed-in caller: send an access token")
	ErrForbidden       = errors.New("the caller lacks the role this needs")
)

// Check reports whether the caller in ctx (auth.FromContext) has access:
// nil, ErrUnauthenticated or ErrForbidden.
func Check(ctx context.Context, need Access) error {
	if need == Public {
		return nil
	}
	id, ok := auth.FromContext(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	if !id.HasRole(auth.RoleCustomer) {
		return ErrForbidden
	}
	if need == Admin && !id.HasRole(auth.RoleAdmin) {
		return ErrForbidden
	}
	return nil
}

// Middleware enforces Routes. It runs after authn.Authenticate.
func Middleware() gin.HandlerFunc { return Enforce(Routes) }

// Enforce enforces t on the routes it is mounted on.
func Enforce(t Table) gin.HandlerFunc {
	return func(c *gin.Context) {
		need, _ := t.Lookup(c.Request.Method, c.FullPath())
		switch Check(c.Request.Context(), need) {
		case nil:
			c.Next()
		case ErrUnauthenticated:
			authn.Unauthorized(c, "", "this request needs an access token: Authorization: Bearer <token>")
		default:
			authn.Forbidden(c, "this request needs the "+need.String()+" role")
		}
	}
}

// FieldAccess returns who may resolve a GraphQL field, by its type and
// name. Root fields (Query, Mutation, Subscription) that are not listed are
// admin-only; other types' fields are public unless listed.
func FieldAccess(object, field string) Access {
	if a, ok := Fields[object+"."+field]; ok {
		return a
	}
	switch object {
	case "Query", "Mutation", "Subscription":
		if strings.HasPrefix(field, "__") {
			return Public // introspection and __typename
		}
		return Admin
	}
	return Public
}
