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
	t.Setenv("APP_ID", "notifications")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", closedPort(t))
	t.Setenv("DAPR_GRPC_PORT", closedPort(t))
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, besides the kit's and the event deliveries.
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
