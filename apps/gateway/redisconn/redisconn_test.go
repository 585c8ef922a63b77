package redisconn_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	cfg, err := redisconn.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, redisconn.Config{Addr: "127.0.0.1:16379", Timeout: 500 * time.Millisecond, ReadinessRequired: true}, cfg)

	cfg, err = redisconn.LoadConfig(env(map[string]string{
		"REDIS_ADDR": "cache.example:6379", "REDIS_PASSWORD": "pw", "REDIS_TLS": "true", "REDIS_USERNAME": "gateway",
	}))
	require.NoError(t, err)
	assert.True(t, cfg.TLS)
	assert.Equal(t, "cache.example:6379", cfg.Addr)
	assert.NotNil(t, redisconn.NewClient(cfg).Options().TLSConfig)

	_, err = redisconn.LoadConfig(env(map[string]string{"REDIS_TLS": "maybe", "REDIS_TIMEOUT": "-1s"}))
	assert.ErrorContains(t, err, "REDIS_TLS")
	assert.ErrorContains(t, err, "REDIS_TIMEOUT")
}

func TestBreakerOpensAndLogsOncePerCooldown(t *testing.T) {
	var out bytes.Buffer
	// A cool-down long enough that a busy machine cannot outlast it
	// between the failures and the checks.
	const cooldown = time.Second
	b := redisconn.NewBreaker(slog.New(slog.NewJSONHandler(&out, nil)), cooldown)
	assert.False(t, b.Open())
	for range 5 {
		b.Fail(context.Background(), "lookup", errors.New("connection refused"))
	}
	assert.True(t, b.Open())
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "one line per cool-down")

	time.Sleep(cooldown + 100*time.Millisecond)
	assert.False(t, b.Open(), "after the cool-down Redis is tried again")
	b.Fail(context.Background(), "lookup", errors.New("connection refused"))
	assert.Contains(t, out.String(), `"failures_not_logged":4`)
}
