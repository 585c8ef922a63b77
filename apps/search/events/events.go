// Package events feeds the search index from pub/sub: product.created,
// .updated and .deleted on the catalog topic and stock.changed on the
// inventory topic. Handling is idempotent by version (search.Service), so
// redelivered, duplicated and out-of-order events change nothing wrongly.
package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module subscribes the service to both topics.
var Module = fx.Options(
	fx.Provide(func(s *search.Service) Applier { return s }, NewLag),
	fx.Provide(daprx.AsSubscription(Products), daprx.AsSubscription(Stock)),
)

// Lag times how far the index trails its sources: from a product's or a
// stock record's change to the moment the index holds it.
type Lag struct{ seconds *prometheus.HistogramVec }

// NewLag registers the index-lag histogram in r.
func NewLag(r *prometheus.Registry) *Lag {
	l := &Lag{seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "shopmesh_search_index_lag_seconds",
		Help:    "Time from a change in the catalog (product) or inventory (stock) to the search index holding it.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60},
	}, []string{"source"})}
	r.MustRegister(l.seconds)
	return l
}

// observe records the lag of a change made at changed; an event without a
// time (a producer too old to send one) is not timed.
func (l *Lag) observe(source string, changed time.Time) {
	if l != nil && !changed.IsZero() {
		l.seconds.WithLabelValues(source).Observe(time.Since(changed).Seconds())
	}
}

// Applier applies changes to the index (*search.Service).
type Applier interface {
	ProductChanged(ctx context.Context, rec search.Record) error
	StockChanged(ctx context.Context, productID string, inStock bool, version int64) error
}

// productEvent is contracts.ProductEvent plus the creation time the
// catalog publishes with it (its stored record is the event's data).
type productEvent struct {
	contracts.ProductEvent
	CreatedAt time.Time `json:"created_at"`
}

// Products subscribes to the catalog's product events.
func Products(a Applier, lag *Lag) daprx.Subscription {
	return daprx.Subscription{
		Topic: contracts.TopicCatalog,
		Types: []string{contracts.ProductCreated, contracts.ProductUpdated, contracts.ProductDeleted},
		Handler: func(ctx context.Context, ev daprx.Event) error {
			var pe productEvent
			if err := ev.Decode(&pe); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			rec := search.Record{
				Product: search.Product{
					ID: pe.ID, SKU: pe.SKU, Name: pe.Name, Description: pe.Description, Category: pe.Category,
					Price:    search.Money{Amount: pe.Price.Amount, Currency: pe.Price.Currency},
					ImageURL: pe.ImageURL, InStock: pe.InStock, CreatedAt: pe.CreatedAt, UpdatedAt: pe.UpdatedAt,
				},
				Version: pe.Version,
				Deleted: pe.Deleted || ev.Type == contracts.ProductDeleted,
			}
			err := a.ProductChanged(ctx, rec)
			if err == nil {
				lag.observe("catalog", pe.UpdatedAt)
			}
			return outcome(ev, err)
		},
	}
}

// Stock subscribes to inventory's stock changes; reservation events on the
// same topic are not routed here.
func Stock(a Applier, lag *Lag) daprx.Subscription {
	return daprx.Subscription{
		Topic: contracts.TopicInventory,
		Types: []string{contracts.StockChanged},
		Handler: func(ctx context.Context, ev daprx.Event) error {
			var se contracts.StockEvent
			if err := ev.Decode(&se); err != nil {
				return fmt.Errorf("%w: %w", daprx.ErrDrop, err)
			}
			err := a.StockChanged(ctx, se.ProductID, se.InStock, se.Version)
			if err == nil {
				lag.observe("inventory", se.At)
			}
			return outcome(ev, err)
		},
	}
}

// outcome dead-letters events that can never apply and has the rest
// redelivered on failure (the index is down or still being built).
func outcome(ev daprx.Event, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, search.ErrInvalidEvent):
		return fmt.Errorf("%w: %s event %s: %w", daprx.ErrDrop, ev.Type, ev.ID, err)
	default:
		return fmt.Errorf("handling %s event %s: %w", ev.Type, ev.ID, err)
	}
}
