package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

	"github.com/shopmesh/shopmesh/apps/inventory/api"
	"github.com/shopmesh/shopmesh/apps/inventory/events"
	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/apps/inventory/inventorytest"
	"github.com/shopmesh/shopmesh/apps/inventory/outcomes"
	"github.com/shopmesh/shopmesh/apps/inventory/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// These tests run the inventory (store, domain, subscriptions, HTTP
// routes) in the test process beside a real daprd: the store on the
// local Redis (own key prefix per run), pub/sub in memory (so nothing
// reaches the running stack's topics), and the reservation-sweep cron
// binding firing every second. `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip. SHOPMESH_REDIS_PORT picks
// another Redis port than 16379.

// clock is the service's clock, moved by the test.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type harness struct {
	client  dapr.Client
	svc     *inventory.Service
	pub     *daprx.Publisher
	clock   *clock
	catalog *inventorytest.Catalog
	events  chan daprx.Event
	kept    []daprx.Event // received, not yet awaited
	redis   *redis.Client
	prefix  string // Dapr's key prefix of this run's state
}

func start(t *testing.T) *harness {
	daprxtest.RequireIntegration(t)
	redisAddr := "127.0.0.1:" + cmp.Or(os.Getenv("SHOPMESH_REDIS_PORT"), "16379")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	resources := daprxtest.WriteResources(t, map[string]string{
		"inventory-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: %q}
  - {name: keyPrefix, value: "invtest-%s"}
`, contracts.InventoryStore, redisAddr, run),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: pubsub.in-memory
  version: v1
`, contracts.PubSub),
		"reservation-sweep.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - {name: schedule, value: "@every 1s"}
  - {name: direction, value: input}
`, contracts.ReservationSweep),
	})

	h := &harness{
		clock:   &clock{},
		catalog: &inventorytest.Catalog{Products: map[string]bool{}},
		events:  make(chan daprx.Event, 256),
		redis:   redis.NewClient(&redis.Options{Addr: redisAddr}),
		prefix:  "invtest-" + run + "||",
	}
	t.Cleanup(func() {
		// Runs after the app and its sidecar stopped: drop the run's keys.
		if keys, err := h.redis.Keys(context.Background(), h.prefix+"*").Result(); err == nil && len(keys) > 0 {
			_ = h.redis.Del(context.Background(), keys...).Err()
		}
		_ = h.redis.Close()
	})
	app := daprxtest.Start(t, "invtest-"+run, resources,
		store.Module, events.Module, inventory.Module, outcomes.Module, api.Module,
		fx.Provide(func() inventory.Catalog { return h.catalog }),
		fx.Replace(inventory.Config{InitialStock: 5, ReservationTTL: 15 * time.Minute}),
		fx.Decorate(func() inventory.Clock { return h.clock.now }),
		fx.Populate(&h.svc, &h.pub),
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{
				Topic: contracts.TopicInventory,
				Types: []string{contracts.InventoryReserved, contracts.InventoryRejected, contracts.InventoryExpired},
				Handler: func(_ context.Context, e daprx.Event) error {
					h.events <- e
					return nil
				},
			}
		})),
	)
	h.client = app.Client
	return h
}

// await takes n events of the given type, failing after timeout. Events of
// other types that arrive meanwhile are kept for a later await: outcomes of
// concurrent placements interleave.
func (h *harness) await(t *testing.T, typ string, n int, timeout time.Duration) map[string]contracts.ReservationEvent {
	t.Helper()
	got := map[string]contracts.ReservationEvent{}
	take := func(e daprx.Event) {
		var r contracts.ReservationEvent
		require.NoError(t, e.Decode(&r))
		got[r.OrderID] = r
	}
	kept := h.kept[:0:0]
	for _, e := range h.kept {
		if e.Type == typ && len(got) < n {
			take(e)
		} else {
			kept = append(kept, e)
		}
	}
	h.kept = kept
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case e := <-h.events:
			if e.Type != typ {
				h.kept = append(h.kept, e)
				continue
			}
			take(e)
		case <-deadline:
			t.Fatalf("%d of %d %s events in %s", len(got), n, typ, timeout)
		}
	}
	return got
}

// keys lists this run's state keys matching pattern (without Dapr's prefix).
func (h *harness) keys(t *testing.T, pattern string) []string {
	t.Helper()
	keys, err := h.redis.Keys(context.Background(), h.prefix+pattern).Result()
	require.NoError(t, err)
	return keys
}

type rec struct {
	N int `json:"n"`
}

func TestStoreAgainstRedis(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	st := store.New(h.client)
	var got rec

	_, err := st.Get(ctx, "missing", &got)
	require.ErrorIs(t, err, inventory.ErrNotFound)

	require.NoError(t, st.Create(ctx, "a", rec{1}))
	require.ErrorIs(t, st.Create(ctx, "a", rec{2}), inventory.ErrConflict, "first-write refuses a taken key")
	etag, err := st.Get(ctx, "a", &got)
	require.NoError(t, err)
	assert.Equal(t, rec{1}, got)

	require.NoError(t, st.Save(ctx, "a", rec{3}, etag))
	require.ErrorIs(t, st.Save(ctx, "a", rec{4}, etag), inventory.ErrConflict, "a stale etag is refused")
	require.ErrorIs(t, st.Delete(ctx, "a", etag), inventory.ErrConflict)
	require.Error(t, st.Save(ctx, "a", rec{5}, ""), "no blind writes")

	items, err := st.GetBulk(ctx, []string{"nope", "a"})
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Nil(t, items[0].Value)
	assert.Equal(t, "a", items[1].Key)
	assert.NotEmpty(t, items[1].ETag, "the sweep deletes index keys read in bulk by their ETag")
	assert.JSONEq(t, `{"n":3}`, string(items[1].Value))

	// Writers racing with the same ETag: exactly one wins, the others see
	// ErrConflict (Redis reports an ETag mismatch through Dapr).
	etag, err = st.Get(ctx, "a", &got)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Go(func() {
			err := st.Save(ctx, "a", rec{100 + i}, etag)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, inventory.ErrConflict):
				t.Errorf("save: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wins)

	etag, err = st.Get(ctx, "a", &got)
	require.NoError(t, err)
	require.NoError(t, st.Delete(ctx, "a", etag))
	_, err = st.Get(ctx, "a", &got)
	require.ErrorIs(t, err, inventory.ErrNotFound)
}

// Fifty checkouts of one unit each race for ten units on real Redis.
func TestConcurrentReservationsOnRedis(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.catalog.Products["hot"] = true
	_, err := h.svc.SetAvailable(ctx, "hot", 10)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			assert.NoError(t, h.svc.Place(ctx, inventory.Order{ID: fmt.Sprintf("race-%02d", i), Lines: []inventory.Line{{ProductID: "hot", Quantity: 1}}}))
		})
	}
	wg.Wait()
	st, err := h.svc.Stock(ctx, "hot")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{0, 10}, [2]int64{st.Available, st.Reserved})
	assert.Len(t, st.Holds, 10)
	reserved := h.await(t, contracts.InventoryReserved, 10, 20*time.Second)
	rejected := h.await(t, contracts.InventoryRejected, 40, 20*time.Second)
	for id := range reserved {
		assert.NotContains(t, rejected, id)
	}
}

// Order events travel through the sidecar: subscription routes by type,
// the outcome is published, and a redelivered placement changes nothing.
func TestOrderEventsThroughTheSidecar(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	product := contracts.ProductEvent{ID: "p-1", SKU: "K-1", Version: 1}
	require.NoError(t, h.pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductCreated, product.ID, product))
	require.Eventually(t, func() bool {
		st, err := h.svc.Stock(ctx, "p-1")
		return err == nil && st.Available == 5
	}, 20*time.Second, 100*time.Millisecond, "product.created gives the product its initial stock")

	placed := contracts.OrderEvent{OrderID: "o-1", Lines: []contracts.OrderLine{{ProductID: "p-1", Quantity: 2}}, Status: contracts.StatusPending}
	require.NoError(t, h.pub.Publish(ctx, contracts.TopicOrders, contracts.OrderPlaced, placed.OrderID, placed))
	h.await(t, contracts.InventoryReserved, 1, 20*time.Second)
	require.NoError(t, h.pub.Publish(ctx, contracts.TopicOrders, contracts.OrderPlaced, placed.OrderID, placed))
	h.await(t, contracts.InventoryReserved, 1, 20*time.Second)
	require.NoError(t, h.pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductCreated, product.ID, product))

	confirmed := placed
	confirmed.Status = contracts.StatusConfirmed
	require.NoError(t, h.pub.Publish(ctx, contracts.TopicOrders, contracts.OrderConfirmed, placed.OrderID, confirmed))
	// The reservation's status changes before the stock moves: wait for both.
	require.Eventually(t, func() bool {
		r, err := h.svc.Reservation(ctx, "o-1")
		if err != nil || r.Status != inventory.StatusCommitted {
			return false
		}
		st, err := h.svc.Stock(ctx, "p-1")
		return err == nil && st.Reserved == 0
	}, 20*time.Second, 100*time.Millisecond)
	st, err := h.svc.Stock(ctx, "p-1")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{3, 0}, [2]int64{st.Available, st.Reserved}, "two sold, once")
}

// The reservation-sweep cron binding reaches the app's route (with the app
// API token) and expires a reservation once the clock passes its TTL.
func TestCronBindingSweepsExpiredReservations(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.catalog.Products["p-1"] = true
	_, err := h.svc.SetAvailable(ctx, "p-1", 4)
	require.NoError(t, err)
	require.NoError(t, h.svc.Place(ctx, inventory.Order{ID: "late", Lines: []inventory.Line{{ProductID: "p-1", Quantity: 3}}}))
	h.await(t, contracts.InventoryReserved, 1, 20*time.Second)
	require.NotEmpty(t, h.keys(t, "open|*"), "the reservation is listed for the sweep")

	h.clock.add(time.Hour)
	expired := h.await(t, contracts.InventoryExpired, 1, 20*time.Second)
	assert.Equal(t, contracts.ReasonReservationExpired, expired["late"].Reason)
	st, err := h.svc.Stock(ctx, "p-1")
	require.NoError(t, err)
	assert.Equal(t, [2]int64{4, 0}, [2]int64{st.Available, st.Reserved})
	r, err := h.svc.Reservation(ctx, "late")
	require.NoError(t, err)
	assert.Equal(t, inventory.StatusExpired, r.Status)
	require.Eventually(t, func() bool { return len(h.keys(t, "open|*")) == 0 }, 10*time.Second, 200*time.Millisecond,
		"the swept minute's index keys are deleted")
	assert.Len(t, h.keys(t, "sweep|cursor"), 1)
}
