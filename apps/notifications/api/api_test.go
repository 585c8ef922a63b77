package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/notifications/api"
	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/apps/notifications/notifytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// brokenLog is a store whose logs cannot be read.
type brokenLog struct{ *notifytest.Store }

func (brokenLog) Log(context.Context, string) ([]notify.Entry, string, error) {
	return nil, "", errors.New("store down")
}

func server(t *testing.T, store notify.Store) (http.Handler, *notify.Service) {
	t.Helper()
	cfg := config.App{ID: "notifications", MaxBodyBytes: 1 << 20}
	log := slog.New(slog.DiscardHandler)
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	svc := notify.NewService(store, &notifytest.Mailer{}, notify.Config{SendTimeout: time.Second, ClaimLease: time.Minute}, log)
	api.Register(httpserver.NewRouter(cfg, e), svc, log)
	return e, svc
}

// get calls GET /notifications as the gateway's sidecar relays it.
func get(h http.Handler, id *auth.Identity) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/notifications", nil)
	if id != nil {
		r.Header = id.Header()
		r.Header.Set("dapr-caller-app-id", contracts.AppGateway)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestListShowsOnlyTheCallersNotifications(t *testing.T) {
	h, svc := server(t, notifytest.NewStore())
	ctx := context.Background()
	require.NoError(t, svc.Welcome(ctx, "e1", contracts.UserEvent{ID: "u1", Email: "u1@example.com"}))
	require.NoError(t, svc.Welcome(ctx, "e2", contracts.UserEvent{ID: "u2", Email: "u2@example.com"}))
	order := contracts.OrderEvent{OrderID: "o1", UserID: "u1", Email: "u1@example.com",
		Total: contracts.Money{Amount: 100, Currency: "USD"}}
	require.NoError(t, svc.OrderConfirmed(ctx, "e3", order))

	w := get(h, &auth.Identity{UserID: "u1", Email: "u1@example.com", Roles: []string{auth.RoleCustomer}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var body struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Len(t, body.Items, 2)
	first, second := body.Items[0], body.Items[1]
	assert.Equal(t, "order_confirmed", first["kind"])
	assert.Equal(t, "o1", first["order_id"])
	assert.Equal(t, "Your ShopMesh order o1 is confirmed", first["subject"])
	assert.Equal(t, "welcome", second["kind"])
	assert.Contains(t, second, "order_id")
	assert.Nil(t, second["order_id"], "no order: null")
	for _, it := range body.Items {
		assert.ElementsMatch(t, []string{"id", "kind", "subject", "sent_at", "order_id"}, keys(it))
		_, err := time.Parse(time.RFC3339, it["sent_at"].(string))
		assert.NoError(t, err)
	}

	w = get(h, &auth.Identity{UserID: "u3", Roles: []string{auth.RoleCustomer}})
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"items":[]}`, w.Body.String())
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestListNeedsACustomerFromTheGateway(t *testing.T) {
	h, _ := server(t, notifytest.NewStore())
	w := get(h, nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))

	r := httptest.NewRequest(http.MethodGet, "/notifications", nil)
	r.Header = auth.Identity{UserID: "u1", Roles: []string{auth.RoleCustomer}}.Header()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "identity headers not relayed from the gateway are not trusted")

	w = get(h, &auth.Identity{UserID: "u1", Roles: []string{"auditor"}})
	assert.Equal(t, http.StatusForbidden, w.Code)
}

func TestListWhenTheStoreIsDown(t *testing.T) {
	h, _ := server(t, brokenLog{notifytest.NewStore()})
	w := get(h, &auth.Identity{UserID: "u1", Roles: []string{auth.RoleCustomer}})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	b, _ := io.ReadAll(w.Body)
	assert.NotContains(t, string(b), "store down", "causes are logged, not shown")
}
