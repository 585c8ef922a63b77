package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func client(url string) *gateway.Client {
	return gateway.New(gateway.Config{BaseURL: url, Timeout: 2 * time.Second}, gateway.Traced(http.DefaultTransport, telemetry.NoExport("storefront")))
}

// A call sends the token only where given, the shopper's address, the
// request id and the trace context; checkout its Idempotency-Key.
func TestCallHeaders(t *testing.T) {
	var got []*http.Request
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Clone(context.Background()))
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		bodies = append(bodies, body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/checkout" {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"order_id":"o1","status":"pending"}`))
			return
		}
		_, _ = w.Write([]byte(`{"items":[{"id":"kitchen","name":"Kitchen"}]}`))
	}))
	defer srv.Close()
	c := client(srv.URL)
	ctx := gateway.WithForwardedFor(logging.WithRequestID(context.Background(), "req-1"), "203.0.113.9")

	cats, err := c.Categories(ctx)
	require.NoError(t, err)
	assert.Equal(t, []gateway.Category{{ID: "kitchen", Name: "Kitchen"}}, cats)
	placed, err := c.Checkout(ctx, "tok-1", "key-1", gateway.CheckoutRequest{PaymentToken: "tok_visa",
		ShippingAddress: gateway.ShippingAddress{Name: "Ada", Line1: "1 St", City: "London", PostalCode: "W1", Country: "GB"}})
	require.NoError(t, err)
	assert.Equal(t, "o1", placed.OrderID)

	require.Len(t, got, 2)
	assert.Empty(t, got[0].Header.Get("Authorization"), "public routes go without a token")
	assert.Equal(t, "Bearer tok-1", got[1].Header.Get("Authorization"))
	assert.Equal(t, "key-1", got[1].Header.Get("Idempotency-Key"))
	assert.Equal(t, "application/json", got[1].Header.Get("Content-Type"))
	for _, r := range got {
		assert.Equal(t, "203.0.113.9", r.Header.Get("X-Forwarded-For"))
		assert.Equal(t, "req-1", r.Header.Get("X-Request-Id"))
		assert.NotEmpty(t, r.Header.Get("Traceparent"), "the trace continues")
	}
	assert.Equal(t, map[string]any{"name": "Ada", "line1": "1 St", "city": "London", "postal_code": "W1", "country": "GB"}, bodies[1]["shipping_address"],
		"line2 is left out when empty")
}

// A refusal carries its status, problem and Retry-After.
func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/cart":
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"type":"https://shopmesh.dev/problems/service-unavailable","title":"Service Unavailable","status":503,"detail":"busy"}`))
		case "/api/v1/me":
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>proxy error</html>"))
		}
	}))
	defer srv.Close()
	c := client(srv.URL)

	_, err := c.Cart(context.Background(), "tok")
	var ge *gateway.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusServiceUnavailable, ge.Status)
	assert.Equal(t, 7*time.Second, ge.RetryAfter)
	assert.Equal(t, "busy", ge.Problem.Detail)
	assert.Equal(t, http.StatusServiceUnavailable, gateway.StatusOf(err))

	_, err = c.Me(context.Background(), "tok")
	assert.Equal(t, http.StatusFound, gateway.StatusOf(err), "redirects are not followed with the token")

	_, err = c.Categories(context.Background())
	assert.Equal(t, http.StatusBadGateway, gateway.StatusOf(err))

	srv.Close()
	_, err = c.Categories(context.Background())
	assert.True(t, errors.Is(err, gateway.ErrUnreachable), "%v", err)
	assert.Equal(t, 0, gateway.StatusOf(err))
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := gateway.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", cfg.BaseURL)
	cfg, err = gateway.LoadConfig(env(map[string]string{"GATEWAY_URL": "https://api.example/"}))
	require.NoError(t, err)
	assert.Equal(t, "https://api.example", cfg.BaseURL)
	for _, bad := range []map[string]string{{"GATEWAY_URL": "api.example"}, {"GATEWAY_URL": "ftp://x"}, {"GATEWAY_TIMEOUT": "0s"}, {"GATEWAY_TIMEOUT": "soon"}} {
		_, err := gateway.LoadConfig(env(bad))
		assert.Error(t, err, bad)
	}
}
