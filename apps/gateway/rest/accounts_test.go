package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/rest"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// invocation is one call that reached the sidecar.
type invocation struct {
	App, Method, Path string
	Header            http.Header
	Body              string
}

// sidecar stands in for the gateway's daprd: it records every invocation
// exactly as the gateway would send it and answers from a function.
type sidecar struct {
	mu     sync.Mutex
	calls  []invocation
	answer func(invocation) *http.Response
}

func (s *sidecar) Call(_ context.Context, app, method, path string, _ url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	var b []byte
	if body != nil {
		b, _ = io.ReadAll(body)
	}
	inv := invocation{App: app, Method: method, Path: path, Header: header.Clone(), Body: string(b)}
	s.mu.Lock()
	s.calls = append(s.calls, inv)
	s.mu.Unlock()
	if s.answer == nil {
		return nil, errors.New("connection refused")
	}
	return s.answer(inv), nil
}

func (s *sidecar) Calls() []invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]invocation(nil), s.calls...)
}

func (s *sidecar) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func answer(status int, contentType, body string, hdr ...string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func problemBody(p *problem.Problem) string {
	b, _ := json.Marshal(p)
	return string(b)
}

type gateway struct {
	h      http.Handler
	iss    *authtest.Issuer
	sc     *sidecar
	strict *int
}

// newGateway mounts the API as the gateway's rest.Module does, over real
// catalog and users clients whose calls land in a recording sidecar.
func newGateway(t *testing.T, answer func(invocation) *http.Response) gateway {
	t.Helper()
	log := authtest.Discard()
	e := httpserver.NewEngine(config.App{ID: "gateway", MaxBodyBytes: 4 << 10}, log, metrics.NewHTTP(metrics.NewRegistry()))
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	sc := &sidecar{answer: answer}
	inv := outbound.New(sc)
	cat := catalogclient.New(inv, catalogclient.Config{Timeout: time.Second, MaxResponseBytes: 1 << 20})
	users := usersclient.New(inv, usersclient.Config{Timeout: time.Second, MaxResponseBytes: 1 << 20})
	strict := 0
	var mu sync.Mutex
	countStrict := func(c *gin.Context) { mu.Lock(); strict++; mu.Unlock(); c.Next() }
	guard := []gin.HandlerFunc{authn.Authenticate(v, log), authz.Middleware()}
	api := e.Group(rest.Prefix, guard...)
	rest.Mount(api, cat, log)
	rest.MountAccounts(api, e.Group("", guard...), users, countStrict, log)
	return gateway{h: e, iss: iss, sc: sc, strict: &strict}
}

func usersApp(inv invocation) *http.Response {
	switch inv.Method + " " + inv.Path {
	case "POST auth/login":
		if strings.Contains(inv.Body, "locked") {
			return answer(429, problem.ContentType, problemBody(problem.New(problem.TypeRateLimited, 429, "too many failed sign-ins; try again later")), "Retry-After", "600")
		}
		if strings.Contains(inv.Body, "wrong") {
			return answer(401, problem.ContentType, problemBody(problem.New(problem.TypeUnauthorized, 401, "the e-mail address or the password is wrong")))
		}
		return answer(200, "application/json; charset=utf-8", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r1"}`, "Cache-Control", "no-store")
	case "POST auth/register":
		if strings.Contains(inv.Body, "taken") {
			return answer(409, problem.ContentType, problemBody(problem.Conflict("an account with this e-mail address exists")))
		}
		return answer(201, "application/json; charset=utf-8", `{"id":"u-1","email":"a@example.com","name":"A"}`, "Location", "/api/v1/me")
	case "POST auth/refresh":
		return answer(200, "application/json; charset=utf-8", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r2"}`)
	case "POST auth/logout":
		return answer(204, "", "")
	case "GET me":
		id := inv.Header.Get(auth.HeaderUserID)
		return answer(200, "application/json; charset=utf-8", `{"id":"`+id+`","email":"c@example.com","name":"C","roles":["customer"],"addresses":[]}`)
	case "GET me/addresses":
		return answer(200, "application/json; charset=utf-8", `{"items":[]}`)
	case "POST me/addresses":
		return answer(201, "application/json; charset=utf-8", `{"id":"0193","name":"C","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"}`,
			"Location", "/api/v1/me/addresses/0193")
	case "DELETE me/addresses/0193":
		return answer(204, "", "")
	case "GET .well-known/jwks.json":
		return answer(200, "application/json; charset=utf-8", `{"keys":[]}`, "Cache-Control", "public, max-age=60")
	case "GET products", "GET categories":
		return answer(200, "application/json", `{"items":[]}`)
	case "POST products":
		return answer(201, "application/json", `{"id":"01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"}`)
	}
	return answer(404, problem.ContentType, problemBody(problem.NotFound("no route")))
}

func TestAccountAnswersArePassedThrough(t *testing.T) {
	gw := newGateway(t, usersApp)

	w := do(gw.h, http.MethodPost, "/api/v1/auth/login", `{"email":"a@example.com","password":"right-password"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r1"}`, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "tokens are never cached")
	inv := gw.sc.Calls()[0]
	assert.Equal(t, invocation{App: "users", Method: "POST", Path: "auth/login", Header: inv.Header, Body: `{"email":"a@example.com","password":"right-password"}`}, inv)

	w = do(gw.h, http.MethodPost, "/api/v1/auth/login", `{"email":"a@example.com","password":"wrong"}`)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, problem.TypeUnauthorized, decodeProblem(t, w).Type)

	w = do(gw.h, http.MethodPost, "/api/v1/auth/login", `{"email":"locked@example.com","password":"x"}`)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "600", w.Header().Get("Retry-After"), "a locked account's Retry-After reaches the client")
	assert.Equal(t, problem.TypeRateLimited, decodeProblem(t, w).Type)

	w = do(gw.h, http.MethodPost, "/api/v1/auth/register", `{"email":"a@example.com","password":"long-enough-pw","name":"A"}`)
	require.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "/api/v1/me", w.Header().Get("Location"))
	w = do(gw.h, http.MethodPost, "/api/v1/auth/register", `{"email":"taken@example.com","password":"long-enough-pw","name":"A"}`)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Equal(t, problem.TypeConflict, decodeProblem(t, w).Type)

	w = do(gw.h, http.MethodPost, "/api/v1/auth/refresh", `{"refresh_token":"r1"}`)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	w = do(gw.h, http.MethodPost, "/api/v1/auth/logout", `{"refresh_token":"r2"}`)
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, w.Body.String())

	w = do(gw.h, http.MethodPost, "/api/v1/auth/login", `email=a`, "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusUnsupportedMediaType, w.Code)

	assert.Equal(t, 8, *gw.strict, "the stricter limit runs on each credential endpoint call")

	w = do(gw.h, http.MethodGet, "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "public, max-age=300", w.Header().Get("Cache-Control"))
	assert.JSONEq(t, `{"keys":[]}`, w.Body.String())
	assert.Equal(t, 8, *gw.strict, "only the credential endpoints have the stricter limit")
}

func TestMeNeedsACustomer(t *testing.T) {
	gw := newGateway(t, usersApp)
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/me", ""},
		{http.MethodGet, "/api/v1/me/addresses", ""},
		{http.MethodPost, "/api/v1/me/addresses", `{"name":"C","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"}`},
		{http.MethodDelete, "/api/v1/me/addresses/0193", ""},
	} {
		w := do(gw.h, r.method, r.path, r.body, auth.HeaderUserID, "victim", auth.HeaderUserRoles, "customer")
		require.Equal(t, http.StatusUnauthorized, w.Code, "%s %s without a token, identity headers or not", r.method, r.path)
		assert.Equal(t, `Bearer realm="shopmesh"`, w.Header().Get("WWW-Authenticate"))
		assert.Equal(t, problem.TypeUnauthorized, decodeProblem(t, w).Type)
	}
	assert.Empty(t, gw.sc.Calls(), "nothing reached the users service")

	tok := gw.iss.Customer(t)
	w := do(gw.h, http.MethodGet, "/api/v1/me", "", "Authorization", "Bearer "+tok, auth.HeaderUserID, "victim")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"id":"customer-1"`, "users is asked for the token's subject, not the spoofed one")
	assert.Contains(t, w.Header().Get("Cache-Control"), "no-store")

	w = do(gw.h, http.MethodPost, "/api/v1/me/addresses", `{"name":"C","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"}`, "Authorization", "Bearer "+tok)
	require.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "/api/v1/me/addresses/0193", w.Header().Get("Location"))
	w = do(gw.h, http.MethodDelete, "/api/v1/me/addresses/0193", "", "Authorization", "Bearer "+tok)
	require.Equal(t, http.StatusNoContent, w.Code)
	n := len(gw.sc.Calls())
	w = do(gw.h, http.MethodDelete, "/api/v1/me/addresses/..%2f..%2fproducts", "", "Authorization", "Bearer "+tok)
	require.Equal(t, http.StatusNotFound, w.Code)
	assert.Len(t, gw.sc.Calls(), n, "an id that cannot be one is not sent")

	for _, inv := range gw.sc.Calls() {
		assert.Equal(t, "customer-1", inv.Header.Get(auth.HeaderUserID))
		assert.Equal(t, "customer@example.com", inv.Header.Get(auth.HeaderUserEmail))
		assert.Equal(t, "customer", inv.Header.Get(auth.HeaderUserRoles))
	}
}

// A client's X-Shopmesh-User-* headers never reach a service: not on a
// public route without a token, not next to a customer's token, and they
// never turn a customer into an admin.
func TestSpoofedIdentityHeadersAreDropped(t *testing.T) {
	gw := newGateway(t, usersApp)
	spoof := []string{auth.HeaderUserID, "admin-1", auth.HeaderUserRoles, "admin,customer", auth.HeaderUserEmail, "admin@example.com",
		"x-shopmesh-user-roles", "admin"}

	w := do(gw.h, http.MethodGet, "/api/v1/products", "", spoof...)
	require.Equal(t, http.StatusOK, w.Code)
	calls := gw.sc.Calls()
	require.Len(t, calls, 1)
	for k := range calls[0].Header {
		assert.NotContains(t, strings.ToLower(k), "x-shopmesh-user", "anonymous call carries no identity header")
	}

	gw.sc.Reset()
	tok := gw.iss.Customer(t)
	w = do(gw.h, http.MethodGet, "/api/v1/categories", "", append([]string{"Authorization", "Bearer " + tok}, spoof...)...)
	require.Equal(t, http.StatusOK, w.Code)
	calls = gw.sc.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "customer-1", calls[0].Header.Get(auth.HeaderUserID))
	assert.Equal(t, []string{"customer"}, calls[0].Header.Values(auth.HeaderUserRoles))

	gw.sc.Reset()
	body := `{"sku":"kit-1","name":"Kettle","category":"kitchen","price":{"amount":3999,"currency":"USD"}}`
	w = do(gw.h, http.MethodPost, "/api/v1/products", body, append([]string{"Authorization", "Bearer " + tok}, spoof...)...)
	require.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, problem.TypeForbidden, decodeProblem(t, w).Type)
	w = do(gw.h, http.MethodPost, "/api/v1/products", body, spoof...)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Empty(t, gw.sc.Calls(), "no write reached the catalog")

	w = do(gw.h, http.MethodPost, "/api/v1/products", body, "Authorization", "Bearer "+gw.iss.Admin(t))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	calls = gw.sc.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "admin-1", calls[0].Header.Get(auth.HeaderUserID))
	assert.Equal(t, "customer,admin", calls[0].Header.Get(auth.HeaderUserRoles))
}

func TestUsersUnavailable(t *testing.T) {
	gw := newGateway(t, nil)
	w := do(gw.h, http.MethodPost, "/api/v1/auth/login", `{"email":"a@example.com","password":"pw"}`)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, problem.TypeUnavailable, decodeProblem(t, w).Type)

	// The sidecar's own error (not problem+json) also means "not reached".
	gw = newGateway(t, func(invocation) *http.Response {
		return answer(500, "application/json", `{"errorCode":"ERR_DIRECT_INVOKE","message":"no healthy instance"}`)
	})
	w = do(gw.h, http.MethodGet, "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Empty(t, w.Header().Get("Cache-Control"), "a failure is not cacheable")
}
