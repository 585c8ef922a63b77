// Package catalog is the catalog domain: products, categories, SKU
// uniqueness and ordered listing. It knows neither Gin nor Dapr; it works
// through Store and Set, which the store package implements.
package catalog

import (
	"context"
	"errors"
	"time"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64
	Currency string
}

// Product is a sellable item. Version grows by one with every change.
// InStock follows the inventory's stock.changed events; StockVersion is the
// version of the last one applied, so repeated and stale ones are dropped.
type Product struct {
	ID           string
	SKU          string
	Name         string
	Description  string
	Category     string
	Price        Money
	ImageURL     string
	InStock      bool
	StockVersion int64
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Category groups products; its ID is a slug such as "kitchen".
type Category struct {
	ID   string
	Name string
}

// Draft is what an admin supplies to create or replace a product.
type Draft struct {
	SKU         string
	Name        string
	Description string
	Category    string
	Price       Money
	ImageURL    string
}

// Page is one page of a listing; Next is empty on the last page.
type Page struct {
	Items []Product
	Next  string
}

// Errors the domain reports; handlers map them to HTTP answers.
var (
	ErrNotFound        = errors.New("product not found")
	ErrDuplicateSKU    = errors.New("a product with this SKU exists")
	ErrUnknownCategory = errors.New("unknown category")
	// ErrConflict is a store-level ETag or first-write clash.
	ErrConflict = errors.New("concurrent modification")
)

// SKUClaim records which product owns a SKU.
type SKUClaim struct {
	ProductID string
	ClaimedAt time.Time
}

// Store persists the catalog. Product writes publish the matching
// product.* event atomically with the write (stored if and only if published).
type Store interface {
	Product(ctx context.Context, id string) (p Product, etag string, err error) // ErrNotFound
	Products(ctx context.Context, ids []string) ([]Product, error)              // missing ids skipped, order kept
	CreateProduct(ctx context.Context, p Product) error
	UpdateProduct(ctx context.Context, p Product, etag string) error // ErrConflict
	// RecordStockVersion stores p without publishing an event: only its
	// StockVersion changed, which no consumer sees.
	RecordStockVersion(ctx context.Context, p Product, etag string) error // ErrConflict
	DeleteProduct(ctx context.Context, p Product, etag string) error      // ErrConflict

	ClaimSKU(ctx context.Context, sku string, c SKUClaim) error                    // ErrConflict when taken
	SKUClaim(ctx context.Context, sku string) (c SKUClaim, etag string, err error) // ErrNotFound
	ReplaceSKUClaim(ctx context.Context, sku string, c SKUClaim, etag string) error
	ReleaseSKU(ctx context.Context, sku, etag string) error

	Categories(ctx context.Context) ([]Category, string, error) // empty when none
	SaveCategories(ctx context.Context, cs []Category, etag string) error

	// Set returns the ordered id set called name.
	Set(name string) Set
}

// Set is an ordered set of product ids.
type Set interface {
	Add(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
	After(ctx context.Context, after string, limit int) (ids []string, more bool, err error)
}

const setAll = "products"

func categorySet(id string) string { return "category:" + id }
