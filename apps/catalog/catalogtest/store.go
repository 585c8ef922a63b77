// Package catalogtest provides an in-memory catalog.Store for tests.
package catalogtest

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/index"
)

// Store is an in-memory catalog.Store with ETags, as the Dapr state stores
// behave; Events records what the outbox would publish.
type Store struct {
	mu     sync.Mutex
	vals   map[string][]byte
	vers   map[string]int
	Events []string
}

func NewStore() *Store { return &Store{vals: map[string][]byte{}, vers: map[string]int{}} }

func (m *Store) get(key string, v any) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.vals[key]
	if !ok {
		return "", catalog.ErrNotFound
	}
	return strconv.Itoa(m.vers[key]), json.Unmarshal(b, v)
}

func (m *Store) put(key string, v any, etag string, create bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, exists := m.vals[key]
	if (create && exists) || (etag != "" && etag != strconv.Itoa(m.vers[key])) {
		return catalog.ErrConflict
	}
	b, _ := json.Marshal(v)
	m.vals[key], m.vers[key] = b, m.vers[key]+1
	return nil
}

func (m *Store) del(key, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if etag != "" && etag != strconv.Itoa(m.vers[key]) {
		return catalog.ErrConflict
	}
	delete(m.vals, key)
	return nil
}

// record notes an outbox event; concurrent writers may record at once.
func (m *Store) record(ev string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Events = append(m.Events, ev)
}

func (m *Store) Product(_ context.Context, id string) (catalog.Product, string, error) {
	var p catalog.Product
	etag, err := m.get("p|"+id, &p)
	return p, etag, err
}

func (m *Store) Products(ctx context.Context, ids []string) ([]catalog.Product, error) {
	var out []catalog.Product
	for _, id := range ids {
		if p, _, err := m.Product(ctx, id); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m *Store) CreateProduct(_ context.Context, p catalog.Product) error {
	m.record("created:" + p.ID)
	return m.put("p|"+p.ID, p, "", true)
}

func (m *Store) UpdateProduct(_ context.Context, p catalog.Product, etag string) error {
	if err := m.put("p|"+p.ID, p, etag, false); err != nil {
		return err
	}
	m.record("updated:" + p.ID)
	return nil
}

// RecordStockVersion stores p without an event, as the real store does.
func (m *Store) RecordStockVersion(_ context.Context, p catalog.Product, etag string) error {
	return m.put("p|"+p.ID, p, etag, false)
}

func (m *Store) DeleteProduct(_ context.Context, p catalog.Product, etag string) error {
	if err := m.del("p|"+p.ID, etag); err != nil {
		return err
	}
	m.record("deleted:" + p.ID)
	return nil
}

func (m *Store) ClaimSKU(_ context.Context, sku string, c catalog.SKUClaim) error {
	return m.put("sku|"+sku, c, "", true)
}

func (m *Store) SKUClaim(_ context.Context, sku string) (catalog.SKUClaim, string, error) {
	var c catalog.SKUClaim
	etag, err := m.get("sku|"+sku, &c)
	return c, etag, err
}

func (m *Store) ReplaceSKUClaim(_ context.Context, sku string, c catalog.SKUClaim, etag string) error {
	return m.put("sku|"+sku, c, etag, false)
}

func (m *Store) ReleaseSKU(_ context.Context, sku, etag string) error {
	return m.del("sku|"+sku, etag)
}

func (m *Store) Categories(context.Context) ([]catalog.Category, string, error) {
	var cs []catalog.Category
	etag, err := m.get("categories", &cs)
	if err == catalog.ErrNotFound {
		return nil, "", nil
	}
	return cs, etag, err
}

func (m *Store) SaveCategories(_ context.Context, cs []catalog.Category, etag string) error {
	return m.put("categories", cs, etag, etag == "")
}

func (m *Store) Set(name string) catalog.Set { return index.New(kvAdapter{m}, name) }

type kvAdapter struct{ m *Store }

func mapErr(err error) error {
	switch err {
	case catalog.ErrNotFound:
		return index.ErrNotFound
	case catalog.ErrConflict:
		return index.ErrConflict
	}
	return err
}

func (k kvAdapter) Get(_ context.Context, key string, v any) (string, error) {
	etag, err := k.m.get(key, v)
	return etag, mapErr(err)
}

func (k kvAdapter) Put(_ context.Context, key string, v any, etag string) error {
	return mapErr(k.m.put(key, v, etag, false))
}

func (k kvAdapter) Create(_ context.Context, key string, v any) error {
	return mapErr(k.m.put(key, v, "", true))
}
