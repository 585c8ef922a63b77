package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/orders/api"
	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/orderstest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const (
	kettleID = "0193f2a4-1111-7000-8000-000000000001"
	mugID    = "0193f2a4-1111-7000-8000-000000000002"
)

var (
	kettle = orders.Product{ID: kettleID, SKU: "KIT-1", Name: "Kettle", Price: contracts.Money{Amount: 3999, Currency: "USD"}}
	mug    = orders.Product{ID: mugID, SKU: "KIT-2", Name: "Mug", Price: contracts.Money{Amount: 899, Currency: "USD"}}
	ann    = auth.Identity{UserID: "user-ann", Email: "ann@example.com", Roles: []string{auth.RoleCustomer}}
	bob    = auth.Identity{UserID: "user-bob", Email: "bob@example.com", Roles: []string{auth.RoleCustomer}}
)

func newServer(t *testing.T) (http.Handler, *orderstest.Env) {
	t.Helper()
	return serverOf(t, orderstest.New(kettle, mug))
}

// serverOf serves env's Service (build it again with env.Replica after
// changing env.Config).
func serverOf(t *testing.T, env *orderstest.Env) (http.Handler, *orderstest.Env) {
	t.Helper()
	cfg := config.App{ID: "orders", MaxBodyBytes: 1 << 20}
	log := slog.New(slog.DiscardHandler)
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), env.Service, orders.Config{Currency: "USD"}, log)
	return e, env
}

type request struct {
	method, path, body string
	who                *auth.Identity
	header             map[string]string
}

// do sends r as the gateway's sidecar would relay it for r.who.
func do(h http.Handler, r request) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.who != nil {
		for k, v := range r.who.Header() {
			req.Header[k] = v
		}
		req.Header.Set("dapr-caller-app-id", contracts.AppGateway)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func as(who auth.Identity, method, path, body string) request {
	return request{method: method, path: path, body: body, who: &who}
}

func checkoutAs(who auth.Identity, key, body string) request {
	r := as(who, http.MethodPost, "/checkout", body)
	r.header = map[string]string{"Idempotency-Key": key}
	return r
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

func problemOf(t *testing.T, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	return decode[problem.Problem](t, w)
}

const address = `{"name":"Ann","line1":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"}`

var checkoutBody = `{"shipping_address":` + address + `,"payment_token":"tok_visa"}`

func addItem(productID string, n string) string {
	return `{"product_id":"` + productID + `","quantity":` + n + `}`
}

func TestCart(t *testing.T) {
	h, _ := newServer(t)
	w := do(h, as(ann, http.MethodGet, "/cart", ""))
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"items":[],"total":{"amount":0,"currency":"USD"}}`, w.Body.String())

	w = do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "2")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = do(h, as(ann, http.MethodPost, "/cart/items", addItem(strings.ToUpper(kettleID), "1")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = do(h, as(ann, http.MethodPost, "/cart/items", addItem(mugID, "1")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"items":[
	  {"product_id":"`+kettleID+`","quantity":3,"unit_price":{"amount":3999,"currency":"USD"}},
	  {"product_id":"`+mugID+`","quantity":1,"unit_price":{"amount":899,"currency":"USD"}}],
	  "total":{"amount":12896,"currency":"USD"}}`, w.Body.String())

	w = do(h, as(ann, http.MethodDelete, "/cart/items/"+kettleID, ""))
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"items":[{"product_id":"`+mugID+`","quantity":1,"unit_price":{"amount":899,"currency":"USD"}}],
	  "total":{"amount":899,"currency":"USD"}}`, w.Body.String())
	for _, absent := range []string{kettleID, "not-a-product"} {
		w = do(h, as(ann, http.MethodDelete, "/cart/items/"+absent, ""))
		require.Equal(t, http.StatusOK, w.Code, "removing an absent line is not an error")
		assert.Len(t, decode[api.Cart](t, w).Items, 1)
	}
	assert.Len(t, decode[api.Cart](t, do(h, as(ann, http.MethodGet, "/cart", ""))).Items, 1)
	assert.Empty(t, decode[api.Cart](t, do(h, as(bob, http.MethodGet, "/cart", ""))).Items, "carts are per user")
}

func TestAddItemRefusalsChangeNothing(t *testing.T) {
	h, _ := newServer(t)
	require.Equal(t, http.StatusOK, do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "95"))).Code)
	cases := map[string]struct {
		body   string
		status int
		field  string
	}{
		"quantity 0":             {addItem(mugID, "0"), 400, "quantity"},
		"negative quantity":      {addItem(mugID, "-3"), 400, "quantity"},
		"quantity over 100":      {addItem(mugID, "101"), 400, "quantity"},
		"line over 100":          {addItem(kettleID, "6"), 400, "quantity"},
		"no quantity":            {`{"product_id":"` + mugID + `"}`, 400, "quantity"},
		"fractional quantity":    {addItem(mugID, "1.5"), 400, "quantity"},
		"no product":             {`{"quantity":1}`, 400, "product_id"},
		"unknown field":          {`{"product_id":"` + mugID + `","quantity":1,"price":1}`, 400, "price"},
		"malformed":              {`{"product_id":`, 400, ""},
		"not a catalog id":       {addItem("kettle", "1"), 404, ""},
		"unknown to the catalog": {addItem("0193f2a4-1111-7000-8000-0000000000ff", "1"), 404, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := do(h, as(ann, http.MethodPost, "/cart/items", tc.body))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			p := problemOf(t, w)
			if tc.field != "" {
				require.NotEmpty(t, p.Errors)
				assert.Equal(t, tc.field, p.Errors[0].Field)
			}
		})
	}
	w := do(h, as(ann, http.MethodGet, "/cart", ""))
	assert.JSONEq(t, `{"items":[{"product_id":"`+kettleID+`","quantity":95,"unit_price":{"amount":3999,"currency":"USD"}}],
	  "total":{"amount":379905,"currency":"USD"}}`, w.Body.String())
}

func TestCheckoutAndOrders(t *testing.T) {
	h, env := newServer(t)
	require.Equal(t, http.StatusOK, do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "2"))).Code)

	w := do(h, checkoutAs(ann, "key-1", checkoutBody))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	placed := decode[api.Placed](t, w)
	assert.Equal(t, "pending", placed.Status)
	assert.Equal(t, "/api/v1/orders/"+placed.OrderID, w.Header().Get("Location"))
	assert.Empty(t, decode[api.Cart](t, do(h, as(ann, http.MethodGet, "/cart", ""))).Items, "the cart is empty")

	w = do(h, as(ann, http.MethodGet, "/orders/"+placed.OrderID, ""))
	require.Equal(t, http.StatusOK, w.Code)
	now := env.Clock.Now().Format("2006-01-02T15:04:05Z")
	assert.JSONEq(t, `{"id":"`+placed.OrderID+`","status":"pending",
	  "items":[{"product_id":"`+kettleID+`","sku":"KIT-1","name":"Kettle","quantity":2,"unit_price":{"amount":3999,"currency":"USD"}}],
	  "total":{"amount":7998,"currency":"USD"},"shipping_address":`+address+`,
	  "created_at":"`+now+`","updated_at":"`+now+`","timeline":[{"status":"pending","at":"`+now+`"}]}`, w.Body.String())

	// The same request again, spelt differently: the same order.
	same := `{"payment_token":" tok_visa ","shipping_address":{"country":"us","postal_code":"12345","city":"Springfield","line1":"1 Main St","name":"Ann"}}`
	w = do(h, checkoutAs(ann, "key-1", same))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, placed, decode[api.Placed](t, w))

	w = do(h, checkoutAs(ann, "key-1", strings.Replace(checkoutBody, "tok_visa", "tok_chargeDeclined", 1)))
	require.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.Equal(t, api.TypeKeyReused, problemOf(t, w).Type)

	w = do(h, checkoutAs(ann, "key-2", checkoutBody))
	require.Equal(t, http.StatusBadRequest, w.Code, "the cart is empty now")
	assert.Equal(t, api.TypeCartEmpty, problemOf(t, w).Type)

	list := decode[struct{ Items []api.Order }](t, do(h, as(ann, http.MethodGet, "/orders", "")))
	require.Len(t, list.Items, 1)
	assert.Equal(t, placed.OrderID, list.Items[0].ID)
	assert.Empty(t, decode[struct{ Items []api.Order }](t, do(h, as(bob, http.MethodGet, "/orders", ""))).Items)
	assert.JSONEq(t, `{"items":[]}`, do(h, as(bob, http.MethodGet, "/orders", "")).Body.String())
	assert.Len(t, env.Store.Events(), 1)
}

func TestCheckoutRefusals(t *testing.T) {
	h, env := newServer(t)
	require.Equal(t, http.StatusOK, do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "1"))).Code)
	long := strings.Repeat("k", api.MaxIdempotencyKey+1)
	cases := map[string]struct {
		key, body string
		field     string
	}{
		"no key":                  {"", checkoutBody, "Idempotency-Key"},
		"blank key":               {"   ", checkoutBody, "Idempotency-Key"},
		"key too long":            {long, checkoutBody, "Idempotency-Key"},
		"no address":              {"k", `{"payment_token":"tok_visa"}`, "shipping_address"},
		"no payment token":        {"k", `{"shipping_address":` + address + `}`, "payment_token"},
		"blank name":              {"k", strings.Replace(checkoutBody, `"Ann"`, `"  "`, 1), "shipping_address.name"},
		"country not ISO alpha-2": {"k", strings.Replace(checkoutBody, `"US"`, `"USA"`, 1), "shipping_address.country"},
		"unknown field":           {"k", strings.Replace(checkoutBody, `"payment_token"`, `"card_number":"4242","payment_token"`, 1), "card_number"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := do(h, checkoutAs(ann, tc.key, tc.body))
			require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			p := problemOf(t, w)
			require.NotEmpty(t, p.Errors, w.Body.String())
			assert.Equal(t, tc.field, p.Errors[0].Field)
		})
	}
	assert.Empty(t, env.Store.Events(), "nothing was placed")
	assert.Equal(t, http.StatusAccepted, do(h, checkoutAs(ann, strings.Repeat("k", api.MaxIdempotencyKey), checkoutBody)).Code,
		"a key of the maximum length is fine")

	require.Equal(t, http.StatusOK, do(h, as(ann, http.MethodPost, "/cart/items", addItem(mugID, "1"))).Code)
	env.Catalog.Delete(mugID)
	w := do(h, checkoutAs(ann, "k-gone", checkoutBody))
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, problemOf(t, w).Detail, mugID, "the problem names the product")
}

func TestOrderAccessAndCancel(t *testing.T) {
	h, env := newServer(t)
	require.Equal(t, http.StatusOK, do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "1"))).Code)
	id := decode[api.Placed](t, do(h, checkoutAs(ann, "k", checkoutBody))).OrderID

	for _, r := range []request{
		as(bob, http.MethodGet, "/orders/"+id, ""),
		as(bob, http.MethodPost, "/orders/"+id+"/cancel", ""),
		as(ann, http.MethodGet, "/orders/not-an-id", ""),
		as(ann, http.MethodGet, "/orders/0193f2a4-2222-7000-8000-000000000000", ""),
	} {
		w := do(h, r)
		assert.Equal(t, http.StatusNotFound, w.Code, r.path)
		problemOf(t, w)
	}

	env.Clock.Advance(time.Minute)
	w := do(h, as(ann, http.MethodPost, "/orders/"+id+"/cancel", ""))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	o := decode[api.Order](t, w)
	assert.Equal(t, "cancelled", o.Status)
	assert.Equal(t, "cancelled_by_customer", o.Reason)
	require.Len(t, o.Timeline, 2)
	assert.Equal(t, api.Change{Status: "cancelled", At: env.Clock.Now(), Reason: "cancelled_by_customer"}, o.Timeline[1])
	assert.Contains(t, w.Body.String(), `"reason":"cancelled_by_customer"`)

	w = do(h, as(ann, http.MethodPost, "/orders/"+id+"/cancel", ""))
	assert.Equal(t, http.StatusConflict, w.Code)
	problemOf(t, w)
}

func TestEveryRouteNeedsACustomer(t *testing.T) {
	h, _ := newServer(t)
	admin := auth.Identity{UserID: "admin-1", Roles: []string{auth.RoleAdmin}}
	routes := []request{
		{method: http.MethodGet, path: "/cart"},
		{method: http.MethodPost, path: "/cart/items", body: addItem(kettleID, "1")},
		{method: http.MethodDelete, path: "/cart/items/" + kettleID},
		{method: http.MethodPost, path: "/checkout", body: checkoutBody},
		{method: http.MethodGet, path: "/orders"},
		{method: http.MethodGet, path: "/orders/0193f2a4-2222-7000-8000-000000000000"},
		{method: http.MethodPost, path: "/orders/0193f2a4-2222-7000-8000-000000000000/cancel"},
	}
	for _, r := range routes {
		assert.Equal(t, http.StatusUnauthorized, do(h, r).Code, "no identity: %s %s", r.method, r.path)

		spoofed := r
		spoofed.header = map[string]string{"X-Shopmesh-User-Id": "user-ann", "X-Shopmesh-User-Roles": "customer", "dapr-caller-app-id": "catalog"}
		assert.Equal(t, http.StatusUnauthorized, do(h, spoofed).Code, "identity not relayed from the gateway: %s %s", r.method, r.path)

		r.who = &admin
		w := do(h, r)
		assert.Equal(t, http.StatusForbidden, w.Code, "not a customer: %s %s", r.method, r.path)
		problemOf(t, w)
	}
}

func TestCheckoutWhileTheSagaIsLateIsA503WithRetryAfter(t *testing.T) {
	env := orderstest.New(kettle, mug)
	env.Config.Pace = orders.PaceConfig{Limit: time.Second, Window: time.Second, MinSettled: 1}
	env.Service = env.Replica()
	h, _ := serverOf(t, env)
	require.Equal(t, http.StatusOK, do(h, as(bob, http.MethodPost, "/cart/items", addItem(kettleID, "1"))).Code)
	w := do(h, checkoutAs(bob, "key-1", checkoutBody))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	env.Clock.Advance(3 * time.Second)
	placed := decode[struct {
		OrderID string `json:"order_id"`
	}](t, w)
	require.NoError(t, env.Service.Resolve(context.Background(), placed.OrderID, contracts.StatusConfirmed, ""))

	for _, who := range []auth.Identity{ann, bob} { // the first goes in at once
		require.Equal(t, http.StatusOK, do(h, as(who, http.MethodPost, "/cart/items", addItem(kettleID, "1"))).Code)
		w = do(h, checkoutAs(who, "key-2", checkoutBody))
	}
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Contains(t, problemOf(t, w).Detail, "settling slower than they arrive")
}

func TestStoreFailureIsA503(t *testing.T) {
	h, env := newServer(t)
	env.Carts.BeforeWrite = func(string) error { return errors.New("redis down") }
	w := do(h, as(ann, http.MethodPost, "/cart/items", addItem(kettleID, "1")))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotContains(t, problemOf(t, w).Detail, "redis", "no internals leak")
}
