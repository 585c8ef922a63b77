package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/catalog/api"
	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/catalogtest"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func newServer(t *testing.T) (http.Handler, *catalogtest.Store) {
	t.Helper()
	st := catalogtest.NewStore()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := catalog.NewService(st, log)
	_, err := svc.LoadSeed(context.Background(), catalog.Seed{Categories: []catalog.Category{{ID: "kitchen", Name: "Kitchen"}, {ID: "audio", Name: "Audio"}}})
	require.NoError(t, err)
	cfg := config.App{ID: "catalog", MaxBodyBytes: 1 << 20}
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), svc)
	return e, st
}

func call(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const kettle = `{"sku":"kit-1","name":"Kettle","description":"Boils.","category":"kitchen","price":{"amount":3999,"currency":"USD"},"image_url":"https://img.example/k.jpg"}`

func TestCreateGetUpdateDelete(t *testing.T) {
	h, _ := newServer(t)
	w := call(h, http.MethodPost, "/products", kettle)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var p api.Product
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "KIT-1", p.SKU, "SKUs are normalised to upper case")
	assert.Equal(t, "/api/v1/products/"+p.ID, w.Header().Get("Location"))

	assert.Equal(t, http.StatusConflict, call(h, http.MethodPost, "/products", kettle).Code)

	w = call(h, http.MethodGet, "/products/"+p.ID, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"in_stock":true`)

	w = call(h, http.MethodPut, "/products/"+p.ID, strings.Replace(kettle, "Kettle", "Kettle 2", 1))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"version":2`)

	assert.Equal(t, http.StatusNoContent, call(h, http.MethodDelete, "/products/"+p.ID, "").Code)
	assert.Equal(t, http.StatusNotFound, call(h, http.MethodGet, "/products/"+p.ID, "").Code)
	assert.Equal(t, http.StatusNotFound, call(h, http.MethodDelete, "/products/"+p.ID, "").Code)
}

// An image_url is an http(s) URL or a path on the shop's own site, as the
// seed's "/images/products/<sku>.svg" that the storefront serves.
func TestImageURLMayBeASameSitePath(t *testing.T) {
	h, _ := newServer(t)
	for sku, url := range map[string]string{"kit-1": "/images/products/kit-1.svg", "kit-2": "https://img.example/k.jpg", "kit-3": ""} {
		body := strings.Replace(strings.Replace(kettle, `https://img.example/k.jpg`, url, 1), `kit-1`, sku, 1)
		w := call(h, http.MethodPost, "/products", body)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		var p api.Product
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
		assert.Equal(t, url, p.ImageURL)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	h, st := newServer(t)
	cases := map[string]struct {
		method, path, body string
		status             int
	}{
		"malformed":        {http.MethodPost, "/products", `{"sku":`, 400},
		"wrong type":       {http.MethodPost, "/products", strings.Replace(kettle, `3999`, `"3999"`, 1), 400},
		"negative price":   {http.MethodPost, "/products", strings.Replace(kettle, `3999`, `-1`, 1), 400},
		"bad currency":     {http.MethodPost, "/products", strings.Replace(kettle, `USD`, `DOLLARS`, 1), 400},
		"unknown category": {http.MethodPost, "/products", strings.Replace(kettle, `kitchen`, `garden`, 1), 400},
		"bad sku":          {http.MethodPost, "/products", strings.Replace(kettle, `kit-1`, `kit 1`, 1), 400},
		"bad url":          {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `javascript:alert(1)`, 1), 400},
		"data url":         {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `data:image/svg+xml,x`, 1), 400},
		"other host path":  {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `//evil.example/k.jpg`, 1), 400},
		"backslash path":   {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `/\\evil.example/k.jpg`, 1), 400},
		"relative path":    {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `images/k.svg`, 1), 400},
		"control in url":   {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `/images/k.svg\n`, 1), 400},
		"long url":         {http.MethodPost, "/products", strings.Replace(kettle, `https://img.example/k.jpg`, `/`+strings.Repeat("a", 2048), 1), 400},
		"missing price":    {http.MethodPost, "/products", `{"sku":"a","name":"b","category":"kitchen"}`, 400},
		"oversized":        {http.MethodPost, "/products", `{"sku":"a","name":"b","description":"` + strings.Repeat("x", 2<<20) + `"}`, 413},
		"unknown id":       {http.MethodPut, "/products/not-a-uuid", kettle, 404},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := call(h, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		})
	}
	assert.Empty(t, st.Events, "nothing was stored or published")
}

func TestListPagingAndTokens(t *testing.T) {
	h, _ := newServer(t)
	for _, sku := range []string{"a-1", "a-2", "a-3"} {
		require.Equal(t, http.StatusCreated, call(h, http.MethodPost, "/products", strings.Replace(kettle, "kit-1", sku, 1)).Code)
	}
	var page struct {
		Items []api.Product `json:"items"`
		Next  string        `json:"next_page_token"`
	}
	w := call(h, http.MethodGet, "/products?page_size=2", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	require.Len(t, page.Items, 2)
	require.NotEmpty(t, page.Next)

	// A token only works for the listing it was issued for.
	assert.Equal(t, http.StatusBadRequest, call(h, http.MethodGet, "/products?category=audio&page_token="+page.Next, "").Code)

	w = call(h, http.MethodGet, "/products?page_size=2&page_token="+page.Next, "")
	require.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	assert.Len(t, page.Items, 1)
	assert.Empty(t, page.Next)

	forged := base64.RawURLEncoding.EncodeToString([]byte("v1||' OR 1=1"))
	for _, q := range []string{"page_size=0", "page_size=-5", "page_size=101", "page_size=99999999999999999999", "page_size=ten",
		"page_token=%%%", "page_token=" + forged, "page_token=djF8fA"} {
		w := call(h, http.MethodGet, "/products?"+q, "")
		assert.Equal(t, http.StatusBadRequest, w.Code, q)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"), q)
	}
}
