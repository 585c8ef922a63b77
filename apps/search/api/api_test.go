package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/api"
	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/indextest"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(t *testing.T, svc api.Service) http.Handler {
	t.Helper()
	cfg := config.App{ID: "search", MaxBodyBytes: 1 << 20}
	e := httpserver.NewEngine(cfg, discard(), metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), svc, discard())
	return e
}

func seeded(t *testing.T) http.Handler {
	t.Helper()
	svc, _ := indextest.Start(t, bleveindex.New(t.TempDir(), discard()), searchtest.Seed(t))
	return serve(t, svc)
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

func results(t *testing.T, w *httptest.ResponseRecorder) api.Results {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var r api.Results
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r))
	return r
}

func skus(r api.Results) []string {
	out := make([]string, len(r.Items))
	for i, p := range r.Items {
		out[i] = p.SKU
	}
	return out
}

func TestSearchAnswer(t *testing.T) {
	h := seeded(t)
	w := get(h, "/search?q=stainles+kettel")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))

	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	assert.ElementsMatch(t, []string{"items", "total", "facets", "next_page_token"}, keys(raw))
	var items []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw["items"], &items))
	require.Len(t, items, 1)
	assert.ElementsMatch(t, []string{"id", "sku", "name", "description", "category", "price", "image_url", "in_stock"}, keys(items[0]),
		"a product as the public API defines it")
	assert.JSONEq(t, `{"amount":3999,"currency":"USD"}`, string(items[0]["price"]))
	assert.JSONEq(t, `{"category":{"kitchen":1},"price":{"under_25":0,"25_to_50":1,"50_to_100":0,"100_to_200":0,"200_and_over":0}}`, string(raw["facets"]))
	assert.JSONEq(t, `1`, string(raw["total"]))
	assert.JSONEq(t, `""`, string(raw["next_page_token"]))

	r := results(t, get(h, "/search?q=Stainless+Steel+Kettle"))
	assert.Equal(t, "Stainless Steel Kettle", r.Items[0].Name)
	assert.Equal(t, "/images/products/kit-0001.svg", r.Items[0].ImageURL)
	assert.True(t, r.Items[0].InStock)
}

func TestSearchParameters(t *testing.T) {
	h := seeded(t)
	r := results(t, get(h, "/search?category=audio&sort=price_asc"))
	assert.Equal(t, 8, r.Total)
	assert.True(t, slices.IsSortedFunc(r.Items, func(a, b api.Product) int { return int(a.Price.Amount - b.Price.Amount) }))
	assert.Equal(t, map[string]int{"audio": 8}, r.Facets.Category)

	r = results(t, get(h, "/search?min_price=20000&max_price=30000&sort=price_desc"))
	assert.Equal(t, []string{"AUD-0008", "HOF-0001", "AUD-0001"}, skus(r))
	assert.Equal(t, 0, results(t, get(h, "/search?in_stock=false")).Total)
	assert.Equal(t, 64, results(t, get(h, "/search?in_stock=true")).Total)
	assert.Equal(t, "TOY-0008", results(t, get(h, "/search?sort=newest")).Items[0].SKU)
	assert.Equal(t, []string{"HOF-0005"}, skus(results(t, get(h, "/search?q=wireles+mou&sort=relevance"))), "typo and prefix")
	assert.Len(t, results(t, get(h, "/search")).Items, api.DefaultPageSize)
}

func TestSearchPages(t *testing.T) {
	h := seeded(t)
	var all []string
	target := "/search?sort=price_asc&page_size=10"
	pages := 0
	var tokens []string
	for {
		r := results(t, get(h, target))
		pages++
		assert.Equal(t, 64, r.Total)
		all = append(all, skus(r)...)
		if r.NextPageToken == "" {
			break
		}
		tokens = append(tokens, r.NextPageToken)
		target = "/search?sort=price_asc&page_size=10&page_token=" + url.QueryEscape(r.NextPageToken)
	}
	assert.Equal(t, 7, pages)
	assert.Len(t, all, 64)
	assert.Equal(t, skus(results(t, get(h, "/search?sort=price_asc&page_size=100"))), all)

	w := get(h, "/search?sort=price_desc&page_size=10&page_token="+url.QueryEscape(tokens[0]))
	assertProblem(t, w, http.StatusBadRequest, "page_token")
	assert.Equal(t, http.StatusOK, get(h, "/search?sort=price_asc&page_size=20&page_token="+url.QueryEscape(tokens[0])).Code,
		"the page size may change between pages")
}

func TestBadParameters(t *testing.T) {
	h := seeded(t)
	for query, field := range map[string]string{
		"page_size=0":                 "page_size",
		"page_size=101":               "page_size",
		"page_size=ten":               "page_size",
		"sort=cheapest":               "sort",
		"sort=":                       "sort",
		"min_price=-1":                "min_price",
		"min_price=1.5":               "min_price",
		"max_price=99999999999999":    "max_price",
		"min_price=500&max_price=100": "max_price",
		"in_stock=maybe":              "in_stock",
		"category=" + url.QueryEscape("bad category!"):  "category",
		"category=" + strings.Repeat("k", 65):           "category",
		"page_token=garbage":                            "page_token",
		"page_token=" + url.QueryEscape("djF8MTB8YWJj"): "page_token",
	} {
		assertProblem(t, get(h, "/search?"+query), http.StatusBadRequest, field)
	}
	w := get(h, "/search?q=%zz")
	assert.Equal(t, http.StatusBadRequest, w.Code, "a malformed query string")
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
}

func TestHostileQueriesNeverFail(t *testing.T) {
	h := seeded(t)
	for _, q := range []string{
		`+-&&||!(){}[]^"~*?:\/`, `name:kettle AND price:>10`, `*`, `?`, `\`, `"unterminated`, `[1 TO *]`, `/.*/`,
		strings.Repeat("a", 10_000), strings.Repeat("kettle ", 1_500), strings.Repeat("(", 10_000), "\x00", "\xff\xfe",
		"<script>alert(1)</script>", "日本語", "ke\u0301ttle",
	} {
		w := get(h, "/search?q="+url.QueryEscape(q))
		assert.Equal(t, http.StatusOK, w.Code, "%.40q: %s", q, w.Body.String())
	}
}

func TestNotBuiltYet(t *testing.T) {
	idx := bleveindex.New(t.TempDir(), discard())
	require.NoError(t, idx.Open(context.Background()))
	svc := search.NewService(search.Deps{Index: idx, Catalog: searchtest.NewCatalog(nil), Log: discard()})
	w := get(serve(t, svc), "/search?q=kettle")
	assertProblem(t, w, http.StatusServiceUnavailable, "")
	assert.Equal(t, "5", w.Header().Get("Retry-After"))
}

func admin() http.Header {
	h := auth.Identity{UserID: "u1", Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}.Header()
	h.Set("dapr-caller-app-id", "gateway")
	return h
}

func call(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestReindex(t *testing.T) {
	h := seeded(t)
	assertProblem(t, call(h, http.MethodPost, "/reindex", nil), http.StatusUnauthorized, "")
	customer := auth.Identity{UserID: "u2", Email: "c@example.com", Roles: []string{auth.RoleCustomer}}.Header()
	customer.Set("dapr-caller-app-id", "gateway")
	assertProblem(t, call(h, http.MethodPost, "/reindex", customer), http.StatusForbidden, "")
	spoofed := admin()
	spoofed.Set("dapr-caller-app-id", "orders")
	assertProblem(t, call(h, http.MethodPost, "/reindex", spoofed), http.StatusUnauthorized, "")

	w := call(h, http.MethodPost, "/reindex?wait=true", admin())
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var run api.Run
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &run))
	assert.Equal(t, search.RunDone, run.State)
	assert.Equal(t, 64, run.Products)
	assert.Equal(t, 1, run.Pages)
	require.NotNil(t, run.FinishedAt)

	w = call(h, http.MethodPost, "/reindex", admin())
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"state":"running"`)

	w = call(h, http.MethodGet, "/reindex", admin())
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"started_at"`)
	assertProblem(t, call(h, http.MethodGet, "/reindex", nil), http.StatusUnauthorized, "")
	assertProblem(t, call(h, http.MethodPost, "/reindex?wait=soon", admin()), http.StatusBadRequest, "wait")
}

// stub is an api.Service whose rebuilds fail or never ran.
type stub struct {
	api.Service
	rebuildErr error
	run        search.Run
}

func (s stub) Rebuild() (search.Run, error)             { return s.run, s.rebuildErr }
func (s stub) Wait(context.Context) (search.Run, error) { return s.run, nil }
func (s stub) LastRun() (search.Run, bool)              { return s.run, s.run.State != "" }
func (s stub) Search(context.Context, string, search.Query) (search.Result, error) {
	return search.Result{}, errors.New("opensearch: connection refused")
}

func TestReindexFailures(t *testing.T) {
	h := serve(t, stub{rebuildErr: errors.New("disk full")})
	assertProblem(t, call(h, http.MethodPost, "/reindex", admin()), http.StatusServiceUnavailable, "")
	assertProblem(t, call(h, http.MethodGet, "/reindex", admin()), http.StatusNotFound, "")

	h = serve(t, stub{run: search.Run{State: search.RunFailed, Attempts: 5, Error: "catalog unavailable"}})
	assertProblem(t, call(h, http.MethodPost, "/reindex?wait=1", admin()), http.StatusServiceUnavailable, "")
	w := call(h, http.MethodGet, "/reindex", admin())
	assert.Contains(t, w.Body.String(), `"error":"catalog unavailable"`)

	w = get(h, "/search?q=kettle")
	assertProblem(t, w, http.StatusServiceUnavailable, "")
	assert.NotContains(t, w.Body.String(), "opensearch", "backend errors are logged, not shown")
}

func assertProblem(t *testing.T, w *httptest.ResponseRecorder, status int, field string) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, status, p.Status)
	if field != "" {
		require.Len(t, p.Errors, 1, w.Body.String())
		assert.Equal(t, field, p.Errors[0].Field)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
