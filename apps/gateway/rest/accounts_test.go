package rest_test

import (
	"net/http"
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
	"github.com/shopmesh/shopmesh/apps/gateway/fakesidecar"
	"github.com/shopmesh/shopmesh/apps/gateway/inventoryclient"
	"github.com/shopmesh/shopmesh/apps/gateway/notificationsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/paymentsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/rest"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

type gateway struct {
	h      http.Handler
	iss    *authtest.Issuer
	sc     *fakesidecar.Sidecar
	strict *int
}

// newGateway mounts the API as the gateway's rest.Module does, over real
// service clients whose calls land in a recording sidecar.
func newGateway(t *testing.T, answer func(fakesidecar.Invocation) *http.Response) gateway {
	t.Helper()
	log := authtest.Discard()
	e := httpserver.NewEngine(config.App{ID: "gateway", MaxBodyBytes: 4 << 10}, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	sc := fakesidecar.New(answer)
	inv := outbound.New(sc)
	cfg := servicecall.Config{Timeout: time.Second, MaxResponseBytes: 1 << 20}
	strict := 0
	var mu sync.Mutex
	countStrict := func(c *gin.Context) { mu.Lock(); strict++; mu.Unlock(); c.Next() }
	guard := []gin.HandlerFunc{authn.Authenticate(v, log), authz.Middleware()}
	api := e.Group(rest.Prefix, guard...)
	rest.Mount(api, catalogclient.New(inv, cfg), log)
	rest.MountAccounts(api, e.Group("", guard...), usersclient.New(inv, cfg), countStrict, log)
	rest.MountSearch(api, searchclient.New(inv, cfg), log)
	rest.MountShopping(api, ordersclient.New(inv, cfg), notificationsclient.New(inv, cfg), log)
	rest.MountOperations(api, inventoryclient.New(inv, cfg), paymentsclient.New(inv, cfg), log)
	return gateway{h: e, iss: iss, sc: sc, strict: &strict}
}

func usersApp(inv fakesidecar.Invocation) *http.Response {
	switch inv.Method + " " + inv.Path {
	case "POST auth/login":
		if strings.Contains(inv.Body, "locked") {
			return fakesidecar.Reply(429, problem.ContentType, fakesidecar.ProblemBody(problem.New(problem.TypeRateLimited, 429, "too many failed sign-ins; try again later")), "Retry-After", "600")
		}
		if strings.Contains(inv.Body, "wrong") {
			return fakesidecar.Reply(401, problem.ContentType, fakesidecar.ProblemBody(problem.New(problem.TypeUnauthorized, 401, "the e-mail address or the password is wrong")))
		}
		return fakesidecar.Reply(200, "application/json; charset=utf-8", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r1"}`, "Cache-Control", "no-store")
	case "POST auth/register":
		if strings.Contains(inv.Body, "taken") {
			return fakesidecar.Reply(409, problem.ContentType, fakesidecar.ProblemBody(problem.Conflict("an account with this e-mail address exists")))
		}
		return fakesidecar.Reply(201, "application/json; charset=utf-8", `{"id":"u-1","email":"a@example.com","name":"A"}`, "Location", "/api/v1/me")
	case "POST auth/refresh":
		return fakesidecar.Reply(200, "application/json; charset=utf-8", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r2"}`)
	case "POST auth/logout":
		return fakesidecar.Reply(204, "", "")
	case "GET me":
		id := inv.Header.Get(auth.HeaderUserID)
		return fakesidecar.Reply(200, "application/json; charset=utf-8", `{"id":"`+id+`","email":"c@example.com","name":"C","roles":["customer"],"addresses":[]}`)
	case "GET me/addresses":
		return fakesidecar.Reply(200, "application/json; charset=utf-8", `{"items":[]}`)
	case "POST me/addresses":
		return fakesidecar.Reply(201, "application/json; charset=utf-8", `{"id":"0193","name":"C","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"}`,
			"Location", "/api/v1/me/addresses/0193")
	case "DELETE me/addresses/0193":
		return fakesidecar.Reply(204, "", "")
	case "GET .well-known/jwks.json":
		return fakesidecar.Reply(200, "application/json; charset=utf-8", `{"keys":[]}`, "Cache-Control", "public, max-age=60")
	case "GET products", "GET categories":
		return fakesidecar.Reply(200, "application/json", `{"items":[]}`)
	case "POST products":
		return fakesidecar.Reply(201, "application/json", `{"id":"01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"}`)
	}
	return fakesidecar.Reply(404, problem.ContentType, fakesidecar.ProblemBody(problem.NotFound("no route")))
}

func TestAccountAnswersArePassedThrough(t *testing.T) {
	gw := newGateway(t, usersApp)

	w := do(gw.h, http.MethodPost, "/api/v1/auth/login", `{"email":"a@example.com","password":"right-password"}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"refresh_token":"r1"}`, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "tokens are never cached")
	inv := gw.sc.Calls()[0]
	assert.Equal(t, fakesidecar.Invocation{App: "users", Method: "POST", Path: "auth/login", Header: inv.Header, Body: `{"email":"a@example.com","password":"right-password"}`}, inv)

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
	gw = newGateway(t, func(fakesidecar.Invocation) *http.Response {
		return fakesidecar.Reply(500, "application/json", `{"errorCode":"ERR_DIRECT_INVOKE","message":"no healthy instance"}`)
	})
	w = do(gw.h, http.MethodGet, "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Empty(t, w.Header().Get("Cache-Control"), "a failure is not cacheable")
}
