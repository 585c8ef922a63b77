package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type product struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       money  `json:"price"`
	ImageURL    string `json:"image_url"`
	InStock     bool   `json:"in_stock"`
}

type productPage struct {
	Items []product `json:"items"`
	Next  string    `json:"next_page_token"`
}

func listProducts(t *testing.T, query url.Values) productPage {
	t.Helper()
	r := call(t, http.MethodGet, gateway+"/api/v1/products?"+query.Encode(), nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var p productPage
	r.decode(t, &p)
	return p
}

// allProducts pages through a listing to its end.
func allProducts(t *testing.T, category string, pageSize int) []product {
	t.Helper()
	var out []product
	q := url.Values{"page_size": {fmt.Sprint(pageSize)}}
	if category != "" {
		q.Set("category", category)
	}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "paging does not end")
		p := listProducts(t, q)
		require.LessOrEqual(t, len(p.Items), pageSize)
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		q.Set("page_token", p.Next)
	}
}

func TestBrowseTheSeededCatalogue(t *testing.T) {
	requireStack(t)
	first := listProducts(t, nil)
	assert.GreaterOrEqual(t, len(first.Items), 20, "the first page holds the default page size")
	assert.NotEmpty(t, first.Next)

	var cats struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	call(t, http.MethodGet, gateway+"/api/v1/categories", nil).decode(t, &cats)
	require.GreaterOrEqual(t, len(cats.Items), 6)

	all := allProducts(t, "", 7)
	require.GreaterOrEqual(t, len(all), 50)
	seen := map[string]bool{}
	for _, p := range all {
		require.False(t, seen[p.ID], "product %s listed twice", p.ID)
		seen[p.ID] = true
		assert.NotEmpty(t, p.SKU)
		assert.NotEmpty(t, p.Name)
		assert.NotEmpty(t, p.Price.Currency)
	}

	total := 0
	for _, c := range cats.Items {
		items := allProducts(t, c.ID, 3)
		for _, p := range items {
			require.Equal(t, c.ID, p.Category)
		}
		total += len(items)
	}
	assert.Equal(t, len(all), total, "every product is in exactly one category listing")

	one := call(t, http.MethodGet, gateway+"/api/v1/products/"+all[0].ID, nil)
	require.Equal(t, http.StatusOK, one.Status)
	var got product
	one.decode(t, &got)
	assert.Equal(t, all[0], got)

	requireProblem(t, call(t, http.MethodGet, gateway+"/api/v1/products/01936f2e-0000-7000-8000-000000000000", nil), http.StatusNotFound)
	requireProblem(t, call(t, http.MethodGet, gateway+"/api/v1/products/not-an-id", nil), http.StatusNotFound)
}

func TestGraphQLMatchesREST(t *testing.T) {
	requireStack(t)
	rest := listProducts(t, url.Values{"category": {"kitchen"}, "page_size": {"5"}})
	require.NotEmpty(t, rest.Items)

	query := `query($c: String, $n: Int) {
	  products(category: $c, pageSize: $n) { items { id sku name description category price { amount currency } imageUrl inStock } nextPageToken }
	  categories { id name }
	}`
	r := call(t, http.MethodPost, gateway+"/graphql", map[string]any{"query": query, "variables": map[string]any{"c": "kitchen", "n": 5}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var out struct {
		Data struct {
			Products struct {
				Items []struct {
					product
					ImageURL string `json:"imageUrl"`
					InStock  bool   `json:"inStock"`
				} `json:"items"`
				Next string `json:"nextPageToken"`
			} `json:"products"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	r.decode(t, &out)
	require.Empty(t, out.Errors)
	require.Len(t, out.Data.Products.Items, len(rest.Items))
	for i, g := range out.Data.Products.Items {
		p := g.product
		p.ImageURL, p.InStock = g.ImageURL, g.InStock
		assert.Equal(t, rest.Items[i], p)
	}
	assert.Equal(t, rest.Next, out.Data.Products.Next)

	id := rest.Items[0].ID
	r = call(t, http.MethodPost, gateway+"/graphql", map[string]any{"query": `{ product(id: "` + id + `") { id name price { amount } } missing: product(id: "01936f2e-0000-7000-8000-000000000000") { id } }`})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, string(r.Body), `"missing":null`)
	assert.Contains(t, string(r.Body), rest.Items[0].Name)
}

// adminSession caches the admin's access token for the test run.
var adminSession struct {
	sync.Mutex
	token string
	at    time.Time
}

// asAdmin returns the Authorization header of the admin account, signing in
// with the credentials the local secret store holds (.local/secrets.json).
func asAdmin(t *testing.T) []string {
	t.Helper()
	adminSession.Lock()
	defer adminSession.Unlock()
	// Access tokens live 15 minutes; sign in again well before.
	if adminSession.token == "" || time.Since(adminSession.at) > 10*time.Minute {
		secrets := localSecrets(t)
		require.NotEmpty(t, secrets["admin-email"])
		r := call(t, http.MethodPost, gateway+"/api/v1/auth/login",
			map[string]string{"email": secrets["admin-email"], "password": secrets["admin-password"]})
		require.Equal(t, http.StatusOK, r.Status, "admin sign-in: %s", r.Body)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.decode(t, &tok)
		require.NotEmpty(t, tok.AccessToken)
		adminSession.token, adminSession.at = tok.AccessToken, time.Now()
	}
	return []string{"Authorization", "Bearer " + adminSession.token}
}

func newProductBody(sku string) map[string]any {
	return map[string]any{
		"sku": sku, "name": "E2E Enamel Mug " + sku, "description": "A mug made by the end-to-end tests.",
		"category": "kitchen", "price": map[string]any{"amount": 1250, "currency": "USD"},
		"image_url": "https://images.shopmesh.dev/products/e2e.jpg",
	}
}

func uniqueSKU(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

func TestWritesAreVisibleOnTheNextRead(t *testing.T) {
	requireStack(t)
	sku := uniqueSKU("E2E")
	admin := asAdmin(t)
	r := call(t, http.MethodPost, gateway+"/api/v1/products", newProductBody(sku), admin...)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var p product
	r.decode(t, &p)
	assert.Equal(t, sku, p.SKU)
	t.Cleanup(func() { call(t, http.MethodDelete, gateway+"/api/v1/products/"+p.ID, nil, admin...) })

	requireProblem(t, call(t, http.MethodPost, gateway+"/api/v1/products", newProductBody(sku), admin...), http.StatusConflict)

	path := gateway + "/api/v1/products/" + p.ID
	call(t, http.MethodGet, path, nil) // warm the cache
	again := call(t, http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, again.Status)

	body := newProductBody(sku)
	body["name"] = "E2E Enamel Mug, renamed"
	body["price"] = map[string]any{"amount": 1399, "currency": "USD"}
	require.Equal(t, http.StatusOK, call(t, http.MethodPut, path, body, admin...).Status)

	var after product
	call(t, http.MethodGet, path, nil).decode(t, &after)
	assert.Equal(t, "E2E Enamel Mug, renamed", after.Name)
	assert.Equal(t, int64(1399), after.Price.Amount)

	require.Equal(t, http.StatusNoContent, call(t, http.MethodDelete, path, nil, admin...).Status)
	requireProblem(t, call(t, http.MethodGet, path, nil), http.StatusNotFound)
}

// A change that does not pass through this gateway (another replica, an
// admin tool) reaches the cache through the catalog's product events.
func TestCatalogEventsInvalidateTheCache(t *testing.T) {
	requireStack(t)
	catalog := sidecarOf(t, "catalog")
	r := catalog.invoke(t, http.MethodPost, "products", newProductBody(uniqueSKU("EVT")))
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var p product
	r.decode(t, &p)
	t.Cleanup(func() { catalog.invoke(t, http.MethodDelete, "products/"+p.ID, nil) })

	path := gateway + "/api/v1/products/" + p.ID
	// The product.created event may still be on its way and drop the entry
	// the first read cached: read until a second read is a hit.
	eventually(t, 10*time.Second, "the product is served from the cache", func() bool {
		require.Equal(t, http.StatusOK, call(t, http.MethodGet, path, nil).Status)
		return call(t, http.MethodGet, path, nil).Header.Get("X-Cache") == "hit"
	})

	body := newProductBody(p.SKU)
	body["name"] = "Renamed behind the gateway's back"
	require.Equal(t, http.StatusOK, catalog.invoke(t, http.MethodPut, "products/"+p.ID, body).Status)
	eventually(t, 10*time.Second, "the gateway serves the new name", func() bool {
		var got product
		call(t, http.MethodGet, path, nil).decode(t, &got)
		return got.Name == "Renamed behind the gateway's back"
	})
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	requireStack(t)
	before := len(allProducts(t, "", 100))
	products := gateway + "/api/v1/products"
	big := `{"sku":"BIG-1","name":"x","description":"` + strings.Repeat("x", 1<<20+10) + `","category":"kitchen","price":{"amount":1,"currency":"USD"}}`
	cases := []struct {
		name, method, url string
		body              any
		status            int
	}{
		{"malformed json", http.MethodPost, products, `{"sku": "A",`, 400},
		{"wrong type", http.MethodPost, products, `{"sku":"A-1","name":"n","category":"kitchen","price":{"amount":"ten","currency":"USD"}}`, 400},
		{"unknown category", http.MethodPost, products, `{"sku":"A-1","name":"n","category":"garden-gnomes","price":{"amount":10,"currency":"USD"}}`, 400},
		{"unknown currency", http.MethodPost, products, `{"sku":"A-1","name":"n","category":"kitchen","price":{"amount":10,"currency":"ZZZ"}}`, 400},
		{"negative price", http.MethodPost, products, `{"sku":"A-1","name":"n","category":"kitchen","price":{"amount":-10,"currency":"USD"}}`, 400},
		{"unknown field", http.MethodPost, products, `{"sku":"A-1","name":"n","category":"kitchen","price":{"amount":10,"currency":"USD"},"admin":true}`, 400},
		{"oversized body", http.MethodPost, products, big, 413},
		{"negative page_size", http.MethodGet, products + "?page_size=-1", nil, 400},
		{"huge page_size", http.MethodGet, products + "?page_size=1000000000000", nil, 400},
		{"forged page_token", http.MethodGet, products + "?page_token=Zm9yZ2Vk", nil, 400},
		{"garbage page_token", http.MethodGet, products + "?page_token=%FF%FE", nil, 400},
		{"update with bad body", http.MethodPut, products + "/01936f2e-0000-7000-8000-000000000000", `[]`, 400},
	}
	admin := asAdmin(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, tc.url, tc.body, admin...)
			p := requireProblem(t, r, tc.status)
			if tc.status == http.StatusBadRequest && tc.method != http.MethodGet && !strings.Contains(tc.name, "malformed") {
				assert.NotEmpty(t, p.Errors, "validation errors name the fields")
			}
		})
	}
	assert.Equal(t, before, len(allProducts(t, "", 100)), "nothing was stored")
}

func TestBurstsAreRateLimited(t *testing.T) {
	requireStack(t)
	type result struct {
		status     int
		retryAfter string
		ctype      string
	}
	results := make(chan result, 400)
	for range 400 {
		go func() {
			resp, err := client.Get(gateway + "/api/v1/categories")
			if err != nil {
				results <- result{}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type")}
		}()
	}
	limited := 0
	for range 400 {
		r := <-results
		if r.status == http.StatusTooManyRequests {
			limited++
			assert.NotEmpty(t, r.retryAfter)
			assert.Equal(t, "application/problem+json", r.ctype)
		}
	}
	assert.Positive(t, limited, "a burst of 400 requests is limited")
	// Let the bucket refill so later tests are not limited.
	eventually(t, 30*time.Second, "the limit recovers", func() bool {
		return call(t, http.MethodGet, gateway+"/api/v1/categories", nil).Status == http.StatusOK
	})
	time.Sleep(3 * time.Second)
}

func TestOpenAPIDescribesTheRoutes(t *testing.T) {
	requireStack(t)
	r := call(t, http.MethodGet, gateway+"/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r.decode(t, &doc)
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"))
	for _, p := range []string{"/api/v1/products", "/api/v1/products/{id}", "/api/v1/categories", "/graphql"} {
		assert.Contains(t, doc.Paths, p)
	}
}
