// Package inventoryclient calls the inventory app — stock per product —
// through the Dapr sidecar, with the caller's verified identity (see
// package outbound). The gateway serves stock to administrators only and
// passes the answers on as they are.
package inventoryclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the inventory app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the inventory service is unavailable")

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by INVENTORY_TIMEOUT and INVENTORY_MAX_RESPONSE_BYTES.
var Module = servicecall.Provide("INVENTORY", 1<<20, New)

// Client calls the inventory app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv servicecall.Invoker, cfg servicecall.Config) *Client {
	return &Client{call: servicecall.New(contracts.AppInventory, inv, cfg, ErrUnavailable)}
}

// Stock fetches a product's stock: {product_id, available, reserved}.
func (c *Client) Stock(ctx context.Context, productID string) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "inventory/"+url.PathEscape(productID), nil, nil)
}

// SetStock sets a product's available units from a JSON {available}.
func (c *Client) SetStock(ctx context.Context, productID string, body []byte) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodPut, "inventory/"+url.PathEscape(productID), nil, body)
}
