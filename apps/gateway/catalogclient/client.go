// Package catalogclient calls the catalog app through the Dapr sidecar. It
// hands back the catalog's answers as they are (status, content type, body)
// so the REST API can pass them to clients unchanged, problem+json included,
// and decodes them into typed values for GraphQL.
package catalogclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Module provides the Client over the app's sidecar, through the invoker
// that forwards the caller's verified identity (and nothing a client sent).
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	func(inv *outbound.Invoker, cfg Config) *Client { return New(inv, cfg) },
)

// ErrUnavailable means the catalog could not be reached or did not answer:
// the sidecar is down, the catalog has no healthy instance, or the call
// timed out. Clients see a 503.
var ErrUnavailable = errors.New("the catalog is unavailable")

// Invoker is Dapr HTTP service invocation (*outbound.Invoker).
type Invoker interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Config tunes the calls.
type Config struct {
	// Timeout bounds one call, so a hung catalog costs a client a 503
	// rather than a connection held until the sidecar gives up.
	Timeout time.Duration
	// MaxResponseBytes caps a buffered answer; the largest legitimate one
	// is a listing of 100 products.
	MaxResponseBytes int64
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Timeout:          l.Duration("CATALOG_TIMEOUT", 10*time.Second),
		MaxResponseBytes: int64(l.Int("CATALOG_MAX_RESPONSE_BYTES", 8<<20)),
	}
	errs := []error{l.Err()}
	if cfg.Timeout <= 0 {
		errs = append(errs, errors.New("config CATALOG_TIMEOUT: must be positive"))
	}
	if cfg.MaxResponseBytes <= 0 {
		errs = append(errs, errors.New("config CATALOG_MAX_RESPONSE_BYTES: must be positive"))
	}
	return cfg, errors.Join(errs...)
}

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
type Client struct {
	inv Invoker
	cfg Config
}

// New returns a Client that calls through inv.
func New(inv Invoker, cfg Config) *Client { return &Client{inv: inv, cfg: cfg} }

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
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	header := http.Header{"Accept": {"application/json, " + problem.ContentType}}
	var rd io.Reader
	if body != nil {
		header.Set("Content-Type", "application/json")
		rd = bytes.NewReader(body)
	}
	resp, err := c.inv.Call(ctx, contracts.AppCatalog, method, p, query, rd, header)
	if err != nil {
		return Response{}, fmt.Errorf("catalog %s /%s: %w: %w", method, p, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return Response{}, fmt.Errorf("catalog %s /%s: reading the answer: %w: %w", method, p, ErrUnavailable, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return Response{}, fmt.Errorf("catalog %s /%s: answer exceeds %d bytes: %w", method, p, c.cfg.MaxResponseBytes, ErrUnavailable)
	}
	ct := resp.Header.Get("Content-Type")
	// The catalog answers every error as problem+json. Any other error came
	// from the sidecar or the mesh (no healthy instance, circuit open,
	// access denied) and means only that the catalog was not reached.
	if resp.StatusCode >= 400 && !IsProblem(ct) {
		return Response{}, fmt.Errorf("catalog %s /%s: sidecar answered %s: %s: %w",
			method, p, resp.Status, snippet(data), ErrUnavailable)
	}
	out := Response{Status: resp.StatusCode, ContentType: ct, Body: data, RetryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusCreated {
		out.CreatedID = idFromLocation(resp.Header.Get("Location"))
	}
	return out, nil
}

// IsProblem reports whether a Content-Type is application/problem+json.
func IsProblem(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problem.ContentType
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

func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}
