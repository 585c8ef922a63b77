// Package searchtest provides test data and fakes for search: the catalog's
// 64-product seed as records, and an in-memory catalog that pages them.
package searchtest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// SeedCreated is the creation time of the first seed product; each next
// one is a minute younger, so "newest" lists the seed backwards.
func SeedCreated() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) }

// Seed returns apps/catalog/seed/products.json as version-1, in-stock
// records with UUIDv7 ids in seed order.
func Seed(t testing.TB) []search.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "apps", "catalog", "seed", "products.json"))
	require.NoError(t, err)
	var f struct {
		Products []struct {
			SKU         string `json:"sku"`
			Name        string `json:"name"`
			Description string `json:"description"`
			Category    string `json:"category"`
			Price       struct {
				Amount   int64  `json:"amount"`
				Currency string `json:"currency"`
			} `json:"price"`
			ImageURL string `json:"image_url"`
		} `json:"products"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.Len(t, f.Products, 64, "the catalog seed changed size")
	recs := make([]search.Record, len(f.Products))
	for i, p := range f.Products {
		created := SeedCreated().Add(time.Duration(i) * time.Minute)
		recs[i] = search.Record{
			Product: search.Product{
				ID: IDAt(created, i), SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
				Price: search.Money{Amount: p.Price.Amount, Currency: p.Price.Currency}, ImageURL: p.ImageURL,
				InStock: true, CreatedAt: created, UpdatedAt: created,
			},
			Version: 1,
		}
	}
	return recs
}

// IDAt returns a UUIDv7 for time at with n in its random bits, so ids are
// unique and sort by time as the catalog's do.
func IDAt(at time.Time, n int) string {
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70
	u[8] = 0x80
	for i, c := range []byte(strconv.Itoa(n)) {
		u[15-i] = c
	}
	return u.String()
}

// BySKU returns the seed record with sku.
func BySKU(t testing.TB, recs []search.Record, sku string) search.Record {
	t.Helper()
	i := slices.IndexFunc(recs, func(r search.Record) bool { return r.SKU == sku })
	require.GreaterOrEqual(t, i, 0, "no seed product %s", sku)
	return recs[i]
}

// Catalog is an in-memory search.Catalog over products, in order. Fail
// makes the next calls fail; BeforePage runs before each page is served.
type Catalog struct {
	mu         sync.Mutex
	products   []search.Record
	fail       int
	Calls      int
	BeforePage func(page int)
}

// ErrCatalogDown is what a failing Catalog returns.
var ErrCatalogDown = errors.New("catalog unavailable")

// NewCatalog serves products.
func NewCatalog(products []search.Record) *Catalog {
	return &Catalog{products: slices.Clone(products)}
}

// Set replaces the products served.
func (c *Catalog) Set(products []search.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.products = slices.Clone(products)
}

// FailNext makes the next n calls fail.
func (c *Catalog) FailNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = n
}

// Products implements search.Catalog; page tokens are offsets.
func (c *Catalog) Products(ctx context.Context, token string, size int) ([]search.Record, string, error) {
	c.mu.Lock()
	c.Calls++
	failing := c.fail > 0
	if failing {
		c.fail--
	}
	before := c.BeforePage
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if failing {
		return nil, "", ErrCatalogDown
	}
	from := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil {
			return nil, "", err
		}
		from = n
	}
	if before != nil {
		before(from/size + 1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	to := min(from+size, len(c.products))
	page := slices.Clone(c.products[min(from, to):to])
	next := ""
	if to < len(c.products) {
		next = strconv.Itoa(to)
	}
	return page, next, nil
}

// repoRoot is the checkout's root: the folder holding go.mod above the test.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "repository root not found")
		dir = parent
	}
}
