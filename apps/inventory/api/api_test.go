package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/inventory/api"
	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/apps/inventory/inventorytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

const (
	appToken = "sidecar-token"
	known    = "0195f5a4-0000-7000-8000-000000000001"
	unknown  = "0195f5a4-0000-7000-8000-000000000002"
)

type server struct {
	h     http.Handler
	svc   *inventory.Service
	store *inventorytest.Store
	pub   *inventorytest.Publisher
	cat   *inventorytest.Catalog
	now   time.Time
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{
		store: inventorytest.NewStore(),
		pub:   &inventorytest.Publisher{},
		cat:   &inventorytest.Catalog{Products: map[string]bool{known: true}},
		now:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.svc = inventory.NewService(s.store, s.pub, s.cat, inventory.Config{ReservationTTL: 15 * time.Minute},
		func() time.Time { return s.now }, log, &inventorytest.Outcomes{})
	cfg := config.App{ID: contracts.AppInventory, AppAPIToken: appToken, MaxBodyBytes: 1 << 20}
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), s.svc, log)
	s.h = e
	return s
}

// caller is who a request comes from, as the sidecar presents it.
type caller struct {
	token string // the sidecar's app API token
	app   string // dapr-caller-app-id
	roles string
}

var (
	admin    = caller{token: appToken, app: contracts.AppGateway, roles: "customer,admin"}
	customer = caller{token: appToken, app: contracts.AppGateway, roles: "customer"}
)

func (s *server) call(c caller, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("dapr-api-token", c.token)
	}
	if c.app != "" {
		req.Header.Set("dapr-caller-app-id", c.app)
		req.Header.Set(auth.HeaderUserID, "u-1")
		req.Header.Set(auth.HeaderUserRoles, c.roles)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func TestSetAndReadStock(t *testing.T) {
	s := newServer(t)
	w := s.call(admin, http.MethodPut, "/inventory/"+known, `{"available": 7}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"product_id":"`+known+`","available":7,"reserved":0}`, w.Body.String())

	require.NoError(t, s.svc.Place(context.Background(), inventory.Order{ID: "o1", Lines: []inventory.Line{{ProductID: known, Quantity: 2}}}))
	w = s.call(admin, http.MethodGet, "/inventory/"+known, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"product_id":"`+known+`","available":5,"reserved":2}`, w.Body.String())

	w = s.call(admin, http.MethodPut, "/inventory/"+strings.ToUpper(known), `{"available": 0}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"product_id":"`+known+`","available":0,"reserved":2}`, w.Body.String(), "ids are canonical")

	evs := s.pub.Events(contracts.StockChanged)
	require.NotEmpty(t, evs)
	assert.Equal(t, contracts.StockEvent{ProductID: known, Available: 0, Reserved: 2, Version: 3, At: s.now}, evs[len(evs)-1].Data)
}

func TestNotFound(t *testing.T) {
	s := newServer(t)
	for name, tc := range map[string]struct{ method, path, body string }{
		"no stock record":       {http.MethodGet, "/inventory/" + known, ""},
		"not an id":             {http.MethodGet, "/inventory/not-a-uuid", ""},
		"unknown product (put)": {http.MethodPut, "/inventory/" + unknown, `{"available": 1}`},
		"not an id (put)":       {http.MethodPut, "/inventory/42", `{"available": 1}`},
	} {
		t.Run(name, func(t *testing.T) {
			w := s.call(admin, tc.method, tc.path, tc.body)
			assert.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		})
	}
	assert.Empty(t, s.store.Keys(""), "nothing was stored")
}

func TestBadInputChangesNothing(t *testing.T) {
	s := newServer(t)
	for name, body := range map[string]string{
		"negative":      `{"available": -1}`,
		"fraction":      `{"available": 1.5}`,
		"string":        `{"available": "5"}`,
		"null":          `{"available": null}`,
		"missing":       `{}`,
		"unknown field": `{"available": 1, "reserved": 0}`,
		"malformed":     `{"available":`,
		"too many":      `{"available": 1000000001}`,
		"two values":    `{"available": 1} {"available": 2}`,
	} {
		t.Run(name, func(t *testing.T) {
			w := s.call(admin, http.MethodPut, "/inventory/"+known, body)
			assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		})
	}
	assert.Empty(t, s.store.Keys(""), "nothing was stored")
	assert.Empty(t, s.pub.Events(), "nothing was published")
}

func TestOnlyAdminsThroughTheGateway(t *testing.T) {
	s := newServer(t)
	for name, tc := range map[string]struct {
		who    caller
		status int
	}{
		"customer":             {customer, http.StatusForbidden},
		"no identity":          {caller{token: appToken}, http.StatusUnauthorized},
		"not from the gateway": {caller{token: appToken, app: contracts.AppOrders, roles: "admin"}, http.StatusUnauthorized},
		"not from the sidecar": {caller{app: contracts.AppGateway, roles: "admin"}, http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			for _, r := range []struct{ method, body string }{{http.MethodGet, ""}, {http.MethodPut, `{"available": 3}`}} {
				w := s.call(tc.who, r.method, "/inventory/"+known, r.body)
				assert.Equal(t, tc.status, w.Code, "%s: %s", r.method, w.Body.String())
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			}
		})
	}
	assert.Empty(t, s.store.Keys(""))
}

func TestCatalogDownIsUnavailable(t *testing.T) {
	s := newServer(t)
	s.cat.Err = errors.New("connection refused")
	w := s.call(admin, http.MethodPut, "/inventory/"+known, `{"available": 3}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.NotContains(t, w.Body.String(), "connection refused", "no internals in answers")
}

func TestSweepRoute(t *testing.T) {
	s := newServer(t)
	require.Equal(t, http.StatusOK, s.call(admin, http.MethodPut, "/inventory/"+known, `{"available": 5}`).Code)
	require.NoError(t, s.svc.Place(context.Background(), inventory.Order{ID: "o1", Lines: []inventory.Line{{ProductID: known, Quantity: 2}}}))
	s.now = s.now.Add(time.Hour)

	w := s.call(caller{}, http.MethodPost, "/"+contracts.ReservationSweep, "")
	assert.Equal(t, http.StatusUnauthorized, w.Code, "only the sidecar triggers the sweep")
	st, err := s.svc.Stock(context.Background(), known)
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Reserved)

	w = s.call(caller{token: appToken}, http.MethodPost, "/"+contracts.ReservationSweep, `{}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Body.String(), "Dapr would read a body as instructions")
	st, err = s.svc.Stock(context.Background(), known)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{5, 0}, [2]int64{st.Available, st.Reserved})
	assert.Len(t, s.pub.Events(contracts.InventoryExpired), 1)

	var problem struct{ Status int }
	s.store.Hook = func(op, _ string) error {
		if op == "get" {
			return errors.New("store down")
		}
		return nil
	}
	w = s.call(caller{token: appToken}, http.MethodPost, "/"+contracts.ReservationSweep, "")
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &problem))
	assert.Equal(t, http.StatusInternalServerError, problem.Status)
}
