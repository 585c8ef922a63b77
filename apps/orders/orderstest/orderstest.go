// Package orderstest provides in-memory fakes of the orders domain's ports:
// stores that honour ETags and first-writes as the Dapr state stores do,
// with the outbox's all-or-nothing publishing; a catalog; a settable clock.
package orderstest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
)

// table is a versioned key-value map holding JSON, so callers never share
// memory with what is stored. Its users hold their own lock.
type table struct {
	vals map[string][]byte
	vers map[string]int
}

func newTable() table { return table{vals: map[string][]byte{}, vers: map[string]int{}} }

func (t table) get(key string, v any) (string, error) {
	b, ok := t.vals[key]
	if !ok {
		return "", fmt.Errorf("%s: %w", key, orders.ErrNotFound)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return "", err
	}
	return strconv.Itoa(t.vers[key]), nil
}

// check tells whether a write guarded by etag ("" = create) may proceed.
func (t table) check(key, etag string) error {
	_, exists := t.vals[key]
	if (etag == "" && exists) || (etag != "" && (!exists || etag != strconv.Itoa(t.vers[key]))) {
		return fmt.Errorf("%s: %w", key, orders.ErrConflict)
	}
	return nil
}

func (t table) put(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	t.vals[key], t.vers[key] = b, t.vers[key]+1
}

// Hook, when set, is called before every write (op names the method): an
// error fails the write, which then changes nothing; a pause widens the
// window in which concurrent writers race.
type Hook func(op string) error

func (f Hook) check(op string) error {
	if f == nil {
		return nil
	}
	return f(op)
}

// Store is an in-memory orders.Store. Events lists what the outbox
// published, in order.
type Store struct {
	mu          sync.Mutex
	t           table
	events      []orders.Event
	BeforeWrite Hook
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{t: newTable()} }

func orderKey(id string) string         { return "order|" + id }
func indexKey(userID string) string     { return "index|" + userID }
func idemKey(userID, key string) string { return "idempotency|" + userID + "|" + key }

// Events returns the published events.
func (s *Store) Events() []orders.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]orders.Event(nil), s.events...)
}

// Order implements orders.Store.
func (s *Store) Order(_ context.Context, id string) (orders.Order, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o orders.Order
	etag, err := s.t.get(orderKey(id), &o)
	return o, etag, err
}

// Orders implements orders.Store.
func (s *Store) Orders(ctx context.Context, ids []string) ([]orders.Order, error) {
	var out []orders.Order
	for _, id := range ids {
		if o, _, err := s.Order(ctx, id); err == nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// OrderIndex implements orders.Store.
func (s *Store) OrderIndex(_ context.Context, userID string) ([]string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	etag, err := s.t.get(indexKey(userID), &ids)
	return ids, etag, err
}

// Idempotency implements orders.Store.
func (s *Store) Idempotency(_ context.Context, userID, key string) (orders.Idempotency, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec orders.Idempotency
	_, err := s.t.get(idemKey(userID, key), &rec)
	return rec, err
}

// Place implements orders.Store: all or nothing, as one transaction.
func (s *Store) Place(_ context.Context, p orders.Placement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.BeforeWrite.check("Place"); err != nil {
		return err
	}
	user := p.Order.UserID
	if err := s.t.check(idemKey(user, p.Idempotency.Key), ""); err != nil {
		return err
	}
	if err := s.t.check(indexKey(user), p.IndexETag); err != nil {
		return err
	}
	s.t.put(orderKey(p.Order.ID), p.Order)
	s.t.put(idemKey(user, p.Idempotency.Key), p.Idempotency)
	s.t.put(indexKey(user), p.Index)
	s.events = append(s.events, p.Event)
	return nil
}

// Update implements orders.Store.
func (s *Store) Update(_ context.Context, o orders.Order, etag string, ev orders.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.BeforeWrite.check("Update"); err != nil {
		return err
	}
	if err := s.t.check(orderKey(o.ID), etag); err != nil {
		return err
	}
	s.t.put(orderKey(o.ID), o)
	s.events = append(s.events, ev)
	return nil
}

// Carts is an in-memory orders.CartStore.
type Carts struct {
	mu          sync.Mutex
	t           table
	BeforeWrite Hook
}

// NewCarts returns an empty Carts.
func NewCarts() *Carts { return &Carts{t: newTable()} }

// Cart implements orders.CartStore.
func (c *Carts) Cart(_ context.Context, userID string) (orders.Cart, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var cart orders.Cart
	etag, err := c.t.get(userID, &cart)
	return cart, etag, err
}

// SaveCart implements orders.CartStore.
func (c *Carts) SaveCart(_ context.Context, userID string, cart orders.Cart, etag string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.BeforeWrite.check("SaveCart"); err != nil {
		return err
	}
	if err := c.t.check(userID, etag); err != nil {
		return err
	}
	c.t.put(userID, cart)
	return nil
}

// Catalog is an in-memory orders.Catalog.
type Catalog struct {
	mu       sync.Mutex
	products map[string]orders.Product
	calls    int
	delay    time.Duration
}

// NewCatalog returns a catalog selling products.
func NewCatalog(products ...orders.Product) *Catalog {
	c := &Catalog{products: map[string]orders.Product{}}
	for _, p := range products {
		c.Put(p)
	}
	return c
}

// Put adds or replaces a product.
func (c *Catalog) Put(p orders.Product) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.products[p.ID] = p
}

// Delete stops selling a product.
func (c *Catalog) Delete(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.products, id)
}

// SetDelay makes every Product call take d, which widens the window in
// which concurrent checkouts race.
func (c *Catalog) SetDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delay = d
}

// Calls counts Product calls.
func (c *Catalog) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Product implements orders.Catalog.
func (c *Catalog) Product(_ context.Context, id string) (orders.Product, error) {
	c.mu.Lock()
	c.calls++
	p, ok := c.products[id]
	delay := c.delay
	c.mu.Unlock()
	time.Sleep(delay)
	if !ok {
		return orders.Product{}, fmt.Errorf("product %s: %w", id, orders.ErrUnknownProduct)
	}
	return p, nil
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Env is the orders domain over fakes, in the shop currency USD.
type Env struct {
	Service  *orders.Service
	Store    *Store
	Carts    *Carts
	Catalog  *Catalog
	Clock    *Clock
	Outcomes *Outcomes
	// Config is what Replica builds a Service with: USD, and the saga's
	// backpressure (Pace) off unless a test sets it.
	Config orders.Config
}

// New returns an Env whose catalog sells products, its clock at
// 2026-11-24 12:00 UTC.
func New(products ...orders.Product) *Env {
	e := &Env{
		Store: NewStore(), Carts: NewCarts(), Catalog: NewCatalog(products...),
		Clock:    NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)),
		Outcomes: &Outcomes{},
		Config:   orders.Config{Currency: "USD"},
	}
	e.Service = e.Replica()
	return e
}

// Replica returns another Service over the same stores, catalog and clock,
// as a second instance of the app would be: it shares no in-process lock.
func (e *Env) Replica() *orders.Service {
	return orders.NewService(e.Carts, e.Store, e.Catalog, e.Config, e.Clock.Now,
		slog.New(slog.DiscardHandler), e.Outcomes)
}

// Outcomes records what the service says became of orders.
type Outcomes struct {
	mu      sync.Mutex
	placed  int
	settled []string // "status reason after"
}

// Placed implements orders.Outcomes.
func (o *Outcomes) Placed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.placed++
}

// Settled implements orders.Outcomes.
func (o *Outcomes) Settled(status, reason string, after time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settled = append(o.settled, strings.TrimSpace(status+" "+reason+" "+after.String()))
}

// Counts returns how many orders were placed and each settlement so far.
func (o *Outcomes) Counts() (placed int, settled []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.placed, slices.Clone(o.settled)
}
