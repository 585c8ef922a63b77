package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/orders/events"
	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/orderstest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

var (
	ctx    = context.Background()
	kettle = orders.Product{ID: "p-kettle", SKU: "KIT-1", Name: "Kettle", Price: contracts.Money{Amount: 3999, Currency: "USD"}}
)

func placed(t *testing.T, e *orderstest.Env) orders.Order {
	t.Helper()
	_, err := e.Service.AddItem(ctx, "u1", kettle.ID, 1)
	require.NoError(t, err)
	o, err := e.Service.Checkout(ctx, orders.Customer{UserID: "u1", Email: "u1@example.com"},
		orders.CheckoutRequest{ShippingAddress: orders.Address{Name: "U", Line1: "1 St", City: "C", PostalCode: "1", Country: "US"}, PaymentToken: "tok_visa"}, "k")
	require.NoError(t, err)
	return o
}

func ev(t *testing.T, typ, id string, data any) daprx.Event {
	t.Helper()
	b, err := json.Marshal(data)
	require.NoError(t, err)
	return daprx.Event{ID: id, Type: typ, Data: b}
}

// deliver hands an event to the subscription of its topic, as daprx does.
func deliver(e *orderstest.Env, event daprx.Event) error {
	for _, sub := range []daprx.Subscription{events.Inventory(e.Service), events.Payments(e.Service)} {
		for _, typ := range sub.Types {
			if typ == event.Type {
				return sub.Handler(ctx, event)
			}
		}
	}
	return errors.New("no subscription routes " + event.Type)
}

func status(t *testing.T, e *orderstest.Env, id string) (string, string) {
	t.Helper()
	o, err := e.Service.Order(ctx, "u1", id)
	require.NoError(t, err)
	return o.Status, o.Reason
}

func TestSubscriptions(t *testing.T) {
	e := orderstest.New(kettle)
	inv, pay := events.Inventory(e.Service), events.Payments(e.Service)
	assert.Equal(t, contracts.TopicInventory, inv.Topic)
	assert.ElementsMatch(t, []string{contracts.InventoryRejected, contracts.InventoryExpired}, inv.Types)
	assert.Equal(t, contracts.TopicPayments, pay.Topic)
	assert.ElementsMatch(t, []string{contracts.PaymentSucceeded, contracts.PaymentFailed}, pay.Types)
}

func TestOutcomes(t *testing.T) {
	cases := map[string]struct {
		data           any
		status, reason string
	}{
		contracts.InventoryRejected: {contracts.ReservationEvent{Reason: "insufficient stock", ProductID: kettle.ID}, contracts.StatusCancelled, contracts.ReasonOutOfStock},
		contracts.InventoryExpired:  {contracts.ReservationEvent{}, contracts.StatusCancelled, contracts.ReasonReservationExpired},
		contracts.PaymentSucceeded:  {contracts.PaymentEvent{PaymentID: "pay-1"}, contracts.StatusConfirmed, ""},
		contracts.PaymentFailed:     {contracts.PaymentEvent{Reason: contracts.PaymentInsufficientFunds}, contracts.StatusCancelled, contracts.ReasonPaymentDeclined},
	}
	for typ, tc := range cases {
		t.Run(typ, func(t *testing.T) {
			e := orderstest.New(kettle)
			o := placed(t, e)
			data, err := json.Marshal(tc.data)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
			m["order_id"] = o.ID
			event := ev(t, typ, "ev-1", m)
			require.NoError(t, deliver(e, event))
			st, reason := status(t, e, o.ID)
			assert.Equal(t, tc.status, st)
			assert.Equal(t, tc.reason, reason)

			// Redelivered (same id) or repeated: acknowledged, no change.
			require.NoError(t, deliver(e, event))
			event.ID = "ev-2"
			require.NoError(t, deliver(e, event))
			assert.Len(t, e.Store.Events(), 2, "order.placed and one transition")
		})
	}
}

// A payment that succeeds for an order the customer cancelled meanwhile is
// acknowledged and changes nothing (payments refunds on order.cancelled).
func TestLatePaymentForACancelledOrder(t *testing.T) {
	e := orderstest.New(kettle)
	o := placed(t, e)
	_, err := e.Service.Cancel(ctx, "u1", o.ID)
	require.NoError(t, err)
	require.NoError(t, deliver(e, ev(t, contracts.PaymentSucceeded, "ev-1", contracts.PaymentEvent{OrderID: o.ID})))
	st, reason := status(t, e, o.ID)
	assert.Equal(t, contracts.StatusCancelled, st)
	assert.Equal(t, contracts.ReasonCancelledByCustomer, reason)
}

func TestPoisonEventsAreDropped(t *testing.T) {
	e := orderstest.New(kettle)
	for name, event := range map[string]daprx.Event{
		"no order id":           ev(t, contracts.PaymentSucceeded, "1", map[string]any{}),
		"a bad order id":        ev(t, contracts.PaymentSucceeded, "2", map[string]any{"order_id": "not-a-uuid"}),
		"an unknown order":      ev(t, contracts.PaymentFailed, "3", map[string]any{"order_id": "0193f2a4-0000-7000-8000-000000000000"}),
		"data of a wrong shape": {ID: "4", Type: contracts.InventoryRejected, Data: json.RawMessage(`[1,2]`)},
	} {
		assert.ErrorIs(t, deliver(e, event), daprx.ErrDrop, name)
	}
}

func TestStoreFailuresAreRetried(t *testing.T) {
	e := orderstest.New(kettle)
	o := placed(t, e)
	e.Store.BeforeWrite = func(string) error { return errors.New("database down") }
	err := deliver(e, ev(t, contracts.PaymentSucceeded, "1", contracts.PaymentEvent{OrderID: o.ID}))
	require.Error(t, err)
	assert.NotErrorIs(t, err, daprx.ErrDrop, "redelivered later, not dead-lettered")
	e.Store.BeforeWrite = nil
	require.NoError(t, deliver(e, ev(t, contracts.PaymentSucceeded, "1", contracts.PaymentEvent{OrderID: o.ID})))
	st, _ := status(t, e, o.ID)
	assert.Equal(t, contracts.StatusConfirmed, st)
}
