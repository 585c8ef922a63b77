package store_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/events"
	"github.com/shopmesh/shopmesh/apps/catalog/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// This test runs the catalog's store, domain and subscriptions beside a
// real daprd: the catalog-store on the local PostgreSQL (catalog database,
// own table prefix), pub/sub in memory so nothing
// reaches the running stack. `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it it skips.

// stock.changed events set in_stock: a flip is a product change published
// as product.updated through the outbox, with in_stock in its data; a
// newer event that changes nothing is recorded without an event; an older
// one is dropped.
func TestStockEventsKeepInStock(t *testing.T) {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["catalog-store-dsn"]
	require.NotEmpty(t, dsn, "no catalog-store-dsn: run go tool task infra:up and migrate")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	resources := daprxtest.WriteResources(t, map[string]string{
		"catalog-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "cattest_"}
  - {name: keyPrefix, value: "cattest-%s"}
`, contracts.CatalogStore, dsn, run),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: pubsub.in-memory
  version: v1
`, contracts.PubSub),
	})

	products := make(chan daprx.Event, 16)
	var svc *catalog.Service
	var pub *daprx.Publisher
	daprxtest.Start(t, "cattest-"+run, resources,
		store.Module, catalog.Module, events.Module,
		fx.Populate(&svc, &pub),
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{
				Topic: contracts.TopicCatalog,
				Types: []string{contracts.ProductCreated, contracts.ProductUpdated},
				Handler: func(_ context.Context, e daprx.Event) error {
					products <- e
					return nil
				},
			}
		})),
	)
	ctx := context.Background()
	next := func() (string, contracts.ProductEvent) {
		t.Helper()
		select {
		case e := <-products:
			var pe contracts.ProductEvent
			require.NoError(t, e.Decode(&pe))
			return e.Type, pe
		case <-time.After(30 * time.Second):
			t.Fatal("no product event")
			return "", contracts.ProductEvent{}
		}
	}
	_, err := svc.LoadSeed(ctx, catalog.Seed{Categories: []catalog.Category{{ID: "kitchen", Name: "Kitchen"}}})
	require.NoError(t, err)
	p, err := svc.Create(ctx, catalog.Draft{SKU: "K-" + run, Name: "Kettle", Category: "kitchen", Price: catalog.Money{Amount: 100, Currency: "USD"}})
	require.NoError(t, err)
	stock := func(inStock bool, version int64) {
		t.Helper()
		ev := contracts.StockEvent{ProductID: p.ID, InStock: inStock, Version: version, At: time.Now().UTC()}
		require.NoError(t, pub.Publish(ctx, contracts.TopicInventory, contracts.StockChanged, p.ID, ev))
	}
	typ, pe := next()
	require.Equal(t, contracts.ProductCreated, typ)
	assert.True(t, pe.InStock)

	stock(false, 1)
	typ, pe = next()
	assert.Equal(t, contracts.ProductUpdated, typ)
	assert.Equal(t, p.ID, pe.ID)
	assert.False(t, pe.InStock, "product.updated carries in_stock")
	assert.Equal(t, int64(2), pe.Version)

	stock(false, 2) // newer, no flip: recorded silently
	require.Eventually(t, func() bool {
		got, err := svc.Get(ctx, p.ID)
		return err == nil && got.StockVersion == 2
	}, 20*time.Second, 100*time.Millisecond)
	stock(true, 1) // stale: dropped
	stock(true, 3)
	typ, pe = next()
	assert.Equal(t, contracts.ProductUpdated, typ)
	assert.True(t, pe.InStock)
	assert.Equal(t, int64(3), pe.Version, "only the flips were product changes")

	got, err := svc.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.True(t, got.InStock)
	assert.Equal(t, int64(3), got.StockVersion)
	select {
	case e := <-products:
		t.Fatalf("unexpected %s event", e.Type)
	case <-time.After(time.Second):
	}
}
