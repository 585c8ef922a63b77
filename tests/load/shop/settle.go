package shop

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Order statuses (the public API's).
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
)

// Outcome is what became of an accepted order.
type Outcome struct {
	OrderID   string
	Status    string // confirmed, cancelled, or pending: not settled when the wait ended
	Reason    string
	CreatedAt time.Time // zero when the order never showed in its shopper's history
	SettledAt time.Time // the order's timeline entry of Status
}

// SettleStats says how the wait went.
type SettleStats struct {
	Took       time.Duration // until every order settled, or the bound
	Polls      int           // order-history reads
	PollErrors int
	LastError  error // of the poll errors, for the log
}

// Settle reads the histories of shoppers with orders still pending first
// after firstPoll, then twice as long after each read up to maxPoll, and
// pollWorkers at a time: soon enough to see a quick settle soon, and
// since reading loads the shop too, never eagerly.
const (
	firstPoll   = 100 * time.Millisecond
	maxPoll     = time.Second
	pollWorkers = 16
)

// Settle follows placed until each order has left pending or bound has
// passed, reading each shopper's order history (one request per shopper
// rather than one per order; the first at once), and returns the orders'
// outcomes in the order of placed. Failed reads are counted and retried
// at the next poll; only ctx ends it with an error.
func Settle(ctx context.Context, gateway string, placed []Placed, bound time.Duration) ([]Outcome, SettleStats, error) {
	started := time.Now()
	deadline := started.Add(bound)
	out := make([]Outcome, len(placed))
	pending := map[*Shopper]map[string]int{} // order id → index in out, per shopper
	for i, p := range placed {
		out[i] = Outcome{OrderID: p.OrderID, Status: StatusPending}
		if pending[p.Shopper] == nil {
			pending[p.Shopper] = map[string]int{}
		}
		pending[p.Shopper][p.OrderID] = i
	}

	var stats SettleStats
	wait := firstPoll
	for len(pending) > 0 {
		stats.Polls += len(pending)
		failed, lastErr := pollOnce(ctx, gateway, deadline, pending, out)
		stats.PollErrors += failed
		if lastErr != nil {
			stats.LastError = lastErr
		}
		for s, orders := range pending {
			if len(orders) == 0 {
				delete(pending, s)
			}
		}
		if len(pending) == 0 || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			stats.Took = time.Since(started)
			return out, stats, ctx.Err()
		case <-time.After(min(wait, time.Until(deadline))):
		}
		wait = min(2*wait, maxPoll)
	}
	stats.Took = time.Since(started)
	return out, stats, ctx.Err()
}

// pollOnce reads the history of every shopper in pending, pollWorkers at
// a time, and moves each order that left pending from pending to out.
// Each worker touches only its shopper's map and indexes.
func pollOnce(ctx context.Context, gateway string, deadline time.Time, pending map[*Shopper]map[string]int, out []Outcome) (failed int, lastErr error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, pollWorkers)
	for s, orders := range pending {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var list struct {
				Items []order `json:"items"`
			}
			if err := call(ctx, s.client, http.MethodGet, gateway+"/api/v1/orders", s.token, nil, &list, http.StatusOK); err != nil {
				if ctx.Err() == nil { // cut off by the bound: not the shop's failure
					mu.Lock()
					failed, lastErr = failed+1, err
					mu.Unlock()
				}
				return
			}
			for _, o := range list.Items {
				i, ok := orders[o.ID]
				if !ok || o.Status == StatusPending {
					continue
				}
				out[i] = o.outcome()
				delete(orders, o.ID)
			}
		}()
	}
	wg.Wait()
	return failed, lastErr
}

// order is the public API's order, as far as Settle reads it.
type order struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	Timeline  []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"timeline"`
}

func (o order) outcome() Outcome {
	oc := Outcome{OrderID: o.ID, Status: o.Status, Reason: o.Reason, CreatedAt: o.CreatedAt}
	for _, e := range o.Timeline {
		if e.Status == o.Status {
			oc.SettledAt = e.At
		}
	}
	return oc
}
