// Package paymentstest assembles the payments service for tests: the real
// domain and sandbox provider over in-memory stores with ETags, a provider
// wrapper that counts (and can stall or fail) calls, and a settable clock.
package paymentstest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// values is a map of JSON values with versions as ETags, as the Dapr state
// stores behave: a write with a stale ETag or a create of a taken key fails.
type values struct {
	vals map[string][]byte
	vers map[string]int
}

func newValues() values { return values{vals: map[string][]byte{}, vers: map[string]int{}} }

func (m values) get(key string, v any) (string, bool) {
	b, ok := m.vals[key]
	if !ok {
		return "", false
	}
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
	return strconv.Itoa(m.vers[key]), true
}

// put writes v under key unless the etag is stale or create finds the key
// taken; it reports whether it wrote.
func (m values) put(key string, v any, etag string, create bool) bool {
	_, exists := m.vals[key]
	if (create && exists) || (etag != "" && etag != strconv.Itoa(m.vers[key])) {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	m.vals[key], m.vers[key] = b, m.vers[key]+1
	return true
}

// Store is an in-memory payments.Store. Published records what the outbox
// would publish.
type Store struct {
	mu          sync.Mutex
	vals        values
	events      []payments.Event
	failPublish []error
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{vals: newValues()} }

// FailNextPublish makes the next SaveAndPublish fail with err without
// writing, as if the process died between the provider call and the write.
func (s *Store) FailNextPublish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPublish = append(s.failPublish, err)
}

// Published returns the events published so far, in order.
func (s *Store) Published() []payments.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]payments.Event(nil), s.events...)
}

// Payment implements payments.Store.
func (s *Store) Payment(_ context.Context, orderID string) (payments.Payment, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p payments.Payment
	etag, ok := s.vals.get(orderID, &p)
	if !ok {
		return payments.Payment{}, "", payments.ErrNotFound
	}
	return p, etag, nil
}

// Create implements payments.Store.
func (s *Store) Create(_ context.Context, p payments.Payment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.vals.put(p.OrderID, p, "", true) {
		return payments.ErrConflict
	}
	return nil
}

// Save implements payments.Store.
func (s *Store) Save(_ context.Context, p payments.Payment, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.vals.put(p.OrderID, p, etag, false) {
		return payments.ErrConflict
	}
	return nil
}

// SaveAndPublish implements payments.Store.
func (s *Store) SaveAndPublish(_ context.Context, p payments.Payment, etag string, ev payments.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failPublish) > 0 {
		err := s.failPublish[0]
		s.failPublish = s.failPublish[1:]
		return err
	}
	if !s.vals.put(p.OrderID, p, etag, false) {
		return payments.ErrConflict
	}
	s.events = append(s.events, ev)
	return nil
}

// KV is an in-memory sandbox.KV.
type KV struct {
	mu   sync.Mutex
	vals values
}

// NewKV returns an empty KV.
func NewKV() *KV { return &KV{vals: newValues()} }

// Get implements sandbox.KV.
func (k *KV) Get(_ context.Context, key string, v any) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	etag, ok := k.vals.get(key, v)
	if !ok {
		return "", sandbox.ErrNotFound
	}
	return etag, nil
}

// Create implements sandbox.KV.
func (k *KV) Create(_ context.Context, key string, v any) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.vals.put(key, v, "", true) {
		return sandbox.ErrConflict
	}
	return nil
}

// Save implements sandbox.KV.
func (k *KV) Save(_ context.Context, key string, v any, etag string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.vals.put(key, v, etag, false) {
		return sandbox.ErrConflict
	}
	return nil
}

// Provider wraps a payments.Provider and counts the calls made to it per
// order. Stall, when set, holds every Charge until it is closed; Fail,
// when set, makes calls fail without reaching the wrapped provider.
type Provider struct {
	payments.Provider

	mu      sync.Mutex
	charges map[string]int
	refunds map[string]int
	stall   chan struct{}
	fail    error
}

// NewProvider wraps p.
func NewProvider(p payments.Provider) *Provider {
	return &Provider{Provider: p, charges: map[string]int{}, refunds: map[string]int{}}
}

// Stall holds every Charge until the returned function is called.
func (p *Provider) Stall() (release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := make(chan struct{})
	p.stall = ch
	return sync.OnceFunc(func() {
		p.mu.Lock()
		p.stall = nil
		p.mu.Unlock()
		close(ch)
	})
}

// Fail makes calls fail with err (nil: they reach the provider again).
func (p *Provider) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

// ChargeCalls returns how often Charge was called for the order.
func (p *Provider) ChargeCalls(orderID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.charges[orderID]
}

// RefundCalls returns how often Refund was called for the order.
func (p *Provider) RefundCalls(orderID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refunds[orderID]
}

// Charge implements payments.Provider.
func (p *Provider) Charge(ctx context.Context, req payments.ChargeRequest) (payments.ChargeResult, error) {
	p.mu.Lock()
	p.charges[req.OrderID]++
	stall, fail := p.stall, p.fail
	p.mu.Unlock()
	if stall != nil {
		<-stall
	}
	if fail != nil {
		return payments.ChargeResult{}, fail
	}
	return p.Provider.Charge(ctx, req)
}

// Refund implements payments.Provider.
func (p *Provider) Refund(ctx context.Context, req payments.RefundRequest) (payments.RefundResult, error) {
	p.mu.Lock()
	p.refunds[req.OrderID]++
	fail := p.fail
	p.mu.Unlock()
	if fail != nil {
		return payments.RefundResult{}, fail
	}
	return p.Provider.Refund(ctx, req)
}

// Config is the Env's payment configuration.
var Config = payments.Config{ProviderTimeout: time.Second, Lease: 10 * time.Second}

// Env is a payments service without a sidecar.
type Env struct {
	Clock    *Clock
	Store    *Store
	Ledger   *KV
	Sandbox  *sandbox.Sandbox
	Provider *Provider
	Service  *payments.Service
	Log      *slog.Logger
	Outcomes *Outcomes
}

// Outcomes records the final statuses the service reports.
type Outcomes struct {
	mu  sync.Mutex
	got []string // "status reason"
}

// Settled implements payments.Outcomes.
func (o *Outcomes) Settled(status payments.Status, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, strings.TrimSpace(string(status)+" "+reason))
}

// All returns every outcome reported so far.
func (o *Outcomes) All() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.got)
}

// New returns an Env over empty stores, its clock at a fixed time.
func New(t testing.TB) *Env {
	t.Helper()
	e := &Env{
		Clock:    &Clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
		Store:    NewStore(),
		Ledger:   NewKV(),
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Outcomes: &Outcomes{},
	}
	e.Sandbox = sandbox.New(e.Ledger).WithClock(e.Clock.Now)
	e.Provider = NewProvider(e.Sandbox)
	e.Service = payments.NewService(e.Store, e.Provider, Config, e.Log, e.Outcomes).WithClock(e.Clock.Now)
	return e
}
