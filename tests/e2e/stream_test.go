package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkoutStream is a steady stream of checkouts of one product by a few
// shoppers, for the tests that break things meanwhile. A shopper that gets
// no answer, or one that is not 202, retries with the same key and the same
// cart, as the API tells clients to, and finishes its retries even when the
// stream stops: an order stored before a fault must be answered. A shopper
// told when to come back (Retry-After) waits that long.
//
// Calls never fail the test from the shoppers' goroutines; the stream
// records what it saw (statuses, errors, the slowest answer) for the test to
// judge.
type checkoutStream struct {
	product  product
	shoppers []customer
	pause    time.Duration // a shopper's pause between orders

	stop sync.WaitGroup
	done atomic.Bool

	mu       sync.Mutex
	accepted []placedOrder
	statuses map[int]int // answers of every call, by status
	noRetry  []string    // 503s without Retry-After
	errs     []string    // transport errors (timeouts: a hang)
	slowest  time.Duration

	// settleTimes are the accepted orders' placed → settled times, from
	// their timelines, once requireAllSettled has read them.
	settleTimes []time.Duration
}

// shopperPause is a shopper's pause between orders: six shoppers then offer
// at most six checkouts a second, below what every profile settles on two
// cores (the emulated AWS ones about ten), so a fault's effect is not
// hidden behind a backlog the load itself built.
const shopperPause = time.Second

type placedOrder struct {
	c   customer
	key string
	id  string
}

func startCheckoutStream(t *testing.T, p product, shoppers []customer) *checkoutStream {
	t.Helper()
	return startCheckoutStreamPaused(t, p, shoppers, shopperPause)
}

// startCheckoutStreamPaused is startCheckoutStream with the shoppers'
// pause between orders.
func startCheckoutStreamPaused(t *testing.T, p product, shoppers []customer, pause time.Duration) *checkoutStream {
	t.Helper()
	s := &checkoutStream{product: p, shoppers: shoppers, pause: pause, statuses: map[int]int{}}
	for _, c := range shoppers {
		s.stop.Add(1)
		go func() {
			defer s.stop.Done()
			for !s.done.Load() {
				s.placeOne(c)
				time.Sleep(s.pause)
			}
		}()
	}
	return s
}

// send is one call of a shopper, recorded.
func (s *checkoutStream) send(c customer, method, path string, body any, header ...string) (response, bool) {
	start := time.Now()
	r, err := send(c.c, method, gateway+path, body, append(append([]string(nil), c.auth...), header...)...)
	took := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowest = max(s.slowest, took)
	if err != nil {
		s.errs = append(s.errs, fmt.Sprintf("%s %s after %s: %v", method, path, took.Round(time.Millisecond), err))
		return r, false
	}
	s.statuses[r.Status]++
	if r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
		s.noRetry = append(s.noRetry, fmt.Sprintf("%s %s: %s", method, path, r.Body))
	}
	return r, true
}

func (s *checkoutStream) placeOne(c customer) {
	key := newKey()
	added := false
	wait := retryPause
	for attempt := 0; attempt < 240; attempt++ {
		if attempt > 0 {
			time.Sleep(wait)
			wait = retryPause
		}
		if !added {
			// Adding is not idempotent: a client that lost the answer
			// looks at its cart before adding again.
			if r, ok := s.send(c, http.MethodGet, "/api/v1/cart", nil); ok && r.Status == http.StatusOK && strings.Contains(string(r.Body), s.product.ID) {
				added = true
			} else if r, ok := s.send(c, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": s.product.ID, "quantity": 1}); !ok || r.Status != http.StatusOK {
				wait = retryAfter(r)
				continue
			}
			added = true
		}
		r, ok := s.send(c, http.MethodPost, "/api/v1/checkout", checkoutBody("tok_visa"), "Idempotency-Key", key)
		if ok && r.Status == http.StatusAccepted {
			var a struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal(r.Body, &a); err == nil && a.OrderID != "" {
				s.mu.Lock()
				s.accepted = append(s.accepted, placedOrder{c: c, key: key, id: a.OrderID})
				s.mu.Unlock()
				return
			}
		}
		wait = retryAfter(r)
	}
}

// retryPause is a shopper's pause before retrying a call that failed
// without saying when to come back.
const retryPause = 500 * time.Millisecond

// retryAfter is how long a shopper waits before retrying after r: what its
// Retry-After asks (at most 5 s), else retryPause.
func retryAfter(r response) time.Duration {
	if r.Header == nil {
		return retryPause
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		return retryPause
	}
	return min(time.Duration(secs)*time.Second, 5*time.Second)
}

// finish stops the stream and waits for the shoppers' last retries.
func (s *checkoutStream) finish() {
	s.done.Store(true)
	s.stop.Wait()
}

// acceptedSoFar is how many checkouts were accepted until now.
func (s *checkoutStream) acceptedSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// requireAllSettled checks what a stream of units in stock leaves behind:
// every accepted checkout ends confirmed (charged once) or cancelled
// (keeping no money), none is doubled, each shopper's history holds only
// answered orders, and the stock adds up with nothing left reserved.
func (s *checkoutStream) requireAllSettled(t *testing.T, units int64) (orders, confirmed int) {
	t.Helper()
	require.NotEmpty(t, s.accepted)
	sold := int64(0)
	seen := map[string]bool{}
	for _, a := range s.accepted {
		if seen[a.id] {
			continue // a retried key answered the same order: fine
		}
		seen[a.id] = true
		o := a.c.settled(t, a.id, 2*time.Minute)
		if n := len(o.Timeline); n >= 2 {
			s.settleTimes = append(s.settleTimes, o.Timeline[n-1].At.Sub(o.Timeline[0].At))
		}
		pay, charged := payment(t, a.id)
		switch o.Status {
		case "confirmed":
			confirmed++
			for _, it := range o.Items {
				sold += it.Quantity
			}
			require.True(t, charged, "confirmed order %s has a payment", a.id)
			assert.Equal(t, 1, pay.Charges, "order %s charged once", a.id)
		case "cancelled":
			assert.True(t, !charged || pay.Charges == 0 || pay.Refunded, "cancelled order %s keeps no money", a.id)
			assert.NotEmpty(t, o.Reason, "cancelled order %s says why", a.id)
		default:
			t.Errorf("order %s ended %q", a.id, o.Status)
		}
	}
	total := 0
	for _, c := range s.shoppers {
		var mine struct {
			Items []orderBody `json:"items"`
		}
		r := c.do(t, http.MethodGet, "/api/v1/orders", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.decode(t, &mine)
		for _, o := range mine.Items {
			assert.True(t, seen[o.ID], "order %s was never answered to a checkout", o.ID)
		}
		total += len(mine.Items)
	}
	assert.Equal(t, len(seen), total, "orders in the shoppers' histories")
	var last stockBody
	eventually(t, time.Minute, "stock adds up", func() bool {
		last = stock(t, s.product.ID)
		return last.Reserved == 0 && last.Available == units-sold
	}, func() string {
		return fmt.Sprintf("want available %d reserved 0, have available %d reserved %d (%d units in %d confirmed orders)",
			units-sold, last.Available, last.Reserved, sold, confirmed)
	})
	return len(seen), confirmed
}
