package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checkout saga end to end: orders, inventory, payments and
// notifications over pub/sub on real sidecars, Redis, PostgreSQL and mailpit.

func TestCheckoutConfirmsChargesAndMails(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 5, 1250)
	c := newCustomer(t, "happy")

	cart := c.addToCart(t, p.ID, 2)
	require.Len(t, cart.Items, 1)
	assert.Equal(t, int64(2500), cart.Total.Amount)

	id := c.placeOrder(t, "tok_visa")
	o := c.settled(t, id, settle)
	require.Equal(t, "confirmed", o.Status, "order %+v", o)
	require.GreaterOrEqual(t, len(o.Timeline), 2)
	// The order's own timeline times the saga, not this test's polling.
	assertLocalTarget(t, o.Timeline[len(o.Timeline)-1].At.Sub(o.Timeline[0].At), time.Second, "placed → confirmed")
	assert.Equal(t, int64(2500), o.Total.Amount)
	assert.Equal(t, "pending", o.Timeline[0].Status)
	assert.Equal(t, "confirmed", o.Timeline[len(o.Timeline)-1].Status)

	// An accepted checkout empties the cart.
	var after cartBody
	c.do(t, http.MethodGet, "/api/v1/cart", nil).decode(t, &after)
	assert.Empty(t, after.Items)

	eventually(t, settle, "stock committed", func() bool {
		s := stock(t, p.ID)
		return s.Available == 3 && s.Reserved == 0
	})
	pay, ok := payment(t, id)
	require.True(t, ok)
	assert.Equal(t, 1, pay.Charges)
	assert.False(t, pay.Refunded)

	mail := mailAbout(t, c.Email, "confirmed")
	text := mailText(t, mail.ID)
	assert.Contains(t, text, "25.00", "the e-mail shows the order total")
	assert.Contains(t, text, p.Name)

	eventually(t, settle, "the notification log shows the confirmation", func() bool {
		for _, n := range c.notifications(t).Items {
			if n.OrderID == id {
				return true
			}
		}
		return false
	})

	// The order is the caller's alone.
	other := newCustomer(t, "other")
	requireProblem(t, other.do(t, http.MethodGet, "/api/v1/orders/"+id, nil), http.StatusNotFound)
	var mine struct {
		Items []orderBody `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/orders", nil).decode(t, &mine)
	require.Len(t, mine.Items, 1)
	assert.Equal(t, id, mine.Items[0].ID)
}

func TestDeclinedCardCancelsAndReleasesStock(t *testing.T) {
	requireStack(t)
	for _, token := range []string{"tok_chargeDeclined", "tok_insufficientFunds"} {
		t.Run(token, func(t *testing.T) {
			p := stockedProduct(t, 4, 990)
			c := newCustomer(t, "declined")
			c.addToCart(t, p.ID, 3)
			id := c.placeOrder(t, token)
			o := c.settled(t, id, settle)
			assert.Equal(t, "cancelled", o.Status)
			assert.Equal(t, "payment_declined", o.Reason)
			eventually(t, settle, "stock released", func() bool {
				s := stock(t, p.ID)
				return s.Available == 4 && s.Reserved == 0
			})
			if pay, ok := payment(t, id); ok {
				assert.Equal(t, 0, pay.Charges, "a declined card is never charged")
			}
			mailAbout(t, c.Email, "cancel")
		})
	}
}

func TestOutOfStockCancels(t *testing.T) {
	requireStack(t)
	plenty := stockedProduct(t, 10, 500)
	scarce := stockedProduct(t, 1, 700)
	c := newCustomer(t, "oos")
	c.addToCart(t, plenty.ID, 2)
	c.addToCart(t, scarce.ID, 2)
	id := c.placeOrder(t, "tok_visa")
	o := c.settled(t, id, settle)
	assert.Equal(t, "cancelled", o.Status)
	assert.Equal(t, "out_of_stock", o.Reason)
	// All lines or none: the line that could be reserved is back too.
	eventually(t, settle, "nothing stays reserved", func() bool {
		a, b := stock(t, plenty.ID), stock(t, scarce.ID)
		return a.Available == 10 && a.Reserved == 0 && b.Available == 1 && b.Reserved == 0
	})
	if pay, ok := payment(t, id); ok {
		assert.Equal(t, 0, pay.Charges)
	}
}

func TestCustomerCancelsAPendingOrder(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 50, 1500)
	c := newCustomer(t, "cancel")
	// The saga is fast; cancel right after checkout and try again until the
	// cancel lands while the order is still pending.
	for attempt := 0; attempt < 15; attempt++ {
		c.addToCart(t, p.ID, 1)
		id := c.placeOrder(t, "tok_visa")
		r := c.do(t, http.MethodPost, "/api/v1/orders/"+id+"/cancel", nil)
		if r.Status == http.StatusConflict {
			requireProblem(t, r, http.StatusConflict)
			assert.Equal(t, "confirmed", c.settled(t, id, settle).Status)
			continue
		}
		require.Equal(t, http.StatusOK, r.Status, "cancel: %s", r.Body)
		var o orderBody
		r.decode(t, &o)
		assert.Equal(t, "cancelled", o.Status)
		assert.Equal(t, "cancelled_by_customer", o.Reason)

		// It stays cancelled whatever the saga was doing, its stock comes
		// back and a charge that happened is refunded.
		time.Sleep(2 * time.Second)
		assert.Equal(t, "cancelled", c.order(t, id).Status)
		confirmed := int64(attempt) // every earlier attempt was confirmed
		eventually(t, 10*time.Second, "stock released", func() bool {
			s := stock(t, p.ID)
			return s.Available == 50-confirmed && s.Reserved == 0
		})
		eventually(t, 10*time.Second, "no money kept", func() bool {
			pay, ok := payment(t, id)
			return !ok || pay.Charges == 0 || pay.Refunded
		})
		requireProblem(t, c.do(t, http.MethodPost, "/api/v1/orders/"+id+"/cancel", nil), http.StatusConflict)
		return
	}
	t.Fatal("no cancel landed while the order was pending in 15 attempts")
}

func TestIdempotencyKeyMakesOneOrder(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 20, 2000)
	c := newCustomer(t, "idem")
	c.addToCart(t, p.ID, 1)
	key := newKey()

	first := c.checkout(t, key, "tok_visa")
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	second := c.checkout(t, key, "tok_visa")
	require.Equal(t, http.StatusAccepted, second.Status, "%s", second.Body)
	var a, b struct {
		OrderID string `json:"order_id"`
	}
	first.decode(t, &a)
	second.decode(t, &b)
	assert.Equal(t, a.OrderID, b.OrderID)

	requireProblem(t, c.checkout(t, key, "tok_chargeDeclined"), http.StatusUnprocessableEntity)
	requireProblem(t, c.do(t, http.MethodPost, "/api/v1/checkout", checkoutBody("tok_visa")), http.StatusBadRequest)

	// Ten identical checkouts at once.
	c.addToCart(t, p.ID, 2)
	key = newKey()
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.checkout(t, key, "tok_visa")
			if r.Status == http.StatusAccepted {
				var got struct {
					OrderID string `json:"order_id"`
				}
				r.decode(t, &got)
				ids[i] = got.OrderID
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id, "every concurrent checkout answers the one order")
	}
	require.NotEmpty(t, ids[0])
	assert.Equal(t, "confirmed", c.settled(t, ids[0], settle).Status)
	pay, ok := payment(t, ids[0])
	require.True(t, ok)
	assert.Equal(t, 1, pay.Charges)

	var mine struct {
		Items []orderBody `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/orders", nil).decode(t, &mine)
	assert.Len(t, mine.Items, 2, "two keys, two orders")
	eventually(t, settle, "stock: three sold", func() bool {
		s := stock(t, p.ID)
		return s.Available == 17 && s.Reserved == 0
	})
}

// Fifty shoppers each buy one of ten: ten orders confirmed, forty cancelled
// out of stock, and the counts never go below zero on the way.
func TestFiftyShoppersRaceForTenUnits(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 10, 4200)
	shoppers := make([]customer, 50)
	for i := range shoppers {
		shoppers[i] = newCustomer(t, "race")
		shoppers[i].addToCart(t, p.ID, 1)
	}

	// The watcher may not fail the test from its goroutine (and must always
	// hand over what it saw, or the test would wait for it forever): an
	// answer it cannot read is skipped, not asserted.
	admin := asAdmin(t)
	stop := make(chan struct{})
	watched := make(chan []stockBody, 1)
	go func() {
		var seen []stockBody
		defer func() { watched <- seen }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if s, err := peekStock(p.ID, admin); err == nil {
				seen = append(seen, s)
			}
		}
	}()

	ids := make([]string, len(shoppers))
	var wg sync.WaitGroup
	for i, c := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = c.placeOrder(t, "tok_visa")
		}()
	}
	wg.Wait()

	confirmed, outOfStock := 0, 0
	for i, c := range shoppers {
		o := c.settled(t, ids[i], 30*time.Second)
		switch {
		case o.Status == "confirmed":
			confirmed++
		case o.Status == "cancelled" && o.Reason == "out_of_stock":
			outOfStock++
		default:
			t.Errorf("order %s ended %s/%s", o.ID, o.Status, o.Reason)
		}
	}
	assert.Equal(t, 10, confirmed)
	assert.Equal(t, 40, outOfStock)
	eventually(t, 10*time.Second, "all sold, nothing reserved", func() bool {
		s := stock(t, p.ID)
		return s.Available == 0 && s.Reserved == 0
	})
	close(stop)
	seen := <-watched
	require.NotEmpty(t, seen)
	for _, s := range seen {
		require.GreaterOrEqual(t, s.Available, int64(0), "observed %+v", s)
		require.GreaterOrEqual(t, s.Reserved, int64(0), "observed %+v", s)
		require.LessOrEqual(t, s.Available+s.Reserved, int64(10), "observed %+v", s)
	}
	t.Logf("observed the stock %d times during the race", len(seen))
}

func TestCheckoutRefusesBadInput(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 5, 100)
	c := newCustomer(t, "badinput")

	requireProblem(t, c.checkout(t, newKey(), "tok_visa"), http.StatusBadRequest) // empty cart
	for _, q := range []int64{0, -1, 101} {
		requireProblem(t, c.do(t, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": p.ID, "quantity": q}), http.StatusBadRequest)
	}
	requireProblem(t, c.do(t, http.MethodPost, "/api/v1/cart/items",
		map[string]any{"product_id": "0190c2a0-0000-7000-8000-000000000000", "quantity": 1}), http.StatusNotFound)
	c.addToCart(t, p.ID, 1)
	bad := checkoutBody("tok_visa")
	bad["shipping_address"] = map[string]any{"name": "x", "line1": "y", "city": "z", "postal_code": "1", "country": "Portugal"}
	requireProblem(t, c.do(t, http.MethodPost, "/api/v1/checkout", bad, "Idempotency-Key", newKey()), http.StatusBadRequest)
	requireProblem(t, c.do(t, http.MethodPost, "/api/v1/checkout", "{not json", "Idempotency-Key", newKey()), http.StatusBadRequest)
	// Nothing of that changed the cart or made an order.
	var cart cartBody
	c.do(t, http.MethodGet, "/api/v1/cart", nil).decode(t, &cart)
	require.Len(t, cart.Items, 1)
	var mine struct {
		Items []orderBody `json:"items"`
	}
	c.do(t, http.MethodGet, "/api/v1/orders", nil).decode(t, &mine)
	assert.Empty(t, mine.Items)

	// Shopping needs an account; stock is for administrators.
	requireUnauthorized(t, call(t, http.MethodGet, gateway+"/api/v1/cart", nil))
	requireProblem(t, c.do(t, http.MethodGet, "/api/v1/inventory/"+p.ID, nil), http.StatusForbidden)
	requireProblem(t, c.do(t, http.MethodPut, "/api/v1/inventory/"+p.ID, map[string]any{"available": 1000}), http.StatusForbidden)
	requireProblem(t, call(t, http.MethodPut, gateway+"/api/v1/inventory/"+p.ID, map[string]any{"available": -3}, asAdmin(t)...), http.StatusBadRequest)
	assert.Equal(t, int64(5), stock(t, p.ID).Available)
}

func TestGraphQLShopping(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 5, 300)
	c := newCustomer(t, "gql")
	gql := func(query string, vars map[string]any) map[string]any {
		r := c.do(t, http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		r.decode(t, &out)
		require.Empty(t, out.Errors, "%s", r.Body)
		return out.Data
	}
	gql(`mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { total { amount } } }`, map[string]any{"p": p.ID})
	data := gql(`{ cart { items { productId quantity } total { amount currency } } }`, nil)
	assert.Contains(t, strings.ReplaceAll(string(mustJSON(t, data)), " ", ""), `"amount":600`)
	data = gql(`mutation($in: CheckoutInput!) { checkout(input: $in) { orderId status } }`, map[string]any{"in": map[string]any{
		"idempotencyKey": newKey(), "paymentToken": "tok_visa",
		"shippingAddress": map[string]any{"name": "G Q", "line1": "1 Graph St", "city": "Porto", "postalCode": "4000", "country": "PT"},
	}})
	id := data["checkout"].(map[string]any)["orderId"].(string)
	assert.Equal(t, "confirmed", c.settled(t, id, settle).Status)
	data = gql(`query($id: ID!) { order(id: $id) { id status } orders { id } }`, map[string]any{"id": id})
	assert.Equal(t, "confirmed", data["order"].(map[string]any)["status"])
}

// peekStock reads a product's stock without a *testing.T, for goroutines.
func peekStock(productID string, header []string) (stockBody, error) {
	r, err := send(client, http.MethodGet, gateway+"/api/v1/inventory/"+productID, nil, header...)
	if err != nil {
		return stockBody{}, err
	}
	if r.Status != http.StatusOK {
		return stockBody{}, fmt.Errorf("stock of %s: status %d", productID, r.Status)
	}
	var s stockBody
	return s, json.Unmarshal(r.Body, &s)
}
