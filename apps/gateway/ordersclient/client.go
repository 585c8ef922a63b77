// Package ordersclient calls the orders app — the caller's cart, checkout
// and orders — through the Dapr sidecar, with the caller's verified
// identity (see package outbound). It hands back the answers as they are
// for REST to pass on, and decodes them for GraphQL.
package ordersclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the orders app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the orders service is unavailable")

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by ORDERS_TIMEOUT and ORDERS_MAX_RESPONSE_BYTES.
// The largest answer is a shopper's order history.
var Module = servicecall.Provide("ORDERS", 8<<20, New)

// IdempotencyKeyHeader names the header that makes a checkout safe to
// repeat: the same key with the same body places one order.
const IdempotencyKeyHeader = "Idempotency-Key"

// Client calls the orders app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv servicecall.Invoker, cfg servicecall.Config) *Client {
	return &Client{call: servicecall.New(contracts.AppOrders, inv, cfg, ErrUnavailable)}
}

// Cart fetches the caller's cart.
func (c *Client) Cart(ctx context.Context) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "cart", nil, nil)
}

// AddToCart adds a JSON {product_id, quantity} to the caller's cart.
func (c *Client) AddToCart(ctx context.Context, body []byte) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodPost, "cart/items", nil, body)
}

// RemoveFromCart removes a product from the caller's cart.
func (c *Client) RemoveFromCart(ctx context.Context, productID string) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodDelete, "cart/items/"+url.PathEscape(productID), nil, nil)
}

// Checkout places an order from the caller's cart with a JSON
// {shipping_address, payment_token}; key, when not empty, travels as the
// Idempotency-Key header.
func (c *Client) Checkout(ctx context.Context, body []byte, key string) (servicecall.Answer, error) {
	var h http.Header
	if key != "" {
		h = http.Header{IdempotencyKeyHeader: {key}}
	}
	return c.call.DoWith(ctx, http.MethodPost, "checkout", nil, body, h)
}

// Orders fetches the caller's orders.
func (c *Client) Orders(ctx context.Context) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "orders", nil, nil)
}

// Order fetches one of the caller's orders; another user's order is a 404
// answer, not an error.
func (c *Client) Order(ctx context.Context, id string) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "orders/"+url.PathEscape(id), nil, nil)
}

// CancelOrder cancels one of the caller's orders while it is pending.
func (c *Client) CancelOrder(ctx context.Context, id string) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodPost, "orders/"+url.PathEscape(id)+"/cancel", nil, nil)
}
