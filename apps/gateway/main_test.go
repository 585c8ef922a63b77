package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pb33f/libopenapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/apptest"
	"github.com/shopmesh/shopmesh/internal/platform/problem"

	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/fakesidecar"
	"github.com/shopmesh/shopmesh/apps/gateway/openapi"
	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/redistest"
)

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// with no sidecar and no Redis, and checks that the public routes its
// engine serves are exactly the operations openapi.yaml documents.
func TestServedRoutesAreDocumented(t *testing.T) {
	engine := buildEngine(t)
	var served []string
	for _, r := range engine.Routes() {
		if sidecarOnly(engine, r) {
			continue // Dapr's subscription and delivery routes: not public API
		}
		served = append(served, r.Method+" "+ginPathToOpenAPI(r.Path))
	}
	slices.Sort(served)
	assert.Equal(t, documented(t), served)
	assert.Subset(t, served, []string{
		"GET /api/v1/products", "POST /api/v1/products", "GET /api/v1/products/{id}", "PUT /api/v1/products/{id}",
		"DELETE /api/v1/products/{id}", "GET /api/v1/categories", "GET /graphql", "POST /graphql",
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
		"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout",
		"GET /api/v1/me", "GET /api/v1/me/addresses", "POST /api/v1/me/addresses", "DELETE /api/v1/me/addresses/{id}",
		"GET /.well-known/jwks.json",
		"GET /api/v1/search", "POST /api/v1/search/reindex",
		"GET /api/v1/cart", "POST /api/v1/cart/items", "DELETE /api/v1/cart/items/{product_id}", "POST /api/v1/checkout",
		"GET /api/v1/orders", "GET /api/v1/orders/{id}", "POST /api/v1/orders/{id}/cancel", "GET /api/v1/notifications",
		"GET /api/v1/inventory/{product_id}", "PUT /api/v1/inventory/{product_id}", "GET /api/v1/payments/{order_id}",
	})
}

// operational routes are outside the API: no token is checked on them.
var operational = []string{"/healthz", "/readyz", "/metrics", "/openapi.json"}

// TestEveryRouteHasAnAccessRule: every public API route the engine serves
// has a rule of its own in the access table, and the OpenAPI document's
// security of each operation says what that rule says.
func TestEveryRouteHasAnAccessRule(t *testing.T) {
	engine := buildEngine(t)
	security := documentedSecurity(t)
	table := authz.Table(authz.Routes)
	for _, r := range engine.Routes() {
		if sidecarOnly(engine, r) || slices.Contains(operational, r.Path) {
			continue
		}
		op := r.Method + " " + ginPathToOpenAPI(r.Path)
		access, ok := table.Lookup(r.Method, r.Path)
		if !assert.True(t, ok, "%s has no rule in authz.Routes", op) {
			continue
		}
		if access == authz.Public {
			assert.Contains(t, security[op], "anonymous", "%s is public in authz.Routes: its security in openapi.yaml must allow no token ({})", op)
			continue
		}
		assert.Equal(t, []string{"bearerAuth"}, security[op], "%s is %s-only in authz.Routes; its security in openapi.yaml", op, access)
	}
}

// buildEngine builds the real app (the modules main runs) with no sidecar
// and no Redis, and returns its engine. env overrides the environment as
// name, value pairs.
func buildEngine(t *testing.T, env ...string) *gin.Engine {
	t.Helper()
	return buildEngineWith(t, fx.Options(), env...)
}

// buildEngineWith is buildEngine with opts applied to the app, e.g. a
// decorator that replaces the sidecar.
func buildEngineWith(t *testing.T, opts fx.Option, env ...string) *gin.Engine {
	t.Helper()
	t.Setenv("APP_ID", "gateway")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", apptest.ClosedPort(t))
	t.Setenv("DAPR_GRPC_PORT", apptest.ClosedPort(t))
	t.Setenv("REDIS_ADDR", "127.0.0.1:"+apptest.ClosedPort(t))
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
	var engine *gin.Engine
	app := fx.New(modules, opts, fx.Populate(&engine), fx.NopLogger)
	require.NoError(t, app.Err())
	return engine
}

// A checkout counts against the client's rate limit like every other
// request, over REST and GraphQL alike: one budget per client, spent before
// the token is even looked at.
func TestCheckoutCountsAgainstTheClientsRateLimit(t *testing.T) {
	rdb := redistest.Client(t)
	engine := buildEngine(t, "REDIS_ADDR", rdb.Options().Addr, "REDIS_DB", strconv.Itoa(redistest.DB),
		"RATE_LIMIT_RPS", "1", "RATE_LIMIT_BURST", "3")
	client := fmt.Sprintf("[2001:db8:%x:%x::1]:40000", rand.IntN(1<<16), rand.IntN(1<<16))
	send := func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = client
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, req)
		return w
	}
	checkout := func() *httptest.ResponseRecorder {
		return send(http.MethodPost, "/api/v1/checkout", `{"payment_token":"tok_visa"}`, "Idempotency-Key", "k-1")
	}
	assert.Equal(t, http.StatusUnauthorized, send(http.MethodGet, "/api/v1/cart", "").Code)
	for range 2 {
		w := checkout()
		require.Equal(t, http.StatusUnauthorized, w.Code, "within the budget: on to the token check")
		assert.NotEmpty(t, w.Header().Get("RateLimit-Remaining"))
	}
	w := checkout()
	require.Equal(t, http.StatusTooManyRequests, w.Code, "the fourth request of a burst of three")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	w = send(http.MethodPost, "/graphql", `{"query":"mutation { checkout(input: {shippingAddress: {name: \"A\", line1: \"1\", city: \"B\", postalCode: \"1\", country: \"DE\"}, paymentToken: \"tok_visa\", idempotencyKey: \"k-2\"}) { orderId } }"}`)
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "the graph's checkout spends the same budget")
}

// The API, REST and GraphQL alike, sheds what it has no slot for with a
// 503 and Retry-After; the probes, the metrics and the OpenAPI document are
// outside admission and answer however busy the API is. Reads and writes
// have slots of their own.
func TestAdmissionShedsTheAPINeverTheProbes(t *testing.T) {
	const patience = 10 * time.Second // a hang, not a slow machine, fails the test
	arrived, release := make(chan struct{}, 10), make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open)
	sidecar := fakesidecar.New(func(fakesidecar.Invocation) *http.Response {
		arrived <- struct{}{}
		<-release
		return fakesidecar.Reply(http.StatusOK, "application/json", `{"items":[]}`)
	})
	engine := buildEngineWith(t, fx.Decorate(func(*outbound.Invoker) *outbound.Invoker { return outbound.New(sidecar) }),
		"ADMISSION_MAX_INFLIGHT_READ", "1", "ADMISSION_MAX_QUEUED_READ", "0")
	send := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("{}")))
		return w
	}

	held := make(chan *httptest.ResponseRecorder, 1)
	go func() { held <- send(http.MethodGet, "/api/v1/categories") }()
	select {
	case <-arrived: // the one read slot is taken until release
	case <-time.After(patience):
		t.Fatal("the held read never reached the sidecar")
	}

	for _, path := range []string{"/api/v1/products", "/graphql?query=" + url.QueryEscape("{ categories { id } }")} {
		w := send(http.MethodGet, path)
		require.Equal(t, http.StatusServiceUnavailable, w.Code, path)
		assert.Equal(t, "1", w.Header().Get("Retry-After"), path)
		assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"), path)
		var p problem.Problem
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), path)
		assert.Equal(t, problem.TypeUnavailable, p.Type, path)
	}
	for _, path := range operational {
		w := send(http.MethodGet, path)
		assert.Empty(t, w.Header().Get("Retry-After"), "%s is never shed", path)
		assert.NotEqual(t, problem.ContentType, w.Header().Get("Content-Type"), "%s is never shed", path)
		if path != "/readyz" { // readiness fails here on its own: no sidecar runs
			assert.Equal(t, http.StatusOK, w.Code, path)
		}
	}
	assert.Equal(t, http.StatusUnauthorized, send(http.MethodPost, "/api/v1/checkout").Code,
		"a write gets a slot of its own and goes on to the token check")
	assert.Contains(t, send(http.MethodGet, "/metrics").Body.String(),
		`gateway_admission_decisions_total{class="read",decision="shed"} 2`)

	open()
	select {
	case w := <-held:
		assert.Equal(t, http.StatusOK, w.Code, "the admitted read is served")
	case <-time.After(patience):
		t.Fatal("the held read was not answered")
	}
}

// documentedSecurity maps each operation to its security requirements:
// "anonymous" for {}, else the scheme names.
func documentedSecurity(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.YAML)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	out := map[string][]string{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			var reqs []string
			for _, sr := range op.Security {
				if sr.Requirements == nil || sr.Requirements.Len() == 0 {
					reqs = append(reqs, "anonymous")
					continue
				}
				for name := range sr.Requirements.KeysFromOldest() {
					reqs = append(reqs, name)
				}
			}
			out[strings.ToUpper(method)+" "+path] = reqs
		}
	}
	return out
}

// sidecarOnly reports whether a route demands the sidecar's app token.
func sidecarOnly(e *gin.Engine, r gin.RouteInfo) bool {
	path := strings.ReplaceAll(r.Path, ":id", "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b")
	req := httptest.NewRequest(r.Method, path, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w.Code == http.StatusUnauthorized && strings.Contains(w.Body.String(), "Dapr sidecar")
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func ginPathToOpenAPI(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

func documented(t *testing.T) []string {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.YAML)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	var ops []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}
