package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	catalogapi "github.com/shopmesh/shopmesh/apps/catalog/api"
	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/catalogtest"
	catalogseed "github.com/shopmesh/shopmesh/apps/catalog/seed"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func freePort(t *testing.T) int {
	t.Helper()
	return daprxtest.FreePorts(t, 1)[0]
}

const appToken = "sidecar-only"

func appEnv(t *testing.T, sidecarPort int, dataDir string) {
	t.Helper()
	t.Setenv("APP_ID", contracts.AppSearch)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", appToken)
	t.Setenv("DAPR_HTTP_PORT", strconv.Itoa(sidecarPort))
	t.Setenv("DAPR_GRPC_PORT", strconv.Itoa(freePort(t)))
	t.Setenv("SEARCH_DATA_DIR", dataDir)
}

// TestServedRoutesAreDocumented builds the real app without a sidecar and
// checks that it serves exactly the routes API.md lists.
func TestServedRoutesAreDocumented(t *testing.T) {
	appEnv(t, freePort(t), t.TempDir())
	var engine *gin.Engine
	app := fx.New(modules, fx.NopLogger, fx.Populate(&engine))
	require.NoError(t, app.Err())

	kit := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /dapr/subscribe"}
	var served []string
	for _, r := range engine.Routes() {
		if route := r.Method + " " + r.Path; !slices.Contains(kit, route) && !strings.HasPrefix(r.Path, "/events/") {
			served = append(served, route)
		}
	}
	slices.Sort(served)
	doc, err := os.ReadFile("API.md")
	require.NoError(t, err)
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z]+ /[^`]*)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	slices.Sort(documented)
	assert.Len(t, documented, 3)
	assert.Equal(t, documented, served)
}

func TestConfigurationErrorsStopStartUp(t *testing.T) {
	for name, env := range map[string][2]string{
		"SEARCH_BACKEND": {"SEARCH_BACKEND", "solr"},
		"OPENSEARCH_URL": {"SEARCH_BACKEND", "opensearch"},
	} {
		t.Run(name, func(t *testing.T) {
			appEnv(t, freePort(t), t.TempDir())
			t.Setenv(env[0], env[1])
			app := fx.New(modules, fx.NopLogger, fx.Invoke(func(*gin.Engine) {}))
			require.Error(t, app.Err())
			assert.Contains(t, app.Err().Error(), name)
		})
	}
}

// sidecar fakes the app's Dapr sidecar: health, and service invocation of
// the catalog app, served by the catalog's own HTTP API over its seed.
type sidecar struct {
	catalogCalls atomic.Int32
}

func (s *sidecar) start(t *testing.T) int {
	t.Helper()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := catalog.NewService(catalogtest.NewStore(), discard)
	seed, err := catalogseed.Parse()
	require.NoError(t, err)
	_, err = svc.LoadSeed(context.Background(), seed)
	require.NoError(t, err)
	cfg := config.App{ID: contracts.AppCatalog, MaxBodyBytes: 1 << 20}
	cat := httpserver.NewEngine(cfg, discard, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	catalogapi.Register(httpserver.NewRouter(cfg, cat), svc)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1.0/healthz" || r.URL.Path == "/v1.0/healthz/outbound":
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(r.URL.Path, "/v1.0/invoke/catalog/method/"):
			s.catalogCalls.Add(1)
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v1.0/invoke/catalog/method")
			cat.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// running is the app started on a free port.
type running struct {
	app  *fx.App
	base string
}

func start(t *testing.T) running {
	t.Helper()
	port := freePort(t)
	t.Setenv("APP_PORT", strconv.Itoa(port))
	app := fx.New(modules, fx.NopLogger)
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(context.Background()))
	r := running{app: app, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	// As daprd does once the app's port is open: the index is built only
	// after the sidecar has fetched the subscriptions.
	status, _ := r.sidecarCall(t, http.MethodGet, "/dapr/subscribe", nil)
	require.Equal(t, http.StatusOK, status)
	require.Eventually(t, func() bool {
		resp, err := http.Get(r.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "search did not become ready")
	return r
}

func (r running) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, r.app.Stop(context.Background()))
}

// sidecarCall calls the app as its sidecar does, with the app API token.
func (r running) sidecarCall(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("dapr-api-token", appToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/cloudevents+json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

func (r running) skus(t *testing.T, query string) []string {
	t.Helper()
	status, body := r.sidecarCall(t, http.MethodGet, "/search?"+query, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var res struct {
		Items []struct {
			ID      string `json:"id"`
			SKU     string `json:"sku"`
			InStock bool   `json:"in_stock"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &res))
	out := make([]string, len(res.Items))
	for i, it := range res.Items {
		out[i] = it.SKU
	}
	return out
}

func (r running) productID(t *testing.T, sku string) string {
	t.Helper()
	status, body := r.sidecarCall(t, http.MethodGet, "/search?page_size=100", nil)
	require.Equal(t, http.StatusOK, status)
	var res struct {
		Items []struct {
			ID  string `json:"id"`
			SKU string `json:"sku"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &res))
	for _, it := range res.Items {
		if it.SKU == sku {
			return it.ID
		}
	}
	t.Fatalf("no product %s", sku)
	return ""
}

// deliver posts a CloudEvent as the sidecar delivers one.
func (r running) deliver(t *testing.T, topic, typ string, data any) {
	t.Helper()
	ce, err := json.Marshal(map[string]any{
		"id": fmt.Sprintf("ev-%d", time.Now().UnixNano()), "type": typ, "source": "test", "topic": topic,
		"pubsubname": contracts.PubSub, "specversion": "1.0", "datacontenttype": "application/json", "data": data,
	})
	require.NoError(t, err)
	status, body := r.sidecarCall(t, http.MethodPost, "/events/"+topic+"/"+typ, ce)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"status":"SUCCESS"}`, string(body))
}

// TestAppLifecycle runs the real app beside a fake sidecar: the first start
// builds the index from the catalog, events change it, a restart keeps it
// without asking the catalog, and a deleted data directory is rebuilt.
func TestAppLifecycle(t *testing.T) {
	var sc sidecar
	dataDir := filepath.Join(t.TempDir(), "search")
	appEnv(t, sc.start(t), dataDir)

	app := start(t)
	assert.Positive(t, sc.catalogCalls.Load(), "the first start reads the catalog")
	assert.Equal(t, []string{"KIT-0001"}, app.skus(t, "q=stainles+kettel"))

	status, body := app.sidecarCall(t, http.MethodGet, "/dapr/subscribe", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), `"topic":"catalog"`)
	assert.Contains(t, string(body), `"match":"event.type == \"stock.changed\""`)

	kettle := app.productID(t, "KIT-0001")
	app.deliver(t, contracts.TopicCatalog, contracts.ProductUpdated, map[string]any{
		"id": kettle, "sku": "KIT-0001", "name": "Gooseneck Kettle", "description": "Pours slowly.", "category": "kitchen",
		"price": map[string]any{"amount": 4599, "currency": "USD"}, "in_stock": true, "version": 2,
		"updated_at": time.Now().UTC(), "created_at": time.Now().UTC(),
	})
	app.deliver(t, contracts.TopicInventory, contracts.StockChanged, contracts.StockEvent{ProductID: kettle, InStock: false, Version: 3})
	assert.Equal(t, []string{"KIT-0001"}, app.skus(t, "q=gooseneck&in_stock=false"))
	assert.Empty(t, app.skus(t, "q=stainless+steel+kettle"))
	app.stop(t)

	calls := sc.catalogCalls.Load()
	app = start(t)
	assert.Equal(t, calls, sc.catalogCalls.Load(), "a restart keeps the index")
	assert.Equal(t, []string{"KIT-0001"}, app.skus(t, "q=gooseneck&in_stock=false"), "with the changes events made")
	app.stop(t)

	require.NoError(t, os.RemoveAll(dataDir))
	app = start(t)
	assert.Greater(t, sc.catalogCalls.Load(), calls, "a deleted index is rebuilt from the catalog")
	assert.Equal(t, []string{"KIT-0001"}, app.skus(t, "q=stainles+kettel"))
	assert.Len(t, app.skus(t, "page_size=100"), 64)
	app.stop(t)
}
