package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

func TestParseGoroutines(t *testing.T) {
	// An app's (client_golang's Go collector), and a daprd's, whose
	// OpenCensus exporter shares the default registry.
	app := `# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.5e-05
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 87
# HELP go_goroutines_total nothing real, a name that starts the same
go_goroutines_total 3
`
	n, err := parseGoroutines([]byte(app))
	require.NoError(t, err)
	assert.Equal(t, 87, n)

	n, err = parseGoroutines([]byte("dapr_runtime_component_loaded{app_id=\"orders\"} 7\ngo_goroutines 1.234e+03 1700000000000\n"))
	require.NoError(t, err)
	assert.Equal(t, 1234, n, "a float, then a timestamp")

	_, err = parseGoroutines([]byte("go_goroutines_total 3\n"))
	assert.ErrorContains(t, err, "no go_goroutines")
	_, err = parseGoroutines([]byte("go_goroutines lots\n"))
	assert.Error(t, err)
}

func TestStackProcsAreEveryAppAndItsSidecar(t *testing.T) {
	l, err := stack.NewLayout("/repo")
	require.NoError(t, err)
	tmpl := &stack.Template{Apps: []stack.AppSpec{
		{ID: "gateway", Ports: stack.Ports{App: 8080, Metrics: 9600}},
		{ID: "orders", Ports: stack.Ports{App: 8084, Metrics: 9604}},
	}}
	assert.Equal(t, []proc{
		{Label: "gateway", PidFile: "/repo/.local/run/gateway.pid", Metrics: "http://127.0.0.1:8080/metrics"},
		{Label: "gateway-daprd", PidFile: "/repo/.local/run/gateway-daprd.pid", Metrics: "http://127.0.0.1:9600/metrics"},
		{Label: "orders", PidFile: "/repo/.local/run/orders.pid", Metrics: "http://127.0.0.1:8084/metrics"},
		{Label: "orders-daprd", PidFile: "/repo/.local/run/orders-daprd.pid", Metrics: "http://127.0.0.1:9604/metrics"},
	}, stackProcs(l, tmpl))
}

const mib = 1 << 20

func testSamples() ([]proc, []sample) {
	procs := []proc{{Label: "orders"}, {Label: "orders-daprd"}, {Label: "search"}, {Label: "users"}}
	return procs, []sample{
		{Label: "start", Readings: []reading{{PID: 10, RSS: 40 * mib, Goroutines: 50}, {PID: 11, RSS: 60 * mib, Goroutines: 300}, {PID: 12, RSS: 20 * mib, Goroutines: 20}, {RSS: -1, Goroutines: -1}}},
		{Label: "05:00", Readings: []reading{{PID: 10, RSS: 50 * mib, Goroutines: 90}, {PID: 11, RSS: 62 * mib, Goroutines: 320}, {PID: 13, RSS: 25 * mib, Goroutines: 22}, {PID: 14, RSS: 30 * mib, Goroutines: 40}}},
		{Label: "end", Readings: []reading{{PID: 10, RSS: 70 * mib, Goroutines: 52}, {PID: 11, RSS: 63 * mib, Goroutines: -1}, {PID: 13, RSS: 31 * mib, Goroutines: 21}, {PID: 14, RSS: 31 * mib, Goroutines: 41}}},
	}
}

func TestRSSGrowthFromFirstToLastSample(t *testing.T) {
	procs, samples := testSamples()
	g := rssGrowth(procs, samples)
	require.Len(t, g, 3, "users was not running at the start: no growth")
	assert.Equal(t, growth{Label: "orders", From: 40 * mib, To: 70 * mib, Percent: 75}, g[0])
	assert.Equal(t, "orders-daprd", g[1].Label)
	assert.InDelta(t, 5, g[1].Percent, 1e-9)
	assert.Equal(t, growth{Label: "search", From: 20 * mib, To: 31 * mib, Percent: 55, Restarted: true}, g[2])
	assert.Nil(t, rssGrowth(procs, samples[:1]), "one sample has no growth")
}

func TestWriteSamples(t *testing.T) {
	procs, samples := testSamples()
	var b bytes.Buffer
	require.NoError(t, writeSamples(&b, procs, samples))
	assert.Equal(t, `RSS MiB       start  05:00   end            change
orders         40.0   50.0  70.0              +75%
orders-daprd   60.0   62.0  63.0               +5%
search         20.0   25.0  31.0  +55% (restarted)
users             -   30.0  31.0                 -

goroutines    start  05:00  end  change
orders           50     90   52      +2
orders-daprd    300    320    -       -
search           20     22   21      +1
users             -     40   41       -
WARNING: RSS of orders grew 75% (40.0 MiB → 70.0 MiB) from start to end: judge from the figures whether it leaks
WARNING: RSS of search grew 55% (20.0 MiB → 31.0 MiB) from start to end (it restarted in between): judge from the figures whether it leaks
`, b.String())
}

func TestSummarize(t *testing.T) {
	procs, samples := testSamples()
	assert.Equal(t, "apps 60 MiB, 70 goroutines; sidecars 60 MiB, 300 goroutines; 1 of 4 processes not found", summarize(procs, samples[0]))
}
