package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
	"github.com/shopmesh/shopmesh/tests/load/shop"
	"github.com/shopmesh/shopmesh/tests/load/shop/shoptest"
)

func testOptions(gateway string) options {
	return options{
		shop:     shop.Config{Gateway: gateway, AdminEmail: "admin@example.com", AdminPassword: "admin-pass-1", ShopperAddrs: "none"},
		rate:     4,
		duration: time.Second,
		step:     400 * time.Millisecond,
		settle:   2 * time.Second,
		shoppers: 20,
		products: 2,
		mix:      DefaultMix,
		signups:  4,
	}
}

// The stand-in serves accounts, carts, checkout and order histories; the
// catalogue and search are 404 there, which the soak counts as "other".
func TestRunPassesWhenEveryOrderSettlesWithout5xx(t *testing.T) {
	g := &shoptest.Gateway{Settle: 20 * time.Millisecond}
	srv := httptest.NewServer(g)
	defer srv.Close()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), context.Background(), testOptions(srv.URL), &out, log.New(io.Discard, "", 0)))
	text := out.String()
	assert.Contains(t, text, "4 checkouts/s (5% with the declined card), 50.0 actions/s, for 1s")
	assert.Contains(t, text, "RSS and goroutines not measured (-procs=false)")
	assert.Regexp(t, `(?m)^00:00–00:00\s+\d+`, text, "a row per 400 ms window")
	assert.Regexp(t, `(?m)^00:01–00:01\s+\d+`, text)
	assert.Regexp(t, `(?m)^all\s+\d+`, text)
	m := regexp.MustCompile(`paying card: +(\d+) accepted, (\d+) confirmed, 0 cancelled, 0 unsettled`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	assert.Equal(t, m[1], m[2])
	accepted, _ := strconv.Atoi(m[1])
	assert.Positive(t, accepted)
	assert.Contains(t, text, "soak: PASS")
	assert.Zero(t, g.Overlaps(), "a shopper makes one request at a time")
	assert.Positive(t, g.Answered("POST /api/v1/cart/items"))
}

func TestRunFailsOn5xx(t *testing.T) {
	g := &shoptest.Gateway{Settle: 20 * time.Millisecond}
	var failed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/search" {
			failed.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"type":"https://shopmesh.dev/problems/upstream","status":502}`)
			return
		}
		g.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), context.Background(), testOptions(srv.URL), &out, log.New(io.Discard, "", 0))
	require.Error(t, err)
	n := int(failed.Load())
	require.Positive(t, n)
	assert.Equal(t, fmt.Sprintf("%d answers were 5xx", n), err.Error())
	assert.Contains(t, out.String(), "soak: FAIL: ")
	assert.Contains(t, out.String(), fmt.Sprintf("%d× search: GET /api/v1/search: 502 https://shopmesh.dev/problems/upstream", n))
}

func TestRunFailsWhenOrdersDoNotSettle(t *testing.T) {
	srv := httptest.NewServer(&shoptest.Gateway{}) // orders never confirm
	defer srv.Close()
	o := testOptions(srv.URL)
	o.settle = 200 * time.Millisecond
	var out bytes.Buffer
	err := run(context.Background(), context.Background(), o, &out, log.New(io.Discard, "", 0))
	require.Error(t, err)
	assert.Regexp(t, `^\d+ orders still pending 200ms after the load$`, err.Error())
}

func TestRunStopsPacingWhenTheLoadIsCancelled(t *testing.T) {
	g := &shoptest.Gateway{Settle: 20 * time.Millisecond}
	srv := httptest.NewServer(g)
	defer srv.Close()
	o := testOptions(srv.URL)
	o.duration = time.Hour
	load, stop := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer stop()
	var out bytes.Buffer
	started := time.Now()
	require.NoError(t, run(context.Background(), load, o, &out, log.New(io.Discard, "", 0)))
	assert.Less(t, time.Since(started), 30*time.Second)
	assert.Contains(t, out.String(), "soak: PASS")
}

func TestOptionsAreChecked(t *testing.T) {
	o := testOptions("http://127.0.0.1:1")
	o.step = 0
	_, err := o.check()
	assert.Error(t, err)
	o = testOptions("http://127.0.0.1:1")
	o.mix = "browse=1"
	_, err = o.check()
	assert.Error(t, err)
	assert.Equal(t, 240, shoppersFor(12))
	assert.Equal(t, 20, shoppersFor(0.5))
}

func TestPaceKeepsTheRate(t *testing.T) {
	var ticks []time.Time
	start := time.Now()
	pace(context.Background(), start, 200, 250*time.Millisecond, func(at time.Time) { ticks = append(ticks, at) })
	require.Len(t, ticks, 50)
	assert.Equal(t, start, ticks[0])
	assert.Equal(t, start.Add(245*time.Millisecond), ticks[49])
	assert.GreaterOrEqual(t, time.Since(start), 245*time.Millisecond)

	// Late ticks are made at once, each with the instant it was due.
	ticks = nil
	pace(context.Background(), start.Add(-time.Second), 10, 500*time.Millisecond, func(at time.Time) { ticks = append(ticks, at) })
	assert.Len(t, ticks, 5)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	pace(ctx, time.Now(), 10, time.Hour, func(time.Time) { n++ })
	assert.LessOrEqual(t, n, 1, "a cancelled pace stops")
}

func TestMeterReadsAProcessOfTheStack(t *testing.T) {
	// This test's own process stands in for an app: a pid file naming it
	// and its binary, as the runner writes them, and metrics beside.
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE go_goroutines gauge\ngo_goroutines 42")
	}))
	defer metrics.Close()
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	self := filepath.Join(dir, "self.pid")
	require.NoError(t, stack.WritePidFile(self, os.Getpid(), exe))
	stale := filepath.Join(dir, "stale.pid")
	require.NoError(t, stack.WritePidFile(stale, os.Getpid(), "/no/such/binary"))

	m := &meter{procDir: "/proc", client: metrics.Client(), procs: []proc{
		{Label: "self", PidFile: self, Metrics: metrics.URL + "/metrics"},
		{Label: "stale", PidFile: stale, Metrics: metrics.URL + "/metrics"},
		{Label: "gone", PidFile: filepath.Join(dir, "gone.pid"), Metrics: metrics.URL + "/metrics"},
	}}
	s := m.sample(context.Background(), "start")
	assert.Equal(t, "start", s.Label)
	require.Len(t, s.Readings, 3)
	if strings.HasSuffix(exe, " (deleted)") {
		t.Skip("the test binary is gone")
	}
	assert.Equal(t, os.Getpid(), s.Readings[0].PID)
	assert.Positive(t, s.Readings[0].RSS)
	assert.Equal(t, 42, s.Readings[0].Goroutines)
	assert.Equal(t, reading{RSS: -1, Goroutines: -1}, s.Readings[1], "a pid file whose pid runs another binary is stale")
	assert.Equal(t, reading{RSS: -1, Goroutines: -1}, s.Readings[2])
}
