package orders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/orderstest"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

const (
	ann = "user-ann"
	bob = "user-bob"
)

var (
	kettle = orders.Product{ID: "p-kettle", SKU: "KIT-1", Name: "Kettle", Price: usd(3999)}
	mug    = orders.Product{ID: "p-mug", SKU: "KIT-2", Name: "Mug", Price: usd(899)}
	ctx    = context.Background()
	annC   = orders.Customer{UserID: ann, Email: "ann@example.com"}
	home   = orders.Address{Name: "Ann", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}
	visa   = orders.CheckoutRequest{ShippingAddress: home, PaymentToken: "tok_visa"}
)

func usd(amount int64) contracts.Money { return contracts.Money{Amount: amount, Currency: "USD"} }

func newEnv(t *testing.T) *orderstest.Env {
	t.Helper()
	return orderstest.New(kettle, mug)
}

func add(t *testing.T, e *orderstest.Env, user string, p orders.Product, n int64) orders.Cart {
	t.Helper()
	c, err := e.Service.AddItem(ctx, user, p.ID, n)
	require.NoError(t, err)
	return c
}

func eventTypes(e *orderstest.Env) []string {
	var types []string
	for _, ev := range e.Store.Events() {
		types = append(types, ev.Type)
	}
	return types
}

func TestCartRules(t *testing.T) {
	e := newEnv(t)
	c, err := e.Service.Cart(ctx, ann)
	require.NoError(t, err)
	assert.Empty(t, c.Lines)
	assert.Equal(t, usd(0), c.Total("USD"), "an empty cart totals zero in the shop currency")

	add(t, e, ann, kettle, 2)
	e.Catalog.Put(orders.Product{ID: kettle.ID, SKU: kettle.SKU, Name: kettle.Name, Price: usd(3499)})
	c = add(t, e, ann, kettle, 3)
	require.Len(t, c.Lines, 1, "adding a product in the cart adds to its line")
	assert.Equal(t, orders.CartLine{ProductID: kettle.ID, Quantity: 5, UnitPrice: usd(3499)}, c.Lines[0], "at the current price")
	c = add(t, e, ann, mug, 1)
	assert.Equal(t, usd(5*3499+899), c.Total("USD"))

	for _, n := range []int64{0, -1, orders.MaxQuantity + 1} {
		_, err := e.Service.AddItem(ctx, ann, mug.ID, n)
		assert.ErrorIs(t, err, orders.ErrQuantity, "quantity %d", n)
	}
	_, err = e.Service.AddItem(ctx, ann, kettle.ID, orders.MaxQuantity-4)
	assert.ErrorIs(t, err, orders.ErrQuantity, "a line may not grow beyond the limit")
	c = add(t, e, ann, kettle, orders.MaxQuantity-5)
	assert.Equal(t, int64(orders.MaxQuantity), c.Lines[0].Quantity, "up to the limit is fine")

	_, err = e.Service.AddItem(ctx, ann, "p-nope", 1)
	assert.ErrorIs(t, err, orders.ErrUnknownProduct)
	e.Catalog.Put(orders.Product{ID: "p-euro", Price: contracts.Money{Amount: 100, Currency: "EUR"}})
	_, err = e.Service.AddItem(ctx, ann, "p-euro", 1)
	assert.ErrorIs(t, err, orders.ErrCurrency)

	c, err = e.Service.RemoveItem(ctx, ann, "p-absent")
	require.NoError(t, err, "removing an absent line is not an error")
	assert.Len(t, c.Lines, 2)
	c, err = e.Service.RemoveItem(ctx, ann, kettle.ID)
	require.NoError(t, err)
	assert.Equal(t, []orders.CartLine{{ProductID: mug.ID, Quantity: 1, UnitPrice: usd(899)}}, c.Lines)
	c, err = e.Service.Cart(ctx, ann)
	require.NoError(t, err)
	assert.Len(t, c.Lines, 1, "what was answered is what is stored")

	other, err := e.Service.Cart(ctx, bob)
	require.NoError(t, err)
	assert.Empty(t, other.Lines, "carts are per user")
}

func TestCartHoldsAtMostMaxLines(t *testing.T) {
	e := newEnv(t)
	for i := range orders.MaxLines {
		p := orders.Product{ID: fmt.Sprintf("p-%d", i), Price: usd(100)}
		e.Catalog.Put(p)
		add(t, e, ann, p, 1)
	}
	e.Catalog.Put(orders.Product{ID: "p-one-more", Price: usd(100)})
	_, err := e.Service.AddItem(ctx, ann, "p-one-more", 1)
	assert.ErrorIs(t, err, orders.ErrCartFull)
	c := add(t, e, ann, orders.Product{ID: "p-0"}, 1)
	assert.Len(t, c.Lines, orders.MaxLines, "existing lines can still grow")
}

// Concurrent adds to one cart, through two instances of the service (no
// shared lock, so the ETags decide), lose nothing.
func TestConcurrentAddsLoseNothing(t *testing.T) {
	e := newEnv(t)
	e.Carts.BeforeWrite = func(string) error { time.Sleep(time.Millisecond); return nil }
	replicas := []*orders.Service{e.Service, e.Replica()}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			p := kettle
			if i%2 == 1 {
				p = mug
			}
			_, err := replicas[i%len(replicas)].AddItem(ctx, ann, p.ID, 2)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	c, err := e.Service.Cart(ctx, ann)
	require.NoError(t, err)
	require.Len(t, c.Lines, 2)
	for _, l := range c.Lines {
		assert.Equal(t, int64(20), l.Quantity, l.ProductID)
	}
}

func TestCheckoutPlacesAPendingOrderAtCurrentPrices(t *testing.T) {
	e := newEnv(t)
	add(t, e, ann, kettle, 2)
	add(t, e, ann, mug, 1)
	e.Catalog.Put(orders.Product{ID: kettle.ID, SKU: "KIT-1", Name: "Kettle (new)", Price: usd(4999)})
	e.Clock.Advance(time.Minute)

	o, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	require.NoError(t, err)
	now := e.Clock.Now()
	assert.Equal(t, contracts.StatusPending, o.Status)
	want := []contracts.OrderLine{
		{ProductID: kettle.ID, SKU: "KIT-1", Name: "Kettle (new)", Quantity: 2, UnitPrice: usd(4999)},
		{ProductID: mug.ID, SKU: "KIT-2", Name: "Mug", Quantity: 1, UnitPrice: usd(899)},
	}
	assert.Equal(t, want, o.Lines, "checkout re-reads every price")
	assert.Equal(t, usd(2*4999+899), o.Total)
	assert.Equal(t, []orders.Change{{Status: contracts.StatusPending, At: now}}, o.Timeline)
	assert.Equal(t, home, o.ShippingAddress)

	stored, err := e.Service.Order(ctx, ann, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o, stored)
	list, err := e.Service.Orders(ctx, ann)
	require.NoError(t, err)
	assert.Equal(t, []orders.Order{o}, list)

	require.Equal(t, []string{contracts.OrderPlaced}, eventTypes(e))
	assert.Equal(t, contracts.OrderEvent{
		OrderID: o.ID, UserID: ann, Email: "ann@example.com", Name: "Ann", Lines: want, Total: o.Total,
		PaymentToken: "tok_visa", Status: contracts.StatusPending, At: now,
	}, e.Store.Events()[0].Data)

	c, err := e.Service.Cart(ctx, ann)
	require.NoError(t, err)
	assert.Empty(t, c.Lines, "an accepted checkout empties the cart")
}

func TestCheckoutIdempotency(t *testing.T) {
	e := newEnv(t)
	add(t, e, ann, kettle, 1)
	first, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	require.NoError(t, err)

	calls := e.Catalog.Calls()
	again, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	require.NoError(t, err, "same key and body: the same order, although the cart is empty now")
	assert.Equal(t, first, again)
	assert.Equal(t, calls, e.Catalog.Calls(), "a replay prices nothing")

	other := visa
	other.PaymentToken = "tok_chargeDeclined"
	_, err = e.Service.Checkout(ctx, annC, other, "key-1")
	assert.ErrorIs(t, err, orders.ErrKeyReused)
	moved := visa
	moved.ShippingAddress.City = "Shelbyville"
	_, err = e.Service.Checkout(ctx, annC, moved, "key-1")
	assert.ErrorIs(t, err, orders.ErrKeyReused)

	_, err = e.Service.Checkout(ctx, annC, visa, "key-2")
	assert.ErrorIs(t, err, orders.ErrEmptyCart, "a new key is a new checkout, of the now empty cart")

	// Keys are per user: Bob's "key-1" is his own.
	add(t, e, bob, mug, 1)
	bobs, err := e.Service.Checkout(ctx, orders.Customer{UserID: bob, Email: "bob@example.com"}, visa, "key-1")
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, bobs.ID)
	assert.Equal(t, []string{contracts.OrderPlaced, contracts.OrderPlaced}, eventTypes(e))
}

func TestRequestHashIsCanonical(t *testing.T) {
	assert.Equal(t, visa.Hash(), orders.CheckoutRequest{ShippingAddress: home, PaymentToken: "tok_visa"}.Hash())
	other := visa
	other.ShippingAddress.Line2 = "Apt 2"
	assert.NotEqual(t, visa.Hash(), other.Hash())
}

// Ten concurrent identical checkouts with one key, spread over three
// instances (so the store's first-write and ETag decide, not a lock), make
// exactly one order, and every caller gets its id.
func TestConcurrentCheckoutsWithOneKeyMakeOneOrder(t *testing.T) {
	e := newEnv(t)
	add(t, e, ann, kettle, 1)
	e.Catalog.SetDelay(20 * time.Millisecond) // all instances price before any places
	replicas := []*orders.Service{e.Service, e.Replica(), e.Replica()}
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			o, err := replicas[i%len(replicas)].Checkout(ctx, annC, visa, "double-click")
			if assert.NoError(t, err) {
				ids[i] = o.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	assert.Equal(t, []string{contracts.OrderPlaced}, eventTypes(e))
	list, err := e.Service.Orders(ctx, ann)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, ids[0], list[0].ID)
}

// A crash after the order's transaction but before the cart was emptied:
// the retry with the same key answers the same order and empties the cart,
// sparing what was added in between; a further retry takes nothing more.
func TestCheckoutRetryEmptiesTheCartAfterACrash(t *testing.T) {
	e := newEnv(t)
	add(t, e, ann, kettle, 2)
	crash := errors.New("redis went away")
	e.Carts.BeforeWrite = func(string) error { return crash }
	_, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	require.ErrorIs(t, err, crash)
	e.Carts.BeforeWrite = nil
	require.Equal(t, []string{contracts.OrderPlaced}, eventTypes(e), "the order was placed")

	add(t, e, ann, kettle, 1)
	add(t, e, ann, mug, 1)
	o, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), o.Lines[0].Quantity)
	for range 2 {
		c, err := e.Service.Cart(ctx, ann)
		require.NoError(t, err)
		assert.ElementsMatch(t, []orders.CartLine{
			{ProductID: kettle.ID, Quantity: 1, UnitPrice: usd(3999)},
			{ProductID: mug.ID, Quantity: 1, UnitPrice: usd(899)},
		}, c.Lines, "only the ordered quantities left the cart")
		_, err = e.Service.Checkout(ctx, annC, visa, "key-1")
		require.NoError(t, err)
	}
	assert.Equal(t, []string{contracts.OrderPlaced}, eventTypes(e), "still one order")
}

func TestCheckoutRefusals(t *testing.T) {
	e := newEnv(t)
	_, err := e.Service.Checkout(ctx, annC, visa, "key-1")
	assert.ErrorIs(t, err, orders.ErrEmptyCart)

	add(t, e, ann, kettle, 1)
	add(t, e, ann, mug, 1)
	_, err = e.Service.RemoveItem(ctx, ann, kettle.ID)
	require.NoError(t, err)
	_, err = e.Service.RemoveItem(ctx, ann, mug.ID)
	require.NoError(t, err)
	_, err = e.Service.Checkout(ctx, annC, visa, "key-1")
	assert.ErrorIs(t, err, orders.ErrEmptyCart, "a cart whose lines were all removed is empty")

	add(t, e, ann, kettle, 1)
	add(t, e, ann, mug, 1)
	e.Catalog.Delete(mug.ID)
	_, err = e.Service.Checkout(ctx, annC, visa, "key-1")
	require.ErrorIs(t, err, orders.ErrProductGone)
	assert.Contains(t, err.Error(), mug.ID)
	assert.Empty(t, e.Store.Events(), "nothing was placed")
	c, err := e.Service.Cart(ctx, ann)
	require.NoError(t, err)
	assert.Len(t, c.Lines, 2, "the cart is as it was")

	_, err = e.Service.RemoveItem(ctx, ann, mug.ID)
	require.NoError(t, err)
	_, err = e.Service.Checkout(ctx, annC, visa, "key-1")
	require.NoError(t, err, "the failed attempt did not use up the key")
}

func placed(t *testing.T, e *orderstest.Env, key string) orders.Order {
	t.Helper()
	add(t, e, ann, kettle, 1)
	o, err := e.Service.Checkout(ctx, annC, visa, key)
	require.NoError(t, err)
	return o
}

func TestSagaTransitions(t *testing.T) {
	cases := []struct {
		name, status, reason string
		event                string
	}{
		{"payment.succeeded", contracts.StatusConfirmed, "", contracts.OrderConfirmed},
		{"payment.failed", contracts.StatusCancelled, contracts.ReasonPaymentDeclined, contracts.OrderCancelled},
		{"inventory.rejected", contracts.StatusCancelled, contracts.ReasonOutOfStock, contracts.OrderCancelled},
		{"inventory.expired", contracts.StatusCancelled, contracts.ReasonReservationExpired, contracts.OrderCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			o := placed(t, e, "k")
			e.Clock.Advance(2 * time.Second)
			require.NoError(t, e.Service.Resolve(ctx, o.ID, tc.status, tc.reason))
			got, err := e.Service.Order(ctx, ann, o.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.status, got.Status)
			assert.Equal(t, tc.reason, got.Reason)
			assert.Equal(t, e.Clock.Now(), got.UpdatedAt)
			assert.Equal(t, []orders.Change{
				{Status: contracts.StatusPending, At: o.CreatedAt},
				{Status: tc.status, At: e.Clock.Now(), Reason: tc.reason},
			}, got.Timeline)

			evs := e.Store.Events()
			require.Equal(t, []string{contracts.OrderPlaced, tc.event}, eventTypes(e))
			assert.Equal(t, contracts.OrderEvent{
				OrderID: o.ID, UserID: ann, Email: "ann@example.com", Name: "Ann", Lines: o.Lines, Total: o.Total,
				Status: tc.status, Reason: tc.reason, At: e.Clock.Now(),
			}, evs[1].Data, "carrying lines, total, e-mail and reason; no payment token")

			// A repeated or late event changes nothing and is acknowledged.
			e.Clock.Advance(time.Second)
			for _, other := range cases {
				require.NoError(t, e.Service.Resolve(ctx, o.ID, other.status, other.reason))
			}
			again, err := e.Service.Order(ctx, ann, o.ID)
			require.NoError(t, err)
			assert.Equal(t, got, again)
			assert.Len(t, e.Store.Events(), 2)

			placedN, settled := e.Outcomes.Counts()
			assert.Equal(t, 1, placedN)
			assert.Equal(t, []string{strings.TrimSpace(tc.status + " " + tc.reason + " 2s")}, settled,
				"counted once, however often the outcome arrives, with the saga's duration")
		})
	}
}

func TestCheckoutWaitsWhileTheSagaIsLate(t *testing.T) {
	e := newEnv(t)
	e.Config.Pace = orders.PaceConfig{Limit: 500 * time.Millisecond, Window: time.Second, MinSettled: 3}
	e.Service = e.Replica()
	var first orders.Order
	var ids []string
	for i := range 3 {
		o := placed(t, e, fmt.Sprint("key-", i))
		if i == 0 {
			first = o
		}
		ids = append(ids, o.ID)
	}
	e.Clock.Advance(2 * time.Second)
	for _, id := range ids {
		require.NoError(t, e.Service.Resolve(ctx, id, contracts.StatusConfirmed, ""))
	}

	add(t, e, ann, kettle, 1)
	_, err := e.Service.Checkout(ctx, annC, visa, "key-a")
	require.NoError(t, err, "behind, one checkout goes in at once")
	add(t, e, ann, kettle, 1)
	_, err = e.Service.Checkout(ctx, annC, visa, "key-b")
	require.ErrorIs(t, err, orders.ErrBusy, "three of three settled 2 s after they were placed")
	_, err = e.Service.Checkout(ctx, annC, visa, "key-0")
	require.ErrorIs(t, err, orders.ErrBusy, "refused before any store work, a repeated checkout too")

	e.Clock.Advance(500 * time.Millisecond)
	_, err = e.Service.Checkout(ctx, annC, visa, "key-b")
	require.NoError(t, err, "three settled a second: 2.25 checkouts a second go in")

	e.Clock.Advance(2100 * time.Millisecond)
	again, err := e.Service.Checkout(ctx, annC, visa, "key-0")
	require.NoError(t, err, "nothing more settled for two windows: the backlog drained")
	assert.Equal(t, first.ID, again.ID, "a repeated checkout gets its order back")
}

func TestResolveOfAnUnknownOrder(t *testing.T) {
	e := newEnv(t)
	assert.ErrorIs(t, e.Service.Resolve(ctx, "no-such-order", contracts.StatusConfirmed, ""), orders.ErrNotFound)
}

func TestCancelRules(t *testing.T) {
	e := newEnv(t)
	o := placed(t, e, "k1")
	_, err := e.Service.Cancel(ctx, bob, o.ID)
	assert.ErrorIs(t, err, orders.ErrNotFound, "another user's order does not exist for Bob")
	_, err = e.Service.Order(ctx, bob, o.ID)
	assert.ErrorIs(t, err, orders.ErrNotFound)

	e.Clock.Advance(time.Minute)
	got, err := e.Service.Cancel(ctx, ann, o.ID)
	require.NoError(t, err)
	assert.Equal(t, contracts.StatusCancelled, got.Status)
	assert.Equal(t, contracts.ReasonCancelledByCustomer, got.Reason)
	assert.Equal(t, orders.Change{Status: contracts.StatusCancelled, At: e.Clock.Now(), Reason: contracts.ReasonCancelledByCustomer}, got.Timeline[1])
	assert.Equal(t, []string{contracts.OrderPlaced, contracts.OrderCancelled}, eventTypes(e))

	_, err = e.Service.Cancel(ctx, ann, o.ID)
	assert.ErrorIs(t, err, orders.ErrNotPending)

	confirmed := placed(t, e, "k2")
	require.NoError(t, e.Service.Resolve(ctx, confirmed.ID, contracts.StatusConfirmed, ""))
	_, err = e.Service.Cancel(ctx, ann, confirmed.ID)
	assert.ErrorIs(t, err, orders.ErrNotPending)
	assert.Len(t, e.Store.Events(), 4)
}

// A customer's cancel and a payment racing on one order, through two
// instances: exactly one transition wins, and the loser sees the order
// settled.
func TestRacingTransitionsApplyOnce(t *testing.T) {
	e := newEnv(t)
	o := placed(t, e, "k")
	replica := e.Replica()
	var wg sync.WaitGroup
	var cancelErr, payErr error
	wg.Go(func() { _, cancelErr = e.Service.Cancel(ctx, ann, o.ID) })
	wg.Go(func() { payErr = replica.Resolve(ctx, o.ID, contracts.StatusConfirmed, "") })
	wg.Wait()
	require.NoError(t, payErr)
	got, err := e.Service.Order(ctx, ann, o.ID)
	require.NoError(t, err)
	require.Len(t, got.Timeline, 2)
	if got.Status == contracts.StatusConfirmed {
		assert.ErrorIs(t, cancelErr, orders.ErrNotPending)
	} else {
		assert.NoError(t, cancelErr)
	}
	assert.Len(t, e.Store.Events(), 2)
}

func TestOrdersListsOnlyTheCallersNewestFirst(t *testing.T) {
	e := newEnv(t)
	first := placed(t, e, "k1")
	e.Clock.Advance(time.Second)
	second := placed(t, e, "k2")
	add(t, e, bob, mug, 1)
	_, err := e.Service.Checkout(ctx, orders.Customer{UserID: bob}, visa, "k1")
	require.NoError(t, err)

	list, err := e.Service.Orders(ctx, ann)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{second.ID, first.ID}, []string{list[0].ID, list[1].ID})
	none, err := e.Service.Orders(ctx, "user-new")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := orders.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "USD", cfg.Currency)
	cfg, err = orders.LoadConfig(env(map[string]string{"ORDERS_CURRENCY": "EUR"}))
	require.NoError(t, err)
	assert.Equal(t, "EUR", cfg.Currency)
	_, err = orders.LoadConfig(env(map[string]string{"ORDERS_CURRENCY": "euro"}))
	assert.ErrorContains(t, err, "ORDERS_CURRENCY")

	assert.Equal(t, orders.PaceConfig{Limit: 500 * time.Millisecond, Window: time.Second, MinSettled: 10}, cfg.Pace)
	cfg, err = orders.LoadConfig(env(map[string]string{"ORDERS_SAGA_LATE": "0s"}))
	require.NoError(t, err)
	assert.Zero(t, cfg.Pace.Limit, "0 turns the backpressure off")
	_, err = orders.LoadConfig(env(map[string]string{"ORDERS_SAGA_WINDOW": "0s"}))
	assert.ErrorContains(t, err, "ORDERS_SAGA_")
	_, err = orders.LoadConfig(env(map[string]string{"ORDERS_SAGA_MIN_SETTLED": "0"}))
	assert.ErrorContains(t, err, "ORDERS_SAGA_")
}
