package inventory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/apps/inventory/inventorytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc   *inventory.Service
	store *inventorytest.Store
	pub   *inventorytest.Publisher
	cat   *inventorytest.Catalog
	clock *clock
	cfg   inventory.Config
	out   *inventorytest.Outcomes
}

// newEnv returns a service over fakes. The store refuses (and the test
// fails on) any stock record whose counts go negative or disagree with
// its holds, at every write.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		store: inventorytest.NewStore(),
		pub:   &inventorytest.Publisher{},
		cat:   &inventorytest.Catalog{Products: map[string]bool{}},
		clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)},
		cfg:   inventory.Config{InitialStock: 10, ReservationTTL: 15 * time.Minute},
		out:   &inventorytest.Outcomes{},
	}
	e.store.Check = func(key string, value []byte) error {
		if !strings.HasPrefix(key, "stock|") {
			return nil
		}
		var st inventory.Stock
		if err := json.Unmarshal(value, &st); err != nil {
			return err
		}
		var held int64
		for _, q := range st.Holds {
			held += q
		}
		if st.Available < 0 || st.Reserved < 0 || held != st.Reserved {
			err := fmt.Errorf("invariant broken in %s: %+v", key, st)
			t.Error(err)
			return err
		}
		return nil
	}
	e.svc = e.replica()
	return e
}

// replica is another process of the service on the same store.
func (e *env) replica() *inventory.Service {
	return inventory.NewService(e.store, e.pub, e.cat, e.cfg, e.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)), e.out)
}

func (e *env) stock(t *testing.T, id string) inventory.Stock {
	t.Helper()
	st, err := e.svc.Stock(context.Background(), id)
	require.NoError(t, err)
	return st
}

func (e *env) counts(t *testing.T, id string) [2]int64 {
	t.Helper()
	st := e.stock(t, id)
	return [2]int64{st.Available, st.Reserved}
}

func (e *env) status(t *testing.T, order string) inventory.Status {
	t.Helper()
	r, err := e.svc.Reservation(context.Background(), order)
	require.NoError(t, err)
	return r.Status
}

// product gives a product its record with n units.
func (e *env) product(t *testing.T, id string, n int64) {
	t.Helper()
	e.cat.Products[id] = true
	_, err := e.svc.SetAvailable(context.Background(), id, n)
	require.NoError(t, err)
}

func order(id string, lines ...any) inventory.Order {
	o := inventory.Order{ID: id}
	for i := 0; i < len(lines); i += 2 {
		o.Lines = append(o.Lines, inventory.Line{ProductID: lines[i].(string), Quantity: int64(lines[i+1].(int))})
	}
	return o
}

func orderIDs(events []inventorytest.Event) []string {
	var ids []string
	for _, e := range events {
		ids = append(ids, e.Key)
	}
	return ids
}

func TestLoadConfig(t *testing.T) {
	cfg, err := inventory.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, inventory.Config{InitialStock: 0, ReservationTTL: 15 * time.Minute}, cfg)

	env := map[string]string{"INVENTORY_INITIAL_STOCK": "100", "INVENTORY_RESERVATION_TTL": "90s"}
	cfg, err = inventory.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	assert.Equal(t, inventory.Config{InitialStock: 100, ReservationTTL: 90 * time.Second}, cfg)

	env = map[string]string{"INVENTORY_INITIAL_STOCK": "-1", "INVENTORY_RESERVATION_TTL": "soon"}
	_, err = inventory.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "INVENTORY_INITIAL_STOCK")
	assert.Contains(t, err.Error(), "INVENTORY_RESERVATION_TTL")
}

func TestProductCreatedStartsStockOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.svc.CreateStock(ctx, "p1"))
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))

	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 3)))
	require.NoError(t, e.svc.CreateStock(ctx, "p1"), "a redelivered product.created")
	assert.Equal(t, [2]int64{7, 3}, e.counts(t, "p1"), "redelivery never resets stock")

	evs := e.pub.Events(contracts.StockChanged)
	require.NotEmpty(t, evs)
	first, last := evs[0].Data.(contracts.StockEvent), evs[len(evs)-1].Data.(contracts.StockEvent)
	assert.Equal(t, contracts.StockEvent{ProductID: "p1", Available: 10, InStock: true, Version: 1, At: e.clock.now()}, first)
	assert.Equal(t, int64(2), last.Version)
	assert.Equal(t, int64(7), last.Available)
	assert.Equal(t, "p1", evs[0].Key, "stock events are keyed by product id")
	assert.Equal(t, contracts.TopicInventory, evs[0].Topic)
}

func TestSetAvailable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)

	_, err := e.svc.SetAvailable(ctx, "nope", 5)
	require.ErrorIs(t, err, inventory.ErrUnknownProduct)
	_, err = e.svc.Stock(ctx, "nope")
	require.ErrorIs(t, err, inventory.ErrNotFound, "nothing is stored for an unknown product")

	e.cat.Products["p1"] = true
	st, err := e.svc.SetAvailable(ctx, "p1", 5)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{5, 0}, [2]int64{st.Available, st.Reserved})
	assert.Equal(t, int64(1), st.Version)

	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 2)))
	st, err = e.svc.SetAvailable(ctx, "p1", 0)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{0, 2}, [2]int64{st.Available, st.Reserved}, "reserved units stay reserved")
	assert.Equal(t, int64(3), st.Version)

	last := e.pub.Events(contracts.StockChanged)
	assert.Equal(t, contracts.StockEvent{ProductID: "p1", Available: 0, Reserved: 2, InStock: false, Version: 3, At: e.clock.now()},
		last[len(last)-1].Data)

	e.cat.Err = errors.New("catalog down")
	_, err = e.svc.SetAvailable(ctx, "p1", 9)
	require.Error(t, err)
	assert.Equal(t, [2]int64{0, 2}, e.counts(t, "p1"))
}

func TestReservesAllLinesOrNone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 5)
	e.product(t, "p2", 1)
	e.product(t, "p3", 5)

	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 3, "p2", 2, "p3", 1)))
	assert.Equal(t, [2]int64{5, 0}, e.counts(t, "p1"), "the line taken before the short one is given back")
	assert.Equal(t, [2]int64{1, 0}, e.counts(t, "p2"))
	assert.Equal(t, [2]int64{5, 0}, e.counts(t, "p3"))
	assert.Equal(t, inventory.StatusRejected, e.status(t, "o1"))
	assert.Empty(t, e.pub.Events(contracts.InventoryReserved))
	rej := e.pub.Events(contracts.InventoryRejected)
	require.Len(t, rej, 1)
	assert.Equal(t, "o1", rej[0].Key, "keyed by order id")
	assert.Equal(t, contracts.ReservationEvent{OrderID: "o1", Reason: contracts.ReasonOutOfStock, ProductID: "p2", At: e.clock.now()}, rej[0].Data)

	// A product without a stock record has no units.
	require.NoError(t, e.svc.Place(ctx, order("o2", "p1", 1, "ghost", 1)))
	assert.Equal(t, "ghost", e.pub.Events(contracts.InventoryRejected)[1].Data.(contracts.ReservationEvent).ProductID)
	assert.Equal(t, [2]int64{5, 0}, e.counts(t, "p1"))

	// Repeated products are merged into one hold.
	require.NoError(t, e.svc.Place(ctx, order("o3", "p1", 2, "p3", 1, "p1", 2)))
	assert.Equal(t, [2]int64{1, 4}, e.counts(t, "p1"))
	assert.Equal(t, map[string]int64{"o3": 4}, e.stock(t, "p1").Holds)
	assert.Equal(t, []string{"o3"}, orderIDs(e.pub.Events(contracts.InventoryReserved)))
}

func TestInvalidEventsAreRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for name, o := range map[string]inventory.Order{
		"no id":         order("", "p1", 1),
		"no lines":      order("o1"),
		"zero quantity": order("o1", "p1", 0),
		"no product":    order("o1", "", 1),
	} {
		assert.ErrorIs(t, e.svc.Place(ctx, o), inventory.ErrInvalid, name)
	}
	assert.ErrorIs(t, e.svc.Confirm(ctx, "never-placed"), inventory.ErrInvalid)
	assert.ErrorIs(t, e.svc.Cancel(ctx, inventory.Order{}), inventory.ErrInvalid)
}

func TestFiftyConcurrentCheckoutsForTenUnits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "hot", 10)

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			assert.NoError(t, e.svc.Place(ctx, order(fmt.Sprintf("o%02d", i), "hot", 1)))
		})
	}
	wg.Wait()
	assert.Equal(t, [2]int64{0, 10}, e.counts(t, "hot"))
	reserved := e.pub.Events(contracts.InventoryReserved)
	assert.Len(t, reserved, 10)
	assert.Len(t, e.pub.Events(contracts.InventoryRejected), 40)
	outcomes := map[string]int{}
	for _, o := range e.out.All() {
		outcomes[o]++
	}
	assert.Equal(t, map[string]int{"reserved": 10, "rejected out_of_stock": 40}, outcomes, "each reservation counted once")

	// The saga goes on: the reserved orders are confirmed, the rejected
	// ones cancelled, all at once.
	for i := range 50 {
		id := fmt.Sprintf("o%02d", i)
		wg.Go(func() {
			if e.status(t, id) == inventory.StatusReserved {
				assert.NoError(t, e.svc.Confirm(ctx, id))
			} else {
				assert.NoError(t, e.svc.Cancel(ctx, order(id, "hot", 1)))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, [2]int64{0, 0}, e.counts(t, "hot"))
	assert.Empty(t, e.stock(t, "hot").Holds)

	// Every change was announced: 1 set, 10 reservations, 10 sales.
	versions := map[int64]bool{}
	for _, ev := range e.pub.Events(contracts.StockChanged) {
		se := ev.Data.(contracts.StockEvent)
		assert.GreaterOrEqual(t, se.Available, int64(0))
		assert.GreaterOrEqual(t, se.Reserved, int64(0))
		versions[se.Version] = true
	}
	assert.Len(t, versions, 21)
	assert.Equal(t, int64(21), e.stock(t, "hot").Version)
}

func TestRedeliveredPlacementChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)

	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 2)))
	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 2)))
	assert.Equal(t, [2]int64{8, 2}, e.counts(t, "p1"))
	reserved := e.pub.Events(contracts.InventoryReserved)
	require.Len(t, reserved, 2, "the duplicate re-publishes the outcome")
	assert.Equal(t, reserved[0], reserved[1], "the very same outcome")

	// Duplicates delivered at the same time.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { assert.NoError(t, e.svc.Place(ctx, order("o2", "p1", 3))) })
	}
	wg.Wait()
	assert.Equal(t, [2]int64{5, 5}, e.counts(t, "p1"))
	assert.Equal(t, []string{"reserved", "reserved"}, e.out.All(), "duplicates count nothing more")
}

func TestInterruptedPlacementResumes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)
	e.product(t, "p2", 10)

	crash := errors.New("process killed")
	e.store.Hook = func(op, key string) error {
		if op == "save" && key == "stock|p2" {
			return crash
		}
		return nil
	}
	require.ErrorIs(t, e.svc.Place(ctx, order("o1", "p1", 1, "p2", 1)), crash)
	assert.Equal(t, [2]int64{9, 1}, e.counts(t, "p1"), "p1 was taken before the crash")

	e.store.Hook = nil
	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 1, "p2", 1)), "redelivery")
	assert.Equal(t, [2]int64{9, 1}, e.counts(t, "p1"), "and is not taken twice")
	assert.Equal(t, [2]int64{9, 1}, e.counts(t, "p2"))
	assert.Equal(t, []string{"o1"}, orderIDs(e.pub.Events(contracts.InventoryReserved)))
}

func TestFailedPublishIsRepeatedOnRedelivery(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)

	e.pub.Fail = func(typ, _ string) error {
		if typ == contracts.InventoryReserved {
			return errors.New("broker down")
		}
		return nil
	}
	require.Error(t, e.svc.Place(ctx, order("o1", "p1", 4)), "the event must be redelivered")
	assert.Equal(t, inventory.StatusReserved, e.status(t, "o1"), "the outcome was stored before publishing")

	e.pub.Fail = nil
	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 4)))
	assert.Equal(t, [2]int64{6, 4}, e.counts(t, "p1"))
	assert.Equal(t, []string{"o1"}, orderIDs(e.pub.Events(contracts.InventoryReserved)))

	// A stock change whose stock.changed failed is published by the retry.
	e.pub.Fail = func(typ, _ string) error {
		if typ == contracts.StockChanged {
			return errors.New("broker down")
		}
		return nil
	}
	require.Error(t, e.svc.Confirm(ctx, "o1"))
	e.pub.Fail = nil
	require.NoError(t, e.svc.Confirm(ctx, "o1"))
	evs := e.pub.Events(contracts.StockChanged)
	assert.Equal(t, contracts.StockEvent{ProductID: "p1", Available: 6, Reserved: 0, InStock: true, Version: 3, At: e.clock.now()}, evs[len(evs)-1].Data)
}

func TestConfirmAndCancelAreIdempotent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)

	require.NoError(t, e.svc.Place(ctx, order("sold", "p1", 2)))
	require.NoError(t, e.svc.Place(ctx, order("gone", "p1", 3)))
	assert.Equal(t, [2]int64{5, 5}, e.counts(t, "p1"))

	for range 2 {
		require.NoError(t, e.svc.Confirm(ctx, "sold"))
		require.NoError(t, e.svc.Cancel(ctx, order("gone", "p1", 3)))
	}
	assert.Equal(t, [2]int64{8, 0}, e.counts(t, "p1"), "2 sold, 3 back")
	assert.Equal(t, inventory.StatusCommitted, e.status(t, "sold"))
	assert.Equal(t, inventory.StatusCancelled, e.status(t, "gone"))

	// Events that come too late change nothing either.
	require.NoError(t, e.svc.Cancel(ctx, order("sold", "p1", 2)))
	require.NoError(t, e.svc.Confirm(ctx, "gone"))
	require.NoError(t, e.svc.Place(ctx, order("gone", "p1", 3)))
	assert.Equal(t, [2]int64{8, 0}, e.counts(t, "p1"))
	assert.Equal(t, []string{"sold", "gone"}, orderIDs(e.pub.Events(contracts.InventoryReserved)))

	// A confirmation before the reservation is made is retried later.
	e.product(t, "p2", 1)
	e.store.Hook = func(op, key string) error {
		if op == "save" && key == "stock|p2" {
			return errors.New("crash")
		}
		return nil
	}
	require.Error(t, e.svc.Place(ctx, order("slow", "p2", 1)))
	e.store.Hook = nil
	require.Error(t, e.svc.Confirm(ctx, "slow"))
	assert.NotErrorIs(t, e.svc.Confirm(ctx, "slow"), inventory.ErrInvalid, "retried, not dead-lettered")
}

func TestCancelBeforePlacementLeavesATombstone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)

	require.NoError(t, e.svc.Cancel(ctx, order("o1", "p1", 2)))
	assert.Equal(t, inventory.StatusCancelled, e.status(t, "o1"))
	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 2)))
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))
	assert.Equal(t, inventory.StatusCancelled, e.status(t, "o1"))
	assert.Empty(t, e.pub.Events(contracts.InventoryReserved, contracts.InventoryRejected), "a cancelled order gets no outcome")
}

// A cancellation that lands while the placement runs — between two lines,
// or just before the placement stores its outcome — leaves nothing
// reserved and no inventory.reserved.
func TestCancelDuringPlacementLeavesNothingReserved(t *testing.T) {
	for name, at := range map[string]struct{ op, key string }{
		"before the first take": {"save", "stock|p1"},
		"between lines":         {"save", "stock|p2"},
		"before the outcome":    {"save", "reservation|o1"},
		"before the index":      {"create", "open|"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.product(t, "p1", 10)
			e.product(t, "p2", 10)

			fired := false
			e.store.Hook = func(op, key string) error {
				if !fired && op == at.op && strings.HasPrefix(key, at.key) {
					fired = true
					require.NoError(t, e.replica().Cancel(ctx, order("o1", "p1", 1, "p2", 1)))
				}
				return nil
			}
			require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 1, "p2", 1)))
			require.True(t, fired)
			assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))
			assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p2"))
			assert.Equal(t, inventory.StatusCancelled, e.status(t, "o1"))
			assert.Empty(t, e.pub.Events(contracts.InventoryReserved))
		})
	}
}

// A duplicate of order.placed that read the reservation before the order
// was confirmed, and writes after, must not take the units again: the
// stock record remembers that the order's hold ended.
func TestLateDuplicateCannotTakeAgain(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)

	fired := false
	e.store.Hook = func(op, key string) error {
		if !fired && op == "save" && key == "stock|p1" {
			// The duplicate has read the reservation (reserving) and the
			// stock; meanwhile the first delivery reserves and the order
			// is confirmed.
			fired = true
			require.NoError(t, e.replica().Place(ctx, order("o1", "p1", 2)))
			require.NoError(t, e.replica().Confirm(ctx, "o1"))
		}
		return nil
	}
	require.NoError(t, e.svc.Place(ctx, order("o1", "p1", 2)))
	assert.Equal(t, [2]int64{8, 0}, e.counts(t, "p1"), "sold once, nothing held")
	assert.Equal(t, inventory.StatusCommitted, e.status(t, "o1"))
}

func TestSweepReleasesOnlyExpiredReservations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 100)
	t0 := e.clock.now()

	require.NoError(t, e.svc.Place(ctx, order("stale", "p1", 1)))
	require.NoError(t, e.svc.Place(ctx, order("sold", "p1", 2)))
	require.NoError(t, e.svc.Confirm(ctx, "sold"))
	require.NoError(t, e.svc.Place(ctx, order("gone", "p1", 3)))
	require.NoError(t, e.svc.Cancel(ctx, order("gone", "p1", 3)))
	require.NoError(t, e.svc.Place(ctx, order("rejected", "p1", 1000)))
	e.clock.add(10 * time.Minute)
	require.NoError(t, e.svc.Place(ctx, order("young", "p1", 4)))
	assert.Equal(t, [2]int64{93, 5}, e.counts(t, "p1"))

	n, err := e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is older than the TTL yet")

	e.clock.set(t0.Add(16 * time.Minute))
	n, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, [2]int64{94, 4}, e.counts(t, "p1"))
	assert.Equal(t, inventory.StatusExpired, e.status(t, "stale"))
	assert.Equal(t, inventory.StatusReserved, e.status(t, "young"))
	expired := e.pub.Events(contracts.InventoryExpired)
	require.Len(t, expired, 1)
	assert.Equal(t, contracts.ReservationEvent{OrderID: "stale", Reason: contracts.ReasonReservationExpired, At: e.clock.now()}, expired[0].Data)

	n, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, e.pub.Events(contracts.InventoryExpired), 1, "a second sweep publishes nothing again")

	// The expired order's late events change nothing.
	require.NoError(t, e.svc.Confirm(ctx, "stale"))
	require.NoError(t, e.svc.Place(ctx, order("stale", "p1", 1)))
	assert.Equal(t, [2]int64{94, 4}, e.counts(t, "p1"))

	e.clock.set(t0.Add(27 * time.Minute))
	n, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, [2]int64{98, 0}, e.counts(t, "p1"))
	assert.Empty(t, e.store.Keys("open|"), "swept minutes leave no index keys behind")
}

func TestSweepsInSeveralReplicasExpireEachOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 100)
	e.product(t, "p2", 100)
	for i := range 30 {
		require.NoError(t, e.svc.Place(ctx, order(fmt.Sprintf("o%02d", i), "p1", 1, "p2", 2)))
		if i%10 == 9 {
			e.clock.add(time.Minute) // spread them over a few minutes
		}
	}
	assert.Equal(t, [2]int64{70, 30}, e.counts(t, "p1"))
	e.clock.add(20 * time.Minute)

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 3 {
		r := e.replica()
		wg.Go(func() {
			n, err := r.Sweep(ctx)
			assert.NoError(t, err)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 30, total, "each reservation is expired by exactly one replica")
	assert.Equal(t, [2]int64{100, 0}, e.counts(t, "p1"))
	assert.Equal(t, [2]int64{100, 0}, e.counts(t, "p2"))
	seen := map[string]bool{}
	for _, ev := range e.pub.Events(contracts.InventoryExpired) {
		seen[ev.Key] = true
	}
	assert.Len(t, seen, 30, "every expired order is announced")
	assert.Empty(t, e.store.Keys("open|"))
}

func TestSweepFinishesAnInterruptedExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)
	e.product(t, "p2", 10)

	// A placement that died after taking p1, and whose event was never
	// redelivered, leaves a reservation stuck in "reserving".
	e.store.Hook = func(op, key string) error {
		if op == "save" && key == "stock|p2" {
			return errors.New("crash")
		}
		return nil
	}
	require.Error(t, e.svc.Place(ctx, order("stuck", "p1", 3, "p2", 3)))
	e.store.Hook = nil
	assert.Equal(t, inventory.StatusReserving, e.status(t, "stuck"))
	e.clock.add(16 * time.Minute)

	e.pub.Fail = func(typ, _ string) error {
		if typ == contracts.InventoryExpired {
			return errors.New("broker down")
		}
		return nil
	}
	_, err := e.svc.Sweep(ctx)
	require.Error(t, err)
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"), "released before announcing")

	e.pub.Fail = nil
	_, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"stuck"}, orderIDs(e.pub.Events(contracts.InventoryExpired)))
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))
	assert.Empty(t, e.store.Keys("open|"))

	// The placement's redelivery, however late, reserves nothing.
	require.NoError(t, e.svc.Place(ctx, order("stuck", "p1", 3, "p2", 3)))
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))
	assert.Empty(t, e.pub.Events(contracts.InventoryReserved))
}

// A placement that stopped before it was listed for the sweep, and is
// redelivered long after (past a sweep of its minute), is listed then and
// swept in turn.
func TestPlacementResumedLateIsStillSwept(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.product(t, "p1", 10)
	require.NoError(t, e.svc.Place(ctx, order("first", "p1", 1))) // starts the index

	e.store.Hook = func(op, key string) error {
		if strings.HasPrefix(key, "open|") {
			return errors.New("crash")
		}
		return nil
	}
	require.Error(t, e.svc.Place(ctx, order("late", "p1", 2)))
	e.store.Hook = nil
	assert.Equal(t, [2]int64{9, 1}, e.counts(t, "p1"), "nothing taken before it is listed")

	e.clock.add(20 * time.Minute)
	n, err := e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the listed one")
	require.NoError(t, e.svc.Place(ctx, order("late", "p1", 2)))
	assert.Equal(t, [2]int64{8, 2}, e.counts(t, "p1"))

	e.clock.add(16 * time.Minute)
	n, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, [2]int64{10, 0}, e.counts(t, "p1"))
	assert.Equal(t, []string{"first", "late"}, orderIDs(e.pub.Events(contracts.InventoryExpired)))
}
