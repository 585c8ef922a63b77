// Package admission keeps the gateway from taking on more work than it can
// serve. Each class of request (reads, writes) has a fixed number of
// slots; a request without one waits a short while in a bounded queue and
// is otherwise answered 503 with Retry-After at once. Under overload the
// gateway so answers some clients quickly and honestly instead of queueing
// everyone until every call times out, and the work (and memory) it holds
// stays bounded by the slots and the queue.
//
// The middleware guards the public API (REST under /api/v1 and /graphql);
// the probes, /metrics and /openapi.json are mounted outside it and are
// never shed.
package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"golang.org/x/sync/semaphore"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Module provides the Controller.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	func(cfg Config, reg *prometheus.Registry) (*Controller, error) { return New(cfg, reg) },
)

// The classes of request, each with its own slots, so a flood of reads
// cannot starve checkouts of slots, nor the reverse.
const (
	// Read is GET, HEAD and OPTIONS: catalog, search, cart and order reads.
	Read = "read"
	// Write is every other method: checkouts and cart changes that reach
	// the saga, sign-ups and sign-ins (password hashing), admin writes —
	// and every POST /graphql, queries included: a mutation arrives only
	// by POST, and telling one from a query means reading the body, which
	// is work admission exists to avoid for requests it may shed.
	Write = "write"
)

// ClassOf names the class of a request by its method.
func ClassOf(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return Read
	default:
		return Write
	}
}

// Limit is the admission of one class.
type Limit struct {
	// InFlight is how many requests of the class may be served at once.
	InFlight int
	// Queued is how many more may wait for a slot; beyond that a request is
	// shed at once. 0 sheds every request that finds no free slot.
	Queued int
}

// Config sets the limits.
type Config struct {
	Enabled bool
	Read    Limit
	Write   Limit
	// QueueTime is the longest a request waits for a slot. A slot that does
	// not free up that soon means the platform is saturated, not briefly
	// busy; the client is better told now than after a timeout.
	QueueTime time.Duration
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
//
// The defaults bound what the gateway holds (at most 1,600 requests, in
// flight or waiting) without refusing the bursts a shop sees: fifty
// shoppers checking out at once (the e2e suite's race) all get a slot.
// Checkouts are short (the saga runs after the answer) and wait on I/O, so
// 64 writes in flight keep two cores busy; reads are mostly cache hits and
// get four times as many. A request waits at most a second for a slot:
// longer means the platform is saturated, not briefly busy, and the client
// is better told to come back (Retry-After) than kept until its timeout.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Enabled: l.Bool("ADMISSION_ENABLED", true),
		Read: Limit{
			InFlight: l.Int("ADMISSION_MAX_INFLIGHT_READ", 256),
			Queued:   l.Int("ADMISSION_MAX_QUEUED_READ", 1024),
		},
		Write: Limit{
			InFlight: l.Int("ADMISSION_MAX_INFLIGHT_WRITE", 64),
			Queued:   l.Int("ADMISSION_MAX_QUEUED_WRITE", 256),
		},
		QueueTime: l.Duration("ADMISSION_QUEUE_TIME", time.Second),
	}
	errs := []error{l.Err()}
	for _, v := range []struct {
		name     string
		value    int
		smallest int
	}{
		{"ADMISSION_MAX_INFLIGHT_READ", cfg.Read.InFlight, 1},
		{"ADMISSION_MAX_QUEUED_READ", cfg.Read.Queued, 0},
		{"ADMISSION_MAX_INFLIGHT_WRITE", cfg.Write.InFlight, 1},
		{"ADMISSION_MAX_QUEUED_WRITE", cfg.Write.Queued, 0},
	} {
		if v.value < v.smallest {
			errs = append(errs, fmt.Errorf("config %s: must be at least %d", v.name, v.smallest))
		}
	}
	if cfg.QueueTime < 0 {
		errs = append(errs, errors.New("config ADMISSION_QUEUE_TIME: must not be negative"))
	}
	return cfg, errors.Join(errs...)
}

// retryAfter is the Retry-After of a shed request, in seconds: the least
// the header can say. A slot frees within milliseconds once the burst has
// passed, and clients that back off further on repeated 503s do so on
// their own.
const retryAfter = 1

// Controller is the admission middleware.
type Controller struct {
	enabled   bool
	queueTime time.Duration
	classes   map[string]*class
}

// class is the slots and queue of one class.
type class struct {
	slots     *semaphore.Weighted
	maxQueued int64
	queued    atomic.Int64

	inFlightGauge prometheus.Gauge
	queuedGauge   prometheus.Gauge
	admitted      prometheus.Counter
	shed          prometheus.Counter
}

// New returns the Controller of cfg; reg, when not nil, gets its metrics.
func New(cfg Config, reg prometheus.Registerer) (*Controller, error) {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_admission_decisions_total",
		Help: "Admission decisions by request class: admitted (got a slot) or shed (answered 503).",
	}, []string{"class", "decision"})
	inFlight := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_admission_in_flight",
		Help: "Requests being served, by request class.",
	}, []string{"class"})
	queued := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_admission_queued",
		Help: "Requests waiting for a slot, by request class.",
	}, []string{"class"})
	if reg != nil {
		for _, c := range []prometheus.Collector{decisions, inFlight, queued} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering admission metrics: %w", err)
			}
		}
	}
	ctl := &Controller{enabled: cfg.Enabled, queueTime: cfg.QueueTime, classes: map[string]*class{}}
	for name, limit := range map[string]Limit{Read: cfg.Read, Write: cfg.Write} {
		ctl.classes[name] = &class{
			slots:         semaphore.NewWeighted(int64(limit.InFlight)),
			maxQueued:     int64(limit.Queued),
			inFlightGauge: inFlight.WithLabelValues(name),
			queuedGauge:   queued.WithLabelValues(name),
			admitted:      decisions.WithLabelValues(name, "admitted"),
			shed:          decisions.WithLabelValues(name, "shed"),
		}
	}
	return ctl, nil
}

// Middleware serves the request when its class has a free slot, or one
// frees up within the queue time; otherwise it answers 503 with
// Retry-After. The slot is held until the handlers after it return, and
// given back even when one of them panics.
func (ctl *Controller) Middleware(c *gin.Context) {
	if !ctl.enabled {
		c.Next()
		return
	}
	cl := ctl.classes[ClassOf(c.Request.Method)]
	if !cl.acquire(c.Request.Context(), ctl.queueTime) {
		cl.shed.Inc()
		c.Header("Retry-After", strconv.Itoa(retryAfter))
		httpserver.Abort(c, problem.Unavailable(fmt.Sprintf("the shop is busy; retry in %d s", retryAfter)))
		return
	}
	cl.admitted.Inc()
	cl.inFlightGauge.Inc()
	defer func() {
		cl.inFlightGauge.Dec()
		cl.slots.Release(1)
	}()
	c.Next()
}

// acquire takes a slot: a free one at once, or the first to free up
// within wait, when the queue has room. It gives up early when the client
// does (ctx is done); that request is counted as shed too.
func (cl *class) acquire(ctx context.Context, wait time.Duration) bool {
	if cl.slots.TryAcquire(1) {
		return true
	}
	if cl.queued.Add(1) > cl.maxQueued {
		cl.queued.Add(-1)
		return false
	}
	cl.queuedGauge.Inc()
	defer func() {
		cl.queued.Add(-1)
		cl.queuedGauge.Dec()
	}()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return cl.slots.Acquire(ctx, 1) == nil
}
