// Package paymentsclient calls the payments app through the Dapr sidecar,
// with the caller's verified identity (see package outbound), so operators
// and tests can read whether and how often an order was charged. The
// gateway serves payments to administrators only and passes the answers
// on as they are.
package paymentsclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the payments app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the payments service is unavailable")

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by PAYMENTS_TIMEOUT and PAYMENTS_MAX_RESPONSE_BYTES.
var Module = servicecall.Provide("PAYMENTS", 1<<20, New)

// Client calls the payments app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv servicecall.Invoker, cfg servicecall.Config) *Client {
	return &Client{call: servicecall.New(contracts.AppPayments, inv, cfg, ErrUnavailable)}
}

// Payment fetches the payment record of an order.
func (c *Client) Payment(ctx context.Context, orderID string) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "payments/"+url.PathEscape(orderID), nil, nil)
}
