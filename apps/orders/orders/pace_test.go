package orders_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
)

// clock is a settable orders.Clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newPace(cfg orders.PaceConfig) (*orders.Pace, *clock) {
	c := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	return orders.NewPace(cfg, c.now), c
}

var paceConfig = orders.PaceConfig{Limit: 500 * time.Millisecond, Window: time.Second, MinSettled: 10}

// admitted counts how many of n checkouts, one every gap, Shed lets in.
func admitted(p *orders.Pace, c *clock, n int, gap time.Duration) int {
	in := 0
	for range n {
		if !p.Shed() {
			in++
		}
		c.t = c.t.Add(gap)
	}
	return in
}

func TestPaceAdmitsHalfAgainTheSettleRateWhileTheSagaKeepsUp(t *testing.T) {
	p, c := newPace(paceConfig)
	for range 18 {
		p.Settled(100 * time.Millisecond)
	}
	p.Settled(600 * time.Millisecond)
	p.Settled(600 * time.Millisecond)
	in := admitted(p, c, 100, 5*time.Millisecond) // 200/s offered for 0.5 s
	assert.InDelta(t, 21, in, 1, "2 late of 20 is a tenth, not more: a burst of 6, then 30/s")

	p.Settled(600 * time.Millisecond)
	in = admitted(p, c, 100, 5*time.Millisecond)
	assert.InDelta(t, 8, in, 1, "3 late of 21: behind, 15.75/s one at a time")
}

func TestPaceAdmitsThreeQuartersOfTheSettleRateWhileBehind(t *testing.T) {
	p, c := newPace(paceConfig)
	for range 40 { // 40 settled in the window, all late: 30 checkouts/s go in
		p.Settled(2 * time.Second)
	}
	in := admitted(p, c, 100, 5*time.Millisecond) // 200/s offered for 0.5 s
	assert.InDelta(t, 16, in, 1, "one at once, then 30/s for 0.5 s")
}

func TestPaceKeepsItsVerdictThroughAThinWindow(t *testing.T) {
	p, c := newPace(paceConfig)
	for range 20 {
		p.Settled(2 * time.Second)
	}
	assert.False(t, p.Shed(), "behind, one checkout goes in at once")
	assert.True(t, p.Shed())

	c.t = c.t.Add(1100 * time.Millisecond)
	for range 5 {
		p.Settled(100 * time.Millisecond)
	}
	assert.Equal(t, 4, admitted(p, c, 100, 5*time.Millisecond),
		"five quick ones are too few to judge again: still behind, one at once and then 7.5 checkouts/s (as ten settled would allow) for 0.5 s")
	c.t = c.t.Add(800 * time.Millisecond)
	assert.Equal(t, 50, admitted(p, c, 50, time.Millisecond), "two windows without a verdict: the backlog has drained")
}

func TestPaceNeedsEnoughSettledOrders(t *testing.T) {
	p, c := newPace(paceConfig)
	for range 9 {
		p.Settled(3 * time.Second)
	}
	assert.Equal(t, 20, admitted(p, c, 20, time.Millisecond), "nine late orders at a low rate are no backlog")
	p.Settled(3 * time.Second)
	assert.Less(t, admitted(p, c, 20, time.Millisecond), 20)
}

func TestPaceForgetsWhatLeftTheWindow(t *testing.T) {
	p, c := newPace(paceConfig)
	for range 20 {
		p.Settled(2 * time.Second)
	}
	c.t = c.t.Add(600 * time.Millisecond)
	for range 100 {
		p.Settled(50 * time.Millisecond)
	}
	p.Shed()
	assert.True(t, p.Shed(), "20 late of 120 within the window")
	c.t = c.t.Add(500 * time.Millisecond)
	assert.Equal(t, 20, admitted(p, c, 20, 0), "the late ones left the window; the quick ones stay and judge")
}

func TestPaceOff(t *testing.T) {
	off := paceConfig
	off.Limit = 0
	p, c := newPace(off)
	for range 100 {
		p.Settled(time.Minute)
	}
	assert.Equal(t, 20, admitted(p, c, 20, 0))

	var none *orders.Pace
	none.Settled(time.Minute)
	assert.False(t, none.Shed())
}
