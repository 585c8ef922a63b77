package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/proccpu"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

var defaultCriteria = criteria{P99: time.Second, MinAccepted: 0.5, MaxUnsettled: 0.05}

// good is a step that passed: 25/s for 30 s, all confirmed quickly.
func good(rate float64) row {
	n := int(rate * 30)
	return row{
		Offered: rate, Duration: 30 * time.Second, Accepted: n, Confirmed: n, ConfirmedPS: rate,
		P50: 120 * time.Millisecond, P95: 300 * time.Millisecond, P99: 450 * time.Millisecond,
		CheckoutP50: 15 * time.Millisecond, CheckoutP99: 80 * time.Millisecond,
		Settle: 1200 * time.Millisecond,
		CPU:    map[string]float64{"apps": 7.5, "sidecars": 15, "servers": 3.75},
	}
}

func TestFailuresSayWhyAStepDidNotPass(t *testing.T) {
	c := defaultCriteria
	assert.Empty(t, c.failures(good(25)))

	r := good(25)
	r.P99 = 1500 * time.Millisecond
	assert.Equal(t, []string{"p99>1s"}, c.failures(r))
	r.P99 = time.Second
	assert.Empty(t, c.failures(r), "the bound is inclusive")

	r = good(25)
	r.Unsettled, r.Confirmed = 3, r.Confirmed-3
	assert.Equal(t, []string{"unsettled"}, c.failures(r))

	r = good(25)
	r.Cancelled, r.Confirmed = 1, r.Confirmed-1
	assert.Equal(t, []string{"cancelled"}, c.failures(r), "a cancelled order is settled but not a pass")

	r = good(100)
	r.Accepted = 1400 // 46.7/s of 100/s offered
	assert.Equal(t, []string{"accepted<50%"}, c.failures(r))

	assert.Equal(t, []string{"none accepted"}, c.failures(row{Offered: 25, Duration: 30 * time.Second}))
}

func TestClearlyFailedEndsTheRun(t *testing.T) {
	c := defaultCriteria
	r := good(50)
	r.P99 = 3 * time.Second
	assert.False(t, c.clearlyFailed(r), "slow is worth another step")

	r = good(50) // 1500 accepted
	r.Unsettled = 75
	assert.False(t, c.clearlyFailed(r), "5% unsettled is not more than 5%")
	r.Unsettled = 76
	assert.True(t, c.clearlyFailed(r))

	r = good(50)
	r.Accepted = 740
	assert.True(t, c.clearlyFailed(r))
	assert.True(t, c.clearlyFailed(row{Offered: 50, Duration: 30 * time.Second}))
}

func TestHighestPassingRate(t *testing.T) {
	c := defaultCriteria
	slow := func(rate float64) row { r := good(rate); r.P99 = 2 * time.Second; return r }

	rate, ok := c.highest([]row{good(25), good(50), slow(100), slow(200)})
	assert.True(t, ok)
	assert.Equal(t, 50.0, rate)

	rate, ok = c.highest([]row{good(25), slow(50), good(100)})
	assert.True(t, ok)
	assert.Equal(t, 100.0, rate, "the highest that passed, even above one that did not")

	rate, ok = c.highest([]row{good(100), good(25)})
	assert.True(t, ok)
	assert.Equal(t, 100.0, rate, "rates need not rise")

	_, ok = c.highest([]row{slow(25), slow(50)})
	assert.False(t, ok)
	_, ok = c.highest(nil)
	assert.False(t, ok)
}

func TestRowsLineUpUnderTheHeader(t *testing.T) {
	cols := columns(defaultCriteria)
	var b bytes.Buffer
	require.NoError(t, writeHeader(&b, cols))
	require.NoError(t, writeRow(&b, cols, good(25)))
	r := good(400)
	r.CPU = nil
	r.P99 = 12500 * time.Millisecond
	require.NoError(t, writeRow(&b, cols, r))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)

	// Every column ends where its title ends; the verdict starts with it.
	titles := lines[1]
	for _, line := range lines[2:] {
		fields, tf := strings.Fields(line), strings.Fields(titles)
		require.Len(t, fields, len(cols), line)
		require.Len(t, tf, len(cols))
		for i := range len(cols) - 1 {
			assert.Equal(t, endOf(titles, i), endOf(line, i), "column %s in %q", cols[i].title, line)
		}
	}
	for _, title := range []string{"offered/s", "accepted/s", "confirmed/s", "cancelled", "5xx", "shed", "other", "noans", "unsettled", "settle", "verdict"} {
		assert.Contains(t, titles, title)
	}
	for _, group := range []string{"placed→confirmed", "checkout", "CPU s", "CPU ms / confirmed order", "failed requests"} {
		assert.Contains(t, lines[0], group)
	}
	start := strings.Index(titles, "cancelled") + len("cancelled") + 1
	span := 3*7 + 2
	label := utf8.RuneCountInString("placed→confirmed")
	assert.Equal(t, start+(span-label)/2, utf8.RuneCountInString(lines[0][:strings.Index(lines[0], "placed→confirmed")]), "a group's label is centred over its columns")

	assert.Equal(t, strings.Fields(
		"25 25.0 25.0 0 120ms 300ms 450ms 15ms 80ms 0 0 0 0 0 1.20s 7.5 15.0 3.8 0.0 10.0 20.0 5.0 0.0 35.0 pass"), strings.Fields(lines[2]))
	assert.Equal(t, strings.Fields(
		"400 400.0 400.0 0 120ms 300ms 12.5s 15ms 80ms 0 0 0 0 0 1.20s - - - - - - - - - p99>1s"), strings.Fields(lines[3]),
		"no CPU measured: dashes")
}

// endOf returns the rune offset where the i-th space-separated field of
// line ends.
func endOf(line string, i int) int {
	n, inField, end := -1, false, 0
	for off, r := range []rune(line) {
		if r != ' ' && !inField {
			n++
		}
		inField = r != ' '
		if inField && n == i {
			end = off + 1
		}
	}
	return end
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0ms",
		7 * time.Millisecond:    "7ms",
		999 * time.Millisecond:  "999ms",
		1520 * time.Millisecond: "1.52s",
		35 * time.Second:        "35.0s",
		412 * time.Second:       "412s",
	} {
		assert.Equal(t, want, shop.FormatDuration(d))
		assert.LessOrEqual(t, utf8.RuneCountInString(shop.FormatDuration(d)), 7)
	}
	assert.Equal(t, "-", shop.FormatLatency(time.Second, 0), "a percentile of nothing")
}

func TestWriteSplit(t *testing.T) {
	var b bytes.Buffer
	usage := []proccpu.Usage{
		{Label: "gateway", Group: "apps", Procs: 1, Ticks: 250},
		{Label: "daprd:orders", Group: "sidecars", Procs: 1, Ticks: 500},
		{Label: "postgres", Group: "servers", Procs: 9, Ticks: 50},
	}
	r := row{Offered: 100, Confirmed: 2000}
	require.NoError(t, writeSplit(&b, usage, 100, r, 4.5))
	out := b.String()
	assert.Contains(t, out, "at 100/s (2000 confirmed orders")
	assert.Regexp(t, `apps\s+gateway\s+1\s+2\.50\s+1\.25\n`, out)
	assert.Regexp(t, `sidecars\s+daprd:orders\s+1\s+5\.00\s+2\.50\n`, out)
	assert.Regexp(t, `servers\s+postgres\s+9\s+0\.50\s+0\.25\n`, out)
	assert.Regexp(t, `total\s+8\.00\s+4\.00\n`, out)
	assert.Contains(t, out, "4.50 CPU s")
}

func TestParseRates(t *testing.T) {
	rates, err := parseRates("25, 50,100,,2.5")
	require.NoError(t, err)
	assert.Equal(t, []float64{25, 50, 100, 2.5}, rates)
	for _, bad := range []string{"", ",", "10,x", "0", "-5", "inf"} {
		_, err := parseRates(bad)
		assert.Error(t, err, bad)
	}
}

func TestShoppersFor(t *testing.T) {
	assert.Equal(t, 20, shoppersFor(1, 10*time.Second), "at least 20")
	assert.Equal(t, 250, shoppersFor(25, 10*time.Second))
	assert.Equal(t, 4000, shoppersFor(400, 10*time.Second))
	assert.Equal(t, 25, shoppersFor(2.5, 10*time.Second))
}
