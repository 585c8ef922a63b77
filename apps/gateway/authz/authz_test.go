package authz_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// The contract's routes, served and future, with who may call them.
var contract = []struct {
	method, route string
	want          authz.Access
}{
	{"POST", "/api/v1/auth/register", authz.Public},
	{"POST", "/api/v1/auth/login", authz.Public},
	{"POST", "/api/v1/auth/refresh", authz.Public},
	{"POST", "/api/v1/auth/logout", authz.Public},
	{"GET", "/.well-known/jwks.json", authz.Public},
	{"GET", "/api/v1/me", authz.Customer},
	{"GET", "/api/v1/me/addresses", authz.Customer},
	{"POST", "/api/v1/me/addresses", authz.Customer},
	{"DELETE", "/api/v1/me/addresses/:id", authz.Customer},
	{"GET", "/api/v1/products", authz.Public},
	{"GET", "/api/v1/products/:id", authz.Public},
	{"POST", "/api/v1/products", authz.Admin},
	{"PUT", "/api/v1/products/:id", authz.Admin},
	{"DELETE", "/api/v1/products/:id", authz.Admin},
	{"PATCH", "/api/v1/products/:id", authz.Admin},
	{"GET", "/api/v1/categories", authz.Public},
	{"POST", "/api/v1/categories", authz.Admin},
	{"GET", "/api/v1/search", authz.Public},
	{"POST", "/api/v1/search/reindex", authz.Admin},
	{"GET", "/api/v1/cart", authz.Customer},
	{"POST", "/api/v1/cart/items", authz.Customer},
	{"DELETE", "/api/v1/cart/items/:product_id", authz.Customer},
	{"POST", "/api/v1/checkout", authz.Customer},
	{"GET", "/api/v1/orders", authz.Customer},
	{"GET", "/api/v1/orders/:id", authz.Customer},
	{"POST", "/api/v1/orders/:id/cancel", authz.Customer},
	{"GET", "/api/v1/inventory/:product_id", authz.Admin},
	{"PUT", "/api/v1/inventory/:product_id", authz.Admin},
	{"GET", "/api/v1/payments/:order_id", authz.Admin},
	{"GET", "/api/v1/notifications", authz.Customer},
	{"GET", "/graphql", authz.Public},
	{"POST", "/graphql", authz.Public},
}

func TestTable(t *testing.T) {
	table := authz.Table(authz.Routes)
	for _, c := range contract {
		got, ok := table.Lookup(c.method, c.route)
		assert.True(t, ok, "%s %s has a rule", c.method, c.route)
		assert.Equal(t, c.want, got, "%s %s", c.method, c.route)
	}
	got, ok := table.Lookup("GET", "/api/v1/reports")
	assert.False(t, ok)
	assert.Equal(t, authz.Admin, got, "a route without a rule is admin-only")
	got, _ = table.Lookup("GET", "/api/v1/meals")
	assert.Equal(t, authz.Admin, got, "/api/v1/me/** does not match /api/v1/meals")
}

// Every contract route, served with the real middleware, by callers of
// each kind: 401 without a token, 403 without the role, through otherwise.
func TestEnforce(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	g := e.Group("", authn.Authenticate(v, authtest.Discard()), authz.Middleware())
	for _, c := range contract {
		g.Handle(c.method, c.route, func(c *gin.Context) { c.Status(http.StatusNoContent) })
	}
	tokens := map[string]string{
		"anonymous": "",
		"customer":  iss.Customer(t),
		"admin":     iss.Admin(t),
		"invalid":   "invalid.token.here",
	}
	for _, c := range contract {
		path := c.route
		for _, p := range []string{":id", ":product_id", ":order_id"} {
			path = strings.ReplaceAll(path, p, "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b")
		}
		for who, tok := range tokens {
			want := http.StatusNoContent
			switch {
			case who == "invalid":
				want = http.StatusUnauthorized // even on public routes
			case c.want == authz.Customer && who == "anonymous",
				c.want == authz.Admin && who == "anonymous":
				want = http.StatusUnauthorized
			case c.want == authz.Admin && who == "customer":
				want = http.StatusForbidden
			}
			req := httptest.NewRequest(c.method, path, nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			// A spoofed identity never counts.
			req.Header.Set(auth.HeaderUserID, "admin-1")
			req.Header.Set(auth.HeaderUserRoles, "admin,customer")
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			require.Equal(t, want, w.Code, "%s %s as %s: %s", c.method, path, who, w.Body.String())
			switch want {
			case http.StatusUnauthorized:
				assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
				assert.Equal(t, problem.TypeUnauthorized, problemType(t, w))
			case http.StatusForbidden:
				assert.Equal(t, problem.TypeForbidden, problemType(t, w))
			}
		}
	}
}

func problemType(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	return p.Type
}

func TestCheckAndFieldAccess(t *testing.T) {
	ctx := t.Context()
	customer := auth.WithIdentity(ctx, auth.Identity{UserID: "c", Roles: []string{auth.RoleCustomer}})
	admin := auth.WithIdentity(ctx, auth.Identity{UserID: "a", Roles: []string{auth.RoleCustomer, auth.RoleAdmin}})
	assert.NoError(t, authz.Check(ctx, authz.Public))
	assert.ErrorIs(t, authz.Check(ctx, authz.Customer), authz.ErrUnauthenticated)
	assert.NoError(t, authz.Check(customer, authz.Customer))
	assert.ErrorIs(t, authz.Check(customer, authz.Admin), authz.ErrForbidden)
	assert.NoError(t, authz.Check(admin, authz.Admin))

	assert.Equal(t, authz.Customer, authz.FieldAccess("Query", "me"))
	assert.Equal(t, authz.Public, authz.FieldAccess("Query", "products"))
	assert.Equal(t, authz.Public, authz.FieldAccess("Query", "__schema"))
	assert.Equal(t, authz.Admin, authz.FieldAccess("Query", "somethingNew"), "unlisted root fields are admin-only")
	assert.Equal(t, authz.Admin, authz.FieldAccess("Mutation", "createProduct"))
	assert.Equal(t, authz.Public, authz.FieldAccess("Product", "name"))
}
