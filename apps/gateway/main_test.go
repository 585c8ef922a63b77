package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/pb33f/libopenapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/openapi"
)

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// with no sidecar and no Redis, and checks that the public routes its
// engine serves are exactly the operations openapi.yaml documents.
func TestServedRoutesAreDocumented(t *testing.T) {
	t.Setenv("APP_ID", "gateway")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", closedPort(t))
	t.Setenv("DAPR_GRPC_PORT", closedPort(t))
	t.Setenv("REDIS_ADDR", "127.0.0.1:"+closedPort(t))

	var engine *gin.Engine
	app := fx.New(modules, fx.Populate(&engine))
	require.NoError(t, app.Err())

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
	})
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

// closedPort returns a port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}
