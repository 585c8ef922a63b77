// Package redisconn connects the gateway to the Redis that holds its
// response cache and rate-limit buckets (local Redis, ElastiCache on AWS).
// Neither use is essential to serving a request, so callers fail open and
// report failures through FailureLog instead of failing the request.
package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// BreakerCooldown is how long the gateway serves without Redis after it
// failed, before trying it again.
const BreakerCooldown = 2 * time.Second

// Module provides the Redis client, the Breaker its users share and,
// unless READYZ_REQUIRES_REDIS=false, a readiness check that pings Redis.
var Module = fx.Options(
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		New,
		func(log *slog.Logger) *Breaker { return NewBreaker(log.With("component", "redis"), BreakerCooldown) },
		fx.Annotate(readiness, fx.ResultTags(`group:"readiness"`)),
	),
)

// Config says where Redis is and how to talk to it.
type Config struct {
	Addr     string
	Username string // ElastiCache RBAC user; empty for the default user
	Password string
	TLS      bool // ElastiCache with in-transit encryption
	DB       int
	// Timeout bounds dialling and each command. Redis sits on the request
	// path, so a slow Redis must cost little before we give up on it.
	Timeout time.Duration
	// ReadinessRequired makes /readyz fail while Redis is down. Requests are
	// served without Redis either way; operators who prefer a degraded
	// gateway to an unready one switch it off.
	ReadinessRequired bool
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Addr:              l.String("REDIS_ADDR", "127.0.0.1:16379"),
		Username:          l.String("REDIS_USERNAME", ""),
		Password:          l.String("REDIS_PASSWORD", ""),
		TLS:               l.Bool("REDIS_TLS", false),
		DB:                l.Int("REDIS_DB", 0),
		Timeout:           l.Duration("REDIS_TIMEOUT", 500*time.Millisecond),
		ReadinessRequired: l.Bool("READYZ_REQUIRES_REDIS", true),
	}
	errs := []error{l.Err()}
	if cfg.Timeout <= 0 {
		errs = append(errs, errors.New("config REDIS_TIMEOUT: must be positive"))
	}
	if cfg.DB < 0 {
		errs = append(errs, errors.New("config REDIS_DB: must not be negative"))
	}
	return cfg, errors.Join(errs...)
}

// NewClient returns a client for cfg. It connects lazily, so the gateway
// starts (and serves, uncached and unlimited) while Redis is down.
func NewClient(cfg Config) *redis.Client {
	opts := &redis.Options{
		Addr:         cfg.Addr,
		Username:     cfg.Username,
		Password:     cfg.Password,
		DB:           cfg.DB,
		DialTimeout:  cfg.Timeout,
		ReadTimeout:  cfg.Timeout,
		WriteTimeout: cfg.Timeout,
		// One retry covers a connection the server closed while idle;
		// more would only delay the fallback when Redis is really down.
		MaxRetries:    1,
		DialerRetries: 1,
	}
	if cfg.TLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return redis.NewClient(opts)
}

// New returns the app's client and closes it on shutdown.
func New(lc fx.Lifecycle, cfg Config) *redis.Client {
	rdb := NewClient(cfg)
	lc.Append(fx.StopHook(rdb.Close))
	return rdb
}

func readiness(cfg Config, rdb *redis.Client) health.Check {
	return health.Check{Name: "redis", Check: func(ctx context.Context) error {
		if !cfg.ReadinessRequired {
			return nil
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis %s: %w", cfg.Addr, err)
		}
		return nil
	}}
}

// Breaker keeps a failing Redis off the request path. After a failure,
// Open reports true for a cool-down and callers skip Redis instead of each
// waiting for a timeout; afterwards the next call probes it again. Failures
// are logged at most once per cool-down: while Redis is down every request
// fails the same way, and a line per request would bury everything else.
type Breaker struct {
	log        *slog.Logger
	cooldown   time.Duration
	openUntil  atomic.Int64 // unix nanos
	suppressed atomic.Int64
}

// NewBreaker returns a closed Breaker that logs through log.
func NewBreaker(log *slog.Logger, cooldown time.Duration) *Breaker {
	return &Breaker{log: log, cooldown: cooldown}
}

// Open reports whether Redis failed less than a cool-down ago.
func (b *Breaker) Open() bool { return time.Now().UnixNano() < b.openUntil.Load() }

// Fail records that op failed with err and opens the breaker.
func (b *Breaker) Fail(ctx context.Context, op string, err error) {
	now := time.Now().UnixNano()
	until := b.openUntil.Load()
	if now < until || !b.openUntil.CompareAndSwap(until, now+int64(b.cooldown)) {
		b.suppressed.Add(1)
		return
	}
	b.log.WarnContext(ctx, "redis failed; serving without it for a while", "op", op, "err", err,
		"retry_in", b.cooldown.String(), "failures_not_logged", b.suppressed.Swap(0))
}
