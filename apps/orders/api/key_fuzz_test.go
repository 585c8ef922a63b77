package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/apps/orders/api"
	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/orderstest"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// FuzzCheckoutIdempotencyKey sends checkouts with any Idempotency-Key and
// an empty body. The key is refused (400 naming the header) exactly when
// API.md's rule says so, 1 to 255 characters and not blank; a key that
// passes goes on to the body's checks, so nothing is ever placed here.
func FuzzCheckoutIdempotencyKey(f *testing.F) {
	for _, key := range []string{
		"k", "k-gone", "", "   ", strings.Repeat("k", api.MaxIdempotencyKey), strings.Repeat("k", api.MaxIdempotencyKey+1),
		strings.Repeat("é", api.MaxIdempotencyKey), "0193a7b2-4c1d-7e8f-9a0b-1c2d3e4f5a6b", "a\tb", "\xff",
	} {
		f.Add(key)
	}
	env := orderstest.New(kettle, mug)
	cfg := config.App{ID: "orders", MaxBodyBytes: 1 << 20}
	h := httpserver.NewEngine(cfg, slog.New(slog.DiscardHandler), metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, h), env.Service, orders.Config{Currency: "USD"}, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, key string) {
		w := do(h, checkoutAs(ann, key, `{}`))
		var p problem.Problem
		if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &p) != nil || len(p.Errors) == 0 {
			t.Fatalf("key %q: answered %d %s", key, w.Code, w.Body.String())
		}
		refused := p.Errors[0].Field == api.IdempotencyKeyHeader
		valid := strings.TrimSpace(key) != "" && utf8.RuneCountInString(key) <= api.MaxIdempotencyKey
		if refused == valid {
			t.Fatalf("key %q: refused %v, but the rule says valid=%v", key, refused, valid)
		}
		if n := len(env.Store.Events()); n > 0 {
			t.Fatalf("%d events were stored", n)
		}
	})
}
