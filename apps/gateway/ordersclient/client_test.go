package ordersclient_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Over daprd's HTTP API, as the gateway's sidecar gets it: the checkout's
// key travels as a header, the id in the path is escaped, and a problem is
// an answer, not an error.
func TestCallsThroughTheSidecar(t *testing.T) {
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r)
		bodies = append(bodies, string(b))
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/cancel") {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"type":"https://shopmesh.dev/problems/conflict","title":"Conflict","status":409,"detail":"not pending"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"order_id":"o-1","status":"pending"}`)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	inv := daprx.NewInvoker(daprx.NewSidecar(config.App{DaprHTTPPort: p}, slog.New(slog.NewTextHandler(io.Discard, nil)), telemetry.NoExport("test")))
	c := ordersclient.New(inv, servicecall.Config{Timeout: time.Second, MaxResponseBytes: 1 << 20})

	a, err := c.Checkout(t.Context(), []byte(`{"payment_token":"tok_visa"}`), "key-1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, a.Status)
	placed, err := servicecall.Decode[ordersclient.CheckoutResult]("orders", a)
	require.NoError(t, err)
	assert.Equal(t, ordersclient.CheckoutResult{OrderID: "o-1", Status: "pending"}, placed)
	assert.Equal(t, "/v1.0/invoke/orders/method/checkout", got[0].URL.Path)
	assert.Equal(t, "key-1", got[0].Header.Get("Idempotency-Key"))
	assert.Equal(t, "application/json", got[0].Header.Get("Content-Type"))
	assert.Equal(t, `{"payment_token":"tok_visa"}`, bodies[0])

	a, err = c.CancelOrder(t.Context(), "a/b")
	require.NoError(t, err, "the orders app answered; its answer is passed on")
	assert.Equal(t, http.StatusConflict, a.Status)
	prob, ok := a.Problem()
	require.True(t, ok)
	assert.Equal(t, "not pending", prob.Detail)
	assert.Equal(t, "/v1.0/invoke/orders/method/orders/a%2Fb/cancel", got[1].URL.EscapedPath())
	assert.Empty(t, got[1].Header.Get("Idempotency-Key"))

	srv.Close()
	_, err = c.Cart(t.Context())
	assert.ErrorIs(t, err, ordersclient.ErrUnavailable)
}

func TestIdempotencyKeyProblem(t *testing.T) {
	for _, ok := range []string{"k", "0193a7b2-4c1d-7e8f-9a0b-1c2d3e4f5a6b", "two words", strings.Repeat("k", 255)} {
		assert.Nil(t, ordersclient.IdempotencyKeyProblem(ok), ok)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("k", 256), "schlüssel", "a\tb", "a\nb"} {
		fe := ordersclient.IdempotencyKeyProblem(bad)
		require.NotNil(t, fe, "%q", bad)
		assert.Equal(t, "Idempotency-Key", fe.Field)
	}
}
