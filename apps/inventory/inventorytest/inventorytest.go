// Package inventorytest provides in-memory fakes of the inventory's ports
// for tests: a Store that honours ETags and first-write like the Dapr state
// stores, a Publisher that records events, and a Catalog.
package inventorytest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
)

// Store is an in-memory inventory.Store. Hook, when set, runs before every
// operation with its name ("get", "create", "save", "delete") and key; an
// error it returns fails the operation, which lets tests crash a handler
// half-way or interleave another one at an exact point. Check, when set,
// sees every value written and fails the write if it returns an error.
type Store struct {
	mu    sync.Mutex
	vals  map[string][]byte
	etags map[string]string
	seq   int

	Hook  func(op, key string) error
	Check func(key string, value []byte) error
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{vals: map[string][]byte{}, etags: map[string]string{}} }

func (m *Store) hook(op, key string) error {
	if m.Hook == nil {
		return nil
	}
	return m.Hook(op, key)
}

// Get implements inventory.Store.
func (m *Store) Get(_ context.Context, key string, v any) (string, error) {
	if err := m.hook("get", key); err != nil {
		return "", err
	}
	m.mu.Lock()
	b, ok := m.vals[key]
	etag := m.etags[key]
	m.mu.Unlock()
	if !ok {
		return "", inventory.ErrNotFound
	}
	return etag, json.Unmarshal(b, v)
}

// GetBulk implements inventory.Store.
func (m *Store) GetBulk(_ context.Context, keys []string) ([]inventory.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	items := make([]inventory.Item, len(keys))
	for i, k := range keys {
		items[i] = inventory.Item{Key: k, ETag: m.etags[k], Value: m.vals[k]}
	}
	return items, nil
}

func (m *Store) put(key string, v any, etag string, create bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, exists := m.etags[key]
	if (create && exists) || (!create && (!exists || cur != etag)) {
		return fmt.Errorf("%s: %w", key, inventory.ErrConflict)
	}
	if m.Check != nil {
		if err := m.Check(key, b); err != nil {
			return err
		}
	}
	m.seq++
	m.vals[key], m.etags[key] = b, strconv.Itoa(m.seq)
	return nil
}

// Create implements inventory.Store.
func (m *Store) Create(_ context.Context, key string, v any) error {
	if err := m.hook("create", key); err != nil {
		return err
	}
	return m.put(key, v, "", true)
}

// Save implements inventory.Store; it requires the current ETag.
func (m *Store) Save(_ context.Context, key string, v any, etag string) error {
	if err := m.hook("save", key); err != nil {
		return err
	}
	return m.put(key, v, etag, false)
}

// Delete implements inventory.Store.
func (m *Store) Delete(_ context.Context, key, etag string) error {
	if err := m.hook("delete", key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.etags[key]; !ok || cur != etag {
		return fmt.Errorf("%s: %w", key, inventory.ErrConflict)
	}
	delete(m.vals, key)
	delete(m.etags, key)
	return nil
}

// Keys returns the keys that start with prefix.
func (m *Store) Keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.vals {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// Event is one published event.
type Event struct {
	Topic, Type, Key string
	Data             any
}

// Publisher records what is published. Fail, when set, is consulted first
// and fails the publish if it returns an error.
type Publisher struct {
	mu     sync.Mutex
	events []Event
	Fail   func(eventType, key string) error
}

// Publish implements inventory.Publisher.
func (p *Publisher) Publish(_ context.Context, topic, eventType, key string, data any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Fail != nil {
		if err := p.Fail(eventType, key); err != nil {
			return err
		}
	}
	p.events = append(p.events, Event{Topic: topic, Type: eventType, Key: key, Data: data})
	return nil
}

// Events returns the events of the given types (all when none), in order.
func (p *Publisher) Events(types ...string) []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Event
	for _, e := range p.events {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// Catalog knows the products in Products; Err, when set, is its answer to
// every question.
type Catalog struct {
	Products map[string]bool
	Err      error
}

// ProductExists implements inventory.Catalog.
func (c *Catalog) ProductExists(_ context.Context, id string) (bool, error) {
	if c.Err != nil {
		return false, c.Err
	}
	return c.Products[id], nil
}

// Outcomes records the reservation outcomes the service reports.
type Outcomes struct {
	mu  sync.Mutex
	got []string // "status reason"
}

// Reservation implements inventory.Outcomes.
func (o *Outcomes) Reservation(status inventory.Status, reason string) {
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
