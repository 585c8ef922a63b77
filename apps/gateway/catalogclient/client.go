// Package catalogclient calls the catalog app through the Dapr sidecar. It
// hands back the catalog's answers as they are (status, content type, body)
// so the REST API can pass them to clients unchanged, problem+json included,
// and decodes them into typed values for GraphQL.
package catalogclient

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the catalog could not be reached or did not answer:
// the sidecar is down, the catalog has no healthy instance, or the call
// timed out. Clients see a 503.
var ErrUnavailable = errors.New("the catalog is unavailable")

// Invoker is Dapr HTTP service invocation (*outbound.Invoker).
type Invoker = servicecall.Invoker

// Config tunes the calls; the largest legitimate answer is a listing of 100
// products.
type Config = servicecall.Config

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by CATALOG_TIMEOUT and CATALOG_MAX_RESPONSE_BYTES.
// The largest legitimate answer is a listing of 100 products.
var Module = servicecall.Provide("CATALOG", 8<<20, New)

// Response is one answer of the catalog.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
	// CreatedID is the id of the product a 201 created, taken from the
	// catalog's Location, so the gateway can point clients at its own URL.
	CreatedID string
	// RetryAfter is the catalog's Retry-After header, if any.
	RetryAfter string
	// FromCache is set by the response cache when it served the answer.
	FromCache bool
}

// Client calls the catalog app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv Invoker, cfg Config) *Client {
	return &Client{call: servicecall.New(contracts.AppCatalog, inv, cfg, ErrUnavailable)}
}

// ListProducts fetches one page of products.
func (c *Client) ListProducts(ctx context.Context, q ListQuery) (Response, error) {
	return c.do(ctx, http.MethodGet, "products", q.values(), nil)
}

// Product fetches one product; an unknown id is a 404 response, not an error.
func (c *Client) Product(ctx context.Context, id string) (Response, error) {
	return c.do(ctx, http.MethodGet, "products/"+url.PathEscape(id), nil, nil)
}

// Categories fetches all categories.
func (c *Client) Categories(ctx context.Context) (Response, error) {
	return c.do(ctx, http.MethodGet, "categories", nil, nil)
}

// CreateProduct sends a JSON product body to be created.
func (c *Client) CreateProduct(ctx context.Context, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPost, "products", nil, body)
}

// ReplaceProduct sends a JSON product body to replace product id.
func (c *Client) ReplaceProduct(ctx context.Context, id string, body []byte) (Response, error) {
	return c.do(ctx, http.MethodPut, "products/"+url.PathEscape(id), nil, body)
}

// DeleteProduct deletes product id.
func (c *Client) DeleteProduct(ctx context.Context, id string) (Response, error) {
	return c.do(ctx, http.MethodDelete, "products/"+url.PathEscape(id), nil, nil)
}

func (c *Client) do(ctx context.Context, method, p string, query url.Values, body []byte) (Response, error) {
	a, err := c.call.Do(ctx, method, p, query, body)
	if err != nil {
		return Response{}, err
	}
	out := Response{Status: a.Status, ContentType: a.Header.Get("Content-Type"), Body: a.Body, RetryAfter: a.Header.Get("Retry-After")}
	if a.Status == http.StatusCreated {
		out.CreatedID = idFromLocation(a.Header.Get("Location"))
	}
	return out, nil
}

// IsJSON reports whether a Content-Type is application/json.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// idFromLocation takes the product id from the last segment of the
// catalog's Location; the catalog's own path layout does not leak out.
func idFromLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	id, _ := CanonicalID(path.Base(u.Path))
	return id
}
