package httpserver

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/shopmesh/shopmesh/internal/platform/logging"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const readHeaderTimeout = 10 * time.Second

// RequestIDHeader carries the request id to and from clients and services.
const RequestIDHeader = "X-Request-Id"

var (
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// requestID takes the caller's request id when it is well formed, makes a
// new one otherwise, and puts it in the request context for logs and
// outgoing calls.
func requestID(c *gin.Context) {
	reqID := c.GetHeader(RequestIDHeader)
	if !requestIDPattern.MatchString(reqID) {
		reqID = uuid.NewString()
	}
	c.Header(RequestIDHeader, reqID)
	c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), reqID))
	c.Next()
}

// traces starts a server span per request, continuing the caller's trace
// (traceparent) with its sampling decision. Probes and scrapes are left out:
// they would be most of the spans and tell nothing.
func traces(app string, tr telemetry.Tracing) gin.HandlerFunc {
	return otelgin.Middleware(app,
		otelgin.WithTracerProvider(tr.Provider),
		otelgin.WithPropagators(tr.Propagator),
		otelgin.WithMeterProvider(noop.NewMeterProvider()), // metrics has the RED instruments
		otelgin.WithGinFilter(func(c *gin.Context) bool {
			switch c.FullPath() {
			case "/metrics", "/healthz", "/readyz", "/dapr/config", "/dapr/subscribe":
				return false
			}
			return true
		}),
	)
}

// recovery turns a panic into a logged 500 problem, never a stack trace.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		log.ErrorContext(c, "panic while serving request", "panic", err, "path", c.Request.URL.Path)
		Abort(c, problem.Internal())
	})
}

func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case c.FullPath() == "/healthz" || c.FullPath() == "/readyz" || c.FullPath() == "/metrics":
			level = slog.LevelDebug
		}
		log.Log(c, level, "http request",
			"method", c.Request.Method,
			"path", c.Request.URL.Path,
			"route", c.FullPath(),
			"status", status,
			"bytes", c.Writer.Size(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000,
			"client_ip", c.ClientIP(),
		)
	}
}

// validQuery rejects a query string that does not parse: Go would
// otherwise drop the bad pair silently and serve a different request.
func validQuery(c *gin.Context) {
	if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		Abort(c, problem.Malformed("the query string is malformed: "+err.Error()))
		return
	}
	c.Next()
}

// limitBody caps request bodies; reading past the cap fails, and BindJSON
// turns that failure into a 413.
func limitBody(maxBytes int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > maxBytes {
			Abort(c, problem.New(problem.TypeTooLarge, http.StatusRequestEntityTooLarge, "the request body exceeds the size limit"))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes)
		c.Next()
	}
}
