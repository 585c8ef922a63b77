package config

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := LoadFrom(lookupMap(map[string]string{"APP_ID": "catalog"}))
	require.NoError(t, err)
	assert.Equal(t, "catalog", cfg.ID)
	assert.Equal(t, "127.0.0.1", cfg.ListenHost)
	assert.Equal(t, 8080, cfg.Port)
	assert.Equal(t, int64(1<<20), cfg.MaxBodyBytes)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Equal(t, 10*time.Second, cfg.ShutdownTimeout)
	assert.Equal(t, "", cfg.OTLPEndpoint, "no exporter unless named")
	assert.Equal(t, 1.0, cfg.TraceRatio)
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	_, err := LoadFrom(lookupMap(map[string]string{
		"APP_PORT":                "eighty",
		"LOG_LEVEL":               "loud",
		"SHUTDOWN_TIMEOUT":        "soon",
		"OTEL_TRACES_SAMPLER_ARG": "1.5",
	}))
	require.Error(t, err)
	for _, key := range []string{"APP_ID", "APP_PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "OTEL_TRACES_SAMPLER_ARG"} {
		assert.Contains(t, err.Error(), key)
	}
}

func TestLoaderValues(t *testing.T) {
	l := NewLoader(lookupMap(map[string]string{"A": " 42 ", "B": "true", "C": "1500ms", "E": "", "F": "0.1", "L": " a, ,b ,"}))
	assert.Equal(t, []string{"a", "b"}, l.List("L"))
	assert.Nil(t, l.List("MISSING"))
	assert.Equal(t, 0.1, l.Float("F", 1))
	assert.Equal(t, 42, l.Int("A", 1))
	assert.True(t, l.Bool("B", false))
	assert.Equal(t, 1500*time.Millisecond, l.Duration("C", 0))
	assert.Equal(t, "def", l.String("E", "def"), "empty counts as unset")
	assert.Equal(t, 7, l.Int("MISSING", 7))
	require.NoError(t, l.Err())
}
