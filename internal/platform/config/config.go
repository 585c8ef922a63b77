// Package config reads configuration from the environment (12-factor) with
// defaults that work on a developer's machine.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// App is the configuration every app shares. The Dapr CLI and local/runner
// set APP_ID, APP_PORT, DAPR_HTTP_PORT and DAPR_GRPC_PORT.
type App struct {
	ID              string
	Env             string
	ListenHost      string
	Port            int
	LogLevel        slog.Level
	DaprHTTPPort    int
	DaprGRPCPort    int
	DaprAPIToken    string // sent to the sidecar on every call
	AppAPIToken     string // expected from the sidecar on every call to us
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	// OTLPEndpoint receives the app's spans over OTLP/HTTP (the standard
	// OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:4318); empty: the
	// app still continues and propagates traces but exports nothing.
	OTLPEndpoint string
	// TraceRatio is the share of new traces sampled (OTEL_TRACES_SAMPLER_ARG);
	// a call that arrives with a sampling decision keeps it.
	TraceRatio float64
}

// Load reads App from the process environment.
func Load() (App, error) { return LoadFrom(os.LookupEnv) }

// LoadFrom reads App through lookup, so tests need not touch the environment.
func LoadFrom(lookup func(string) (string, bool)) (App, error) {
	l := NewLoader(lookup)
	cfg := App{
		ID:              l.String("APP_ID", ""),
		Env:             l.String("SHOPMESH_ENV", "local"),
		ListenHost:      l.String("LISTEN_HOST", "127.0.0.1"),
		Port:            l.Int("APP_PORT", 8080),
		LogLevel:        l.Level("LOG_LEVEL", slog.LevelInfo),
		DaprHTTPPort:    l.Int("DAPR_HTTP_PORT", 3500),
		DaprGRPCPort:    l.Int("DAPR_GRPC_PORT", 50001),
		DaprAPIToken:    l.String("DAPR_API_TOKEN", ""),
		AppAPIToken:     l.String("APP_API_TOKEN", ""),
		MaxBodyBytes:    int64(l.Int("MAX_BODY_BYTES", 1<<20)),
		ShutdownTimeout: l.Duration("SHUTDOWN_TIMEOUT", 10*time.Second),
		OTLPEndpoint:    l.String("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		TraceRatio:      l.Float("OTEL_TRACES_SAMPLER_ARG", 1),
	}
	if cfg.TraceRatio < 0 || cfg.TraceRatio > 1 {
		l.fail("OTEL_TRACES_SAMPLER_ARG", fmt.Errorf("%v is not a ratio between 0 and 1", cfg.TraceRatio))
	}
	if cfg.ID == "" {
		l.fail("APP_ID", errors.New("must be set"))
	}
	return cfg, l.Err()
}

// Loader reads typed values and collects every malformed one, so a bad
// deployment reports all its mistakes at once.
type Loader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// NewLoader returns a Loader over lookup (os.LookupEnv in production).
func NewLoader(lookup func(string) (string, bool)) *Loader { return &Loader{lookup: lookup} }

// Err reports every value that could not be parsed.
func (l *Loader) Err() error { return errors.Join(l.errs...) }

func (l *Loader) fail(key string, err error) {
	l.errs = append(l.errs, fmt.Errorf("config %s: %w", key, err))
}

func (l *Loader) raw(key string) (string, bool) {
	v, ok := l.lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the value of key, or def when unset.
func (l *Loader) String(key, def string) string {
	if v, ok := l.raw(key); ok {
		return v
	}
	return def
}

// List returns the comma-separated items of key, each trimmed, empty ones
// dropped; nil when unset.
func (l *Loader) List(key string) []string {
	v, _ := l.raw(key)
	var items []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// Int returns the integer value of key, or def when unset.
func (l *Loader) Int(key string, def int) int {
	v, ok := l.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.fail(key, err)
		return def
	}
	return n
}

// Float returns the floating-point value of key, or def when unset.
func (l *Loader) Float(key string, def float64) float64 {
	v, ok := l.raw(key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		l.fail(key, err)
		return def
	}
	return f
}

// Bool returns the boolean value of key, or def when unset.
func (l *Loader) Bool(key string, def bool) bool {
	v, ok := l.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(key, err)
		return def
	}
	return b
}

// Duration returns the duration value of key (e.g. "1500ms"), or def when unset.
func (l *Loader) Duration(key string, def time.Duration) time.Duration {
	v, ok := l.raw(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		l.fail(key, err)
		return def
	}
	return d
}

// Level returns the slog level of key (debug, info, warn, error), or def.
func (l *Loader) Level(key string, def slog.Level) slog.Level {
	v, ok := l.raw(key)
	if !ok {
		return def
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(v)); err != nil {
		l.fail(key, err)
		return def
	}
	return lvl
}
