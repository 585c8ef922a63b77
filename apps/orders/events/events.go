// Package events applies the saga's outcomes to orders: it consumes
// inventory.rejected and inventory.expired on the inventory topic and
// payment.succeeded and payment.failed on the payments topic. Other types on
// those topics are acknowledged and ignored (inventory.reserved needs nothing
// from orders; payments refunds on its own).
package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// outcome is what an event type does to a pending order.
type outcome struct{ status, reason string }

var outcomes = map[string]outcome{
	contracts.InventoryRejected: {contracts.StatusCancelled, contracts.ReasonOutOfStock},
	contracts.InventoryExpired:  {contracts.StatusCancelled, contracts.ReasonReservationExpired},
	contracts.PaymentSucceeded:  {contracts.StatusConfirmed, ""},
	contracts.PaymentFailed:     {contracts.StatusCancelled, contracts.ReasonPaymentDeclined},
}

// handler applies events to orders. It is idempotent because the domain
// is: a transition happens only from pending, so a redelivered, repeated or
// late event finds the order settled and changes nothing.
type handler struct{ svc *orders.Service }

// handle applies one event. An event without a valid order id, or for an
// order that does not exist, can never succeed: it is dropped to the
// dead-letter topic. Store failures are retried.
func (h handler) handle(ctx context.Context, e daprx.Event) error {
	out, ok := outcomes[e.Type]
	if !ok {
		return fmt.Errorf("%w: type %q is not handled here", daprx.ErrDrop, e.Type)
	}
	var data struct {
		OrderID string `json:"order_id"`
	}
	if err := e.Decode(&data); err != nil {
		return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
	}
	id, err := uuid.Parse(data.OrderID)
	if err != nil {
		return fmt.Errorf("%w: %s event %s: order id %q: %w", daprx.ErrDrop, e.Type, e.ID, data.OrderID, err)
	}
	err = h.svc.Resolve(ctx, id.String(), out.status, out.reason)
	if errors.Is(err, orders.ErrNotFound) {
		return fmt.Errorf("%w: %s event %s: %w", daprx.ErrDrop, e.Type, e.ID, err)
	}
	return err
}

// Inventory subscribes the handler to the inventory outcomes.
func Inventory(svc *orders.Service) daprx.Subscription {
	return daprx.Subscription{Topic: contracts.TopicInventory, Types: []string{contracts.InventoryRejected, contracts.InventoryExpired},
		Handler: handler{svc: svc}.handle}
}

// Payments subscribes the handler to the payment outcomes.
func Payments(svc *orders.Service) daprx.Subscription {
	return daprx.Subscription{Topic: contracts.TopicPayments, Types: []string{contracts.PaymentSucceeded, contracts.PaymentFailed},
		Handler: handler{svc: svc}.handle}
}

// Module subscribes the handler.
var Module = fx.Provide(daprx.AsSubscription(Inventory), daprx.AsSubscription(Payments))
