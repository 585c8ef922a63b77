// Package store keeps the catalog in the Dapr state store contracts.CatalogStore.
// Each product write and its product.* event on the catalog topic are one
// unit (the kit's outbox).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/index"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Keys. The state store prefixes them with the app id.
const (
	categoriesKey = "categories"
)

func productKey(id string) string   { return "product|" + id }
func tombstoneKey(id string) string { return "deleted|" + id }
func skuKey(sku string) string      { return "sku|" + sku }

// Store implements catalog.Store.
type Store struct {
	state  *daprx.State
	outbox *outbox.Outbox
}

// New returns the store on contracts.CatalogStore; ob is that store's outbox.
func New(c dapr.Client, ob *outbox.Outbox) *Store {
	return &Store{state: daprx.NewState(c, contracts.CatalogStore), outbox: ob}
}

// productRecord is the stored form of a product and the data of its
// product.* events (a superset of contracts.ProductEvent).
type productRecord struct {
	contracts.ProductEvent
	// StockVersion is the version of the last stock.changed event applied.
	StockVersion int64     `json:"stock_version,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

func toRecord(p catalog.Product) productRecord {
	return productRecord{
		ProductEvent: contracts.ProductEvent{
			ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
			Price:    contracts.Money{Amount: p.Price.Amount, Currency: p.Price.Currency},
			ImageURL: p.ImageURL, InStock: p.InStock, Version: p.Version, UpdatedAt: p.UpdatedAt,
		},
		StockVersion: p.StockVersion,
		CreatedAt:    p.CreatedAt,
	}
}

func (r productRecord) product() catalog.Product {
	return catalog.Product{
		ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description, Category: r.Category,
		Price:    catalog.Money{Amount: r.Price.Amount, Currency: r.Price.Currency},
		ImageURL: r.ImageURL, InStock: r.InStock, StockVersion: r.StockVersion, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// domainErr translates daprx errors into the catalog's.
func domainErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", catalog.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", catalog.ErrConflict, err)
	}
	return err
}

// Product implements catalog.Store.
func (s *Store) Product(ctx context.Context, id string) (catalog.Product, string, error) {
	var r productRecord
	etag, err := s.state.Get(ctx, productKey(id), &r)
	if err != nil {
		return catalog.Product{}, "", domainErr(err)
	}
	return r.product(), etag, nil
}

// Products implements catalog.Store.
func (s *Store) Products(ctx context.Context, ids []string) ([]catalog.Product, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = productKey(id)
	}
	items, err := s.state.GetBulk(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]catalog.Product, 0, len(items))
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var r productRecord
		if err := it.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r.product())
	}
	return out, nil
}

// announce is one product.* event on the catalog topic, keyed by product.
func announce(id, typ string, data any) []outbox.Event {
	return []outbox.Event{{Topic: contracts.TopicCatalog, Type: typ, Key: id, Data: data}}
}

// CreateProduct implements catalog.Store.
func (s *Store) CreateProduct(ctx context.Context, p catalog.Product) error {
	r := toRecord(p)
	return domainErr(s.outbox.Transact(ctx, announce(p.ID, contracts.ProductCreated, r),
		daprx.Op{Key: productKey(p.ID), Value: r}))
}

// UpdateProduct implements catalog.Store.
func (s *Store) UpdateProduct(ctx context.Context, p catalog.Product, etag string) error {
	r := toRecord(p)
	return domainErr(s.outbox.Transact(ctx, announce(p.ID, contracts.ProductUpdated, r),
		daprx.Op{Key: productKey(p.ID), Value: r, ETag: etag}))
}

// RecordStockVersion implements catalog.Store: a single-key write, not
// announced.
func (s *Store) RecordStockVersion(ctx context.Context, p catalog.Product, etag string) error {
	return domainErr(s.state.Save(ctx, productKey(p.ID), toRecord(p), etag))
}

// DeleteProduct implements catalog.Store. A tombstone keeps the last
// version for late consumers; it is also the product.deleted event's data.
func (s *Store) DeleteProduct(ctx context.Context, p catalog.Product, etag string) error {
	r := toRecord(p)
	tomb := contracts.ProductEvent{ID: r.ID, SKU: r.SKU, Category: r.Category, Price: r.Price, Version: r.Version, Deleted: true, UpdatedAt: r.UpdatedAt}
	return domainErr(s.outbox.Transact(ctx, announce(p.ID, contracts.ProductDeleted, tomb),
		daprx.Op{Key: productKey(p.ID), ETag: etag, Delete: true},
		daprx.Op{Key: tombstoneKey(p.ID), Value: tomb},
	))
}

type skuRecord struct {
	ProductID string    `json:"product_id"`
	ClaimedAt time.Time `json:"claimed_at"`
}

// ClaimSKU implements catalog.Store.
func (s *Store) ClaimSKU(ctx context.Context, sku string, c catalog.SKUClaim) error {
	return domainErr(s.state.Create(ctx, skuKey(sku), skuRecord(c)))
}

// SKUClaim implements catalog.Store.
func (s *Store) SKUClaim(ctx context.Context, sku string) (catalog.SKUClaim, string, error) {
	var r skuRecord
	etag, err := s.state.Get(ctx, skuKey(sku), &r)
	if err != nil {
		return catalog.SKUClaim{}, "", domainErr(err)
	}
	return catalog.SKUClaim(r), etag, nil
}

// ReplaceSKUClaim implements catalog.Store.
func (s *Store) ReplaceSKUClaim(ctx context.Context, sku string, c catalog.SKUClaim, etag string) error {
	return domainErr(s.state.Save(ctx, skuKey(sku), skuRecord(c), etag))
}

// ReleaseSKU implements catalog.Store.
func (s *Store) ReleaseSKU(ctx context.Context, sku, etag string) error {
	return domainErr(s.state.Delete(ctx, skuKey(sku), etag))
}

type categoryRecord struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Categories implements catalog.Store.
func (s *Store) Categories(ctx context.Context) ([]catalog.Category, string, error) {
	var rs []categoryRecord
	etag, err := s.state.Get(ctx, categoriesKey, &rs)
	if errors.Is(err, daprx.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	cs := make([]catalog.Category, len(rs))
	for i, r := range rs {
		cs[i] = catalog.Category(r)
	}
	return cs, etag, nil
}

// SaveCategories implements catalog.Store; without an etag it creates.
func (s *Store) SaveCategories(ctx context.Context, cs []catalog.Category, etag string) error {
	rs := make([]categoryRecord, len(cs))
	for i, c := range cs {
		rs[i] = categoryRecord(c)
	}
	if etag == "" {
		return domainErr(s.state.Create(ctx, categoriesKey, rs))
	}
	return domainErr(s.state.Save(ctx, categoriesKey, rs, etag))
}

// Set implements catalog.Store.
func (s *Store) Set(name string) catalog.Set { return index.New(kv{s.state}, name) }

// kv adapts daprx.State to index.KV.
type kv struct{ state *daprx.State }

func indexErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", index.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", index.ErrConflict, err)
	}
	return err
}

func (k kv) Get(ctx context.Context, key string, v any) (string, error) {
	etag, err := k.state.Get(ctx, key, v)
	return etag, indexErr(err)
}

func (k kv) Put(ctx context.Context, key string, v any, etag string) error {
	return indexErr(k.state.Save(ctx, key, v, etag))
}

func (k kv) Create(ctx context.Context, key string, v any) error {
	return indexErr(k.state.Create(ctx, key, v))
}

// Module provides the store as the catalog's catalog.Store.
var Module = fx.Options(
	outbox.Module(contracts.CatalogStore),
	fx.Provide(fx.Annotate(New, fx.As(new(catalog.Store)))),
)
