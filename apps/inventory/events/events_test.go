package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/inventory/events"
	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/apps/inventory/inventorytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

func newService(t *testing.T) (*inventory.Service, *inventorytest.Store, *inventorytest.Publisher) {
	t.Helper()
	st, pub := inventorytest.NewStore(), &inventorytest.Publisher{}
	svc := inventory.NewService(st, pub, &inventorytest.Catalog{}, inventory.Config{InitialStock: 3, ReservationTTL: time.Minute},
		inventory.SystemClock(), slog.New(slog.NewTextHandler(io.Discard, nil)), &inventorytest.Outcomes{})
	return svc, st, pub
}

func event(t *testing.T, typ string, data any) daprx.Event {
	t.Helper()
	b, err := json.Marshal(data)
	require.NoError(t, err)
	return daprx.Event{ID: "ev-1", Type: typ, Data: b}
}

func TestSubscriptions(t *testing.T) {
	svc, _, _ := newService(t)
	c, o := events.Catalog(svc), events.Orders(svc)
	assert.Equal(t, contracts.TopicCatalog, c.Topic)
	assert.Equal(t, []string{contracts.ProductCreated}, c.Types)
	assert.Equal(t, contracts.TopicOrders, o.Topic)
	assert.Equal(t, []string{contracts.OrderPlaced, contracts.OrderConfirmed, contracts.OrderCancelled}, o.Types)
}

func TestProductCreatedGivesStock(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	h := events.Catalog(svc).Handler
	require.NoError(t, h(ctx, event(t, contracts.ProductCreated, contracts.ProductEvent{ID: "p1", SKU: "S-1", Version: 1})))
	st, err := svc.Stock(ctx, "p1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), st.Available)

	assert.ErrorIs(t, h(ctx, daprx.Event{Type: contracts.ProductCreated, Data: []byte(`[1]`)}), daprx.ErrDrop)
	assert.ErrorIs(t, h(ctx, event(t, contracts.ProductCreated, contracts.ProductEvent{SKU: "S-1"})), daprx.ErrDrop)
}

func TestOrderEventsMoveStock(t *testing.T) {
	ctx := context.Background()
	svc, st, pub := newService(t)
	h := events.Orders(svc).Handler
	require.NoError(t, svc.CreateStock(ctx, "p1"))
	placed := contracts.OrderEvent{OrderID: "o1", Lines: []contracts.OrderLine{{ProductID: "p1", Quantity: 2}}, Status: contracts.StatusPending}

	require.NoError(t, h(ctx, event(t, contracts.OrderPlaced, placed)))
	assert.Len(t, pub.Events(contracts.InventoryReserved), 1)
	require.NoError(t, h(ctx, event(t, contracts.OrderConfirmed, contracts.OrderEvent{OrderID: "o1", Status: contracts.StatusConfirmed})))
	s, err := svc.Stock(ctx, "p1")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{1, 0}, [2]int64{s.Available, s.Reserved})

	placed.OrderID = "o2"
	require.NoError(t, h(ctx, event(t, contracts.OrderPlaced, placed)))
	assert.Len(t, pub.Events(contracts.InventoryRejected), 1)
	require.NoError(t, h(ctx, event(t, contracts.OrderCancelled, placed)))

	// Events that can never be applied go to the dead-letter topic.
	for name, ev := range map[string]daprx.Event{
		"not an order":       {Type: contracts.OrderPlaced, Data: []byte(`"text"`)},
		"no lines":           event(t, contracts.OrderPlaced, contracts.OrderEvent{OrderID: "o3"}),
		"confirmed, unknown": event(t, contracts.OrderConfirmed, contracts.OrderEvent{OrderID: "o4"}),
		"cancelled, no id":   event(t, contracts.OrderCancelled, contracts.OrderEvent{}),
	} {
		assert.ErrorIs(t, h(ctx, ev), daprx.ErrDrop, name)
	}

	// A store failure is retried, not dropped.
	st.Hook = func(string, string) error { return errors.New("store down") }
	err = h(ctx, event(t, contracts.OrderPlaced, contracts.OrderEvent{OrderID: "o5", Lines: placed.Lines}))
	require.Error(t, err)
	assert.NotErrorIs(t, err, daprx.ErrDrop)
}
