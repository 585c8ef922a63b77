package cache

import (
	"context"
	"fmt"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// NewSubscription invalidates on the catalog's product events, so a change
// made without this gateway (another replica, an admin tool) is served on
// the next read after the event arrives. Invalidation is idempotent, so
// repeated and out-of-order events need no bookkeeping.
func NewSubscription(s *Store) daprx.Subscription {
	return daprx.Subscription{
		Topic:   contracts.TopicCatalog,
		Types:   []string{contracts.ProductCreated, contracts.ProductUpdated, contracts.ProductDeleted},
		Handler: s.HandleProductEvent,
	}
}

// HandleProductEvent invalidates the product an event names. A failure is
// returned so Dapr redelivers: stale entries would outlive a Redis outage.
func (s *Store) HandleProductEvent(ctx context.Context, ev daprx.Event) error {
	var pe contracts.ProductEvent
	if err := ev.Decode(&pe); err != nil {
		return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
	}
	id, ok := catalogclient.CanonicalID(pe.ID)
	if !ok {
		return fmt.Errorf("%w: %s event %s names no product id (%q)", daprx.ErrDrop, ev.Type, ev.ID, pe.ID)
	}
	if err := s.Invalidate(ctx, id); err != nil {
		return fmt.Errorf("handling %s event %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}
