// Package catalogclient lists the catalog's products for a rebuild of the
// search index, through Dapr service invocation of the catalog app's
// GET /products (pages of at most 100, in creation order).
package catalogclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Invoker is Dapr HTTP service invocation (*daprx.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Client implements search.Catalog.
type Client struct {
	inv     Invoker
	timeout time.Duration
}

// New returns a Client; timeout bounds one page's call.
func New(inv Invoker, timeout time.Duration) *Client { return &Client{inv: inv, timeout: timeout} }

// maxPageBytes caps one page's answer: 100 products of at most ~8 kB each.
const maxPageBytes = 8 << 20

// product is the catalog's wire form of a product.
type product struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"price"`
	ImageURL  string    `json:"image_url"`
	InStock   bool      `json:"in_stock"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Products implements search.Catalog.
func (c *Client) Products(ctx context.Context, pageToken string, pageSize int) ([]search.Record, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	q := url.Values{"page_size": {strconv.Itoa(pageSize)}}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	resp, err := c.inv.Call(ctx, contracts.AppCatalog, http.MethodGet, "/products", q, nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, "", fmt.Errorf("listing the catalog: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxPageBytes)
	if resp.StatusCode != http.StatusOK {
		detail, _ := io.ReadAll(io.LimitReader(body, 1024))
		return nil, "", fmt.Errorf("listing the catalog: %s: %s", resp.Status, detail)
	}
	var page struct {
		Items []product `json:"items"`
		Next  string    `json:"next_page_token"`
	}
	if err := json.NewDecoder(body).Decode(&page); err != nil {
		return nil, "", fmt.Errorf("decoding a catalog page: %w", err)
	}
	recs := make([]search.Record, len(page.Items))
	for i, p := range page.Items {
		recs[i] = search.Record{
			Product: search.Product{
				ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
				Price: search.Money{Amount: p.Price.Amount, Currency: p.Price.Currency}, ImageURL: p.ImageURL,
				InStock: p.InStock, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
			},
			Version: p.Version,
		}
	}
	return recs, page.Next, nil
}
