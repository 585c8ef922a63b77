package events_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/catalogtest"
	"github.com/shopmesh/shopmesh/apps/catalog/events"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

func TestStockChangedSetsInStock(t *testing.T) {
	ctx := context.Background()
	st := catalogtest.NewStore()
	svc := catalog.NewService(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := svc.LoadSeed(ctx, catalog.Seed{Categories: []catalog.Category{{ID: "kitchen", Name: "Kitchen"}}})
	require.NoError(t, err)
	p, err := svc.Create(ctx, catalog.Draft{SKU: "K-1", Name: "Kettle", Category: "kitchen", Price: catalog.Money{Amount: 100, Currency: "USD"}})
	require.NoError(t, err)

	sub := events.Stock(svc)
	assert.Equal(t, contracts.TopicInventory, sub.Topic)
	assert.Equal(t, []string{contracts.StockChanged}, sub.Types)

	data, err := json.Marshal(contracts.StockEvent{ProductID: p.ID, Available: 0, Reserved: 2, InStock: false, Version: 5})
	require.NoError(t, err)
	require.NoError(t, sub.Handler(ctx, daprx.Event{ID: "e1", Type: contracts.StockChanged, Data: data}))
	got, err := svc.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.False(t, got.InStock)
	assert.Equal(t, int64(5), got.StockVersion)

	for name, d := range map[string]string{
		"not an object": `"x"`,
		"no product":    `{"version": 3, "in_stock": true}`,
		"no version":    `{"product_id": "` + p.ID + `", "in_stock": true}`,
	} {
		assert.ErrorIs(t, sub.Handler(ctx, daprx.Event{ID: "e2", Type: contracts.StockChanged, Data: json.RawMessage(d)}), daprx.ErrDrop, name)
	}
}
