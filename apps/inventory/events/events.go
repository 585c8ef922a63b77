// Package events connects the inventory to the topics it consumes and
// publishes on: product.created on the catalog topic gives a product its
// stock record; order.placed, order.confirmed and order.cancelled on the
// orders topic reserve, commit and release stock.
package events

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the inventory's subscriptions and its Publisher.
var Module = fx.Provide(
	daprx.AsSubscription(Catalog),
	daprx.AsSubscription(Orders),
	func(p *daprx.Publisher) inventory.Publisher { return p },
)

// Catalog subscribes to product.created.
func Catalog(svc *inventory.Service) daprx.Subscription {
	return daprx.Subscription{
		Topic: contracts.TopicCatalog,
		Types: []string{contracts.ProductCreated},
		Handler: func(ctx context.Context, ev daprx.Event) error {
			var p contracts.ProductEvent
			if err := ev.Decode(&p); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			if p.ID == "" {
				return fmt.Errorf("%w: %s event %s names no product", daprx.ErrDrop, ev.Type, ev.ID)
			}
			return svc.CreateStock(ctx, p.ID)
		},
	}
}

// Orders subscribes to the order events that move stock.
func Orders(svc *inventory.Service) daprx.Subscription {
	return daprx.Subscription{
		Topic: contracts.TopicOrders,
		Types: []string{contracts.OrderPlaced, contracts.OrderConfirmed, contracts.OrderCancelled},
		Handler: func(ctx context.Context, ev daprx.Event) error {
			var o contracts.OrderEvent
			if err := ev.Decode(&o); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			order := inventory.Order{ID: o.OrderID}
			for _, l := range o.Lines {
				order.Lines = append(order.Lines, inventory.Line{ProductID: l.ProductID, Quantity: l.Quantity})
			}
			var err error
			switch ev.Type {
			case contracts.OrderPlaced:
				err = svc.Place(ctx, order)
			case contracts.OrderConfirmed:
				err = svc.Confirm(ctx, order.ID)
			case contracts.OrderCancelled:
				err = svc.Cancel(ctx, order)
			}
			if errors.Is(err, inventory.ErrInvalid) {
				return fmt.Errorf("%w: %s event %s: %w", daprx.ErrDrop, ev.Type, ev.ID, err)
			}
			if err != nil {
				return fmt.Errorf("handling %s event %s: %w", ev.Type, ev.ID, err)
			}
			return nil
		},
	}
}
