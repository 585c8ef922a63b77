package main

import (
	"sync"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

// shopper is a pool's shopper with what its cart holds as far as it knows.
// One goroutine at a time holds it: the one that took it from idle.
type shopper struct {
	*shop.Shopper
	cart      map[string]int // product id → quantity
	checkouts int            // tried, for idempotency keys
}

func newShopper(s *shop.Shopper) *shopper { return &shopper{Shopper: s, cart: map[string]int{}} }

// idle holds the shoppers with no action in flight, longest idle first, so
// that a shopper's actions are as far apart as the rate allows: a
// shopper has one action at a time, as a customer has one cart.
type idle struct {
	mu   sync.Mutex
	list []*shopper
}

func newIdle(shoppers []*shopper) *idle {
	return &idle{list: append([]*shopper(nil), shoppers...)}
}

// take removes and returns the longest idle shopper who can do k: one
// with something in the cart for a change, remove or checkout; one with
// an empty cart for an add if there is one (else anyone, whose cart then
// holds more); anyone for the rest. Nil when none can.
func (q *idle) take(k Kind) *shopper {
	q.mu.Lock()
	defer q.mu.Unlock()
	pick := -1
	for i, s := range q.list {
		if k.needsCart() && len(s.cart) == 0 {
			continue
		}
		if k == Add && len(s.cart) > 0 {
			if pick < 0 {
				pick = i // anyone, should no empty cart come
			}
			continue
		}
		pick = i
		break
	}
	if pick < 0 {
		return nil
	}
	s := q.list[pick]
	q.list = append(q.list[:pick], q.list[pick+1:]...)
	return s
}

// put returns s, at the back.
func (q *idle) put(s *shopper) {
	q.mu.Lock()
	q.list = append(q.list, s)
	q.mu.Unlock()
}

// len is how many shoppers are idle.
func (q *idle) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.list)
}
