// Package ratelimit limits how fast each client may call the public API,
// with GCRA buckets in Redis shared by every gateway replica. Clients are
// told their budget in RateLimit-* headers and, when over it, how long to
// wait in Retry-After. When Redis fails the gateway lets requests through:
// an outage of the limiter must not become an outage of the shop.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Module provides the Limiter and tells the engine which proxies to believe
// about the client's address.
var Module = fx.Options(
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		func(cfg Config, rdb *redis.Client, b *redisconn.Breaker, reg *prometheus.Registry) (*Limiter, error) {
			return New(cfg, rdb, b, reg)
		},
		func(cfg Config, rdb *redis.Client, b *redisconn.Breaker, reg *prometheus.Registry) (*AuthLimiter, error) {
			return NewAuth(cfg, rdb, b, reg)
		},
	),
	fx.Invoke(TrustProxies),
)

// Config sets the limit every client gets.
type Config struct {
	Enabled bool
	RPS     int // sustained requests per second
	Burst   int // requests a client may make at once after being idle
	// AuthPerMinute and AuthBurst are the stricter limit, per client
	// address, on the endpoints that take credentials (sign-up, sign-in,
	// token refresh, sign-out), on top of the limit above: they slow down
	// password guessing across accounts and mass sign-ups.
	AuthPerMinute int
	AuthBurst     int
	// TrustedProxies lists the addresses or CIDRs whose X-Forwarded-For is
	// believed (the load balancer in front of the gateway). With none, the
	// client is the peer address: anyone could otherwise pick an address
	// per request and never be limited.
	TrustedProxies []string
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Enabled: l.Bool("RATE_LIMIT_ENABLED", true),
		RPS:     l.Int("RATE_LIMIT_RPS", 50),
		Burst:   l.Int("RATE_LIMIT_BURST", 100),

		AuthPerMinute: l.Int("AUTH_RATE_LIMIT_PER_MINUTE", 10),
		AuthBurst:     l.Int("AUTH_RATE_LIMIT_BURST", 20),
	}
	cfg.TrustedProxies = l.List("TRUSTED_PROXIES")
	errs := []error{l.Err()}
	if cfg.RPS < 1 {
		errs = append(errs, errors.New("config RATE_LIMIT_RPS: must be at least 1"))
	}
	if cfg.Burst < 1 {
		errs = append(errs, errors.New("config RATE_LIMIT_BURST: must be at least 1"))
	}
	if cfg.AuthPerMinute < 1 {
		errs = append(errs, errors.New("config AUTH_RATE_LIMIT_PER_MINUTE: must be at least 1"))
	}
	if cfg.AuthBurst < 1 {
		errs = append(errs, errors.New("config AUTH_RATE_LIMIT_BURST: must be at least 1"))
	}
	return cfg, errors.Join(errs...)
}

// TrustProxies configures whose forwarding headers c.ClientIP believes.
// Gin trusts every proxy unless told otherwise, so this runs even when the
// list is empty.
func TrustProxies(e *gin.Engine, cfg Config) error {
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return fmt.Errorf("config TRUSTED_PROXIES: %w", err)
	}
	return nil
}

// Limiter is the rate-limit middleware.
type Limiter struct {
	enabled   bool
	limit     redis_rate.Limit
	key       func(ip string) string
	detail    string // "too many … ; retry in %d s"
	limiter   *redis_rate.Limiter
	breaker   *redisconn.Breaker
	decisions *prometheus.CounterVec
}

// New returns a Limiter over rdb that lets requests through while b is
// open; reg, when not nil, gets its metrics.
func New(cfg Config, rdb *redis.Client, b *redisconn.Breaker, reg prometheus.Registerer) (*Limiter, error) {
	return newLimiter(cfg.Enabled, redis_rate.Limit{Rate: cfg.RPS, Burst: cfg.Burst, Period: time.Second},
		Key, "too many requests from this client; retry in %d s", "gateway_rate_limit_decisions_total", rdb, b, reg)
}

// AuthLimiter is the stricter limit on the endpoints that take
// credentials. Its buckets are apart from the general limit's.
type AuthLimiter struct{ *Limiter }

// NewAuth returns the AuthLimiter of cfg, like New.
func NewAuth(cfg Config, rdb *redis.Client, b *redisconn.Breaker, reg prometheus.Registerer) (*AuthLimiter, error) {
	l, err := newLimiter(cfg.Enabled, redis_rate.Limit{Rate: cfg.AuthPerMinute, Burst: cfg.AuthBurst, Period: time.Minute},
		AuthKey, "too many sign-in and sign-up requests from this client; retry in %d s",
		"gateway_auth_rate_limit_decisions_total", rdb, b, reg)
	return &AuthLimiter{l}, err
}

func newLimiter(enabled bool, limit redis_rate.Limit, key func(string) string, detail, metric string,
	rdb *redis.Client, b *redisconn.Breaker, reg prometheus.Registerer) (*Limiter, error) {
	l := &Limiter{
		enabled: enabled,
		limit:   limit,
		key:     key,
		detail:  detail,
		limiter: redis_rate.NewLimiter(rdb),
		breaker: b,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metric,
			Help: "Rate-limit decisions: allowed, limited, or error (Redis failed or is skipped; allowed).",
		}, []string{"decision"}),
	}
	if reg != nil {
		if err := reg.Register(l.decisions); err != nil {
			return nil, fmt.Errorf("registering rate-limit metrics: %w", err)
		}
	}
	return l, nil
}

// Middleware admits the request or answers 429.
func (l *Limiter) Middleware(c *gin.Context) {
	if !l.enabled {
		c.Next()
		return
	}
	if l.breaker.Open() {
		l.decisions.WithLabelValues("error").Inc()
		c.Next()
		return
	}
	res, err := l.limiter.Allow(c.Request.Context(), l.key(c.ClientIP()), l.limit)
	if err != nil {
		l.decisions.WithLabelValues("error").Inc()
		l.breaker.Fail(c.Request.Context(), "rate limit", err)
		c.Next()
		return
	}
	c.Header("RateLimit-Limit", strconv.Itoa(l.limit.Burst))
	c.Header("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	c.Header("RateLimit-Reset", strconv.Itoa(wholeSeconds(res.ResetAfter)))
	if res.Allowed == 0 {
		l.decisions.WithLabelValues("limited").Inc()
		wait := wholeSeconds(res.RetryAfter)
		c.Header("Retry-After", strconv.Itoa(wait))
		httpserver.Abort(c, problem.New(problem.TypeRateLimited, http.StatusTooManyRequests, fmt.Sprintf(l.detail, wait)))
		return
	}
	l.decisions.WithLabelValues("allowed").Inc()
	c.Next()
}

// wholeSeconds rounds up to whole seconds, at least 1: Retry-After counts
// seconds, and "0" would invite an immediate retry that fails again.
func wholeSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// Key names the bucket of a client address. IPv6 clients are limited per
// /64, the block a single subscriber gets, so rotating through the
// addresses of one's own network does not multiply the budget.
func Key(ip string) string { return clientKey("gw:ratelimit:", ip) }

// AuthKey names the bucket of a client address under the AuthLimiter.
func AuthKey(ip string) string { return clientKey("gw:ratelimit:auth:", ip) }

func clientKey(prefix, ip string) string {
	addr := net.ParseIP(ip)
	if addr == nil {
		return prefix + "ip:" + ip
	}
	if v4 := addr.To4(); v4 != nil {
		return prefix + "ip:" + v4.String()
	}
	return prefix + "ip6:" + addr.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
