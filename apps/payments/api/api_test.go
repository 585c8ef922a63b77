package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/payments/api"
	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const sidecarToken = "app-token"

func newServer(t *testing.T) (http.Handler, *paymentstest.Env) {
	t.Helper()
	env := paymentstest.New(t)
	cfg := config.App{ID: contracts.AppPayments, MaxBodyBytes: 1 << 20, AppAPIToken: sidecarToken}
	e := httpserver.NewEngine(cfg, env.Log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), env.Service)
	return e, env
}

// caller is a call relayed by the sidecar from the gateway for a user with roles.
func caller(roles ...string) http.Header {
	h := auth.Identity{UserID: "u-1", Email: "u@example.com", Roles: roles}.Header()
	h.Set("dapr-caller-app-id", contracts.AppGateway)
	h.Set("dapr-api-token", sidecarToken)
	return h
}

func get(h http.Handler, path string, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func problemOf(t *testing.T, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	return p
}

func TestAdminSeesAPayment(t *testing.T) {
	h, env := newServer(t)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: contracts.Money{Amount: 4599, Currency: "EUR"}, Token: sandbox.TokenVisa}))
	require.NoError(t, env.Service.Charge(ctx, id))

	w := get(h, "/payments/"+id, caller(auth.RoleCustomer, auth.RoleAdmin))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"amount", "charges", "order_id", "refunded", "status", "updated_at"}, keys, "no token, no internals")
	assert.Equal(t, id, body["order_id"])
	assert.Equal(t, "captured", body["status"])
	assert.Equal(t, map[string]any{"amount": 4599.0, "currency": "EUR"}, body["amount"])
	assert.Equal(t, 1.0, body["charges"])
	assert.Equal(t, false, body["refunded"])
	assert.Equal(t, "2026-11-24T12:00:00Z", body["updated_at"])

	require.NoError(t, env.Service.Cancel(ctx, id))
	w = get(h, "/payments/"+id, caller(auth.RoleAdmin))
	require.Equal(t, http.StatusOK, w.Code)
	var p api.Payment
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "refunded", p.Status)
	assert.True(t, p.Refunded)
	assert.Equal(t, 1, p.Charges)
}

func TestDeclinedPaymentShowsItsReason(t *testing.T) {
	h, env := newServer(t)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: contracts.Money{Amount: 100, Currency: "USD"}, Token: sandbox.TokenInsufficientFunds}))
	require.NoError(t, env.Service.Charge(ctx, id))
	w := get(h, "/payments/"+id, caller(auth.RoleAdmin))
	require.Equal(t, http.StatusOK, w.Code)
	var p api.Payment
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, api.Payment{OrderID: id, Status: "failed", Amount: api.Money{Amount: 100, Currency: "USD"}, Reason: contracts.PaymentInsufficientFunds, UpdatedAt: env.Clock.Now()}, p)
}

func TestAccessAndNotFound(t *testing.T) {
	h, env := newServer(t)
	id := uuid.Must(uuid.NewV7()).String()
	require.NoError(t, env.Service.Place(context.Background(), payments.Intent{OrderID: id, UserID: "u-1", Amount: contracts.Money{Amount: 100, Currency: "USD"}, Token: sandbox.TokenVisa}))

	noIdentity := http.Header{"Dapr-Api-Token": {sidecarToken}}
	notFromGateway := caller(auth.RoleAdmin)
	notFromGateway.Set("dapr-caller-app-id", contracts.AppOrders)
	withoutSidecar := caller(auth.RoleAdmin)
	withoutSidecar.Del("dapr-api-token")

	cases := map[string]struct {
		path   string
		hdr    http.Header
		status int
	}{
		"customer":            {"/payments/" + id, caller(auth.RoleCustomer), http.StatusForbidden},
		"no identity":         {"/payments/" + id, noIdentity, http.StatusUnauthorized},
		"not from gateway":    {"/payments/" + id, notFromGateway, http.StatusUnauthorized},
		"not via the sidecar": {"/payments/" + id, withoutSidecar, http.StatusUnauthorized},
		"unknown order":       {"/payments/" + uuid.Must(uuid.NewV7()).String(), caller(auth.RoleAdmin), http.StatusNotFound},
		"not an order id":     {"/payments/../../etc", caller(auth.RoleAdmin), http.StatusNotFound},
		"not a uuid":          {"/payments/abc", caller(auth.RoleAdmin), http.StatusNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := get(h, tc.path, tc.hdr)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			p := problemOf(t, w)
			assert.Equal(t, tc.status, p.Status)
			assert.NotContains(t, w.Body.String(), sandbox.TokenVisa)
		})
	}
}
