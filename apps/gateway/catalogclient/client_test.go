package catalogclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const kettleID = "01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b"

// sidecar stands in for daprd's HTTP API: /v1.0/invoke/<app>/method/<path>.
func sidecar(t *testing.T, h http.HandlerFunc) *catalogclient.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return clientOnPort(t, port, time.Second)
}

func clientOnPort(t *testing.T, port string, timeout time.Duration) *catalogclient.Client {
	t.Helper()
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv := daprx.NewInvoker(daprx.NewSidecar(config.App{DaprHTTPPort: p}, log, telemetry.NoExport("test")))
	return catalogclient.New(inv, catalogclient.Config{Timeout: timeout, MaxResponseBytes: 1 << 20})
}

func TestAnswersComeBackAsTheyAre(t *testing.T) {
	var got *http.Request
	c := sidecar(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"items":[],"next_page_token":""}`)
	})
	resp, err := c.ListProducts(context.Background(), catalogclient.ListQuery{Category: "kitchen", PageSize: 5, PageToken: "abc"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.Equal(t, "application/json; charset=utf-8", resp.ContentType)
	assert.JSONEq(t, `{"items":[],"next_page_token":""}`, string(resp.Body))
	assert.Equal(t, "/v1.0/invoke/catalog/method/products", got.URL.Path)
	assert.Equal(t, "category=kitchen&page_size=5&page_token=abc", got.URL.RawQuery)

	page, err := catalogclient.Decode[catalogclient.ProductPage](resp)
	require.NoError(t, err)
	assert.Empty(t, page.Items)
}

func TestProblemsAreAnswersNotErrors(t *testing.T) {
	c := sidecar(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"type":"https://shopmesh.dev/problems/service-unavailable","title":"Service Unavailable","status":503}`)
	})
	resp, err := c.Categories(context.Background())
	require.NoError(t, err, "the catalog answered; its answer is passed on")
	assert.Equal(t, http.StatusServiceUnavailable, resp.Status)
	assert.Equal(t, "3", resp.RetryAfter)
	p, ok := resp.Problem()
	require.True(t, ok)
	assert.Equal(t, 503, p.Status)
}

func TestCreatedIDComesFromLocation(t *testing.T) {
	var body []byte
	c := sidecar(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		w.Header().Set("Location", "/api/v1/products/"+kettleID)
		w.WriteHeader(http.StatusCreated)
	})
	resp, err := c.CreateProduct(context.Background(), []byte(`{"sku":"A"}`))
	require.NoError(t, err)
	assert.Equal(t, kettleID, resp.CreatedID)
	assert.Equal(t, `{"sku":"A"}`, string(body))
}

func TestNoAnswerFromTheCatalogIsUnavailable(t *testing.T) {
	t.Run("sidecar error", func(t *testing.T) {
		// What daprd answers when the catalog has no healthy instance.
		c := sidecar(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"errorCode":"ERR_DIRECT_INVOKE","message":"failed to invoke, id: catalog"}`)
		})
		_, err := c.Product(context.Background(), kettleID)
		assert.ErrorIs(t, err, catalogclient.ErrUnavailable)
	})
	t.Run("sidecar down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		require.NoError(t, ln.Close())
		_, err = clientOnPort(t, port, time.Second).Product(context.Background(), kettleID)
		assert.ErrorIs(t, err, catalogclient.ErrUnavailable)
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		start := time.Now()
		_, err := clientOnPort(t, port, 100*time.Millisecond).Categories(context.Background())
		assert.ErrorIs(t, err, catalogclient.ErrUnavailable)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestListQueryProblems(t *testing.T) {
	assert.Empty(t, catalogclient.ListQuery{}.Problems())
	assert.Empty(t, catalogclient.ListQuery{Category: "home-office", PageSize: 100, PageToken: "djF8fDAxOTM"}.Problems())
	for _, q := range []catalogclient.ListQuery{
		{Category: "two words"},
		{Category: "-leading"},
		{PageSize: 101},
		{PageSize: -1},
		{PageToken: "not base64!"},
	} {
		assert.Len(t, q.Problems(), 1, "%+v", q)
	}
}

func TestCanonicalID(t *testing.T) {
	id, ok := catalogclient.CanonicalID("01936F2E-8B1C-7D4E-9A0B-3C5D7E9F1A2B")
	assert.True(t, ok)
	assert.Equal(t, kettleID, id)
	for _, bad := range []string{"", "1", "not-an-id", kettleID + "0"} {
		_, ok := catalogclient.CanonicalID(bad)
		assert.False(t, ok, bad)
	}
}
