// Package metrics owns the app's Prometheus registry (not the global one, so
// tests can build several apps in one process) and the HTTP instruments.
package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
)

// Module provides the registry and the HTTP and messaging instruments.
var Module = fx.Provide(NewRegistry, NewHTTP, NewMessaging)

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// HTTP counts and times requests per route template (never per raw path, so
// ids in paths cannot explode the series count).
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	registry *prometheus.Registry
}

// NewHTTP registers the HTTP instruments in r.
func NewHTTP(r *prometheus.Registry) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		registry: r,
	}
	r.MustRegister(h.requests, h.duration)
	return h
}

// Middleware records every request once it has been served.
func (h *HTTP) Middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	h.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
	h.duration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (h *HTTP) Handler() gin.HandlerFunc {
	return gin.WrapH(promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{Registry: h.registry}))
}

// Messaging counts events published and consumed per topic, named after
// OpenTelemetry's messaging semantic conventions
// (messaging.client.sent.messages, messaging.client.consumed.messages,
// messaging.process.duration).
type Messaging struct {
	sent     *prometheus.CounterVec
	consumed *prometheus.CounterVec
	process  *prometheus.HistogramVec
}

// NewMessaging registers the messaging instruments in r.
func NewMessaging(r *prometheus.Registry) *Messaging {
	m := &Messaging{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messaging_client_sent_messages_total",
			Help: "Events handed to the sidecar to publish, by topic.",
		}, []string{"messaging_destination_name"}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messaging_client_consumed_messages_total",
			Help: "Events delivered to a handler, by topic and the status answered: success, retry (redelivered later) or drop (dead-lettered).",
		}, []string{"messaging_destination_name", "status"}),
		process: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messaging_process_duration_seconds",
			Help:    "Time a handler took with one event, by topic.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"messaging_destination_name"}),
	}
	r.MustRegister(m.sent, m.consumed, m.process)
	return m
}

// Sent counts one event published on topic.
func (m *Messaging) Sent(topic string) { m.sent.WithLabelValues(topic).Inc() }

// Subscribed makes topic's consumed series exist at 0 before the first
// event: a rate or an increase over them then reads 0, not "no data".
func (m *Messaging) Subscribed(topic string) {
	for _, status := range []string{"success", "retry", "drop"} {
		m.consumed.WithLabelValues(topic, status)
	}
}

// Consumed records one event of topic handled in took, answered status.
func (m *Messaging) Consumed(topic, status string, took time.Duration) {
	m.consumed.WithLabelValues(topic, strings.ToLower(status)).Inc()
	m.process.WithLabelValues(topic).Observe(took.Seconds())
}
