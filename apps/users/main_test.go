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
	apptest.Env(t, "users")
	t.Setenv("ARGON2_MEMORY_KIB", "64")
	t.Setenv("ARGON2_ITERATIONS", "1")
	t.Setenv("ARGON2_PARALLELISM", "1")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists, so the gateway can rely on that file.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	served := slices.DeleteFunc(apptest.Routes(t, modules), func(r string) bool { return r == "GET /dapr/subscribe" })
	documented := apptest.Documented(t, "API.md")
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
