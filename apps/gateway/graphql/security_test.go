package graphql_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/fakecatalog"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql/exec"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// fakeUsers answers Me from a function and records who asked.
type fakeUsers struct {
	answer func(auth.Identity) (usersclient.Response, error)
	mu     sync.Mutex
	askers []auth.Identity
}

func (f *fakeUsers) Me(ctx context.Context) (usersclient.Response, error) {
	id, _ := auth.FromContext(ctx)
	f.mu.Lock()
	f.askers = append(f.askers, id)
	f.mu.Unlock()
	if f.answer == nil {
		return usersclient.Response{}, usersclient.ErrUnavailable
	}
	return f.answer(id)
}

func profile(id auth.Identity) (usersclient.Response, error) {
	body, _ := json.Marshal(usersclient.Me{
		ID: id.UserID, Email: id.Email, Name: "Cust O'Mer", Roles: id.Roles,
		Addresses: []usersclient.Address{{ID: "a1", Name: "Cust", Line1: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"}},
	})
	return usersclient.Response{Status: http.StatusOK, ContentType: "application/json", Body: body}, nil
}

// securedServer mounts the graph as the gateway does: behind the token
// check and the access table.
func securedServer(t *testing.T, users *fakeUsers) (http.Handler, *authtest.Issuer) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	e := gin.New()
	g := e.Group("", authn.Authenticate(v, authtest.Discard()), authz.Middleware())
	s := graphql.Services{Catalog: fakecatalog.New(shop), Users: users}
	graphql.Mount(g, graphql.NewHandler(s, authtest.Discard(), cfg), cfg)
	return e, iss
}

func postAs(t *testing.T, h http.Handler, token, query string) (*httptest.ResponseRecorder, result) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, graphql.Path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set(auth.HeaderUserID, "spoofed-admin")
	req.Header.Set(auth.HeaderUserRoles, "admin")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var r result
	if w.Code == http.StatusOK {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
	}
	return w, r
}

func TestMe(t *testing.T) {
	users := &fakeUsers{answer: profile}
	h, iss := securedServer(t, users)

	w, r := postAs(t, h, iss.Customer(t), `{ me { id email name roles addresses { id name line1 line2 city postalCode country } } }`)
	require.Equal(t, http.StatusOK, w.Code)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"me":{"id":"customer-1","email":"customer@example.com","name":"Cust O'Mer","roles":["customer"],
	  "addresses":[{"id":"a1","name":"Cust","line1":"1 Main St","line2":null,"city":"Berlin","postalCode":"10115","country":"DE"}]}}`, string(r.Data))
	require.Len(t, users.askers, 1)
	assert.Equal(t, "customer-1", users.askers[0].UserID, "the users service is asked for the verified caller, not the spoofed one")
}

func TestMeWithoutATokenIsUnauthenticated(t *testing.T) {
	users := &fakeUsers{answer: profile}
	h, _ := securedServer(t, users)
	w, r := postAs(t, h, "", `{ categories { id } me { id email } }`)
	require.Equal(t, http.StatusOK, w.Code, "GraphQL answers 200 with a field error")
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeUnauthenticated, r.Errors[0].Extensions["code"])
	assert.Equal(t, []any{"me"}, r.Errors[0].Path)
	assert.JSONEq(t, `{"categories":[{"id":"kitchen"},{"id":"audio"}],"me":null}`, string(r.Data), "public fields still resolve")
	assert.Empty(t, users.askers, "the resolver never ran")
}

func TestMeNeedingAnotherRoleIsForbidden(t *testing.T) {
	old := authz.Fields["Query.me"]
	authz.Fields["Query.me"] = authz.Admin
	t.Cleanup(func() { authz.Fields["Query.me"] = old })
	users := &fakeUsers{answer: profile}
	h, iss := securedServer(t, users)

	_, r := postAs(t, h, iss.Customer(t), `{ me { id } }`)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeForbidden, r.Errors[0].Extensions["code"])
	assert.JSONEq(t, `{"me":null}`, string(r.Data))
	_, r = postAs(t, h, iss.Admin(t), `{ me { id } }`)
	require.Empty(t, r.Errors)
	assert.Len(t, users.askers, 1)
}

func TestAnInvalidTokenIsRefusedBeforeAnyField(t *testing.T) {
	h, iss := securedServer(t, &fakeUsers{answer: profile})
	expired := iss.Token(t, authtest.Claims{"exp": int64(1700000000), "iat": int64(1699999000)})
	for _, tok := range []string{"not.a.token", expired} {
		w, _ := postAs(t, h, tok, `{ categories { id } }`)
		require.Equal(t, http.StatusUnauthorized, w.Code, "even for public fields")
		assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
		assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	}
}

func TestUsersTroubleInMe(t *testing.T) {
	for name, tc := range map[string]struct {
		answer func(auth.Identity) (usersclient.Response, error)
		code   string
	}{
		"unreachable": {nil, graphql.CodeUnavailable},
		"failing": {func(auth.Identity) (usersclient.Response, error) {
			b, _ := json.Marshal(problem.Internal())
			return usersclient.Response{Status: 500, ContentType: problem.ContentType, Body: b}, nil
		}, graphql.CodeUnavailable},
		"refusing": {func(auth.Identity) (usersclient.Response, error) {
			b, _ := json.Marshal(problem.New(problem.TypeUnauthorized, 401, "no"))
			return usersclient.Response{Status: 401, ContentType: problem.ContentType, Body: b}, nil
		}, graphql.CodeUnauthenticated},
	} {
		t.Run(name, func(t *testing.T) {
			h, iss := securedServer(t, &fakeUsers{answer: tc.answer})
			_, r := postAs(t, h, iss.Customer(t), `{ me { id } }`)
			require.Len(t, r.Errors, 1)
			assert.Equal(t, tc.code, r.Errors[0].Extensions["code"])
		})
	}
}

// Every root field has a rule of its own in the access table: a new field
// must be given one on purpose (without, it is admin-only).
func TestEveryRootFieldHasAnAccessRule(t *testing.T) {
	schema := exec.NewExecutableSchema(exec.Config{}).Schema()
	for _, typ := range []string{"Query", "Mutation", "Subscription"} {
		def := schema.Types[typ]
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			_, ok := authz.Fields[typ+"."+f.Name]
			assert.True(t, ok, "authz.Fields has no rule for %s.%s", typ, f.Name)
		}
	}
}
