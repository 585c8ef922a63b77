package servicecall_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	cfg, err := servicecall.LoadConfig(lookup(nil), "SHOP", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 10 * time.Second, MaxResponseBytes: 1 << 20}, cfg)

	cfg, err = servicecall.LoadConfig(lookup(map[string]string{"SHOP_TIMEOUT": "250ms", "SHOP_MAX_RESPONSE_BYTES": "4096"}), "SHOP", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 250 * time.Millisecond, MaxResponseBytes: 4096}, cfg)

	_, err = servicecall.LoadConfig(lookup(map[string]string{"SHOP_TIMEOUT": "0s", "SHOP_MAX_RESPONSE_BYTES": "-1"}), "SHOP", 1<<20)
	require.Error(t, err)
	assert.ErrorContains(t, err, "SHOP_TIMEOUT")
	assert.ErrorContains(t, err, "SHOP_MAX_RESPONSE_BYTES")
}

type client struct{ cfg servicecall.Config }

func newClient(_ servicecall.Invoker, cfg servicecall.Config) *client { return &client{cfg} }

// Provide reads the client's Config from the environment, and a bad value
// stops the app from starting rather than giving it a zero timeout.
func TestProvideReadsTheEnvironment(t *testing.T) {
	build := func() (*client, error) {
		var c *client
		err := fx.New(fx.NopLogger, fx.Supply(outbound.New(nil)),
			servicecall.Provide("SHOPTEST", 1<<10, newClient), fx.Populate(&c)).Err()
		return c, err
	}
	t.Setenv("SHOPTEST_TIMEOUT", "3s")
	c, err := build()
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 3 * time.Second, MaxResponseBytes: 1 << 10}, c.cfg)

	t.Setenv("SHOPTEST_TIMEOUT", "soon")
	_, err = build()
	assert.ErrorContains(t, err, "SHOPTEST_TIMEOUT")
}
