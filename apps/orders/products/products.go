// Package products reads products from the catalog app through Dapr
// service invocation (GET /products/{id}), for the cart and checkout.
package products

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// maxAnswer caps a product answer read into memory.
const maxAnswer = 1 << 20

// Invoker is Dapr HTTP service invocation (*daprx.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Config tunes the calls.
type Config struct {
	// Timeout bounds one call (CATALOG_TIMEOUT, default 5s).
	Timeout time.Duration
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{Timeout: l.Duration("CATALOG_TIMEOUT", 5*time.Second)}
	if err := l.Err(); err != nil {
		return cfg, err
	}
	if cfg.Timeout <= 0 {
		return cfg, fmt.Errorf("config CATALOG_TIMEOUT: must be positive")
	}
	return cfg, nil
}

// Client implements orders.Catalog.
type Client struct {
	inv Invoker
	cfg Config
}

// New returns a Client calling the catalog through inv.
func New(inv Invoker, cfg Config) *Client { return &Client{inv: inv, cfg: cfg} }

// product is the part of the catalog's product JSON that orders uses.
type product struct {
	ID    string          `json:"id"`
	SKU   string          `json:"sku"`
	Name  string          `json:"name"`
	Price contracts.Money `json:"price"`
}

// Product implements orders.Catalog. Only the catalog's own 404 (a
// problem+json) means an unknown product; any other failure, the sidecar's
// included, is an error to retry.
func (c *Client) Product(ctx context.Context, id string) (orders.Product, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.inv.Call(ctx, contracts.AppCatalog, http.MethodGet, "products/"+url.PathEscape(id), nil, nil,
		http.Header{"Accept": {"application/json, " + problem.ContentType}})
	if err != nil {
		return orders.Product{}, fmt.Errorf("catalog product %s: %w", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return orders.Product{}, fmt.Errorf("catalog product %s: reading the answer: %w", id, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var p product
		if err := json.Unmarshal(body, &p); err != nil || p.ID == "" || p.Price.Currency == "" {
			return orders.Product{}, fmt.Errorf("catalog product %s: unexpected answer (%v)", id, err)
		}
		return orders.Product(p), nil
	case resp.StatusCode == http.StatusNotFound && isProblem(resp.Header.Get("Content-Type")):
		return orders.Product{}, fmt.Errorf("product %s: %w", id, orders.ErrUnknownProduct)
	default:
		return orders.Product{}, fmt.Errorf("catalog product %s: answered %s", id, resp.Status)
	}
}

func isProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problem.ContentType
}

// Module provides the Client as the domain's orders.Catalog.
var Module = fx.Provide(func(inv *daprx.Invoker) (orders.Catalog, error) {
	cfg, err := LoadConfig(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return New(inv, cfg), nil
})
