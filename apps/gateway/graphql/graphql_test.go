package graphql_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/fakecatalog"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

const kettleID = "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"

var cfg = graphql.Config{ComplexityLimit: 200, MutationLimit: 10, MaxBodyBytes: 16 << 10, Introspection: true}

// shop answers like a small catalog: one kitchen product on two pages.
func shop(c fakecatalog.Call) (catalogclient.Response, error) {
	switch c.Method {
	case "ListProducts":
		page := catalogclient.ProductPage{Items: []catalogclient.Product{fakecatalog.Kettle(kettleID)}}
		if c.Query.PageToken == "" {
			page.NextPageToken = "djF8a2l0Y2hlbnw"
		}
		if c.Query.PageToken == "forged" {
			return fakecatalog.Problem(problem.Validation(problem.FieldError{Field: "page_token", Detail: "is not a page token issued for this listing"})), nil
		}
		return fakecatalog.JSON(http.StatusOK, page), nil
	case "Product":
		if c.ID == kettleID {
			return fakecatalog.JSON(http.StatusOK, fakecatalog.Kettle(kettleID)), nil
		}
		return fakecatalog.Problem(problem.NotFound("no such product")), nil
	case "Categories":
		return fakecatalog.JSON(http.StatusOK, catalogclient.CategoryList{Items: []catalogclient.Category{{ID: "kitchen", Name: "Kitchen"}, {ID: "audio", Name: "Audio"}}}), nil
	}
	return catalogclient.Response{}, errors.New("unexpected call " + c.Method)
}

func newServer(t *testing.T, answer func(fakecatalog.Call) (catalogclient.Response, error)) (http.Handler, *fakecatalog.Catalog) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	cat := fakecatalog.New(answer)
	e := gin.New()
	s := graphql.Services{Catalog: cat, Users: &fakeUsers{}}
	graphql.Mount(e, graphql.NewHandler(s, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg), cfg)
	return e, cat
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type result struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func post(t *testing.T, h http.Handler, query string, vars map[string]any) (int, result) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, graphql.Path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var r result
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
	return w.Code, r
}

func TestProductsPage(t *testing.T) {
	h, cat := newServer(t, shop)
	code, r := post(t, h, `query($c: String, $n: Int) {
	  products(category: $c, pageSize: $n) {
	    items { id sku name description category price { amount currency } imageUrl inStock version createdAt updatedAt }
	    nextPageToken
	  }
	}`, map[string]any{"c": "kitchen", "n": 5})
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"products":{"items":[{
	  "id":"`+kettleID+`","sku":"KIT-1","name":"Kettle","description":"Boils.","category":"kitchen",
	  "price":{"amount":3999,"currency":"USD"},"imageUrl":"https://img.example/k.jpg","inStock":true,
	  "version":1,"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}],
	  "nextPageToken":"djF8a2l0Y2hlbnw"}}`, string(r.Data))
	assert.Equal(t, catalogclient.ListQuery{Category: "kitchen", PageSize: 5}, cat.Calls()[0].Query)

	_, r = post(t, h, `{ products(pageToken: "djF8a2l0Y2hlbnw") { nextPageToken } }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{"products":{"nextPageToken":null}}`, string(r.Data), "the last page has no token")
}

func TestProductAndCategories(t *testing.T) {
	h, _ := newServer(t, shop)
	_, r := post(t, h, `{
	  product(id: "`+strings.ToUpper(kettleID)+`") { id name price { amount } }
	  missing: product(id: "01936f2e-0000-7000-8000-000000000000") { id }
	  nonsense: product(id: "not-an-id") { id }
	  categories { id name }
	}`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, `{
	  "product":{"id":"`+kettleID+`","name":"Kettle","price":{"amount":3999}},
	  "missing":null, "nonsense":null,
	  "categories":[{"id":"kitchen","name":"Kitchen"},{"id":"audio","name":"Audio"}]}`, string(r.Data))
}

func TestBadArgumentsAreBadUserInput(t *testing.T) {
	h, cat := newServer(t, shop)
	for _, n := range []int{0, -1, 101} {
		_, r := post(t, h, `query($n: Int) { products(pageSize: $n) { nextPageToken } }`, map[string]any{"n": n})
		require.Len(t, r.Errors, 1, "pageSize %d", n)
		assert.Equal(t, graphql.CodeBadUserInput, r.Errors[0].Extensions["code"])
		assert.Contains(t, r.Errors[0].Message, "pageSize")
		assert.Equal(t, []any{"products"}, r.Errors[0].Path)
	}
	_, r := post(t, h, `{ products(pageToken: "not a token!") { nextPageToken } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeBadUserInput, r.Errors[0].Extensions["code"])
	assert.Empty(t, cat.Calls(), "arguments the gateway can check never reach the catalog")

	// A token only the catalog can judge: its 400 becomes BAD_USER_INPUT.
	_, r = post(t, h, `{ products(pageToken: "forged") { nextPageToken } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeBadUserInput, r.Errors[0].Extensions["code"])
	assert.Equal(t, []any{map[string]any{"field": "pageToken", "detail": "is not a page token issued for this listing"}}, r.Errors[0].Extensions["errors"])
}

func TestCatalogTroubleIsUnavailable(t *testing.T) {
	h, _ := newServer(t, func(c fakecatalog.Call) (catalogclient.Response, error) {
		if c.Method == "Categories" {
			return fakecatalog.Problem(problem.Unavailable("the store is down")), nil
		}
		return catalogclient.Response{}, fakecatalog.Unavailable()
	})
	_, r := post(t, h, `{ categories { id } product(id: "`+kettleID+`") { id } }`, nil)
	require.Len(t, r.Errors, 2)
	for _, e := range r.Errors {
		assert.Equal(t, graphql.CodeUnavailable, e.Extensions["code"])
		assert.NotContains(t, e.Message, "127.0.0.1")
	}
}

func TestUnexpectedFailuresAreMasked(t *testing.T) {
	h, _ := newServer(t, func(fakecatalog.Call) (catalogclient.Response, error) {
		return catalogclient.Response{}, errors.New("secret internals")
	})
	code, r := post(t, h, `{ categories { id } }`, nil)
	assert.Equal(t, http.StatusOK, code)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeInternal, r.Errors[0].Extensions["code"])
	assert.NotContains(t, r.Errors[0].Message, "secret")

	h, _ = newServer(t, func(fakecatalog.Call) (catalogclient.Response, error) { panic("boom") })
	code, r = post(t, h, `{ categories { id } }`, nil)
	assert.Equal(t, http.StatusOK, code)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, graphql.CodeInternal, r.Errors[0].Extensions["code"])
}

func TestGuards(t *testing.T) {
	h, cat := newServer(t, shop)

	var q strings.Builder
	q.WriteString("{")
	for i := range 120 { // 120 aliases of 3 fields each: 360 > 200
		fmt.Fprintf(&q, ` p%d: product(id: "%s") { id name }`, i, kettleID)
	}
	q.WriteString("}")
	_, r := post(t, h, q.String(), nil)
	require.NotEmpty(t, r.Errors)
	assert.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", r.Errors[0].Extensions["code"])
	assert.Empty(t, cat.Calls(), "a too complex operation is refused before it runs")

	req := httptest.NewRequest(http.MethodPost, graphql.Path, strings.NewReader(`{"query":"{ categories { id } }`+strings.Repeat(" ", 20<<10)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
}

// Found by tests/fuzz: a POST that is not JSON was answered text/plain, and
// a hundred aliased checkouts ran one after another past any timeout.
func TestTransportErrorsAreJSONAndMutationsAreCapped(t *testing.T) {
	h, _ := newServer(t, shop)
	req := httptest.NewRequest(http.MethodPost, graphql.Path, strings.NewReader(`{"query":"{ categories { id } }"}`))
	req.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"), w.Body.String())

	var q strings.Builder
	q.WriteString("mutation { ...more")
	for i := range 6 {
		fmt.Fprintf(&q, ` r%d: removeFromCart(productId: "%s") { total { amount } }`, i, kettleID)
	}
	q.WriteString(" } fragment more on Mutation {")
	for i := range 5 {
		fmt.Fprintf(&q, ` f%d: removeFromCart(productId: "%s") { total { amount } }`, i, kettleID)
	}
	q.WriteString(" }")
	_, r := post(t, h, q.String(), nil)
	require.NotEmpty(t, r.Errors)
	assert.Equal(t, "MUTATION_LIMIT_EXCEEDED", r.Errors[0].Extensions["code"], "11 mutations, 5 of them in a fragment")
	assert.Equal(t, "null", string(r.Data))
}

func TestGETAndIntrospection(t *testing.T) {
	h, _ := newServer(t, shop)
	req := httptest.NewRequest(http.MethodGet, graphql.Path+"?query="+url.QueryEscape(`{ categories { id } __type(name: "Product") { fields { name } } }`), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var r struct {
		Data struct {
			Categories []struct{ ID string } `json:"categories"`
			Type       struct {
				Fields []struct{ Name string } `json:"fields"`
			} `json:"__type"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r))
	assert.Len(t, r.Data.Categories, 2)
	var names []string
	for _, f := range r.Data.Type.Fields {
		names = append(names, f.Name)
	}
	assert.Subset(t, names, []string{"id", "sku", "name", "description", "category", "price", "imageUrl", "inStock"})
}
