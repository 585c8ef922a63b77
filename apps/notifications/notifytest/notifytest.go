// Package notifytest provides in-memory fakes of notify.Store and
// notify.Mailer for tests.
package notifytest

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
)

// Store is an in-memory notify.Store with ETags, as the Dapr state stores
// behave: values are copied through JSON, every write bumps the ETag, and
// a call with an ended context fails.
type Store struct {
	mu   sync.Mutex
	vals map[string][]byte
	vers map[string]int
	// FailSaveDelivery, when set, is returned by SaveDelivery (a store
	// that fails right after an e-mail went out).
	FailSaveDelivery error
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{vals: map[string][]byte{}, vers: map[string]int{}} }

func (m *Store) get(key string, v any) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.vals[key]
	if !ok {
		return "", notify.ErrNotFound
	}
	return strconv.Itoa(m.vers[key]), json.Unmarshal(b, v)
}

// put writes v; create demands a free key, a non-empty etag the current one.
func (m *Store) put(key string, v any, etag string, create bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, exists := m.vals[key]
	if (create && exists) || (!create && (!exists || etag != strconv.Itoa(m.vers[key]))) {
		return "", notify.ErrConflict
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	m.vals[key], m.vers[key] = b, m.vers[key]+1
	return strconv.Itoa(m.vers[key]), nil
}

// Delivery implements notify.Store.
func (m *Store) Delivery(ctx context.Context, key string) (notify.Delivery, string, error) {
	var d notify.Delivery
	if err := ctx.Err(); err != nil {
		return d, "", err
	}
	etag, err := m.get("delivery|"+key, &d)
	return d, etag, err
}

// CreateDelivery implements notify.Store.
func (m *Store) CreateDelivery(ctx context.Context, key string, d notify.Delivery) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return m.put("delivery|"+key, d, "", true)
}

// SaveDelivery implements notify.Store.
func (m *Store) SaveDelivery(ctx context.Context, key string, d notify.Delivery, etag string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if m.FailSaveDelivery != nil {
		return "", m.FailSaveDelivery
	}
	return m.put("delivery|"+key, d, etag, false)
}

// DeleteDelivery implements notify.Store.
func (m *Store) DeleteDelivery(ctx context.Context, key, etag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := "delivery|" + key
	if _, ok := m.vals[k]; ok && etag != strconv.Itoa(m.vers[k]) {
		return notify.ErrConflict
	}
	delete(m.vals, k)
	return nil
}

// Log implements notify.Store.
func (m *Store) Log(ctx context.Context, userID string) ([]notify.Entry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var entries []notify.Entry
	etag, err := m.get("log|"+userID, &entries)
	if err == notify.ErrNotFound {
		return nil, "", nil
	}
	return entries, etag, err
}

// SaveLog implements notify.Store.
func (m *Store) SaveLog(ctx context.Context, userID string, entries []notify.Entry, etag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := m.put("log|"+userID, entries, etag, etag == "")
	return err
}

// Mailer is a notify.Mailer that keeps what it sent. Fail, when set, is
// returned instead of sending; AfterSend, when set, runs after each send.
type Mailer struct {
	mu        sync.Mutex
	sent      []notify.Mail
	Fail      error
	AfterSend func()
}

// Send implements notify.Mailer.
func (m *Mailer) Send(_ context.Context, mail notify.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.sent = append(m.sent, mail)
	if m.AfterSend != nil {
		m.AfterSend()
	}
	return nil
}

// Sent returns the e-mails sent so far.
func (m *Mailer) Sent() []notify.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]notify.Mail(nil), m.sent...)
}
