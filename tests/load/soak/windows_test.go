package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestRecorderCountsByWindowOfSendingAndByKind(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := newRecorder(t0, time.Minute, 3*time.Minute)
	r.request(Browse, t0.Add(10*time.Second), shop.Answer{Method: "GET", Path: "/api/v1/products?page_size=20", Status: 200, Latency: ms(10)})
	r.request(Search, t0.Add(59*time.Second), shop.Answer{Method: "GET", Path: "/api/v1/search?q=x", Status: 503, Latency: ms(30), Body: []byte(`{"type":"https://shopmesh.dev/problems/unavailable"}`)})
	r.request(View, t0.Add(-time.Second), shop.Answer{Method: "GET", Path: "/api/v1/products/01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b", Status: 404, Latency: ms(5)})
	r.request(Add, t0.Add(150*time.Second), shop.Answer{Method: "POST", Path: "/api/v1/cart/items", Err: errors.New("timeout"), Latency: 30 * time.Second})
	r.skip(t0.Add(61 * time.Second))
	r.place(shop.Placed{OrderID: "o1"}, t0.Add(30*time.Second), false)
	r.place(shop.Placed{OrderID: "o2"}, t0.Add(130*time.Second), true)
	r.note(Checkout, "checkout answered 2xx without an order_id")

	ws, ks, failures, placed := r.snapshot()
	require.Len(t, ws, 3, "windows up to the last one touched, empty ones too")
	assert.Equal(t, tally{Requests: 3, Server: 1, Other: 1, Latencies: []time.Duration{ms(10), ms(30), ms(5)}}, ws[0].tally,
		"a request sent before the start counts in the first window")
	assert.Equal(t, 1, ws[0].Accepted)
	assert.Equal(t, window{Skipped: 1}, ws[1])
	assert.Equal(t, window{tally: tally{Requests: 1, NoAnswer: 1}, Declined: 1}, ws[2], "no answer, no latency")
	assert.Equal(t, 1, ks[Search].Server)
	assert.Equal(t, 1, ks[Add].NoAnswer)
	assert.Zero(t, ks[Checkout].Requests)
	assert.Equal(t, map[string]int{
		"search: GET /api/v1/search: 503 https://shopmesh.dev/problems/unavailable": 1,
		"view: GET /api/v1/products/{id}: 404":                                      1,
		"add: POST /api/v1/cart/items: no answer: timeout":                          1,
		"checkout: checkout answered 2xx without an order_id":                       1,
	}, failures)
	assert.Equal(t, []placement{{Placed: shop.Placed{OrderID: "o1"}, Window: 0}, {Placed: shop.Placed{OrderID: "o2"}, Window: 2, Declined: true}}, placed)

	r.request(History, t0.Add(3*time.Minute+time.Second), shop.Answer{Status: 200, Latency: ms(7)})
	ws, _, _, _ = r.snapshot()
	require.Len(t, ws, 3, "a request sent as the load ends counts in the last window")
	assert.Equal(t, 2, ws[2].Requests)

	ws[0].Latencies[0] = time.Hour
	again, _, _, _ := r.snapshot()
	assert.Equal(t, ms(10), again[0].Latencies[0], "a snapshot is a copy")
}

func TestWindowRowsTakeEachOrderToTheWindowItWasPlacedIn(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ws := []window{{Accepted: 2}, {Accepted: 1}, {}}
	placed := []placement{{Window: 0}, {Window: 1}, {Window: 0}}
	outcomes := []shop.Outcome{
		{Status: shop.StatusConfirmed, CreatedAt: t0, SettledAt: t0.Add(ms(20))},
		{Status: shop.StatusPending},
		{Status: shop.StatusConfirmed, CreatedAt: t0, SettledAt: t0.Add(ms(40))},
	}
	rows := windowRows(ws, time.Minute, 150*time.Second, placed, outcomes, true)
	require.Len(t, rows, 3)
	assert.Equal(t, []time.Duration{ms(20), ms(40)}, rows[0].PlacedToConfirmed)
	assert.Zero(t, rows[0].Unsettled)
	assert.Equal(t, 1, rows[1].Unsettled)
	assert.Equal(t, 2*time.Minute, rows[2].From)
	assert.Equal(t, 150*time.Second, rows[2].To, "the last window ends with the load")

	before := windowRows(ws, time.Minute, 3*time.Minute, placed, nil, false)
	assert.False(t, before[0].Settled)
	assert.Nil(t, before[0].PlacedToConfirmed)
}

func TestWriteWindows(t *testing.T) {
	rows := []windowRow{
		{From: 0, To: time.Minute, Settled: true, window: window{
			tally:    tally{Requests: 600, Server: 0, Other: 2, Latencies: []time.Duration{ms(10), ms(12), ms(250)}},
			Accepted: 40, Declined: 2,
		}, PlacedToConfirmed: []time.Duration{ms(20), ms(30)}},
		{From: time.Minute, To: 90 * time.Second, Settled: true, window: window{
			tally:    tally{Requests: 300, Server: 1, NoAnswer: 1, Latencies: []time.Duration{ms(1500)}},
			Accepted: 20, Skipped: 3,
		}, Unsettled: 1},
	}
	var b bytes.Buffer
	require.NoError(t, writeWindows(&b, rows))
	assert.Equal(t, `window       requests  req/s  5xx  other  noans  skipped    p50    p99  checkouts  declined  confirm p99  unsettled
00:00–01:00       600   10.0    0      2      0        0   12ms  250ms         40         2         30ms          0
01:00–01:30       300   10.0    1      0      1        3  1.50s  1.50s         20         0            -          1
all               900   10.0    1      2      1        3   12ms  1.50s         60         2         30ms          1
`, b.String())

	b.Reset()
	rows[0].Settled = false
	require.NoError(t, writeWindows(&b, rows[:1]))
	assert.Equal(t, `window       requests  req/s  5xx  other  noans  skipped   p50    p99  checkouts  declined  confirm p99  unsettled
00:00–01:00       600   10.0    0      2      0        0  12ms  250ms         40         2            -          -
`, b.String(), "before the settle wait; no total line for one window")
}

func TestWriteKinds(t *testing.T) {
	var ks [kinds]tally
	ks[Browse] = tally{Requests: 3, Latencies: []time.Duration{ms(3), ms(1), ms(2)}}
	ks[Token] = tally{Requests: 1, Server: 1, Latencies: []time.Duration{ms(9)}}
	var b bytes.Buffer
	require.NoError(t, writeKinds(&b, ks))
	assert.Equal(t, `action  requests  5xx  other  noans  p50  p99  max
browse         3    0      0      0  2ms  3ms  3ms
token          1    1      0      0  9ms  9ms  9ms
`, b.String())
}

func TestFormats(t *testing.T) {
	assert.Equal(t, "00:00", clock(0))
	assert.Equal(t, "05:00", clock(5*time.Minute))
	assert.Equal(t, "30:01", clock(30*time.Minute+1400*time.Millisecond))
	assert.Equal(t, "1:02:03", clock(time.Hour+2*time.Minute+3*time.Second))
	assert.Equal(t, "12ms", shop.FormatDuration(ms(12)))
	assert.Equal(t, "1.52s", shop.FormatDuration(ms(1520)))
	assert.Equal(t, "35.0s", shop.FormatDuration(35*time.Second))
	assert.Equal(t, "412s", shop.FormatDuration(412*time.Second))
	assert.Equal(t, "-", shop.FormatLatency(0, 0))
	assert.Equal(t, "/api/v1/orders/{id}", route("/api/v1/orders/01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"))
	assert.Equal(t, "/api/v1/search", route("/api/v1/search?q=kettle"))
	assert.Equal(t, []string{"b", "a", "c"}, sortedFailures(map[string]int{"a": 2, "b": 5, "c": 2}))
	assert.Equal(t, " (out_of_stock: 1, payment_declined: 3)", reasons(map[string]int{"payment_declined": 3, "out_of_stock": 1}))
	assert.Empty(t, reasons(nil))
}
