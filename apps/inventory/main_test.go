package main

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/apptest"
)

func appEnv(t *testing.T) {
	t.Helper()
	apptest.Env(t, "inventory")
}

// TestServedRoutesAreDocumented builds the real app (the modules main runs)
// without a sidecar and checks that it serves exactly the routes API.md
// lists.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t)
	documented := apptest.Documented(t, "API.md")
	assert.Len(t, documented, 10)
	assert.Equal(t, documented, apptest.Routes(t, modules))
}

// Bad configuration stops start-up and names the variable.
func TestBadConfigurationFailsStartUp(t *testing.T) {
	appEnv(t)
	t.Setenv("INVENTORY_RESERVATION_TTL", "forever")
	app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
	require.Error(t, app.Err())
	assert.Contains(t, app.Err().Error(), "INVENTORY_RESERVATION_TTL")
}
