// Package events subscribes the notifications service to the events it
// turns into e-mail: user.registered (users topic), order.confirmed and
// order.cancelled (orders), payment.failed (payments). Each topic
// dead-letters to <topic>-deadletter (daprx); an event that can never be
// sent goes there at once, anything else is retried.
package events

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the subscriptions.
var Module = fx.Provide(
	daprx.AsSubscription(Users),
	daprx.AsSubscription(Orders),
	daprx.AsSubscription(Payments),
)

// Users subscribes to user.registered.
func Users(svc *notify.Service) daprx.Subscription {
	return daprx.Subscription{Topic: contracts.TopicUsers, Types: []string{contracts.UserRegistered},
		Handler: func(ctx context.Context, e daprx.Event) error {
			var u contracts.UserEvent
			if err := e.Decode(&u); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			return outcome(svc.Welcome(ctx, e.ID, u))
		}}
}

// Orders subscribes to order.confirmed and order.cancelled.
func Orders(svc *notify.Service) daprx.Subscription {
	return daprx.Subscription{Topic: contracts.TopicOrders, Types: []string{contracts.OrderConfirmed, contracts.OrderCancelled},
		Handler: func(ctx context.Context, e daprx.Event) error {
			var o contracts.OrderEvent
			if err := e.Decode(&o); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			if e.Type == contracts.OrderCancelled {
				return outcome(svc.OrderCancelled(ctx, e.ID, o))
			}
			return outcome(svc.OrderConfirmed(ctx, e.ID, o))
		}}
}

// Payments subscribes to payment.failed, which sends nothing of its own
// (see notify.Service.PaymentFailed).
func Payments(svc *notify.Service) daprx.Subscription {
	return daprx.Subscription{Topic: contracts.TopicPayments, Types: []string{contracts.PaymentFailed},
		Handler: func(ctx context.Context, e daprx.Event) error {
			var p contracts.PaymentEvent
			if err := e.Decode(&p); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			svc.PaymentFailed(ctx, e.ID, p)
			return nil
		}}
}

// outcome dead-letters events that can never be sent; other errors are
// retried.
func outcome(err error) error {
	if errors.Is(err, notify.ErrInvalidEvent) {
		return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
	}
	return err
}
