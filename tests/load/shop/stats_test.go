package shop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	in := ms(50, 10, 40, 20, 30, 60, 70, 80, 90, 100)
	assert.Equal(t, 50*time.Millisecond, Percentile(in, 50))
	assert.Equal(t, 100*time.Millisecond, Percentile(in, 95))
	assert.Equal(t, 100*time.Millisecond, Percentile(in, 99))
	assert.Equal(t, 10*time.Millisecond, Percentile(in, 1))
	assert.Equal(t, 50*time.Millisecond, in[0], "the input is not sorted in place")

	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond
	}
	assert.Equal(t, 99*time.Millisecond, Percentile(hundred, 99))
	assert.Equal(t, 95*time.Millisecond, Percentile(hundred, 95))
	assert.Equal(t, 50*time.Millisecond, Percentile(hundred, 50))

	assert.Zero(t, Percentile(nil, 99))
	assert.Equal(t, 7*time.Millisecond, Percentile(ms(7), 99))
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Summarize([]Outcome{
		{Status: StatusConfirmed, CreatedAt: t0.Add(time.Second), SettledAt: t0.Add(1300 * time.Millisecond)},
		{Status: StatusConfirmed, CreatedAt: t0, SettledAt: t0.Add(100 * time.Millisecond)},
		{Status: StatusCancelled, Reason: "payment_declined", CreatedAt: t0.Add(2 * time.Second), SettledAt: t0.Add(3 * time.Second)},
		{Status: StatusPending}, // never seen in its shopper's history
		{Status: StatusConfirmed, CreatedAt: t0.Add(3 * time.Second), SettledAt: t0.Add(4 * time.Second)},
	})
	assert.Equal(t, 5, s.Accepted)
	assert.Equal(t, 3, s.Confirmed)
	assert.Equal(t, 1, s.Cancelled)
	assert.Equal(t, 1, s.Pending)
	assert.Equal(t, map[string]int{"payment_declined": 1}, s.Reasons)
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Second}, s.PlacedToConfirmed)
	assert.Equal(t, t0, s.FirstPlaced)
	assert.Equal(t, t0.Add(4*time.Second), s.LastConfirmed)
	assert.InDelta(t, 0.75, s.ConfirmedPerSecond(), 1e-9)

	assert.Zero(t, Summarize(nil).ConfirmedPerSecond())
}
