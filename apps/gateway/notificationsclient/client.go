// Package notificationsclient calls the notifications app through the Dapr
// sidecar, with the caller's verified identity (see package outbound), for
// the caller's notification log. The gateway passes the answers on as
// they are.
package notificationsclient

import (
	"context"
	"errors"
	"net/http"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the notifications app could not be reached or did
// not answer. Clients see a 503.
var ErrUnavailable = errors.New("the notifications service is unavailable")

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by NOTIFICATIONS_TIMEOUT and NOTIFICATIONS_MAX_RESPONSE_BYTES.
var Module = servicecall.Provide("NOTIFICATIONS", 4<<20, New)

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
