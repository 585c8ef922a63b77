// Package catalogclient asks the catalog about products through Dapr
// service invocation.
package catalogclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Client implements inventory.Catalog.
type Client struct{ inv *daprx.Invoker }

// New returns a Client calling through inv.
func New(inv *daprx.Invoker) *Client { return &Client{inv: inv} }

// ProductExists asks the catalog for the product: 200 means it exists,
// 404 that it does not; any other answer is an error.
func (c *Client) ProductExists(ctx context.Context, productID string) (bool, error) {
	resp, err := c.inv.Call(ctx, contracts.AppCatalog, http.MethodGet, "/products/"+url.PathEscape(productID), nil, nil, nil)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("catalog answered %s for product %s", resp.Status, productID)
	}
}

// Module provides the Client as the inventory's inventory.Catalog.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(inventory.Catalog))))
