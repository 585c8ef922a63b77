package store_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/orderstest"
	"github.com/shopmesh/shopmesh/apps/orders/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/internal/platform/outbox/outboxtest"
)

// These tests run the stores, with the real domain over them, against a
// real daprd, the local PostgreSQL (the orders database, own table
// prefix) and Redis, with the components configured as in
// components/local but on a topic and key prefix of their own. `go tool
// task test` sets SHOPMESH_INTEGRATION=1; without it they skip.
// SHOPMESH_REDIS_PORT picks another Redis port than 16379.

const cartTTL = 7 * 24 * time.Hour

var kettle = orders.Product{ID: "0193f2a4-1111-7000-8000-000000000001", SKU: "KIT-1", Name: "Kettle",
	Price: contracts.Money{Amount: 3999, Currency: "USD"}}

type harness struct {
	appID   string
	client  dapr.Client
	orders  *store.Orders // with an outbox that publishes on the run's topic
	redis   *redis.Client
	events  chan daprx.Event
	clock   *orderstest.Clock
	catalog *orderstest.Catalog
}

func start(t *testing.T) harness {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["orders-store-dsn"]
	require.NotEmpty(t, dsn, "no orders-store-dsn: run go tool task infra:up and migrate")
	redisAddr := "127.0.0.1:" + cmp.Or(os.Getenv("SHOPMESH_REDIS_PORT"), "16379")

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	appID, topic := "orderstest-"+run, "orderstest-"+run
	resources := daprxtest.WriteResources(t, map[string]string{
		"cart-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: %q}
  - {name: keyPrefix, value: appid}
`, contracts.CartStore, redisAddr),
		"orders-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "orderstest_"}
`, contracts.OrdersStore, dsn),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: %q}
`, redisAddr),
	})

	// Everything published on the topic, whatever its type.
	events := make(chan daprx.Event, 256)
	app := daprxtest.Start(t, appID, resources,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: topic, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
	)
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	return harness{appID: appID, client: app.Client, redis: rdb, events: events,
		orders:  store.NewOrders(app.Client, outboxtest.Start(t, app.Client, contracts.OrdersStore, topic)),
		clock:   orderstest.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)),
		catalog: orderstest.NewCatalog(kettle)}
}

// service is one instance of the domain over the real stores.
func (h harness) service() *orders.Service {
	return orders.NewService(store.NewCarts(h.client, store.Config{CartTTL: cartTTL}), h.orders,
		h.catalog, orders.Config{Currency: "USD"}, h.clock.Now, slog.New(slog.DiscardHandler), &orderstest.Outcomes{})
}

// next returns the next event of type typ, and the other events that came
// before it.
func (h harness) next(t *testing.T, typ string) (daprx.Event, []daprx.Event) {
	t.Helper()
	var others []daprx.Event
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-h.events:
			if e.Type == typ {
				return e, others
			}
			others = append(others, e)
		case <-timeout:
			t.Fatalf("no %s event was delivered (saw %d others)", typ, len(others))
		}
	}
}

var (
	customer = orders.Customer{UserID: "user-ann", Email: "ann@example.com"}
	request  = orders.CheckoutRequest{
		ShippingAddress: orders.Address{Name: "Ann", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"},
		PaymentToken:    "tok_visa",
	}
)

func TestCheckoutPublishesOrderPlacedThroughTheOutbox(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	svc := h.service()
	orderStore := h.orders

	// The cart's TTL metadata reaches Redis, and every change renews it.
	_, err := svc.AddItem(ctx, customer.UserID, kettle.ID, 1)
	require.NoError(t, err)
	cartKey := h.appID + "||cart|" + customer.UserID
	ttl, err := h.redis.TTL(ctx, cartKey).Result()
	require.NoError(t, err)
	assert.InDelta(t, cartTTL.Seconds(), ttl.Seconds(), 60, "the cart expires in 7 days")
	require.NoError(t, h.redis.Expire(ctx, cartKey, time.Hour).Err())
	_, err = svc.AddItem(ctx, customer.UserID, kettle.ID, 1)
	require.NoError(t, err)
	ttl, err = h.redis.TTL(ctx, cartKey).Result()
	require.NoError(t, err)
	assert.InDelta(t, cartTTL.Seconds(), ttl.Seconds(), 60, "a change renews the TTL")

	o, err := svc.Checkout(ctx, customer, request, "key-1")
	require.NoError(t, err)

	// One transaction stored the order, the index and the idempotency
	// record, and order.placed was published with the event as its data.
	placed, others := h.next(t, contracts.OrderPlaced)
	var data contracts.OrderEvent
	require.NoError(t, placed.Decode(&data))
	assert.Equal(t, contracts.OrderEvent{
		OrderID: o.ID, UserID: customer.UserID, Email: customer.Email, Name: "Ann", Lines: o.Lines, Total: o.Total,
		PaymentToken: "tok_visa", Status: contracts.StatusPending, At: h.clock.Now(),
	}, data)
	assert.Equal(t, contracts.Money{Amount: 2 * 3999, Currency: "USD"}, data.Total)

	stored, _, err := orderStore.Order(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, stored)
	ids, _, err := orderStore.OrderIndex(ctx, customer.UserID)
	require.NoError(t, err)
	assert.Equal(t, []string{o.ID}, ids)
	rec, err := orderStore.Idempotency(ctx, customer.UserID, "key-1")
	require.NoError(t, err)
	assert.Equal(t, o.ID, rec.OrderID)
	cart, err := svc.Cart(ctx, customer.UserID)
	require.NoError(t, err)
	assert.Empty(t, cart.Lines, "the cart was emptied")

	// Nothing else: the idempotency record and the index are not events.
	select {
	case e := <-h.events:
		others = append(others, e)
	case <-time.After(2 * time.Second):
	}
	assert.Empty(t, others, "only order.placed is published")

	again, err := svc.Checkout(ctx, customer, request, "key-1")
	require.NoError(t, err)
	assert.Equal(t, o, again, "the same key and request answer the same order")

	// A transition: the order's ETag-guarded update publishes
	// order.confirmed with the order's lines, total and e-mail.
	h.clock.Advance(time.Second)
	require.NoError(t, svc.Resolve(ctx, o.ID, contracts.StatusConfirmed, ""))
	confirmed, _ := h.next(t, contracts.OrderConfirmed)
	var confirmedData contracts.OrderEvent
	require.NoError(t, confirmed.Decode(&confirmedData))
	assert.Equal(t, contracts.OrderEvent{
		OrderID: o.ID, UserID: customer.UserID, Email: customer.Email, Name: "Ann", Lines: o.Lines, Total: o.Total,
		Status: contracts.StatusConfirmed, At: h.clock.Now(),
	}, confirmedData, "no payment token on later events")
	stored, _, err = orderStore.Order(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, contracts.StatusConfirmed, stored.Status)
	assert.Len(t, stored.Timeline, 2)
}

// Ten identical checkouts racing through three instances (no shared lock),
// for a user's first order (the index is created: first-writes only) and a
// later one (the index is ETag-guarded): PostgreSQL's refusals inside the
// transaction are recognised as conflicts, so each race makes exactly one
// order and all ten callers answer its id.
func TestConcurrentCheckoutsAgainstPostgres(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.catalog.SetDelay(50 * time.Millisecond) // all instances price before any places
	replicas := []*orders.Service{h.service(), h.service(), h.service()}
	var want []string
	for _, key := range []string{"first-order", "second-order"} {
		_, err := replicas[0].AddItem(ctx, customer.UserID, kettle.ID, 1)
		require.NoError(t, err)
		ids := make([]string, 10)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				o, err := replicas[i%len(replicas)].Checkout(ctx, customer, request, key)
				if assert.NoError(t, err) {
					ids[i] = o.ID
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			assert.Equal(t, ids[0], id, key)
		}
		want = append([]string{ids[0]}, want...)
	}
	index, _, err := h.orders.OrderIndex(ctx, customer.UserID)
	require.NoError(t, err)
	assert.Equal(t, want, index)
}

// Concurrent adds to one cart through two instances lose nothing: Redis
// honours the ETags and the first-write of a new cart.
func TestConcurrentAddsAgainstRedis(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	replicas := []*orders.Service{h.service(), h.service()}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := replicas[i%2].AddItem(ctx, customer.UserID, kettle.ID, 1)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	c, err := replicas[0].Cart(ctx, customer.UserID)
	require.NoError(t, err)
	require.Len(t, c.Lines, 1)
	assert.Equal(t, int64(10), c.Lines[0].Quantity)
}
