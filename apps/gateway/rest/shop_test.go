package rest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/fakesidecar"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

const (
	orderID   = "01936f2e-8b1c-7d4e-9a0b-0000000000aa"
	productID = "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"

	checkoutBody = `{"shipping_address":{"name":"Ada","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"},"payment_token":"tok_visa"}`
)

// echoApps answers every call with a body that names the call, so a test
// can tell the answer reached the client byte for byte; a checkout answers
// 202 with an order id, as the orders app does.
func echoApps(inv fakesidecar.Invocation) *http.Response {
	if inv.App == "orders" && inv.Path == "checkout" {
		return fakesidecar.Reply(http.StatusAccepted, "application/json; charset=utf-8", `{"order_id":"`+orderID+`","status":"pending"}`)
	}
	return fakesidecar.Reply(http.StatusOK, "application/json; charset=utf-8", echoBody(inv.App, inv.Method, inv.Path))
}

func echoBody(app, method, path string) string {
	return fmt.Sprintf(`{"app":%q,"method":%q,"path":%q}`, app, method, path)
}

// route is a public route, who may call it, and the call it becomes.
type route struct {
	method, path, body string
	who                string // customer, admin or anyone
	app, appMethod     string
	appPath            string
}

var shopRoutes = []route{
	{http.MethodGet, "/api/v1/cart", "", "customer", "orders", "GET", "cart"},
	{http.MethodPost, "/api/v1/cart/items", `{"product_id":"` + productID + `","quantity":2}`, "customer", "orders", "POST", "cart/items"},
	{http.MethodDelete, "/api/v1/cart/items/" + strings.ToUpper(productID), "", "customer", "orders", "DELETE", "cart/items/" + productID},
	{http.MethodPost, "/api/v1/checkout", checkoutBody, "customer", "orders", "POST", "checkout"},
	{http.MethodGet, "/api/v1/orders", "", "customer", "orders", "GET", "orders"},
	{http.MethodGet, "/api/v1/orders/" + orderID, "", "customer", "orders", "GET", "orders/" + orderID},
	{http.MethodPost, "/api/v1/orders/" + orderID + "/cancel", "", "customer", "orders", "POST", "orders/" + orderID + "/cancel"},
	{http.MethodGet, "/api/v1/notifications", "", "customer", "notifications", "GET", "notifications"},
	{http.MethodGet, "/api/v1/inventory/" + productID, "", "admin", "inventory", "GET", "inventory/" + productID},
	{http.MethodPut, "/api/v1/inventory/" + productID, `{"available":7}`, "admin", "inventory", "PUT", "inventory/" + productID},
	{http.MethodGet, "/api/v1/payments/" + orderID, "", "admin", "payments", "GET", "payments/" + orderID},
	{http.MethodPost, "/api/v1/search/reindex", "", "admin", "search", "POST", "reindex"},
	{http.MethodGet, "/api/v1/search?q=kettle", "", "anyone", "search", "GET", "search"},
}

func (gw gateway) token(t *testing.T, who string) string {
	switch who {
	case "customer":
		return gw.iss.Customer(t)
	case "admin":
		return gw.iss.Admin(t)
	}
	return ""
}

// headers are what a client calling r as who sends: its token and, on a
// checkout, an Idempotency-Key.
func (gw gateway) headers(t *testing.T, r route, who string) []string {
	hdr := bearer(gw.token(t, who))
	if r.appPath == "checkout" {
		hdr = append(hdr, "Idempotency-Key", "key-1")
	}
	return hdr
}

func bearer(tok string) []string {
	if tok == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + tok}
}

// Each route reaches its app, path and method with the body the client
// sent, and the app's answer reaches the client as it is.
func TestShopAndOperationsRoutesPassThrough(t *testing.T) {
	gw := newGateway(t, echoApps)
	for _, r := range shopRoutes {
		gw.sc.Reset()
		w := do(gw.h, r.method, r.path, r.body, gw.headers(t, r, r.who)...)
		where := r.method + " " + r.path
		calls := gw.sc.Calls()
		require.Len(t, calls, 1, where)
		inv := calls[0]
		assert.Equal(t, r.app, inv.App, where)
		assert.Equal(t, r.appMethod, inv.Method, where)
		assert.Equal(t, r.appPath, inv.Path, where)
		assert.Equal(t, r.body, inv.Body, "%s: the body reaches the app unchanged", where)
		if r.body != "" {
			assert.Equal(t, "application/json", inv.Header.Get("Content-Type"), where)
		}
		if r.appPath == "checkout" {
			continue
		}
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", where, w.Body.String())
		assert.Equal(t, echoBody(r.app, r.appMethod, r.appPath), w.Body.String(), where)
		assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"), where)
		if r.who == "customer" || (r.who == "admin" && r.app != "search") {
			assert.Equal(t, "private, no-store", w.Header().Get("Cache-Control"), "%s: the caller's data is not kept by shared caches", where)
		}
	}
}

// The apps' answers keep their status codes, problem+json included, and
// their Retry-After.
func TestStatusCodesPassThrough(t *testing.T) {
	for _, status := range []int{http.StatusCreated, http.StatusAccepted, http.StatusNoContent, http.StatusBadRequest,
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable} {
		var body string
		if status >= 400 {
			body = fakesidecar.ProblemBody(problem.New("https://shopmesh.dev/problems/test", status, "the app says no"))
		} else if status != http.StatusNoContent {
			body = `{"status":"` + http.StatusText(status) + `"}`
		}
		gw := newGateway(t, func(fakesidecar.Invocation) *http.Response {
			ct := "application/json"
			if status >= 400 {
				ct = problem.ContentType
			}
			if body == "" {
				ct = ""
			}
			return fakesidecar.Reply(status, ct, body, "Retry-After", "7")
		})
		for _, r := range shopRoutes {
			w := do(gw.h, r.method, r.path, r.body, gw.headers(t, r, r.who)...)
			where := fmt.Sprintf("%s %s answered %d", r.method, r.path, status)
			require.Equal(t, status, w.Code, where)
			assert.Equal(t, body, w.Body.String(), where)
			assert.Equal(t, "7", w.Header().Get("Retry-After"), where)
			if status >= 400 {
				assert.Equal(t, "the app says no", decodeProblem(t, w).Detail, where)
			}
		}
	}
}

// Only the verified caller's identity reaches an app: identity headers a
// client sends are dropped, and no other client header passes, except the
// checkout's Idempotency-Key.
func TestIdentityIsForwardedAndClientHeadersAreNot(t *testing.T) {
	gw := newGateway(t, echoApps)
	client := []string{
		auth.HeaderUserID, "admin-1", auth.HeaderUserRoles, "admin,customer", auth.HeaderUserEmail, "admin@example.com",
		"Cookie", "session=secret", "X-Api-Key", "k", "X-Forwarded-For", "203.0.113.9", "Idempotency-Key", "key-1",
	}
	for _, r := range shopRoutes {
		gw.sc.Reset()
		tok := gw.token(t, r.who)
		if tok == "" {
			tok = gw.iss.Customer(t)
		}
		w := do(gw.h, r.method, r.path, r.body, append(bearer(tok), client...)...)
		where := r.method + " " + r.path
		require.Less(t, w.Code, 300, "%s: %s", where, w.Body.String())
		calls := gw.sc.Calls()
		require.Len(t, calls, 1, where)
		h := calls[0].Header
		want := []string{"Accept", auth.HeaderUserEmail, auth.HeaderUserID, auth.HeaderUserRoles}
		if r.body != "" {
			want = append(want, "Content-Type")
		}
		if r.appPath == "checkout" {
			want = append(want, "Idempotency-Key")
			assert.Equal(t, []string{"key-1"}, h.Values("Idempotency-Key"))
		}
		slices.Sort(want)
		assert.Equal(t, want, slices.Sorted(func(yield func(string) bool) {
			for k := range h {
				if !yield(k) {
					return
				}
			}
		}), where)
		if r.who == "admin" {
			assert.Equal(t, "admin-1", h.Get(auth.HeaderUserID), where)
			assert.Equal(t, "customer,admin", h.Get(auth.HeaderUserRoles), where)
		} else {
			assert.Equal(t, "customer-1", h.Get(auth.HeaderUserID), where)
			assert.Equal(t, "customer@example.com", h.Get(auth.HeaderUserEmail), where)
			assert.Equal(t, []string{"customer"}, h.Values(auth.HeaderUserRoles), where)
		}
	}

	// Search needs no token: an anonymous search carries no identity at all.
	gw.sc.Reset()
	w := do(gw.h, http.MethodGet, "/api/v1/search?q=kettle", "", client...)
	require.Equal(t, http.StatusOK, w.Code)
	for k := range gw.sc.Calls()[0].Header {
		assert.NotContains(t, strings.ToLower(k), "x-shopmesh-user")
	}
}

// Customer routes need a token; operator routes and the reindex need an
// administrator's. Refused calls never reach an app.
func TestWhoMayCallWhat(t *testing.T) {
	gw := newGateway(t, echoApps)
	for _, r := range shopRoutes {
		where := r.method + " " + r.path
		if r.who == "anyone" {
			continue
		}
		w := do(gw.h, r.method, r.path, r.body, auth.HeaderUserID, "admin-1", auth.HeaderUserRoles, "admin,customer")
		require.Equal(t, http.StatusUnauthorized, w.Code, "%s without a token", where)
		assert.Equal(t, `Bearer realm="shopmesh"`, w.Header().Get("WWW-Authenticate"), where)
		assert.Equal(t, problem.TypeUnauthorized, decodeProblem(t, w).Type, where)
		if r.who == "admin" {
			w = do(gw.h, r.method, r.path, r.body, bearer(gw.iss.Customer(t))...)
			require.Equal(t, http.StatusForbidden, w.Code, "%s as a customer", where)
			assert.Equal(t, problem.TypeForbidden, decodeProblem(t, w).Type, where)
		}
	}
	assert.Empty(t, gw.sc.Calls(), "no refused call reached an app")
}

func TestCheckout(t *testing.T) {
	body := checkoutBody
	gw := newGateway(t, echoApps)
	tok := bearer(gw.iss.Customer(t))

	w := do(gw.h, http.MethodPost, "/api/v1/checkout", body, append(tok, "Idempotency-Key", "0193-key-1")...)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.JSONEq(t, `{"order_id":"`+orderID+`","status":"pending"}`, w.Body.String())
	assert.Equal(t, "/api/v1/orders/"+orderID, w.Header().Get("Location"), "where to watch the order settle")
	assert.Equal(t, "private, no-store", w.Header().Get("Cache-Control"))
	calls := gw.sc.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, fakesidecar.Invocation{App: "orders", Method: "POST", Path: "checkout", Header: calls[0].Header, Body: body}, calls[0])
	assert.Equal(t, []string{"0193-key-1"}, calls[0].Header.Values("Idempotency-Key"), "the key reaches orders as sent")

	// A key the orders app cannot take is refused here.
	gw.sc.Reset()
	for name, hdr := range map[string][]string{
		"no key":       nil,
		"empty key":    {"Idempotency-Key", ""},
		"long key":     {"Idempotency-Key", strings.Repeat("k", 256)},
		"blank key":    {"Idempotency-Key", "   "},
		"non-ASCII":    {"Idempotency-Key", "schlüssel"},
		"control char": {"Idempotency-Key", "key\x01"},
	} {
		w := do(gw.h, http.MethodPost, "/api/v1/checkout", body, append(tok, hdr...)...)
		require.Equal(t, http.StatusBadRequest, w.Code, name)
		p := decodeProblem(t, w)
		assert.Equal(t, problem.TypeValidation, p.Type, name)
		require.Len(t, p.Errors, 1, name)
		assert.Equal(t, "Idempotency-Key", p.Errors[0].Field, name)
	}
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/checkout", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", tok[1])
	req.Header.Add("Idempotency-Key", "a")
	req.Header.Add("Idempotency-Key", "b")
	rec := httptest.NewRecorder()
	gw.h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code, "two keys are one too many")
	w = do(gw.h, http.MethodPost, "/api/v1/checkout", "payment_token=tok_visa", append(tok, "Idempotency-Key", "k", "Content-Type", "application/x-www-form-urlencoded")...)
	require.Equal(t, http.StatusUnsupportedMediaType, w.Code)
	assert.Empty(t, gw.sc.Calls(), "refused checkouts never reach orders")

	// The orders app's refusals pass through, with no Location.
	for _, status := range []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity} {
		gw := newGateway(t, func(fakesidecar.Invocation) *http.Response {
			return fakesidecar.Problem(problem.New("https://shopmesh.dev/problems/test", status, "no"))
		})
		w := do(gw.h, http.MethodPost, "/api/v1/checkout", body, "Authorization", "Bearer "+gw.iss.Customer(t), "Idempotency-Key", "k")
		require.Equal(t, status, w.Code)
		assert.Empty(t, w.Header().Get("Location"))
	}
}

// Ids in paths that cannot be ids are 404 here, without a call.
func TestIDsThatCannotExistAre404(t *testing.T) {
	gw := newGateway(t, echoApps)
	customer, admin := bearer(gw.iss.Customer(t)), bearer(gw.iss.Admin(t))
	for _, c := range []struct {
		method, path, body string
		tok                []string
	}{
		{http.MethodDelete, "/api/v1/cart/items/not-a-product", "", customer},
		{http.MethodDelete, "/api/v1/cart/items/..%2f..%2fcheckout", "", customer},
		{http.MethodGet, "/api/v1/orders/42", "", customer},
		{http.MethodPost, "/api/v1/orders/" + orderID + "0/cancel", "", customer},
		{http.MethodGet, "/api/v1/inventory/sku-1", "", admin},
		{http.MethodPut, "/api/v1/inventory/sku-1", `{"available":1}`, admin},
		{http.MethodGet, "/api/v1/payments/order-1", "", admin},
	} {
		w := do(gw.h, c.method, c.path, c.body, c.tok...)
		require.Equal(t, http.StatusNotFound, w.Code, c.method+" "+c.path)
		assert.Equal(t, problem.TypeNotFound, decodeProblem(t, w).Type)
	}
	assert.Empty(t, gw.sc.Calls())
}

// The search parameters reach the search app as the client sent them, and
// nothing else of the query string does.
func TestSearchPassesItsParameters(t *testing.T) {
	gw := newGateway(t, echoApps)
	q := url.Values{
		"q": {"stainles kettel"}, "category": {"kitchen"}, "min_price": {"1000"}, "max_price": {"5000"},
		"in_stock": {"true"}, "sort": {"price_asc"}, "page_size": {"5"}, "page_token": {"abc"},
		"debug": {"1"}, "explain": {"true"},
	}
	w := do(gw.h, http.MethodGet, "/api/v1/search?"+q.Encode(), "")
	require.Equal(t, http.StatusOK, w.Code)
	got := gw.sc.Calls()[0].Query
	q.Del("debug")
	q.Del("explain")
	assert.Equal(t, q, got)

	gw.sc.Reset()
	require.Equal(t, http.StatusOK, do(gw.h, http.MethodGet, "/api/v1/search", "").Code)
	assert.Empty(t, gw.sc.Calls()[0].Query, "no parameters: the search app's defaults")
}

func TestUnreachableServicesAre503(t *testing.T) {
	gw := newGateway(t, nil)
	for _, r := range shopRoutes {
		w := do(gw.h, r.method, r.path, r.body, gw.headers(t, r, r.who)...)
		require.Equal(t, http.StatusServiceUnavailable, w.Code, r.method+" "+r.path)
		p := decodeProblem(t, w)
		assert.Equal(t, problem.TypeUnavailable, p.Type)
		assert.Equal(t, "the "+r.app+" service is unavailable; retry later", p.Detail)
		assert.NotContains(t, p.Detail, "127.0.0.1", "internal addresses stay in the log")
	}
}
