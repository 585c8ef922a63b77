package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/apptest"
)

func appEnv(t *testing.T) {
	t.Helper()
	apptest.Env(t, "storefront")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes README.md
// lists.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	served := slices.DeleteFunc(apptest.Routes(t, modules), func(r string) bool { return r == "GET /dapr/subscribe" })
	documented := apptest.Documented(t, "README.md")
	assert.Len(t, documented, 30)
	assert.Equal(t, documented, served)
}

// Bad configuration stops start-up with a clear error.
func TestBadConfigurationFailsStartUp(t *testing.T) {
	for key, value := range map[string]string{
		"GATEWAY_URL":                "localhost:8080",
		"GATEWAY_TIMEOUT":            "0s",
		"ORDER_EVENTS_INTERVAL":      "soon",
		"ORDER_EVENTS_LIMIT":         "1ms",
		"STOREFRONT_TRUSTED_PROXIES": "not-an-address",
	} {
		t.Run(key, func(t *testing.T) {
			appEnv(t)
			t.Setenv(key, value)
			app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
			require.Error(t, app.Err())
			assert.Contains(t, app.Err().Error(), key)
		})
	}
}

// Until the session key is read from the secret store, pages answer 503
// with Retry-After (here: there is no sidecar), while the assets and the
// liveness probe are served.
func TestPagesWaitForTheSessionKey(t *testing.T) {
	appEnv(t)
	var engine *gin.Engine
	app := fx.New(modules, fx.NopLogger, fx.Populate(&engine))
	require.NoError(t, app.Err())
	serve := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	for _, path := range []string{"/", "/nope"} {
		rec := serve(path)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, path)
		assert.Equal(t, "1", rec.Header().Get("Retry-After"), path)
		assert.Contains(t, rec.Header().Get("Content-Type"), "text/html", path)
		assert.Contains(t, rec.Body.String(), "The shop is busy", path)
	}
	assert.Equal(t, http.StatusOK, serve("/healthz").Code)
	assert.Equal(t, http.StatusServiceUnavailable, serve("/readyz").Code)
	assert.Contains(t, serve("/readyz").Body.String(), "session-key")
}
