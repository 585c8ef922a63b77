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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/inventory/catalogclient"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// A stand-in for the sidecar's HTTP API answers the invocation the way
// the catalog would.
func TestProductExistsAsksTheCatalogThroughTheSidecar(t *testing.T) {
	var paths []string
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "dapr-token", r.Header.Get("dapr-api-token"))
		paths = append(paths, r.URL.Path)
		switch r.URL.Path {
		case "/v1.0/invoke/catalog/method/products/p-1":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"id":"p-1"}`))
		case "/v1.0/invoke/catalog/method/products/p-2":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer sidecar.Close()
	_, port, err := net.SplitHostPort(sidecar.Listener.Addr().String())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	c := catalogclient.New(daprx.NewInvoker(daprx.NewSidecar(config.App{DaprHTTPPort: p, DaprAPIToken: "dapr-token"}, slog.New(slog.NewTextHandler(io.Discard, nil)), telemetry.NoExport("test"))))

	ok, err := c.ProductExists(context.Background(), "p-1")
	require.NoError(t, err)
	assert.True(t, ok)

	ok, err = c.ProductExists(context.Background(), "p-2")
	require.NoError(t, err)
	assert.False(t, ok)

	_, err = c.ProductExists(context.Background(), "p-3")
	assert.Error(t, err, "an answer that is neither found nor not found is an error")
	assert.Len(t, paths, 3)
}
