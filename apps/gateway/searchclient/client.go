// Package searchclient calls the search app through the Dapr sidecar, with
// the caller's verified identity (see package outbound): full-text product
// search, and the rebuild of its index. It hands back the answers as they
// are for REST to pass on, and decodes them for GraphQL.
package searchclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// ErrUnavailable means the search app could not be reached or did not
// answer. Clients see a 503.
var ErrUnavailable = errors.New("the search service is unavailable")

// Module provides the Client over the identity-forwarding invoker, its
// calls tuned by SEARCH_TIMEOUT and SEARCH_MAX_RESPONSE_BYTES.
// The largest answer is a page of 100 products with their facets.
var Module = servicecall.Provide("SEARCH", 8<<20, New)

// Client calls the search app.
type Client struct{ call servicecall.Caller }

// New returns a Client that calls through inv.
func New(inv servicecall.Invoker, cfg servicecall.Config) *Client {
	return &Client{call: servicecall.New(contracts.AppSearch, inv, cfg, ErrUnavailable)}
}

// Search runs a query given as the search app's query parameters (see
// Select and Query.Values).
func (c *Client) Search(ctx context.Context, params url.Values) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodGet, "search", params, nil)
}

// Reindex asks the search app to rebuild its index from the catalog.
func (c *Client) Reindex(ctx context.Context) (servicecall.Answer, error) {
	return c.call.Do(ctx, http.MethodPost, "reindex", nil, nil)
}
