package main

import (
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
	apptest.Env(t, "orders")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, plus the event deliveries of its subscriptions.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	own, deliveries := apptest.Split(apptest.Routes(t, modules))
	served := slices.DeleteFunc(own, func(r string) bool { return r == "GET /dapr/subscribe" })
	documented := apptest.Documented(t, "API.md")
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
