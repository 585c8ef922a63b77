package rest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/cache"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/fakecatalog"
	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/apps/gateway/redistest"
	"github.com/shopmesh/shopmesh/apps/gateway/rest"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const kettleID = "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"

func newServer(t *testing.T, answer func(fakecatalog.Call) (catalogclient.Response, error)) (http.Handler, *fakecatalog.Catalog) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.App{ID: "gateway", MaxBodyBytes: 4 << 10}
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	cat := fakecatalog.New(answer)
	rest.Mount(e.Group(rest.Prefix), cat, log)
	return e, cat
}

func do(h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	assert.Equal(t, w.Code, p.Status)
	return p
}

func TestAnswersArePassedThrough(t *testing.T) {
	page := fakecatalog.JSON(http.StatusOK, catalogclient.ProductPage{Items: []catalogclient.Product{fakecatalog.Kettle(kettleID)}, NextPageToken: "abc"})
	notFound := fakecatalog.Problem(problem.NotFound("no such product"))
	badToken := fakecatalog.Problem(problem.Validation(problem.FieldError{Field: "page_token", Detail: "is not a page token issued for this listing"}))
	h, cat := newServer(t, func(c fakecatalog.Call) (catalogclient.Response, error) {
		switch {
		case c.Method == "ListProducts" && c.Query.PageToken == "forged":
			return badToken, nil
		case c.Method == "ListProducts":
			return page, nil
		case c.Method == "Product":
			return notFound, nil
		}
		return fakecatalog.JSON(http.StatusOK, catalogclient.CategoryList{Items: []catalogclient.Category{{ID: "kitchen", Name: "Kitchen"}}}), nil
	})

	w := do(h, http.MethodGet, "/api/v1/products?category=kitchen&page_size=5", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, string(page.Body), w.Body.String(), "the body is the catalog's, byte for byte")
	assert.Equal(t, page.ContentType, w.Header().Get("Content-Type"))
	assert.Equal(t, "miss", w.Header().Get("X-Cache"))
	assert.Equal(t, catalogclient.ListQuery{Category: "kitchen", PageSize: 5}, cat.Calls()[0].Query)

	w = do(h, http.MethodGet, "/api/v1/products?page_token=forged", "")
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, string(badToken.Body), w.Body.String())
	assert.Equal(t, "page_token", decodeProblem(t, w).Errors[0].Field)

	w = do(h, http.MethodGet, "/api/v1/products/"+strings.ToUpper(kettleID), "")
	require.Equal(t, http.StatusNotFound, w.Code)
	assert.Equal(t, problem.TypeNotFound, decodeProblem(t, w).Type)
	assert.Equal(t, kettleID, cat.Calls()[2].ID, "ids reach the catalog (and the cache) in canonical form")

	w = do(h, http.MethodGet, "/api/v1/categories", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"items":[{"id":"kitchen","name":"Kitchen"}]}`, w.Body.String())
}

func TestXCacheSaysWhereTheAnswerCameFrom(t *testing.T) {
	h, _ := newServer(t, func(fakecatalog.Call) (catalogclient.Response, error) {
		r := fakecatalog.JSON(http.StatusOK, fakecatalog.Kettle(kettleID))
		r.FromCache = true
		return r, nil
	})
	w := do(h, http.MethodGet, "/api/v1/products/"+kettleID, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "hit", w.Header().Get("X-Cache"))
}

func TestWritesPassThroughWithTheGatewaysLocation(t *testing.T) {
	h, cat := newServer(t, func(c fakecatalog.Call) (catalogclient.Response, error) {
		switch c.Method {
		case "CreateProduct":
			r := fakecatalog.JSON(http.StatusCreated, fakecatalog.Kettle(kettleID))
			r.CreatedID = kettleID
			return r, nil
		case "ReplaceProduct":
			return fakecatalog.Problem(problem.Conflict("a product with this SKU exists")), nil
		default:
			return catalogclient.Response{Status: http.StatusNoContent}, nil
		}
	})
	body := `{"sku":"kit-1","name":"Kettle","category":"kitchen","price":{"amount":3999,"currency":"USD"}}`

	w := do(h, http.MethodPost, "/api/v1/products", body)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, "/api/v1/products/"+kettleID, w.Header().Get("Location"))
	assert.Empty(t, w.Header().Get("X-Cache"), "writes are never cached")
	assert.Equal(t, body, string(cat.Calls()[0].Body), "the body reaches the catalog unchanged")

	w = do(h, http.MethodPut, "/api/v1/products/"+kettleID, body)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Equal(t, problem.TypeConflict, decodeProblem(t, w).Type)

	w = do(h, http.MethodDelete, "/api/v1/products/"+kettleID, "")
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, w.Body.String())
}

// With the real cache in front: the second read is served from Redis, and a
// write through the gateway makes the next read miss.
func TestCacheHeaderWithRedis(t *testing.T) {
	rdb := redistest.Client(t)
	b := redisconn.NewBreaker(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Minute)
	store, err := cache.NewStore(cache.Config{Enabled: true, TTL: time.Minute}, rdb, b, nil)
	require.NoError(t, err)
	id := uuid.NewString()
	src := fakecatalog.New(func(fakecatalog.Call) (catalogclient.Response, error) {
		return fakecatalog.JSON(http.StatusOK, fakecatalog.Kettle(id)), nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.App{ID: "gateway", MaxBodyBytes: 4 << 10}
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	rest.Mount(e.Group(rest.Prefix), cache.NewCatalog(src, store), log)

	first := do(e, http.MethodGet, "/api/v1/products/"+id, "")
	second := do(e, http.MethodGet, "/api/v1/products/"+id, "")
	assert.Equal(t, "miss", first.Header().Get("X-Cache"))
	assert.Equal(t, "hit", second.Header().Get("X-Cache"))
	assert.Equal(t, first.Body.String(), second.Body.String())
	assert.Equal(t, first.Header().Get("Content-Type"), second.Header().Get("Content-Type"))

	require.Equal(t, http.StatusOK, do(e, http.MethodPut, "/api/v1/products/"+id, `{}`).Code)
	assert.Equal(t, "miss", do(e, http.MethodGet, "/api/v1/products/"+id, "").Header().Get("X-Cache"))
}

func TestUnreachableCatalogIs503(t *testing.T) {
	h, _ := newServer(t, func(fakecatalog.Call) (catalogclient.Response, error) {
		return catalogclient.Response{}, fakecatalog.Unavailable()
	})
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/products", ""},
		{http.MethodGet, "/api/v1/products/" + kettleID, ""},
		{http.MethodGet, "/api/v1/categories", ""},
		{http.MethodPost, "/api/v1/products", `{}`},
		{http.MethodPut, "/api/v1/products/" + kettleID, `{}`},
		{http.MethodDelete, "/api/v1/products/" + kettleID, ""},
	} {
		w := do(h, tc.method, tc.path, tc.body)
		require.Equal(t, http.StatusServiceUnavailable, w.Code, tc.method+" "+tc.path)
		p := decodeProblem(t, w)
		assert.Equal(t, "https://shopmesh.dev/problems/service-unavailable", p.Type)
		assert.NotContains(t, p.Detail, "127.0.0.1", "internal addresses stay in the log")
	}
}

func TestBadInputIsRefusedAtTheEdge(t *testing.T) {
	h, cat := newServer(t, nil)
	cases := []struct {
		name, method, path, body string
		ctype                    string
		status                   int
		field                    string
	}{
		{"page_size zero", http.MethodGet, "/api/v1/products?page_size=0", "", "", 400, "page_size"},
		{"page_size negative", http.MethodGet, "/api/v1/products?page_size=-1", "", "", 400, "page_size"},
		{"page_size too big", http.MethodGet, "/api/v1/products?page_size=101", "", "", 400, "page_size"},
		{"page_size huge", http.MethodGet, "/api/v1/products?page_size=1000000000000000000000", "", "", 400, "page_size"},
		{"page_size not a number", http.MethodGet, "/api/v1/products?page_size=ten", "", "", 400, "page_size"},
		{"page_size fraction", http.MethodGet, "/api/v1/products?page_size=1.5", "", "", 400, "page_size"},
		{"garbage page_token", http.MethodGet, "/api/v1/products?page_token=%FF%FE", "", "", 400, "page_token"},
		{"long page_token", http.MethodGet, "/api/v1/products?page_token=" + strings.Repeat("a", 600), "", "", 400, "page_token"},
		{"bad category", http.MethodGet, "/api/v1/products?category=garden%20gnomes", "", "", 400, "category"},
		{"unknown id", http.MethodGet, "/api/v1/products/not-an-id", "", "", 404, ""},
		{"unknown id on delete", http.MethodDelete, "/api/v1/products/1", "", "", 404, ""},
		{"not json", http.MethodPost, "/api/v1/products", "sku=a", "application/x-www-form-urlencoded", 415, ""},
		{"too large", http.MethodPost, "/api/v1/products", `{"name":"` + strings.Repeat("x", 5<<10) + `"}`, "", 413, ""},
		{"malformed query", http.MethodGet, "/api/v1/products?x=%zz", "", "", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			w := do(h, tc.method, tc.path, tc.body, hdr...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			p := decodeProblem(t, w)
			if tc.field != "" {
				assert.Equal(t, problem.TypeValidation, p.Type)
				require.NotEmpty(t, p.Errors)
				assert.Equal(t, tc.field, p.Errors[0].Field)
				assert.NotEmpty(t, p.Errors[0].Detail)
			}
		})
	}
	assert.Empty(t, cat.Calls(), "bad input never reaches the catalog")
}

func TestChunkedBodiesOverTheLimitAre413(t *testing.T) {
	h, cat := newServer(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/products", io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("x", 5<<10))))
	req.ContentLength = -1 // unknown length: the limit is hit while reading
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Equal(t, problem.TypeTooLarge, decodeProblem(t, w).Type)
	assert.Empty(t, cat.Calls())
}
