// Package events connects the catalog to the topics it consumes: the
// inventory's stock.changed keeps each product's in_stock.
package events

import (
	"context"
	"fmt"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the catalog's subscriptions.
var Module = fx.Provide(daprx.AsSubscription(Stock))

// Stock subscribes to stock.changed on the inventory topic.
func Stock(svc *catalog.Service) daprx.Subscription {
	return daprx.Subscription{
		Topic: contracts.TopicInventory,
		Types: []string{contracts.StockChanged},
		Handler: func(ctx context.Context, ev daprx.Event) error {
			var se contracts.StockEvent
			if err := ev.Decode(&se); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			if se.ProductID == "" || se.Version < 1 {
				return fmt.Errorf("%w: %s event %s names no product or version", daprx.ErrDrop, ev.Type, ev.ID)
			}
			if err := svc.ApplyStock(ctx, se.ProductID, se.InStock, se.Version); err != nil {
				return fmt.Errorf("handling %s event %s: %w", ev.Type, ev.ID, err)
			}
			return nil
		},
	}
}
