package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Memory is an in-memory KV that behaves like state.postgresql v2 as far as
// the users service can tell: ETags, first-write, TTLs (on its own clock)
// and a record of what the outbox would publish. For tests.
type Memory struct {
	mu     sync.Mutex
	now    func() time.Time
	items  map[string]memItem
	seq    int
	events []Event
}

type memItem struct {
	value   []byte
	etag    string
	expires time.Time // zero: never
}

// Event is one message the outbox would publish.
type Event struct {
	Type string
	Key  string
	Data json.RawMessage
}

// NewMemory returns an empty Memory on the given clock (time.Now if nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, items: map[string]memItem{}}
}

// live returns key's item unless it is missing or expired. Callers hold mu.
func (m *Memory) live(key string) (memItem, bool) {
	it, ok := m.items[key]
	if ok && !it.expires.IsZero() && !m.now().Before(it.expires) {
		delete(m.items, key)
		return memItem{}, false
	}
	return it, ok
}

func (m *Memory) put(key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	m.seq++
	it := memItem{value: b, etag: strconv.Itoa(m.seq)}
	if ttl > 0 {
		it.expires = m.now().Add(ttl)
	}
	m.items[key] = it
	return nil
}

// Get implements KV.
func (m *Memory) Get(_ context.Context, key string, v any) (string, error) {
	m.mu.Lock()
	it, ok := m.live(key)
	m.mu.Unlock()
	if !ok {
		return "", ErrNotFound
	}
	return it.etag, json.Unmarshal(it.value, v)
}

// Create implements KV.
func (m *Memory) Create(_ context.Context, key string, v any, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live(key); ok {
		return ErrConflict
	}
	return m.put(key, v, ttl)
}

// Save implements KV.
func (m *Memory) Save(_ context.Context, key string, v any, etag string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if etag != "" {
		if it, ok := m.live(key); !ok || it.etag != etag {
			return ErrConflict
		}
	}
	return m.put(key, v, ttl)
}

// Delete implements KV.
func (m *Memory) Delete(_ context.Context, key, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	if etag != "" && (!ok || it.etag != etag) {
		return ErrConflict
	}
	delete(m.items, key)
	return nil
}

// SaveAndPublish implements KV.
func (m *Memory) SaveAndPublish(_ context.Context, key string, v any, eventType string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.put(key, v, 0); err != nil {
		return err
	}
	m.events = append(m.events, Event{Type: eventType, Key: key, Data: m.items[key].value})
	return nil
}

// Events returns what the outbox would have published, in order.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}

// Dump returns every live key with its raw JSON value (tests look for
// secrets that must not be there).
func (m *Memory) Dump() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]string, len(m.items))
	for k := range m.items {
		if it, ok := m.live(k); ok {
			out[k] = string(it.value)
		}
	}
	return out
}
