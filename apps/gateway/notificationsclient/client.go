// Package notificationsclient calls the notifications app through the Dapr
// sidecar, with the caller's verified identity (see package outbound), for
// the caller's notification log. The gateway passes the answers on as
// they are.
package notificationsclient

import (
	"context"
	"errors"
	"net/http"
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

// ErrUnavailable means the notifications app could not be reached or did
// not answer. Clients see a 503.
var ErrUnavailable = errors.New("the notifications service is unavailable")

// LoadConfig reads NOTIFICATIONS_TIMEOUT and NOTIFICATIONS_MAX_RESPONSE_BYTES
// through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (servicecall.Config, error) {
	return servicecall.LoadConfig(lookup, "NOTIFICATIONS", 4<<20)
}

// Client calls the notifications app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv servicecall.Invoker, cfg servicecall.Config) *Client {
	return &Client{call: servicecall.New(contracts.AppNotifications, inv, cfg, ErrUnavailable)}
}

// Notifications fetches the caller's notification log.
func (c *Client) Notifications(ctx context.Context) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "notifications", nil, nil)
}
