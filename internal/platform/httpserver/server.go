// Package httpserver runs the app's Gin engine: a span per request, request ids, panic
// recovery, access log, body-size limit, metrics, problem+json errors, the
// APP_API_TOKEN check for calls from the sidecar, and graceful shutdown.
package httpserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Module provides the engine and Router and serves them for the app's lifetime.
var Module = fx.Options(
	fx.Provide(NewEngine, NewRouter),
	fx.Invoke(serve),
)

// Router is where apps mount their handlers.
type Router struct {
	// Public serves callers that are not the sidecar (the gateway's clients,
	// health probes, Prometheus).
	Public gin.IRouter
	// Sidecar serves only calls relayed by the app's Dapr sidecar: service
	// invocation, subscriptions and event deliveries. When APP_API_TOKEN is
	// set, each call must carry it in the dapr-api-token header.
	Sidecar gin.IRouter
}

// NewEngine builds the Gin engine with the platform's middleware.
func NewEngine(cfg config.App, log *slog.Logger, m *metrics.HTTP, tr telemetry.Tracing) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.ContextWithFallback = true // c.Request.Context() values reach handlers through c
	e.HandleMethodNotAllowed = true
	// Gin's redirects to the path with or without a trailing slash (or in
	// another case) echo the whole request URL, query and X-Forwarded-Prefix
	// included, into Location, are answered before any middleware runs (no
	// request id, log or metric) and make clients re-send bodies with a 307.
	// A JSON API has one spelling per route: the others are 404 problems.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.Use(traces(cfg.ID, tr), requestID, recovery(log), m.Middleware, accessLog(log), validQuery, limitBody(cfg.MaxBodyBytes))
	e.NoRoute(func(c *gin.Context) {
		Abort(c, problem.NotFound("no such resource: "+c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		Abort(c, problem.New(problem.TypeMethod, http.StatusMethodNotAllowed, c.Request.Method+" is not allowed here"))
	})
	e.GET("/metrics", m.Handler())
	return e
}

// NewRouter splits the engine into the public and the sidecar-only surface.
func NewRouter(cfg config.App, e *gin.Engine) Router {
	sidecar := e.Group("/")
	if cfg.AppAPIToken != "" {
		sidecar.Use(requireToken(cfg.AppAPIToken))
	}
	return Router{Public: e, Sidecar: sidecar}
}

// requireToken rejects calls that do not carry the sidecar's app API token.
func requireToken(token string) gin.HandlerFunc {
	want := []byte(token)
	return func(c *gin.Context) {
		got := []byte(c.GetHeader("dapr-api-token"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			Abort(c, problem.New(problem.TypeUnauthorized, http.StatusUnauthorized, "this endpoint serves the Dapr sidecar only"))
			return
		}
		c.Next()
	}
}

func serve(lc fx.Lifecycle, sd fx.Shutdowner, cfg config.App, e *gin.Engine, log *slog.Logger) {
	srv := &http.Server{
		Addr:              net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)),
		Handler:           e,
		ReadHeaderTimeout: readHeaderTimeout,
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			// Listen before returning so a busy port fails start-up; serve in
			// the background because the sidecar waits for this port.
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				return err
			}
			log.Info("http server listening", "addr", srv.Addr)
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", "err", err)
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	})
}
