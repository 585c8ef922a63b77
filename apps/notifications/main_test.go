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
	apptest.Env(t, "notifications")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, besides the kit's and the event deliveries.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	own, deliveries := apptest.Split(apptest.Routes(t, modules))
	served := slices.DeleteFunc(own, func(r string) bool { return r == "GET /dapr/subscribe" })
	documented := apptest.Documented(t, "API.md")
	assert.Equal(t, []string{"GET /notifications"}, documented)
	assert.Equal(t, documented, served)
	assert.Equal(t, []string{
		"POST /events/orders", "POST /events/orders/order.cancelled", "POST /events/orders/order.confirmed",
		"POST /events/payments", "POST /events/payments/payment.failed",
		"POST /events/users", "POST /events/users/user.registered",
	}, deliveries)
}

func TestAClaimLeaseShorterThanASendFailsStartUp(t *testing.T) {
	appEnv(t)
	t.Setenv("NOTIFICATIONS_CLAIM_LEASE", "5s")
	app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
	require.Error(t, app.Err())
	assert.Contains(t, app.Err().Error(), "NOTIFICATIONS_CLAIM_LEASE")
}
