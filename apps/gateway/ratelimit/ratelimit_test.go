package ratelimit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/ratelimit"
	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/apps/gateway/redistest"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

func newEngine(t *testing.T, cfg ratelimit.Config, rdb *redis.Client) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	require.NoError(t, ratelimit.TrustProxies(e, cfg))
	b := redisconn.NewBreaker(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Minute)
	l, err := ratelimit.New(cfg, rdb, b, nil)
	require.NoError(t, err)
	e.GET("/limited", l.Middleware, func(c *gin.Context) { c.Status(http.StatusNoContent) })
	return e
}

// clientIP is a random address in its own /64 of the IPv6 documentation
// prefix, so tests and runs do not share buckets.
func clientIP() string {
	return fmt.Sprintf("2001:db8:%x:%x::1", rand.IntN(1<<16), rand.IntN(1<<16))
}

// clientAddr is a peer address (ip:port) of a new client.
func clientAddr() string { return net.JoinHostPort(clientIP(), "40000") }

func get(e http.Handler, remote string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/limited", nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

func TestBurstPlusOneIsLimited(t *testing.T) {
	rdb := redistest.Client(t)
	cfg := ratelimit.Config{Enabled: true, RPS: 1, Burst: 5}
	e := newEngine(t, cfg, rdb)
	ip := clientIP()
	client := net.JoinHostPort(ip, "40000")
	require.NoError(t, rdb.Del(t.Context(), "rate:"+ratelimit.Key(ip)).Err())

	for i := range cfg.Burst {
		w := get(e, client)
		require.Equal(t, http.StatusNoContent, w.Code, "request %d is within the burst", i+1)
		assert.Equal(t, "5", w.Header().Get("RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(cfg.Burst-i-1), w.Header().Get("RateLimit-Remaining"))
	}
	w := get(e, client)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	require.NoError(t, err, "Retry-After is whole seconds")
	assert.GreaterOrEqual(t, retry, 1)
	assert.Equal(t, "0", w.Header().Get("RateLimit-Remaining"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "https://shopmesh.dev/problems/rate-limited", p.Type)
	assert.Equal(t, http.StatusTooManyRequests, p.Status)

	assert.Equal(t, http.StatusNoContent, get(e, clientAddr()).Code, "other clients have their own budget")
}

func TestForwardedForIsIgnoredUnlessTheProxyIsTrusted(t *testing.T) {
	rdb := redistest.Client(t)
	cfg := ratelimit.Config{Enabled: true, RPS: 1, Burst: 1}
	e := newEngine(t, cfg, rdb)
	client := clientAddr()
	require.Equal(t, http.StatusNoContent, get(e, client, "X-Forwarded-For", clientIP()).Code)
	assert.Equal(t, http.StatusTooManyRequests, get(e, client, "X-Forwarded-For", clientIP()).Code,
		"a client cannot pick a fresh address per request")

	cfg.TrustedProxies = []string{"2001:db8::/32"}
	e = newEngine(t, cfg, rdb)
	proxy := clientAddr()
	a, b := clientIP(), clientIP()
	assert.Equal(t, http.StatusNoContent, get(e, proxy, "X-Forwarded-For", a).Code)
	assert.Equal(t, http.StatusNoContent, get(e, proxy, "X-Forwarded-For", b).Code, "behind a trusted proxy, clients are told apart")
	assert.Equal(t, http.StatusTooManyRequests, get(e, proxy, "X-Forwarded-For", a).Code)
}

func TestRedisDownLetsRequestsThrough(t *testing.T) {
	e := newEngine(t, ratelimit.Config{Enabled: true, RPS: 1, Burst: 1}, redistest.Unreachable(t))
	client := clientAddr()
	for range 5 {
		w := get(e, client)
		assert.Equal(t, http.StatusNoContent, w.Code)
		assert.Empty(t, w.Header().Get("RateLimit-Limit"), "no budget is claimed that was not checked")
	}
}

func TestDisabled(t *testing.T) {
	e := newEngine(t, ratelimit.Config{Enabled: false, RPS: 1, Burst: 1}, redistest.Unreachable(t))
	for range 3 {
		assert.Equal(t, http.StatusNoContent, get(e, clientAddr()).Code)
	}
}

// The stricter limit on credential endpoints counts per minute, in buckets
// of its own: using it up leaves the general budget alone, and the other
// way round.
func TestAuthLimiter(t *testing.T) {
	rdb := redistest.Client(t)
	cfg := ratelimit.Config{Enabled: true, RPS: 1, Burst: 3, AuthPerMinute: 1, AuthBurst: 2}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	b := redisconn.NewBreaker(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Minute)
	general, err := ratelimit.New(cfg, rdb, b, nil)
	require.NoError(t, err)
	strict, err := ratelimit.NewAuth(cfg, rdb, b, nil)
	require.NoError(t, err)
	e.GET("/limited", general.Middleware, strict.Middleware, func(c *gin.Context) { c.Status(http.StatusNoContent) })
	e.GET("/other", general.Middleware, func(c *gin.Context) { c.Status(http.StatusNoContent) })

	client := clientAddr()
	require.Equal(t, http.StatusNoContent, get(e, client).Code)
	require.Equal(t, http.StatusNoContent, get(e, client).Code)
	w := get(e, client)
	require.Equal(t, http.StatusTooManyRequests, w.Code, "the third within a minute is over the burst of 2")
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	require.NoError(t, err)
	assert.Greater(t, retry, 1, "a per-minute limit asks for a longer wait")
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Contains(t, p.Detail, "sign-in")

	req := httptest.NewRequest(http.MethodGet, "/other", nil)
	req.RemoteAddr = client
	w = httptest.NewRecorder()
	e.ServeHTTP(w, req)
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "the general budget (burst 3) was spent by the three calls too")
	assert.Equal(t, http.StatusNoContent, get(e, clientAddr()).Code, "another client has its own budget")
	assert.NotEqual(t, ratelimit.Key("203.0.113.7"), ratelimit.AuthKey("203.0.113.7"))
}

func TestKey(t *testing.T) {
	assert.Equal(t, "gw:ratelimit:ip:203.0.113.7", ratelimit.Key("203.0.113.7"))
	assert.Equal(t, "gw:ratelimit:ip:203.0.113.7", ratelimit.Key("::ffff:203.0.113.7"))
	assert.Equal(t, ratelimit.Key("2001:db8:1:2::1"), ratelimit.Key("2001:db8:1:2:ffff::9"), "one /64 is one client")
	assert.NotEqual(t, ratelimit.Key("2001:db8:1:2::1"), ratelimit.Key("2001:db8:1:3::1"))
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := ratelimit.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Config{Enabled: true, RPS: 50, Burst: 100, AuthPerMinute: 10, AuthBurst: 20}, cfg)

	cfg, err = ratelimit.LoadConfig(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1", "RATE_LIMIT_ENABLED": "false"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.0/8", "192.168.1.1"}, cfg.TrustedProxies)
	assert.False(t, cfg.Enabled)

	_, err = ratelimit.LoadConfig(env(map[string]string{"RATE_LIMIT_RPS": "0"}))
	assert.Error(t, err)
	_, err = ratelimit.LoadConfig(env(map[string]string{"AUTH_RATE_LIMIT_PER_MINUTE": "0"}))
	assert.Error(t, err)
	err = ratelimit.TrustProxies(gin.New(), ratelimit.Config{TrustedProxies: []string{"not-an-address"}})
	assert.Error(t, err)
}
