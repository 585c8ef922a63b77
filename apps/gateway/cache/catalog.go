package cache

import (
	"context"
	"net/http"
	"time"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
)

// Source is what the cache fronts: the catalog client.
type Source interface {
	ListProducts(ctx context.Context, q catalogclient.ListQuery) (catalogclient.Response, error)
	Product(ctx context.Context, id string) (catalogclient.Response, error)
	Categories(ctx context.Context) (catalogclient.Response, error)
	CreateProduct(ctx context.Context, body []byte) (catalogclient.Response, error)
	ReplaceProduct(ctx context.Context, id string, body []byte) (catalogclient.Response, error)
	DeleteProduct(ctx context.Context, id string) (catalogclient.Response, error)
}

// Catalog is the catalog client with the cache in front of its reads and
// invalidation behind its writes. REST and GraphQL both use it, so they
// serve the same data.
type Catalog struct {
	src   Source
	store *Store
}

// NewCatalog returns src cached in store.
func NewCatalog(src Source, store *Store) *Catalog { return &Catalog{src: src, store: store} }

// ListProducts returns a page of products, from the cache when it can.
func (c *Catalog) ListProducts(ctx context.Context, q catalogclient.ListQuery) (catalogclient.Response, error) {
	return c.read(ctx, listSlot(q), func(ctx context.Context) (catalogclient.Response, error) {
		return c.src.ListProducts(ctx, q)
	})
}

// Product returns one product, from the cache when it can. id must be in
// canonical form, so that one product has one entry.
func (c *Catalog) Product(ctx context.Context, id string) (catalogclient.Response, error) {
	return c.read(ctx, productSlot(id), func(ctx context.Context) (catalogclient.Response, error) {
		return c.src.Product(ctx, id)
	})
}

// Categories returns all categories, from the cache when it can.
func (c *Catalog) Categories(ctx context.Context) (catalogclient.Response, error) {
	return c.read(ctx, categoriesSlot(), c.src.Categories)
}

// CreateProduct creates a product and invalidates the listings.
func (c *Catalog) CreateProduct(ctx context.Context, body []byte) (catalogclient.Response, error) {
	resp, err := c.src.CreateProduct(ctx, body)
	c.afterWrite(ctx, resp.CreatedID, resp, err)
	return resp, err
}

// ReplaceProduct replaces product id and invalidates it and the listings.
func (c *Catalog) ReplaceProduct(ctx context.Context, id string, body []byte) (catalogclient.Response, error) {
	resp, err := c.src.ReplaceProduct(ctx, id, body)
	c.afterWrite(ctx, id, resp, err)
	return resp, err
}

// DeleteProduct deletes product id and invalidates it and the listings.
func (c *Catalog) DeleteProduct(ctx context.Context, id string) (catalogclient.Response, error) {
	resp, err := c.src.DeleteProduct(ctx, id)
	c.afterWrite(ctx, id, resp, err)
	return resp, err
}

func (c *Catalog) read(ctx context.Context, sl slot, fetch func(context.Context) (catalogclient.Response, error)) (catalogclient.Response, error) {
	if !c.store.enabled {
		return fetch(ctx)
	}
	if c.store.breaker.Open() {
		c.store.lookups.WithLabelValues("error").Inc()
		return fetch(ctx)
	}
	cached, gen, hit, err := c.store.get(ctx, sl)
	switch {
	case err != nil:
		c.store.lookups.WithLabelValues("error").Inc()
		c.store.breaker.Fail(ctx, "lookup", err)
		// Redis is failing: skip the fill too, it would only wait again.
		return fetch(ctx)
	case hit:
		c.store.lookups.WithLabelValues("hit").Inc()
		cached.FromCache = true
		return cached, nil
	}
	c.store.lookups.WithLabelValues("miss").Inc()
	resp, err := fetch(ctx)
	if err != nil || resp.Status != http.StatusOK || !catalogclient.IsJSON(resp.ContentType) {
		// Errors and not-founds are not kept: a product created a moment
		// later must not be hidden behind a cached 404.
		return resp, err
	}
	if err := c.store.put(ctx, sl, gen, resp); err != nil {
		c.store.breaker.Fail(ctx, "fill", err)
	}
	return resp, nil
}

// invalidateTimeout bounds the invalidation after a write; it outlives the
// client's request so that a client hanging up cannot leave stale entries.
const invalidateTimeout = 2 * time.Second

// afterWrite invalidates unless the catalog refused the write outright. A
// failed or unanswered call may still have changed the product, and a 404
// means any copy we hold is of a product that is gone.
func (c *Catalog) afterWrite(ctx context.Context, id string, resp catalogclient.Response, err error) {
	if err == nil && resp.Status >= 400 && resp.Status < 500 && resp.Status != http.StatusNotFound {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invalidateTimeout)
	defer cancel()
	// Invalidate reports its failure to the breaker, which logs it; the
	// write itself succeeded and its answer stands.
	_ = c.store.Invalidate(ctx, id)
}
