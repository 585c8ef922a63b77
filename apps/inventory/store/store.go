// Package store keeps the inventory in the Dapr state store
// contracts.InventoryStore (Redis locally, DynamoDB on AWS). It writes one
// key at a time, with ETags, and never in a state transaction: in Dapr's
// DynamoDB store (components-contrib v1.17.3) a transaction's deletes carry
// no ETag condition and a refused condition is a plain error, and dynalite,
// the local stand-in, has no transactions.
package store

import (
	"context"
	"errors"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Dapr implements inventory.Store over a state store component.
type Dapr struct{ state *daprx.State }

// New returns the store on contracts.InventoryStore.
func New(c dapr.Client) *Dapr { return &Dapr{state: daprx.NewState(c, contracts.InventoryStore)} }

// domainErr translates daprx errors into the inventory's.
func domainErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", inventory.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", inventory.ErrConflict, err)
	}
	return err
}

// Get implements inventory.Store.
func (d *Dapr) Get(ctx context.Context, key string, v any) (string, error) {
	etag, err := d.state.Get(ctx, key, v)
	return etag, domainErr(err)
}

// GetBulk implements inventory.Store.
func (d *Dapr) GetBulk(ctx context.Context, keys []string) ([]inventory.Item, error) {
	raw, err := d.state.GetBulk(ctx, keys)
	if err != nil {
		return nil, err
	}
	items := make([]inventory.Item, len(raw))
	for i, it := range raw {
		items[i] = inventory.Item{Key: it.Key, ETag: it.ETag, Value: it.Value}
	}
	return items, nil
}

// Create implements inventory.Store.
func (d *Dapr) Create(ctx context.Context, key string, v any) error {
	return domainErr(d.state.Create(ctx, key, v))
}

// Save implements inventory.Store. An empty etag would let the write win
// blindly, which no inventory write may do.
func (d *Dapr) Save(ctx context.Context, key string, v any, etag string) error {
	if etag == "" {
		return fmt.Errorf("save %s: an etag is required", key)
	}
	return domainErr(d.state.Save(ctx, key, v, etag))
}

// Delete implements inventory.Store.
func (d *Dapr) Delete(ctx context.Context, key, etag string) error {
	if etag == "" {
		return fmt.Errorf("delete %s: an etag is required", key)
	}
	return domainErr(d.state.Delete(ctx, key, etag))
}

// Module provides the store as the inventory's inventory.Store.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(inventory.Store))))
