package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/apptest"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform"
)

const sidecarToken = "sidecar-only"

// build assembles the real app (the modules main runs) without a sidecar or
// a server, its store and provider swapped for paymentstest's in-memory ones.
func build(t *testing.T) (*gin.Engine, *paymentstest.Env) {
	t.Helper()
	t.Setenv("APP_ID", contracts.AppPayments)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("APP_API_TOKEN", sidecarToken)
	t.Setenv("DAPR_HTTP_PORT", apptest.ClosedPort(t))
	t.Setenv("DAPR_GRPC_PORT", apptest.ClosedPort(t))
	env := paymentstest.New(t)
	var engine *gin.Engine
	a := fx.New(platform.Module, app, fx.NopLogger,
		fx.Decorate(func(payments.Store) payments.Store { return env.Store }),
		fx.Decorate(func(payments.Provider) payments.Provider { return env.Provider }),
		fx.Populate(&engine))
	require.NoError(t, a.Err())
	return engine, env
}

// deliver posts a CloudEvent to path as the sidecar does and returns the
// delivery status the app answers (SUCCESS, RETRY or DROP).
func deliver(t *testing.T, h http.Handler, path, envelope string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(envelope))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("dapr-api-token", sidecarToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var out struct{ Status string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	return out.Status
}

// envelope is a CloudEvent as Dapr delivers it.
func envelope(t *testing.T, typ string, data any) string {
	t.Helper()
	b, err := json.Marshal(data)
	require.NoError(t, err)
	ce := map[string]any{"id": uuid.NewString(), "type": typ, "source": "test", "specversion": "1.0",
		"datacontenttype": "application/json", "data": json.RawMessage(b)}
	out, err := json.Marshal(ce)
	require.NoError(t, err)
	return string(out)
}

func TestServesItsRoutesAndSubscriptions(t *testing.T) {
	engine, _ := build(t)
	kit := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /dapr/subscribe"}
	var served []string
	for _, r := range engine.Routes() {
		if route := r.Method + " " + r.Path; !slices.Contains(kit, route) && !strings.HasPrefix(r.Path, "/events/") {
			served = append(served, route)
		}
	}
	assert.Equal(t, []string{"GET /payments/:order_id"}, served)

	req := httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil)
	req.Header.Set("dapr-api-token", sidecarToken)
	w := httptest.NewRecorder()
	engine.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)
	// fx gives group members in no fixed order: compare by topic.
	var entries []map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &entries))
	slices.SortFunc(entries, func(a, b map[string]any) int { return strings.Compare(a["topic"].(string), b["topic"].(string)) })
	got, err := json.Marshal(entries)
	require.NoError(t, err)
	assert.JSONEq(t, `[
	  {"pubsubname":"pubsub","topic":"inventory","deadLetterTopic":"inventory-deadletter",
	   "bulkSubscribe":{"enabled":true,"maxMessagesCount":64,"maxAwaitDurationMs":2},
	   "routes":{"default":"/events/inventory","rules":[
	     {"match":"event.type == \"inventory.reserved\"","path":"/events/inventory/inventory.reserved"}]}},
	  {"pubsubname":"pubsub","topic":"orders","deadLetterTopic":"orders-deadletter",
	   "bulkSubscribe":{"enabled":true,"maxMessagesCount":64,"maxAwaitDurationMs":2},
	   "routes":{"default":"/events/orders","rules":[
	     {"match":"event.type == \"order.placed\"","path":"/events/orders/order.placed"},
	     {"match":"event.type == \"order.cancelled\"","path":"/events/orders/order.cancelled"}]}}
	]`, string(got))
}

// The saga's events as the sidecar delivers them, through the app's own
// routes and handlers.
func TestDeliveries(t *testing.T) {
	h, env := build(t)
	id := uuid.Must(uuid.NewV7()).String()
	placed := contracts.OrderEvent{OrderID: id, UserID: "user-1", Email: "ann@example.com", Total: contracts.Money{Amount: 2500, Currency: "USD"},
		PaymentToken: sandbox.TokenVisa, Status: contracts.StatusPending}
	reserved := contracts.ReservationEvent{OrderID: id}

	assert.Equal(t, "SUCCESS", deliver(t, h, "/events/inventory/inventory.reserved", envelope(t, contracts.InventoryReserved, reserved)),
		"reserved before placed: recorded, charged when placed arrives")
	assert.Equal(t, "SUCCESS", deliver(t, h, "/events/orders/order.placed", envelope(t, contracts.OrderPlaced, placed)))
	for range 2 {
		assert.Equal(t, "SUCCESS", deliver(t, h, "/events/inventory/inventory.reserved", envelope(t, contracts.InventoryReserved, reserved)))
	}
	p, _, err := env.Store.Payment(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusCaptured, p.Status)
	assert.Equal(t, contracts.Money{Amount: 2500, Currency: "USD"}, p.Amount)
	assert.Equal(t, 1, env.Provider.ChargeCalls(id))

	cancelled := placed
	cancelled.PaymentToken, cancelled.Status, cancelled.Reason = "", contracts.StatusCancelled, contracts.ReasonCancelledByCustomer
	for range 2 {
		assert.Equal(t, "SUCCESS", deliver(t, h, "/events/orders/order.cancelled", envelope(t, contracts.OrderCancelled, cancelled)))
	}
	assert.Equal(t, 1, env.Provider.RefundCalls(id))

	// Other order events are acknowledged and ignored; poison goes to the
	// dead letter.
	assert.Equal(t, "SUCCESS", deliver(t, h, "/events/orders", envelope(t, contracts.OrderConfirmed, placed)))
	assert.Equal(t, "DROP", deliver(t, h, "/events/orders/order.placed", envelope(t, contracts.OrderPlaced, map[string]any{"order_id": 7})))
	assert.Equal(t, "DROP", deliver(t, h, "/events/orders/order.placed", envelope(t, contracts.OrderPlaced, map[string]any{"order_id": "o-2"})),
		"no total")
	assert.Equal(t, "DROP", deliver(t, h, "/events/inventory/inventory.reserved", envelope(t, contracts.InventoryReserved, map[string]any{})),
		"no order id")
	assert.Equal(t, []string{contracts.PaymentSucceeded, contracts.PaymentRefunded}, func() []string {
		var out []string
		for _, e := range env.Store.Published() {
			out = append(out, e.Type)
		}
		return out
	}())
}
