package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/events"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

type recorder struct {
	products []search.Record
	stock    []string
	err      error
}

func (r *recorder) ProductChanged(_ context.Context, rec search.Record) error {
	r.products = append(r.products, rec)
	return r.err
}

func (r *recorder) StockChanged(_ context.Context, id string, inStock bool, version int64) error {
	r.stock = append(r.stock, fmt.Sprintf("%s/%t/%d", id, inStock, version))
	return r.err
}

func event(typ string, data any) daprx.Event {
	b, _ := json.Marshal(data)
	return daprx.Event{ID: "ev-1", Type: typ, Data: b}
}

func TestSubscriptions(t *testing.T) {
	r := &recorder{}
	products, stock := events.Products(r, nil), events.Stock(r, nil)
	assert.Equal(t, contracts.TopicCatalog, products.Topic)
	assert.ElementsMatch(t, []string{contracts.ProductCreated, contracts.ProductUpdated, contracts.ProductDeleted}, products.Types)
	assert.Equal(t, contracts.TopicInventory, stock.Topic)
	assert.Equal(t, []string{contracts.StockChanged}, stock.Types, "reservation events are not search's")
}

func TestProductEvents(t *testing.T) {
	r := &recorder{}
	reg := prometheus.NewRegistry()
	h := events.Products(r, events.NewLag(reg)).Handler
	ctx := context.Background()
	created := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	// The catalog's outbox publishes its stored record: the contract's
	// fields plus created_at.
	data := map[string]any{
		"id": "0196f3a0-0000-7000-8000-000000000001", "sku": "KIT-1", "name": "Kettle", "description": "Boils.",
		"category": "kitchen", "price": map[string]any{"amount": 3999, "currency": "USD"}, "image_url": "https://img/k.jpg",
		"in_stock": true, "version": 3, "updated_at": created.Add(time.Hour), "created_at": created,
	}
	require.NoError(t, h(ctx, event(contracts.ProductUpdated, data)))
	require.Len(t, r.products, 1)
	got := r.products[0]
	assert.Equal(t, search.Record{Product: search.Product{
		ID: "0196f3a0-0000-7000-8000-000000000001", SKU: "KIT-1", Name: "Kettle", Description: "Boils.", Category: "kitchen",
		Price: search.Money{Amount: 3999, Currency: "USD"}, ImageURL: "https://img/k.jpg", InStock: true,
		CreatedAt: created, UpdatedAt: created.Add(time.Hour),
	}, Version: 3}, got)

	tomb := contracts.ProductEvent{ID: "p2", SKU: "KIT-2", Version: 4, Deleted: true}
	require.NoError(t, h(ctx, event(contracts.ProductDeleted, tomb)))
	assert.True(t, r.products[1].Deleted)
	assert.EqualValues(t, 4, r.products[1].Version)

	// Lag is timed from the change: the tombstone above carries no time.
	families, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, families, 1)
	assert.Equal(t, "shopmesh_search_index_lag_seconds", families[0].GetName())
	h0 := families[0].GetMetric()[0].GetHistogram()
	assert.EqualValues(t, 1, h0.GetSampleCount())
	assert.Greater(t, h0.GetSampleSum(), time.Since(created.Add(time.Hour)).Seconds()-60, "now minus updated_at")
}

func TestStockEvents(t *testing.T) {
	r := &recorder{}
	h := events.Stock(r, nil).Handler
	require.NoError(t, h(context.Background(), event(contracts.StockChanged, contracts.StockEvent{ProductID: "p1", Available: 0, InStock: false, Version: 5})))
	assert.Equal(t, []string{"p1/false/5"}, r.stock)
}

func TestOutcomes(t *testing.T) {
	ctx := context.Background()
	bad := daprx.Event{ID: "x", Type: contracts.ProductCreated, Data: []byte(`{"id":7}`)}
	require.ErrorIs(t, events.Products(&recorder{}, nil).Handler(ctx, bad), daprx.ErrDrop, "undecodable data is dead-lettered")
	require.ErrorIs(t, events.Stock(&recorder{}, nil).Handler(ctx, daprx.Event{Data: []byte(`[]`)}), daprx.ErrDrop)

	invalid := &recorder{err: search.ErrInvalidEvent}
	require.ErrorIs(t, events.Products(invalid, nil).Handler(ctx, event(contracts.ProductCreated, map[string]any{})), daprx.ErrDrop)

	down := &recorder{err: errors.New("index down")}
	err := events.Stock(down, nil).Handler(ctx, event(contracts.StockChanged, contracts.StockEvent{ProductID: "p", Version: 1}))
	require.Error(t, err)
	assert.NotErrorIs(t, err, daprx.ErrDrop, "a failure to apply is retried")
	notBuilt := &recorder{err: search.ErrNotBuilt}
	assert.NotErrorIs(t, events.Products(notBuilt, nil).Handler(ctx, event(contracts.ProductCreated, map[string]any{"id": "p", "version": 1})), daprx.ErrDrop)
}
