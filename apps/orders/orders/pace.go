package orders

import (
	"sync"
	"time"
)

// Pace keeps checkouts to what the saga settles. Orders placed faster than
// inventory, payments and this app's consumers settle them wait in the
// brokers, and each order placed after them waits longer still: taking
// more then only makes every shopper's order late, and the gateway's own
// admission control never sees it, since placing an order stays quick.
//
// Pace watches how long the orders this instance settled over the last
// Window took from placed to settled. While more than a tenth of them took
// longer than Limit, the saga is behind, and Pace admits new checkouts at
// three quarters of the rate orders settle, so that the backlog drains;
// the rest are refused with ErrBusy (a 503 with Retry-After). Refusing them
// all instead would starve the saga and let the waiting shoppers back in a
// herd. While it keeps up, checkouts may come at half again the settle
// rate, so traffic can grow by half each second but no herd rushes in.
//
// A few late orders at a low rate say nothing of a backlog, so it judges
// only a window with at least MinSettled orders, and keeps its verdict
// through a thinner one for two windows (a congested saga settles in
// bursts); it sees the saga only through the outcomes this instance
// consumes, which, with replicas, is its share, as is the traffic it gets.
type Pace struct {
	cfg PaceConfig
	now Clock

	mu       sync.Mutex
	recent   []settledAt // oldest first, none older than Window
	behind   bool        // the last verdict
	judged   time.Time   // when it was reached
	tokens   float64     // checkouts that may go in while behind (at most 1)
	refilled time.Time
}

// PaceConfig tunes Pace; a zero Limit turns it off.
type PaceConfig struct {
	Limit      time.Duration // placed → settled beyond which an order was late
	Window     time.Duration // how far back settled orders count
	MinSettled int           // fewer settled orders in Window judge nothing
}

type settledAt struct {
	at   time.Time
	late bool
}

const (
	// lateShare is the share of late orders in the window that puts the
	// saga behind: the window's p90 is past Limit.
	lateShare = 0.1
	// verdictLapse is how many windows a verdict holds without enough
	// settled orders to judge again.
	verdictLapse = 2
	// drainShare of the settle rate is admitted while behind, one at a
	// time.
	drainShare = 0.75
	// growShare of it while the saga keeps up, in bursts of up to
	// growBurst of that rate: traffic may grow by half a second, but a
	// herd of shoppers let back in at once would only rebuild the backlog.
	growShare = 1.5
	growBurst = 200 * time.Millisecond
)

// NewPace returns a Pace that reads the time from now.
func NewPace(cfg PaceConfig, now Clock) *Pace { return &Pace{cfg: cfg, now: now} }

// Settled records an order the saga settled after the time since it was
// placed.
func (p *Pace) Settled(after time.Duration) {
	if p == nil || p.cfg.Limit <= 0 {
		return
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trim(now)
	p.recent = append(p.recent, settledAt{at: now, late: after > p.cfg.Limit})
}

// Shed reports whether to refuse a checkout now; false admits it.
func (p *Pace) Shed() bool {
	if p == nil || p.cfg.Limit <= 0 {
		return false
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trim(now)
	behind := p.isBehind(now)
	if !behind && p.thin() {
		p.tokens, p.refilled = 1, now // too little traffic to pace
		return false
	}
	share, burst := growShare, growBurst.Seconds()
	if behind {
		share, burst = drainShare, 0
	}
	// A window too thin to judge still paces at the rate that judges, so
	// that a held verdict never refuses a lone shopper for lack of data.
	rate := share * float64(max(len(p.recent), p.cfg.MinSettled)) / p.cfg.Window.Seconds()
	p.tokens = min(p.tokens+rate*now.Sub(p.refilled).Seconds(), max(1, rate*burst))
	p.refilled = now
	if p.tokens >= 1 {
		p.tokens--
		return false
	}
	return true
}

// isBehind judges the window, or keeps the last verdict while the window is
// too thin to judge and the verdict is recent.
func (p *Pace) isBehind(now time.Time) bool {
	if p.thin() {
		if now.Sub(p.judged) > verdictLapse*p.cfg.Window {
			p.behind = false
		}
		return p.behind
	}
	late := 0
	for _, s := range p.recent {
		if s.late {
			late++
		}
	}
	p.behind, p.judged = float64(late) > lateShare*float64(len(p.recent)), now
	return p.behind
}

// thin reports a window with too few settled orders to judge.
func (p *Pace) thin() bool { return len(p.recent) < max(p.cfg.MinSettled, 1) }

// trim forgets what settled before the window.
func (p *Pace) trim(now time.Time) {
	from := now.Add(-p.cfg.Window)
	i := 0
	for i < len(p.recent) && p.recent[i].at.Before(from) {
		i++
	}
	if i > 0 {
		p.recent = append(p.recent[:0], p.recent[i:]...)
	}
}
