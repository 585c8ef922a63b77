package catalogclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	catalogapi "github.com/shopmesh/shopmesh/apps/catalog/api"
	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/catalogtest"
	catalogseed "github.com/shopmesh/shopmesh/apps/catalog/seed"
	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/catalogclient"
	"github.com/shopmesh/shopmesh/apps/search/indextest"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeSidecar serves Dapr's invoke API in front of handler as app "catalog"
// and records the requests that reached it.
type fakeSidecar struct {
	mu       sync.Mutex
	requests []*url.URL
	tokens   []string
}

func (f *fakeSidecar) start(t *testing.T, handler http.Handler) *catalogclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.URL)
		f.tokens = append(f.tokens, r.Header.Get("dapr-api-token"))
		f.mu.Unlock()
		path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/catalog/method")
		if !ok {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = path
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	sidecar := daprx.NewSidecar(config.App{DaprHTTPPort: port, DaprAPIToken: "sidecar-token"}, discard(), telemetry.NoExport("test"))
	return catalogclient.New(daprx.NewInvoker(sidecar), 5*time.Second)
}

// realCatalog is the catalog app's own HTTP API over an in-memory store
// loaded with the catalog's seed.
func realCatalog(t *testing.T) http.Handler {
	t.Helper()
	svc := catalog.NewService(catalogtest.NewStore(), discard())
	s, err := catalogseed.Parse()
	require.NoError(t, err)
	_, err = svc.LoadSeed(context.Background(), s)
	require.NoError(t, err)
	cfg := config.App{ID: "catalog", MaxBodyBytes: 1 << 20}
	e := httpserver.NewEngine(cfg, discard(), metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	catalogapi.Register(httpserver.NewRouter(cfg, e), svc)
	return e
}

func TestPagesThroughTheCatalogAPI(t *testing.T) {
	var sc fakeSidecar
	client := sc.start(t, realCatalog(t))
	ctx := context.Background()

	seen := map[string]bool{}
	token, pages := "", 0
	for {
		items, next, err := client.Products(ctx, token, 10)
		require.NoError(t, err)
		pages++
		for _, r := range items {
			assert.False(t, seen[r.ID], "product %s twice", r.ID)
			seen[r.ID] = true
			assert.EqualValues(t, 1, r.Version)
			assert.True(t, r.InStock)
			assert.NotEmpty(t, r.SKU)
			assert.NotEmpty(t, r.Name)
			assert.NotZero(t, r.Price.Amount)
			assert.Equal(t, "USD", r.Price.Currency)
			assert.False(t, r.CreatedAt.IsZero())
		}
		if next == "" {
			break
		}
		token = next
	}
	assert.Len(t, seen, 64)
	assert.Equal(t, 7, pages)

	require.Len(t, sc.requests, 7)
	assert.Equal(t, "page_size=10", sc.requests[0].RawQuery)
	for _, u := range sc.requests[1:] {
		assert.Equal(t, "10", u.Query().Get("page_size"))
		assert.NotEmpty(t, u.Query().Get("page_token"))
	}
	for _, tok := range sc.tokens {
		assert.Equal(t, "sidecar-token", tok, "calls carry the Dapr API token")
	}
}

// TestRebuildFromTheCatalogAPI builds an index from the catalog's own API
// and finds the seed in it.
func TestRebuildFromTheCatalogAPI(t *testing.T) {
	var sc fakeSidecar
	client := sc.start(t, realCatalog(t))
	idx := bleveindex.New(t.TempDir(), discard())
	svc := search.NewService(search.Deps{Index: idx, Catalog: client, Log: discard()})
	ctx := context.Background()
	require.NoError(t, svc.Start(ctx))
	t.Cleanup(func() {
		_ = svc.Stop(ctx)
		_ = idx.Close()
	})
	run := indextest.WaitRun(t, svc)
	assert.Equal(t, 64, run.Products)
	assert.Equal(t, 1, run.Pages, "pages of 100")
	assert.Equal(t, "page_size=100", sc.requests[0].RawQuery)
	assert.Equal(t, []string{"KIT-0001"}, indextest.SKUs(indextest.Find(t, svc, "stainles kettel", search.Query{})))
}

func TestCatalogFailures(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"problem": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503}`))
		},
		"not json": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) },
		"wrong shape": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"items":{"id":1}}`))
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var sc fakeSidecar
			_, _, err := sc.start(t, h).Products(context.Background(), "", 100)
			require.Error(t, err)
		})
	}
	t.Run("sidecar down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		srv.Close()
		client := catalogclient.New(daprx.NewInvoker(daprx.NewSidecar(config.App{DaprHTTPPort: port}, discard(), telemetry.NoExport("test"))), time.Second)
		_, _, err := client.Products(context.Background(), "", 100)
		require.Error(t, err)
	})
}
