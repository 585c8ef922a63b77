// Package events feeds the checkout saga's events to the payment flow:
// order.placed and order.cancelled from the orders topic, inventory.reserved
// from the inventory topic. What payments announces leaves through the
// store's outbox, not from here.
package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Handlers adapts deliveries to the Service.
type Handlers struct{ svc *payments.Service }

// NewHandlers returns the handlers over svc.
func NewHandlers(svc *payments.Service) Handlers { return Handlers{svc: svc} }

// decode unmarshals the event's data; data that does not decode never will.
func decode(e daprx.Event, v any) error {
	if err := e.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
	}
	return nil
}

// outcome maps the domain's answer to the delivery's: an invalid event goes
// to the dead letter, anything else but success is redelivered.
func outcome(err error) error {
	if errors.Is(err, payments.ErrInvalid) {
		return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
	}
	return err
}

// waitOut runs call again while another worker holds the payment for a
// provider call (ErrInProgress), for up to about a second: the holder
// usually finishes within milliseconds, and an event answered RETRY would
// hold its whole batch (subscriptions are bulk) for the redelivery's
// back-off. A holder that died is taken over only once its lease runs out;
// then the event is redelivered.
func waitOut(ctx context.Context, call func() error) error {
	wait := 10 * time.Millisecond
	for {
		err := call()
		if !errors.Is(err, payments.ErrInProgress) || wait > 640*time.Millisecond {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// Order handles order.placed and order.cancelled.
func (h Handlers) Order(ctx context.Context, e daprx.Event) error {
	var o contracts.OrderEvent
	if err := decode(e, &o); err != nil {
		return err
	}
	switch e.Type {
	case contracts.OrderPlaced:
		in := payments.Intent{OrderID: o.OrderID, UserID: o.UserID, Amount: o.Total, Token: o.PaymentToken}
		return outcome(waitOut(ctx, func() error { return h.svc.Place(ctx, in) }))
	case contracts.OrderCancelled:
		return outcome(waitOut(ctx, func() error { return h.svc.Cancel(ctx, o.OrderID) }))
	}
	return fmt.Errorf("%w: unexpected event type %q", daprx.ErrDrop, e.Type)
}

// Reserved handles inventory.reserved.
func (h Handlers) Reserved(ctx context.Context, e daprx.Event) error {
	var r contracts.ReservationEvent
	if err := decode(e, &r); err != nil {
		return err
	}
	return outcome(waitOut(ctx, func() error { return h.svc.Charge(ctx, r.OrderID) }))
}

// Module subscribes the handlers.
var Module = fx.Options(
	fx.Provide(
		NewHandlers,
		daprx.AsSubscription(func(h Handlers) daprx.Subscription {
			return daprx.Subscription{Topic: contracts.TopicOrders, Types: []string{contracts.OrderPlaced, contracts.OrderCancelled}, Handler: h.Order}
		}),
		daprx.AsSubscription(func(h Handlers) daprx.Subscription {
			return daprx.Subscription{Topic: contracts.TopicInventory, Types: []string{contracts.InventoryReserved}, Handler: h.Reserved}
		}),
	),
)
