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
	t.Setenv("APP_ID", "users")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", "sidecar-only")
	t.Setenv("DAPR_HTTP_PORT", closedPort(t))
	t.Setenv("DAPR_GRPC_PORT", closedPort(t))
	t.Setenv("ARGON2_MEMORY_KIB", "64")
	t.Setenv("ARGON2_ITERATIONS", "1")
	t.Setenv("ARGON2_PARALLELISM", "1")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, so the gateway can rely on that file.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	var engine *gin.Engine
	app := fx.New(modules, fx.NopLogger, fx.Populate(&engine))
	require.NoError(t, app.Err())

	kit := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /dapr/subscribe"}
	var served []string
	for _, r := range engine.Routes() {
		if route := r.Method + " " + r.Path; !slices.Contains(kit, route) {
			served = append(served, route)
		}
	}
	slices.Sort(served)

	doc, err := os.ReadFile("API.md")
	require.NoError(t, err)
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z]+ /[^`]*)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	slices.Sort(documented)
	assert.Len(t, documented, 9)
	assert.Equal(t, documented, served)
}

// The identity provider is chosen by configuration; an unknown one stops
// start-up with a clear error.
func TestUnknownIdentityProviderFailsStartUp(t *testing.T) {
	appEnv(t)
	t.Setenv("IDENTITY_PROVIDER", "ldap")
	app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
	require.Error(t, app.Err())
	assert.Contains(t, app.Err().Error(), "IDENTITY_PROVIDER")
}
