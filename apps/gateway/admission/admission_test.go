package admission_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/admission"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// patience bounds every wait in these tests: far longer than anything
// takes on a loaded machine, so only a real hang fails them.
const patience = 10 * time.Second

// gate holds the requests that reach the handler until the test lets
// them go, and tells the test when each arrives.
type gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{arrived: make(chan struct{}, 100), release: make(chan struct{})}
	t.Cleanup(g.open) // a failed test must not leave handlers blocked
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func (g *gate) handler(c *gin.Context) {
	g.arrived <- struct{}{}
	<-g.release
	c.Status(http.StatusNoContent)
}

// waitArrivals waits until n held requests have reached the handler.
func (g *gate) waitArrivals(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-g.arrived:
		case <-time.After(patience):
			t.Fatalf("only %d of %d requests reached the handler", i, n)
		}
	}
}

type fixture struct {
	t      *testing.T
	engine *gin.Engine
	reg    *prometheus.Registry
	gate   *gate
}

// newFixture serves GET and POST /work through the middleware into the
// gate, and /panic and /abort, with cfg's limits.
func newFixture(t *testing.T, cfg admission.Config) fixture {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	reg := prometheus.NewRegistry()
	ctl, err := admission.New(cfg, reg)
	require.NoError(t, err)
	g := newGate(t)
	e := gin.New()
	e.Use(gin.CustomRecovery(func(c *gin.Context, _ any) { c.AbortWithStatus(http.StatusInternalServerError) }))
	api := e.Group("/", ctl.Middleware)
	api.GET("/work", g.handler)
	api.POST("/work", g.handler)
	api.GET("/fast", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	api.GET("/panic", func(*gin.Context) { panic("handler failed") })
	api.GET("/abort", func(c *gin.Context) { c.AbortWithStatus(http.StatusBadGateway) })
	return fixture{t: t, engine: e, reg: reg, gate: g}
}

func (f fixture) do(method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.engine.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

// start sends a request in the background; its answer arrives on the
// channel.
func (f fixture) start(method, path string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- f.do(method, path) }()
	return done
}

func (f fixture) decisions(class, decision string) float64 {
	return f.value("gateway_admission_decisions_total", "class", class, "decision", decision)
}

func (f fixture) gauge(name, class string) float64 { return f.value(name, "class", class) }

// value is the value of the series of metric name with the given labels
// (name, value pairs), 0 when there is none yet.
func (f fixture) value(name string, labels ...string) float64 {
	f.t.Helper()
	families, err := f.reg.Gather()
	require.NoError(f.t, err)
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return 0
}

func await(t *testing.T, done <-chan *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case w := <-done:
		return w
	case <-time.After(patience):
		t.Fatal("the request was not answered")
		return nil
	}
}

func requireShed(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "whole seconds")
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, problem.TypeUnavailable, p.Type)
	assert.Equal(t, http.StatusServiceUnavailable, p.Status)
	assert.NotEmpty(t, p.Detail)
}

func TestBeyondTheLimitAndTheQueueRequestsAreShedAtOnce(t *testing.T) {
	f := newFixture(t, admission.Config{Enabled: true, Read: admission.Limit{InFlight: 2}, Write: admission.Limit{InFlight: 1}, QueueTime: time.Hour})
	held := []<-chan *httptest.ResponseRecorder{f.start(http.MethodGet, "/work"), f.start(http.MethodGet, "/work")}
	f.gate.waitArrivals(t, 2)
	assert.Equal(t, 2.0, f.gauge("gateway_admission_in_flight", admission.Read))

	// No queue: shed without waiting, though the queue time is an hour.
	for range 3 {
		requireShed(t, await(t, f.start(http.MethodGet, "/work")))
	}
	assert.Equal(t, 3.0, f.decisions(admission.Read, "shed"))

	// Writes have slots of their own.
	write := f.start(http.MethodPost, "/work")
	f.gate.waitArrivals(t, 1)

	f.gate.open()
	for _, done := range append(held, write) {
		assert.Equal(t, http.StatusNoContent, await(t, done).Code, "admitted requests are served")
	}
	assert.Equal(t, 2.0, f.decisions(admission.Read, "admitted"))
	assert.Equal(t, 1.0, f.decisions(admission.Write, "admitted"))
	assert.Equal(t, 0.0, f.decisions(admission.Write, "shed"))
	assert.Equal(t, 0.0, f.gauge("gateway_admission_in_flight", admission.Read))
	assert.Equal(t, 0.0, f.gauge("gateway_admission_in_flight", admission.Write))
	assert.Equal(t, http.StatusNoContent, f.do(http.MethodGet, "/fast").Code, "the slots are free again")
}

func TestAQueuedRequestIsShedAfterTheQueueTime(t *testing.T) {
	const queueTime = 100 * time.Millisecond
	f := newFixture(t, admission.Config{Enabled: true, Read: admission.Limit{InFlight: 1, Queued: 1}, Write: admission.Limit{InFlight: 1}, QueueTime: queueTime})
	held := f.start(http.MethodGet, "/work")
	f.gate.waitArrivals(t, 1)

	start := time.Now()
	w := await(t, f.start(http.MethodGet, "/fast"))
	elapsed := time.Since(start)
	requireShed(t, w)
	assert.GreaterOrEqual(t, elapsed, queueTime, "it waited for a slot first")
	assert.Less(t, elapsed, queueTime+5*time.Second, "and not much longer (generous: the machine may be loaded)")
	assert.Equal(t, 0.0, f.gauge("gateway_admission_queued", admission.Read), "it left the queue")

	f.gate.open()
	assert.Equal(t, http.StatusNoContent, await(t, held).Code)
}

func TestAQueuedRequestIsServedWhenASlotFrees(t *testing.T) {
	f := newFixture(t, admission.Config{Enabled: true, Read: admission.Limit{InFlight: 1, Queued: 1}, Write: admission.Limit{InFlight: 1}, QueueTime: time.Hour})
	held := f.start(http.MethodGet, "/work")
	f.gate.waitArrivals(t, 1)

	queued := f.start(http.MethodGet, "/fast")
	require.Eventually(t, func() bool { return f.gauge("gateway_admission_queued", admission.Read) == 1 }, patience, time.Millisecond)
	requireShed(t, await(t, f.start(http.MethodGet, "/fast"))) // the queue of one is full

	f.gate.open()
	assert.Equal(t, http.StatusNoContent, await(t, held).Code)
	assert.Equal(t, http.StatusNoContent, await(t, queued).Code, "the waiting request got the freed slot")
	assert.Equal(t, 2.0, f.decisions(admission.Read, "admitted"))
	assert.Equal(t, 1.0, f.decisions(admission.Read, "shed"))
}

func TestSlotsAreGivenBackWhenAHandlerPanicsOrAborts(t *testing.T) {
	f := newFixture(t, admission.Config{Enabled: true, Read: admission.Limit{InFlight: 1}, Write: admission.Limit{InFlight: 1}})
	for range 3 {
		assert.Equal(t, http.StatusInternalServerError, f.do(http.MethodGet, "/panic").Code)
		assert.Equal(t, http.StatusBadGateway, f.do(http.MethodGet, "/abort").Code)
	}
	assert.Equal(t, http.StatusNoContent, f.do(http.MethodGet, "/fast").Code, "the one slot is free")
	assert.Equal(t, 7.0, f.decisions(admission.Read, "admitted"))
	assert.Equal(t, 0.0, f.decisions(admission.Read, "shed"))
	assert.Equal(t, 0.0, f.gauge("gateway_admission_in_flight", admission.Read))
}

func TestDisabledAdmitsEverything(t *testing.T) {
	f := newFixture(t, admission.Config{Enabled: false, Read: admission.Limit{InFlight: 1}, Write: admission.Limit{InFlight: 1}})
	held := []<-chan *httptest.ResponseRecorder{f.start(http.MethodGet, "/work"), f.start(http.MethodGet, "/work")}
	f.gate.waitArrivals(t, 2)
	f.gate.open()
	for _, done := range held {
		assert.Equal(t, http.StatusNoContent, await(t, done).Code)
	}
}

func TestClassOf(t *testing.T) {
	for method, want := range map[string]string{
		http.MethodGet: admission.Read, http.MethodHead: admission.Read, http.MethodOptions: admission.Read,
		http.MethodPost: admission.Write, http.MethodPut: admission.Write, http.MethodPatch: admission.Write,
		http.MethodDelete: admission.Write,
	} {
		assert.Equal(t, want, admission.ClassOf(method), method)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := admission.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, admission.Config{
		Enabled:   true,
		Read:      admission.Limit{InFlight: 256, Queued: 1024},
		Write:     admission.Limit{InFlight: 64, Queued: 256},
		QueueTime: time.Second,
	}, cfg)

	cfg, err = admission.LoadConfig(env(map[string]string{
		"ADMISSION_ENABLED": "false", "ADMISSION_MAX_INFLIGHT_READ": "10", "ADMISSION_MAX_QUEUED_READ": "0",
		"ADMISSION_MAX_INFLIGHT_WRITE": "3", "ADMISSION_MAX_QUEUED_WRITE": "5", "ADMISSION_QUEUE_TIME": "50ms",
	}))
	require.NoError(t, err)
	assert.Equal(t, admission.Config{
		Read: admission.Limit{InFlight: 10}, Write: admission.Limit{InFlight: 3, Queued: 5}, QueueTime: 50 * time.Millisecond,
	}, cfg)

	_, err = admission.LoadConfig(env(map[string]string{
		"ADMISSION_MAX_INFLIGHT_READ": "0", "ADMISSION_MAX_QUEUED_WRITE": "-1", "ADMISSION_QUEUE_TIME": "-1s",
	}))
	require.Error(t, err)
	for _, name := range []string{"ADMISSION_MAX_INFLIGHT_READ", "ADMISSION_MAX_QUEUED_WRITE", "ADMISSION_QUEUE_TIME"} {
		assert.ErrorContains(t, err, name)
	}
	_, err = admission.LoadConfig(env(map[string]string{"ADMISSION_QUEUE_TIME": "soon"}))
	assert.ErrorContains(t, err, "ADMISSION_QUEUE_TIME")
}
