package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The shopping side of the public API, as a client uses it.

type cartBody struct {
	Items []struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
		UnitPrice money  `json:"unit_price"`
	} `json:"items"`
	Total money `json:"total"`
}

type orderBody struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Items  []struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
		UnitPrice money  `json:"unit_price"`
	} `json:"items"`
	Total     money     `json:"total"`
	CreatedAt time.Time `json:"created_at"`
	Timeline  []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
		Reason string    `json:"reason"`
	} `json:"timeline"`
}

type stockBody struct {
	ProductID string `json:"product_id"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
}

type paymentBody struct {
	OrderID  string `json:"order_id"`
	Status   string `json:"status"`
	Charges  int    `json:"charges"`
	Refunded bool   `json:"refunded"`
}

// customer is a signed-in shopper.
type customer struct {
	shopper
	account
	auth []string
}

func newCustomer(t *testing.T, prefix string) customer {
	t.Helper()
	s := newShopper(t)
	a, tok := s.signUp(t, prefix)
	return customer{shopper: s, account: a, auth: bearer(tok.AccessToken)}
}

// do is call with the customer's token and extra headers.
func (c customer) do(t *testing.T, method, path string, body any, header ...string) response {
	t.Helper()
	return c.call(t, method, path, body, append(append([]string(nil), c.auth...), header...)...)
}

func (c customer) addToCart(t *testing.T, productID string, qty int64) cartBody {
	t.Helper()
	r := c.do(t, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": productID, "quantity": qty})
	require.Equal(t, http.StatusOK, r.Status, "add to cart: %s", r.Body)
	var cart cartBody
	r.decode(t, &cart)
	return cart
}

func checkoutBody(token string) map[string]any {
	return map[string]any{
		"shipping_address": map[string]any{
			"name": "E2E Shopper", "line1": "1 Test Street", "city": "Lisbon", "postal_code": "1000-001", "country": "PT",
		},
		"payment_token": token,
	}
}

// checkout posts the cart with a payment token under an idempotency key.
func (c customer) checkout(t *testing.T, key, token string) response {
	t.Helper()
	return c.do(t, http.MethodPost, "/api/v1/checkout", checkoutBody(token), "Idempotency-Key", key)
}

// placeOrder checks out and returns the accepted order's id.
func (c customer) placeOrder(t *testing.T, token string) string {
	t.Helper()
	r := c.checkout(t, newKey(), token)
	require.Equal(t, http.StatusAccepted, r.Status, "checkout: %s", r.Body)
	var accepted struct {
		OrderID string `json:"order_id"`
		Status  string `json:"status"`
	}
	r.decode(t, &accepted)
	require.NotEmpty(t, accepted.OrderID)
	require.Equal(t, "pending", accepted.Status)
	return accepted.OrderID
}

func (c customer) order(t *testing.T, id string) orderBody {
	t.Helper()
	o, ok := c.orderUnlessRetry(t, id)
	require.True(t, ok, "order %s: 503, retry later", id)
	return o
}

// orderUnlessRetry reads one of the customer's orders; ok is false for a
// 503 with Retry-After (a sidecar restarting), which clients read again.
func (c customer) orderUnlessRetry(t *testing.T, id string) (o orderBody, ok bool) {
	t.Helper()
	r := c.do(t, http.MethodGet, "/api/v1/orders/"+id, nil)
	if r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") != "" {
		return orderBody{}, false
	}
	require.Equal(t, http.StatusOK, r.Status, "order %s: %s", id, r.Body)
	r.decode(t, &o)
	return o, true
}

// settle is how long a test waits for the saga's asynchronous steps (an
// order settling, stock moving, a notification logged). It is a bound on
// waiting, not a speed target: those are asserted by assertLocalTarget.
const settle = 30 * time.Second

// settled waits until the order leaves pending and returns it. A 503 with
// Retry-After (a sidecar restarting) is read again, as clients are told to.
func (c customer) settled(t *testing.T, id string, timeout time.Duration) orderBody {
	t.Helper()
	var o orderBody
	eventually(t, timeout, "order "+id+" is confirmed or cancelled", func() bool {
		var ok bool
		o, ok = c.orderUnlessRetry(t, id)
		return ok && o.Status != "pending"
	})
	return o
}

// keySeq numbers idempotency keys; shoppers take them concurrently.
var keySeq atomic.Int64

func init() { keySeq.Store(time.Now().UnixNano()) }

func newKey() string {
	return fmt.Sprintf("e2e-%d", keySeq.Add(1))
}

// stockedProduct creates a product as the admin and sets its stock.
func stockedProduct(t *testing.T, available int64, price int64) product {
	t.Helper()
	body := newProductBody(uniqueSKU("E2E-SHOP"))
	body["price"] = map[string]any{"amount": price, "currency": "USD"}
	r := call(t, http.MethodPost, gateway+"/api/v1/products", body, asAdmin(t)...)
	require.Equal(t, http.StatusCreated, r.Status, "create product: %s", r.Body)
	var p product
	r.decode(t, &p)
	setStock(t, p.ID, available)
	return p
}

func setStock(t *testing.T, productID string, available int64) {
	t.Helper()
	r := call(t, http.MethodPut, gateway+"/api/v1/inventory/"+productID, map[string]any{"available": available}, asAdmin(t)...)
	require.Equal(t, http.StatusOK, r.Status, "set stock: %s", r.Body)
}

func stock(t *testing.T, productID string) stockBody {
	t.Helper()
	r := call(t, http.MethodGet, gateway+"/api/v1/inventory/"+productID, nil, asAdmin(t)...)
	require.Equal(t, http.StatusOK, r.Status, "stock: %s", r.Body)
	var s stockBody
	r.decode(t, &s)
	return s
}

// payment is what payments knows of an order; ok is false when it knows nothing.
func payment(t *testing.T, orderID string) (paymentBody, bool) {
	t.Helper()
	r := call(t, http.MethodGet, gateway+"/api/v1/payments/"+orderID, nil, asAdmin(t)...)
	if r.Status == http.StatusNotFound {
		return paymentBody{}, false
	}
	require.Equal(t, http.StatusOK, r.Status, "payment: %s", r.Body)
	var p paymentBody
	r.decode(t, &p)
	return p, true
}

// The local mail sink (mailpit) as the notifications service's recipient
// sees it, through mailpit's HTTP API.
var mailpit = envOr("SHOPMESH_MAILPIT_URL", "http://127.0.0.1:18025")

type mailSummary struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
}

// mailsTo lists the messages addressed to email, newest first.
func mailsTo(t *testing.T, email string) []mailSummary {
	t.Helper()
	r := call(t, http.MethodGet, mailpit+"/api/v1/search?query="+url.QueryEscape("to:"+email), nil)
	require.Equal(t, http.StatusOK, r.Status, "mailpit search: %s", r.Body)
	var res struct {
		Messages []mailSummary `json:"messages"`
	}
	r.decode(t, &res)
	return res.Messages
}

// mailText is the plain-text body of one message.
func mailText(t *testing.T, id string) string {
	t.Helper()
	r := call(t, http.MethodGet, mailpit+"/api/v1/message/"+id, nil)
	require.Equal(t, http.StatusOK, r.Status, "mailpit message: %s", r.Body)
	var m struct {
		Text string `json:"Text"`
		HTML string `json:"HTML"`
	}
	r.decode(t, &m)
	return m.Text
}

// mailAbout waits for a message to email whose subject contains want.
func mailAbout(t *testing.T, email, want string) mailSummary {
	t.Helper()
	var found mailSummary
	eventually(t, 10*time.Second, "an e-mail to "+email+" about "+want, func() bool {
		for _, m := range mailsTo(t, email) {
			if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(want)) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

type notificationsBody struct {
	Items []notificationBody `json:"items"`
}

type notificationBody struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	SentAt  time.Time `json:"sent_at"`
	OrderID string    `json:"order_id"`
}

func (c customer) notifications(t *testing.T) notificationsBody {
	t.Helper()
	r := c.do(t, http.MethodGet, "/api/v1/notifications", nil)
	require.Equal(t, http.StatusOK, r.Status, "notifications: %s", r.Body)
	var n notificationsBody
	r.decode(t, &n)
	return n
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}
