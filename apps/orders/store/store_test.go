package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/orders/store"
)

func TestLoadConfig(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(string) (string, bool) { return v, v != "" }
	}
	cfg, err := store.LoadConfig(env(""))
	require.NoError(t, err)
	assert.Equal(t, 7*24*time.Hour, cfg.CartTTL)
	cfg, err = store.LoadConfig(env("36h"))
	require.NoError(t, err)
	assert.Equal(t, 36*time.Hour, cfg.CartTTL)
	for _, bad := range []string{"500ms", "-1h", "a week"} {
		_, err = store.LoadConfig(env(bad))
		assert.ErrorContains(t, err, "CART_TTL", bad)
	}
}
