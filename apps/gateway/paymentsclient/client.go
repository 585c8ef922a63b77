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
	"os"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Module provides the Client over the identity-forwarding invoker. Its
// Config is read here rather than provided: every service client's Config
// is a servicecall.Config, one type the graph can hold only once.
var Module = fx.Provide(func(inv *outbound.Invoker) (*Client, error) {
	cfg, err := LoadConfig(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return New(inv, cfg), nil
})

// ErrUnavailable means the payments app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the payments service is unavailable")

// LoadConfig reads PAYMENTS_TIMEOUT and PAYMENTS_MAX_RESPONSE_BYTES through
// lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (servicecall.Config, error) {
	return servicecall.LoadConfig(lookup, "PAYMENTS", 1<<20)
}

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
