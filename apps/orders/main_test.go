package main

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
)

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return strconv.Itoa(port)
}

func appEnv(t *testing.T) {
	t.Helper()
	t.Setenv("APP_ID", "orders")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", closedPort(t))
	t.Setenv("DAPR_GRPC_PORT", closedPort(t))
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, plus the event deliveries of its subscriptions.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	var engine *gin.Engine
	app := fx.New(modules, fx.NopLogger, fx.Populate(&engine))
	require.NoError(t, app.Err())

	kit := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /dapr/subscribe"}
	var served, deliveries []string
	for _, r := range engine.Routes() {
		route := r.Method + " " + r.Path
		switch {
		case slices.Contains(kit, route):
		case regexp.MustCompile(`^POST /events/`).MatchString(route):
			deliveries = append(deliveries, route)
		default:
			served = append(served, route)
		}
	}
	slices.Sort(served)
	slices.Sort(deliveries)

	doc, err := os.ReadFile("API.md")
	require.NoError(t, err)
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z]+ /[^`]*)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	slices.Sort(documented)
	assert.Len(t, documented, 7)
	assert.Equal(t, documented, served)
	assert.Equal(t, []string{
		"POST /events/inventory", "POST /events/inventory/inventory.expired", "POST /events/inventory/inventory.rejected",
		"POST /events/payments", "POST /events/payments/payment.failed", "POST /events/payments/payment.succeeded",
	}, deliveries)
}

// Bad configuration stops start-up with a clear error.
func TestBadConfigurationFailsStartUp(t *testing.T) {
	for key, value := range map[string]string{"ORDERS_CURRENCY": "dollars", "CART_TTL": "soon", "CATALOG_TIMEOUT": "0s"} {
		t.Run(key, func(t *testing.T) {
			appEnv(t)
			t.Setenv(key, value)
			app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
			require.Error(t, app.Err())
			assert.Contains(t, app.Err().Error(), key)
		})
	}
}
