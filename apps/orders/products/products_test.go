package products_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/products"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// invoker answers every call with one canned response and records the call.
type invoker struct {
	status      int
	contentType string
	body        string
	err         error
	app, path   string
}

func (i *invoker) Call(_ context.Context, app, method, path string, _ url.Values, _ io.Reader, _ http.Header) (*http.Response, error) {
	i.app, i.path = app, method+" "+path
	if i.err != nil {
		return nil, i.err
	}
	return &http.Response{
		StatusCode: i.status, Status: http.StatusText(i.status),
		Header: http.Header{"Content-Type": {i.contentType}}, Body: io.NopCloser(strings.NewReader(i.body)),
	}, nil
}

func TestProduct(t *testing.T) {
	inv := &invoker{status: 200, contentType: "application/json", body: `{"id":"p1","sku":"KIT-1","name":"Kettle",
		"description":"Boils.","category":"kitchen","price":{"amount":3999,"currency":"USD"},"in_stock":true,"version":3}`}
	c := products.New(inv, products.Config{Timeout: time.Second})
	p, err := c.Product(context.Background(), "p1")
	require.NoError(t, err)
	assert.Equal(t, orders.Product{ID: "p1", SKU: "KIT-1", Name: "Kettle", Price: contracts.Money{Amount: 3999, Currency: "USD"}}, p)
	assert.Equal(t, contracts.AppCatalog, inv.app)
	assert.Equal(t, "GET products/p1", inv.path)

	_, _ = c.Product(context.Background(), "a/b?c")
	assert.Equal(t, "GET products/a%2Fb%3Fc", inv.path, "the id stays one path segment")
}

func TestProductFailures(t *testing.T) {
	cases := map[string]struct {
		inv     invoker
		unknown bool
	}{
		"the catalog's 404":          {invoker{status: 404, contentType: "application/problem+json", body: `{"status":404}`}, true},
		"the sidecar's 404":          {invoker{status: 404, contentType: "text/plain", body: "app not found"}, false},
		"an error answer":            {invoker{status: 503, contentType: "application/problem+json", body: `{}`}, false},
		"not a product":              {invoker{status: 200, contentType: "application/json", body: `{"items":[]}`}, false},
		"the sidecar is unreachable": {invoker{err: errors.New("connection refused")}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := products.New(&tc.inv, products.Config{Timeout: time.Second}).Product(context.Background(), "p1")
			require.Error(t, err)
			assert.Equal(t, tc.unknown, errors.Is(err, orders.ErrUnknownProduct))
		})
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := products.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, cfg.Timeout)
	_, err = products.LoadConfig(func(string) (string, bool) { return "-1s", true })
	assert.ErrorContains(t, err, "CATALOG_TIMEOUT")
}
