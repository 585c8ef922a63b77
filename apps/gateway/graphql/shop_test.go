package graphql_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/apps/gateway/authz"
	"github.com/shopmesh/shopmesh/apps/gateway/fakecatalog"
	"github.com/shopmesh/shopmesh/apps/gateway/fakesidecar"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

const orderID = "01936f2e-8b1c-7d4e-9a0b-0000000000aa"

// The wire forms the orders and search apps answer with.
const (
	cartJSON = `{"items":[{"product_id":"` + kettleID + `","quantity":2,"unit_price":{"amount":3999,"currency":"USD"}}],
	  "total":{"amount":7998,"currency":"USD"}}`
	orderJSON = `{"id":"` + orderID + `","status":"cancelled","reason":"payment_declined",
	  "items":[{"product_id":"` + kettleID + `","sku":"KIT-1","name":"Kettle","quantity":2,"unit_price":{"amount":3999,"currency":"USD"}}],
	  "total":{"amount":7998,"currency":"USD"},"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:06Z",
	  "shipping_address":{"name":"Ada","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"},
	  "timeline":[{"status":"pending","at":"2026-01-02T03:04:05Z"},
	              {"status":"cancelled","at":"2026-01-02T03:04:06Z","reason":"payment_declined"}]}`
	searchJSON = `{"items":[{"id":"` + kettleID + `","sku":"KIT-1","name":"Stainless steel kettle","description":"Boils.",
	  "category":"kitchen","price":{"amount":3999,"currency":"USD"},"image_url":"","in_stock":true,
	  "created_at":"2026-01-02T03:04:05Z","score":1.5}],
	  "total":3,
	  "facets":{"category":{"kitchen":2,"audio":1},"price":{"under_25":0,"25_to_50":3,"200_and_over":0}},
	  "next_page_token":"djE"}`
)

// apps answers like the orders and search apps.
func apps(inv fakesidecar.Invocation) *http.Response {
	ok := func(body string) *http.Response {
		return fakesidecar.Reply(http.StatusOK, "application/json; charset=utf-8", body)
	}
	switch inv.App + " " + inv.Method + " " + inv.Path {
	case "orders GET cart", "orders POST cart/items", "orders DELETE cart/items/" + kettleID:
		return ok(cartJSON)
	case "orders POST checkout":
		return fakesidecar.Reply(http.StatusAccepted, "application/json", `{"order_id":"`+orderID+`","status":"pending"}`)
	case "orders GET orders":
		return ok(`{"items":[` + orderJSON + `]}`)
	case "orders GET orders/" + orderID:
		return ok(orderJSON)
	case "search GET search":
		return ok(searchJSON)
	}
	return fakesidecar.Problem(problem.NotFound("nothing at " + inv.Path))
}

type shopGraph struct {
	h   http.Handler
	iss *authtest.Issuer
	sc  *fakesidecar.Sidecar
}

// newShopGraph mounts the graph as the gateway does — behind the token
// check and the access table — over the real orders and search clients,
// whose calls land in a recording sidecar.
func newShopGraph(t *testing.T, answer func(fakesidecar.Invocation) *http.Response) shopGraph {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	sc := fakesidecar.New(answer)
	inv := outbound.New(sc)
	callCfg := servicecall.Config{Timeout: time.Second, MaxResponseBytes: 1 << 20}
	s := graphql.Services{
		Catalog: fakecatalog.New(shop), Users: &fakeUsers{answer: profile},
		Orders: ordersclient.New(inv, callCfg), Search: searchclient.New(inv, callCfg),
	}
	e := gin.New()
	g := e.Group("", authn.Authenticate(v, authtest.Discard()), authz.Middleware())
	graphql.Mount(g, graphql.NewHandler(s, authtest.Discard(), cfg), cfg)
	return shopGraph{h: e, iss: iss, sc: sc}
}

func (g shopGraph) post(t *testing.T, token, query string, vars map[string]any) result {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, graphql.Path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// Spoofed identity and a client's own key never reach a service.
	req.Header.Set(auth.HeaderUserID, "spoofed-admin")
	req.Header.Set(auth.HeaderUserRoles, "admin")
	req.Header.Set("Idempotency-Key", "from-a-header")
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var r result
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
	return r
}

// onlyCall returns the one call the sidecar received and checks it was
// made for the verified customer.
func (g shopGraph) onlyCall(t *testing.T) fakesidecar.Invocation {
	t.Helper()
	calls := g.sc.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "customer-1", calls[0].Header.Get(auth.HeaderUserID))
	assert.Equal(t, []string{"customer"}, calls[0].Header.Values(auth.HeaderUserRoles))
	return calls[0]
}

func codeOf(t *testing.T, r result) string {
	t.Helper()
	require.Len(t, r.Errors, 1, "%s", r.Data)
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

const cartSelection = `{ items { productId quantity unitPrice { amount currency } } total { amount currency } }`

const cartData = `{"items":[{"productId":"` + kettleID + `","quantity":2,"unitPrice":{"amount":3999,"currency":"USD"}}],
  "total":{"amount":7998,"currency":"USD"}}`

func TestCart(t *testing.T) {
	g := newShopGraph(t, apps)
	r := g.post(t, g.iss.Customer(t), `{ cart `+cartSelection+` }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"cart":`+cartData+`}`, string(r.Data))
	inv := g.onlyCall(t)
	assert.Equal(t, "orders", inv.App)
	assert.Equal(t, "GET cart", inv.Method+" "+inv.Path)
}

func TestAddToCartAndRemoveFromCart(t *testing.T) {
	g := newShopGraph(t, apps)
	r := g.post(t, g.iss.Customer(t), `mutation($p: ID!, $n: Int!) { addToCart(productId: $p, quantity: $n) `+cartSelection+` }`,
		map[string]any{"p": strings.ToUpper(kettleID), "n": 2})
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"addToCart":`+cartData+`}`, string(r.Data))
	inv := g.onlyCall(t)
	assert.Equal(t, "POST cart/items", inv.Method+" "+inv.Path)
	assert.JSONEq(t, `{"product_id":"`+kettleID+`","quantity":2}`, inv.Body, "the id in canonical form")

	g.sc.Reset()
	r = g.post(t, g.iss.Customer(t), `mutation($p: ID!) { removeFromCart(productId: $p) { total { amount } } }`, map[string]any{"p": kettleID})
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"removeFromCart":{"total":{"amount":7998}}}`, string(r.Data))
	inv = g.onlyCall(t)
	assert.Equal(t, "DELETE cart/items/"+kettleID, inv.Method+" "+inv.Path)

	// An id that cannot be a product's never reaches orders.
	g.sc.Reset()
	for _, q := range []string{`mutation { addToCart(productId: "nope", quantity: 1) { total { amount } } }`,
		`mutation { removeFromCart(productId: "../checkout") { total { amount } } }`} {
		r = g.post(t, g.iss.Customer(t), q, nil)
		assert.Equal(t, graphql.CodeNotFound, codeOf(t, r), q)
	}
	assert.Empty(t, g.sc.Calls())
}

func TestCartProblemsBecomeCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		answer *http.Response
		code   string
		errs   []any
	}{
		"bad quantity": {fakesidecar.Problem(problem.Validation(problem.FieldError{Field: "quantity", Detail: "must be from 1 to 100"})),
			graphql.CodeBadUserInput, []any{map[string]any{"field": "quantity", "detail": "must be from 1 to 100"}}},
		"bad product id": {fakesidecar.Problem(problem.Validation(problem.FieldError{Field: "product_id", Detail: "is not a product id"})),
			graphql.CodeBadUserInput, []any{map[string]any{"field": "productId", "detail": "is not a product id"}}},
		"unknown product": {fakesidecar.Problem(problem.NotFound("no product with this id")), graphql.CodeNotFound, nil},
		"conflict":        {fakesidecar.Problem(problem.Conflict("the cart changed; retry")), graphql.CodeConflict, nil},
		"orders failing":  {fakesidecar.Problem(problem.Internal()), graphql.CodeUnavailable, nil},
		"sidecar error":   {fakesidecar.Reply(500, "application/json", `{"errorCode":"ERR_DIRECT_INVOKE"}`), graphql.CodeUnavailable, nil},
		"teapot":          {fakesidecar.Problem(problem.New("https://shopmesh.dev/problems/x", 418, "odd")), graphql.CodeInternal, nil},
	} {
		t.Run(name, func(t *testing.T) {
			g := newShopGraph(t, func(fakesidecar.Invocation) *http.Response { return tc.answer })
			r := g.post(t, g.iss.Customer(t), `mutation { addToCart(productId: "`+kettleID+`", quantity: 500) { total { amount } } }`, nil)
			assert.Equal(t, tc.code, codeOf(t, r))
			assert.Equal(t, []any{"addToCart"}, r.Errors[0].Path)
			if tc.errs == nil {
				assert.NotContains(t, r.Errors[0].Extensions, "errors")
			} else {
				assert.Equal(t, tc.errs, r.Errors[0].Extensions["errors"])
			}
			assert.JSONEq(t, `{"addToCart":null}`, string(r.Data))
		})
	}
	g := newShopGraph(t, nil) // the sidecar is down
	r := g.post(t, g.iss.Customer(t), `{ cart { total { amount } } }`, nil)
	assert.Equal(t, graphql.CodeUnavailable, codeOf(t, r))
	assert.Equal(t, "the orders service is unavailable; retry later", r.Errors[0].Message)
}

const checkoutMutation = `mutation($in: CheckoutInput!) { checkout(input: $in) { orderId status } }`

func checkoutInput(key string) map[string]any {
	return map[string]any{"in": map[string]any{
		"idempotencyKey": key, "paymentToken": "tok_visa",
		"shippingAddress": map[string]any{"name": "Ada", "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE"},
	}}
}

func TestCheckoutMutation(t *testing.T) {
	g := newShopGraph(t, apps)
	r := g.post(t, g.iss.Customer(t), checkoutMutation, checkoutInput("0193-key-1"))
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"checkout":{"orderId":"`+orderID+`","status":"pending"}}`, string(r.Data))
	inv := g.onlyCall(t)
	assert.Equal(t, "POST checkout", inv.Method+" "+inv.Path)
	assert.JSONEq(t, `{"shipping_address":{"name":"Ada","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"},
	  "payment_token":"tok_visa"}`, inv.Body, "the key is not in the body; an absent line2 is left out")
	assert.Equal(t, []string{"0193-key-1"}, inv.Header.Values("Idempotency-Key"), "the input's key, not the request header's")

	// A key the orders app cannot take is refused here.
	g.sc.Reset()
	for _, key := range []string{"", "  ", "schlüssel", strings.Repeat("k", 256)} {
		r = g.post(t, g.iss.Customer(t), checkoutMutation, checkoutInput(key))
		require.Equal(t, graphql.CodeBadUserInput, codeOf(t, r), "key %q", key)
		errs, _ := r.Errors[0].Extensions["errors"].([]any)
		require.Len(t, errs, 1)
		assert.Equal(t, "input.idempotencyKey", errs[0].(map[string]any)["field"])
	}
	assert.Empty(t, g.sc.Calls())
}

func TestCheckoutProblemsBecomeCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		answer *http.Response
		code   string
		field  string
	}{
		"empty cart": {fakesidecar.Problem(problem.New(problem.TypeValidation, 400, "the cart is empty")), graphql.CodeBadUserInput, ""},
		"bad address": {fakesidecar.Problem(problem.Validation(problem.FieldError{Field: "shipping_address.postal_code", Detail: "is required"})),
			graphql.CodeBadUserInput, "input.shippingAddress.postalCode"},
		"key reused": {fakesidecar.Problem(problem.New("https://shopmesh.dev/problems/idempotency-key-reused", 422,
			"this Idempotency-Key was used for another checkout")), graphql.CodeBadUserInput, ""},
		"key header": {fakesidecar.Problem(problem.Validation(problem.FieldError{Field: "Idempotency-Key", Detail: "is required"})),
			graphql.CodeBadUserInput, "input.idempotencyKey"},
		"in flight": {fakesidecar.Problem(problem.Conflict("a checkout with this key is in progress; retry")), graphql.CodeConflict, ""},
	} {
		t.Run(name, func(t *testing.T) {
			g := newShopGraph(t, func(fakesidecar.Invocation) *http.Response { return tc.answer })
			r := g.post(t, g.iss.Customer(t), checkoutMutation, checkoutInput("k-1"))
			assert.Equal(t, tc.code, codeOf(t, r))
			assert.JSONEq(t, `{"checkout":null}`, string(r.Data))
			if tc.field != "" {
				errs, _ := r.Errors[0].Extensions["errors"].([]any)
				require.Len(t, errs, 1)
				assert.Equal(t, tc.field, errs[0].(map[string]any)["field"])
				assert.Contains(t, r.Errors[0].Message, tc.field)
			} else {
				assert.NotEmpty(t, r.Errors[0].Message)
			}
		})
	}
}

// Mutations are not served over GET: a link or an image tag must not be
// able to place an order.
func TestNoMutationOverGET(t *testing.T) {
	g := newShopGraph(t, apps)
	q := url.Values{"query": {`mutation { removeFromCart(productId: "` + kettleID + `") { total { amount } } }`}}
	req := httptest.NewRequest(http.MethodGet, graphql.Path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+g.iss.Customer(t))
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, req)
	assert.NotEqual(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, g.sc.Calls())
}

const orderSelection = `{ id status reason items { productId sku name quantity unitPrice { amount currency } }
  total { amount currency } shippingAddress { name line1 line2 city postalCode country }
  createdAt updatedAt timeline { status at reason } }`

const orderData = `{"id":"` + orderID + `","status":"cancelled","reason":"payment_declined",
  "items":[{"productId":"` + kettleID + `","sku":"KIT-1","name":"Kettle","quantity":2,"unitPrice":{"amount":3999,"currency":"USD"}}],
  "total":{"amount":7998,"currency":"USD"},
  "shippingAddress":{"name":"Ada","line1":"1 Main St","line2":null,"city":"Berlin","postalCode":"10115","country":"DE"},
  "createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:06Z",
  "timeline":[{"status":"pending","at":"2026-01-02T03:04:05Z","reason":null},
              {"status":"cancelled","at":"2026-01-02T03:04:06Z","reason":"payment_declined"}]}`

func TestOrdersAndOrder(t *testing.T) {
	g := newShopGraph(t, apps)
	r := g.post(t, g.iss.Customer(t), `{ orders `+orderSelection+` }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"orders":[`+orderData+`]}`, string(r.Data))
	inv := g.onlyCall(t)
	assert.Equal(t, "GET orders", inv.Method+" "+inv.Path)

	g.sc.Reset()
	r = g.post(t, g.iss.Customer(t), `query($id: ID!) { order(id: $id) `+orderSelection+` }`, map[string]any{"id": strings.ToUpper(orderID)})
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"order":`+orderData+`}`, string(r.Data))
	inv = g.onlyCall(t)
	assert.Equal(t, "GET orders/"+orderID, inv.Method+" "+inv.Path)

	// Another user's order, or one that does not exist, is null, as REST's
	// 404; an id that cannot be an order's is not even asked for.
	g.sc.Reset()
	r = g.post(t, g.iss.Customer(t), `{
	  theirs: order(id: "01936f2e-0000-7000-8000-000000000000") { id }
	  nonsense: order(id: "not-an-id") { id }
	}`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"theirs":null,"nonsense":null}`, string(r.Data))
	assert.Len(t, g.sc.Calls(), 1)
}

func TestOrdersLeftOutListsAreEmpty(t *testing.T) {
	g := newShopGraph(t, func(fakesidecar.Invocation) *http.Response {
		return fakesidecar.Reply(200, "application/json", `{"items":[{"id":"`+orderID+`","status":"pending","total":{"amount":0,"currency":"USD"},"created_at":"2026-01-02T03:04:05Z"}]}`)
	})
	r := g.post(t, g.iss.Customer(t), `{ orders { reason items { sku } timeline { status } } }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"orders":[{"reason":null,"items":[],"timeline":[]}]}`, string(r.Data))
}

func TestSearch(t *testing.T) {
	g := newShopGraph(t, apps)
	r := g.post(t, "", `query {
	  search(q: "stainles kettel", category: "kitchen", minPrice: 1000, maxPrice: 5000000000, inStock: true,
	         sort: PRICE_ASC, pageSize: 5, pageToken: "djE") {
	    items { id sku name description category price { amount currency } imageUrl inStock }
	    total
	    facets { name buckets { value count } }
	    nextPageToken
	  }
	}`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"search":{
	  "items":[{"id":"`+kettleID+`","sku":"KIT-1","name":"Stainless steel kettle","description":"Boils.","category":"kitchen",
	            "price":{"amount":3999,"currency":"USD"},"imageUrl":"","inStock":true}],
	  "total":3,
	  "facets":[{"name":"category","buckets":[{"value":"kitchen","count":2},{"value":"audio","count":1}]},
	            {"name":"price","buckets":[{"value":"under_25","count":0},{"value":"25_to_50","count":3},{"value":"200_and_over","count":0}]}],
	  "nextPageToken":"djE"}}`, string(r.Data), "facets and buckets in the search app's order")
	calls := g.sc.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "search", calls[0].App)
	assert.Equal(t, "GET search", calls[0].Method+" "+calls[0].Path)
	assert.Equal(t, url.Values{
		"q": {"stainles kettel"}, "category": {"kitchen"}, "min_price": {"1000"}, "max_price": {"5000000000"},
		"in_stock": {"true"}, "sort": {"price_asc"}, "page_size": {"5"}, "page_token": {"djE"},
	}, calls[0].Query)
	for k := range calls[0].Header {
		assert.NotContains(t, strings.ToLower(k), "x-shopmesh-user", "an anonymous search carries no identity")
	}

	g.sc.Reset()
	r = g.post(t, g.iss.Customer(t), `{ search { total nextPageToken } }`, nil)
	require.Empty(t, r.Errors)
	assert.Empty(t, g.onlyCall(t).Query, "no arguments: the search app's defaults")
}

func TestSearchLastPageAndEmptyResult(t *testing.T) {
	g := newShopGraph(t, func(fakesidecar.Invocation) *http.Response {
		return fakesidecar.Reply(200, "application/json", `{"items":null,"total":0,"facets":{},"next_page_token":""}`)
	})
	r := g.post(t, "", `{ search(q: "zzz") { items { id } total facets { name } nextPageToken } }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"search":{"items":[],"total":0,"facets":[],"nextPageToken":null}}`, string(r.Data))
}

func TestSearchProblemsBecomeCodes(t *testing.T) {
	g := newShopGraph(t, func(fakesidecar.Invocation) *http.Response {
		return fakesidecar.Problem(problem.Validation(problem.FieldError{Field: "min_price", Detail: "must not be above max_price"}))
	})
	r := g.post(t, "", `{ search(minPrice: 10, maxPrice: 1) { total } }`, nil)
	assert.Equal(t, graphql.CodeBadUserInput, codeOf(t, r))
	assert.Equal(t, []any{map[string]any{"field": "minPrice", "detail": "must not be above max_price"}}, r.Errors[0].Extensions["errors"])

	r = newShopGraph(t, nil).post(t, "", `{ search(q: "x") { total } }`, nil)
	assert.Equal(t, graphql.CodeUnavailable, codeOf(t, r))
	assert.Equal(t, "the search service is unavailable; retry later", r.Errors[0].Message)

}

// Every new field, asked by each kind of caller: anonymous callers get
// UNAUTHENTICATED on the customer's fields, a caller without a field's
// role FORBIDDEN, and a refused field's resolver never calls a service.
func TestNewFieldsAuthorization(t *testing.T) {
	fields := []struct {
		name, query string
		vars        map[string]any
		access      authz.Access
	}{
		{"Query.search", `{ search(q: "kettle") { total } }`, nil, authz.Public},
		{"Query.cart", `{ cart { total { amount } } }`, nil, authz.Customer},
		{"Query.orders", `{ orders { id } }`, nil, authz.Customer},
		{"Query.order", `{ order(id: "` + orderID + `") { id } }`, nil, authz.Customer},
		{"Mutation.addToCart", `mutation { addToCart(productId: "` + kettleID + `", quantity: 1) { total { amount } } }`, nil, authz.Customer},
		{"Mutation.removeFromCart", `mutation { removeFromCart(productId: "` + kettleID + `") { total { amount } } }`, nil, authz.Customer},
		{"Mutation.checkout", checkoutMutation, checkoutInput("k-1"), authz.Customer},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			require.Equal(t, f.access, authz.Fields[f.name], "the access table")
			g := newShopGraph(t, apps)

			r := g.post(t, "", f.query, f.vars)
			if f.access == authz.Public {
				require.Empty(t, r.Errors)
			} else {
				assert.Equal(t, graphql.CodeUnauthenticated, codeOf(t, r))
				assert.Empty(t, g.sc.Calls(), "the resolver never ran")
			}
			g.sc.Reset()
			r = g.post(t, g.iss.Customer(t), f.query, f.vars)
			require.Empty(t, r.Errors)
			assert.Len(t, g.sc.Calls(), 1)

			// Were the field for administrators, a customer would be refused.
			old := authz.Fields[f.name]
			authz.Fields[f.name] = authz.Admin
			t.Cleanup(func() { authz.Fields[f.name] = old })
			g.sc.Reset()
			r = g.post(t, g.iss.Customer(t), f.query, f.vars)
			assert.Equal(t, graphql.CodeForbidden, codeOf(t, r))
			assert.Empty(t, g.sc.Calls())
			r = g.post(t, g.iss.Admin(t), f.query, f.vars)
			require.Empty(t, r.Errors)
		})
	}
}
