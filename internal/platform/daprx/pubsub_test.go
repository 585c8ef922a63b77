package daprx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func subscriptionServer(t *testing.T, subs ...Subscription) http.Handler {
	t.Helper()
	return subscriptionServerTraced(t, telemetry.NoExport("test"), subs...)
}

func subscriptionServerTraced(t *testing.T, tr telemetry.Tracing, subs ...Subscription) http.Handler {
	t.Helper()
	cfg := config.App{ID: "test", MaxBodyBytes: 1 << 20}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), tr)
	require.NoError(t, serveSubscriptions(subscriptionParams{Router: httpserver.NewRouter(cfg, e), Log: log, Tracing: tr, Subscriptions: subs}))
	return e
}

func post(h http.Handler, path, body string) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var out struct{ Status string }
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out.Status
}

func TestSubscribeAnswerRoutesByType(t *testing.T) {
	h := subscriptionServer(t,
		Subscription{Topic: "catalog", Types: []string{"product.created", "product.deleted"}, Handler: func(context.Context, Event) error { return nil }},
		Subscription{Topic: "orders", Handler: func(context.Context, Event) error { return nil }},
	)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `[
	  {"pubsubname":"pubsub","topic":"catalog","deadLetterTopic":"catalog-deadletter",
	   "bulkSubscribe":{"enabled":true,"maxMessagesCount":64,"maxAwaitDurationMs":2},
	   "routes":{"default":"/events/catalog","rules":[
	     {"match":"event.type == \"product.created\"","path":"/events/catalog/product.created"},
	     {"match":"event.type == \"product.deleted\"","path":"/events/catalog/product.deleted"}]}},
	  {"pubsubname":"pubsub","topic":"orders","deadLetterTopic":"orders-deadletter",
	   "bulkSubscribe":{"enabled":true,"maxMessagesCount":64,"maxAwaitDurationMs":2},
	   "routes":{"default":"/events/orders/all"}}
	]`, w.Body.String())

	// Types nobody handles are acknowledged, not dead-lettered.
	code, status := post(h, "/events/catalog", `{"id":"1","type":"category.created","data":{}}`)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "SUCCESS", status)
}

func TestDeliveryOutcomes(t *testing.T) {
	var got Event
	var result error
	h := subscriptionServer(t, Subscription{Topic: "catalog", Types: []string{"product.updated"},
		Handler: func(_ context.Context, e Event) error { got = e; return result }})
	path := "/events/catalog/product.updated"

	_, status := post(h, path, `{"id":"e1","type":"product.updated","source":"catalog","data":{"id":"p1","version":2}}`)
	assert.Equal(t, "SUCCESS", status)
	assert.JSONEq(t, `{"id":"p1","version":2}`, string(got.Data))
	assert.Equal(t, "e1", got.ID)

	_, status = post(h, path, `{"id":"e3","type":"product.updated","data_base64":"eyJpZCI6InAzIn0="}`)
	assert.Equal(t, "SUCCESS", status)
	assert.JSONEq(t, `{"id":"p3"}`, string(got.Data))

	result = errors.New("store down")
	_, status = post(h, path, `{"id":"e4","type":"product.updated","data":{}}`)
	assert.Equal(t, "RETRY", status)

	result = fmt.Errorf("bad version: %w", ErrDrop)
	_, status = post(h, path, `{"id":"e5","type":"product.updated","data":{}}`)
	assert.Equal(t, "DROP", status)

	result = nil
	for _, body := range []string{
		`not json`,
		`{"id":"e6","type":"product.updated","data":"not json either"}`,
		`{"id":"e7","type":"product.updated","datacontenttype":"text/plain","data":"{\"id\":\"p2\"}"}`,
		`{"id":"e8","type":"product.updated","data":[1]}`,
		`{"id":"e9","type":"product.updated"}`,
	} {
		_, status = post(h, path, body)
		assert.Equal(t, "DROP", status, body)
	}
}

// A bulk delivery is answered with a status per entry, each entry handled
// on its own; Dapr redelivers entries whose status is RETRY or missing.
func TestBulkDeliveryAnswersEveryEntry(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	h := subscriptionServer(t, Subscription{Topic: "orders", Types: []string{"order.placed"},
		Handler: func(_ context.Context, e Event) error {
			mu.Lock()
			seen[e.ID] = true
			mu.Unlock()
			switch e.ID {
			case "busy":
				return errors.New("store down")
			case "poison":
				return fmt.Errorf("no such order: %w", ErrDrop)
			}
			return nil
		}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/events/orders/order.placed", strings.NewReader(`{
	  "id":"b1","type":"com.dapr.event.sent.bulk","topic":"orders","pubsub":"pubsub","metadata":{},
	  "entries":[
	    {"entryId":"1","event":{"id":"ok","type":"order.placed","data":{"order_id":"o1"}},"contentType":"application/cloudevents+json"},
	    {"entryId":"2","event":{"id":"busy","type":"order.placed","data":{"order_id":"o2"}},"contentType":"application/cloudevents+json"},
	    {"entryId":"3","event":{"id":"poison","type":"order.placed","data":{"order_id":"o3"}},"contentType":"application/cloudevents+json"},
	    {"entryId":"4","event":"not a cloud event","contentType":"text/plain"}
	  ]}`)))
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"statuses":[
	  {"entryId":"1","status":"SUCCESS"},{"entryId":"2","status":"RETRY"},
	  {"entryId":"3","status":"DROP"},{"entryId":"4","status":"DROP"}]}`, w.Body.String())
	assert.Equal(t, map[string]bool{"ok": true, "busy": true, "poison": true}, seen)

	// Types nobody handles are acknowledged in bulk too.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/events/orders", strings.NewReader(
		`{"entries":[{"entryId":"9","event":{"id":"x","type":"order.shipped","data":{}}}]}`)))
	assert.JSONEq(t, `{"statuses":[{"entryId":"9","status":"SUCCESS"}]}`, w.Body.String())
}

// Each event of a batch is handled in a span of its own trace, a child of
// the publisher's span (the event's traceparent) and linked to the
// delivery's request, whose traceparent is the sidecar's.
func TestEventsContinueThePublishersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := telemetry.Tracing{
		Provider:   sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)),
		Propagator: propagation.TraceContext{},
	}
	var mu sync.Mutex
	seen := map[string]trace.SpanContext{}
	h := subscriptionServerTraced(t, tr, Subscription{Topic: "orders", Handler: func(ctx context.Context, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen[e.ID] = trace.SpanContextFromContext(ctx)
		return nil
	}})

	const (
		pubA     = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		pubB     = "00-1bf7651916cd43dd8448eb211c80319d-c7ad6b7169203332-01"
		delivery = "00-2cf7651916cd43dd8448eb211c80319e-d7ad6b7169203333-01"
	)
	body := `{"entries":[
		{"entryId":"1","event":{"id":"a","type":"order.placed","topic":"orders","traceparent":"` + pubA + `","data":{}}},
		{"entryId":"2","event":{"id":"b","type":"order.placed","topic":"orders","traceparent":"` + pubB + `","data":{}}}]}`
	req := httptest.NewRequest(http.MethodPost, "/events/orders/all", strings.NewReader(body))
	req.Header.Set("traceparent", delivery)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)

	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", seen["a"].TraceID().String())
	assert.Equal(t, "1bf7651916cd43dd8448eb211c80319d", seen["b"].TraceID().String())
	var consumers int
	for _, s := range rec.Ended() {
		if s.SpanKind() != trace.SpanKindConsumer {
			continue
		}
		consumers++
		assert.Equal(t, "process orders", s.Name())
		assert.Contains(t, []string{"b7ad6b7169203331", "c7ad6b7169203332"}, s.Parent().SpanID().String(), "the publisher's span is the parent")
		require.Len(t, s.Links(), 1)
		assert.Equal(t, "2cf7651916cd43dd8448eb211c80319e", s.Links()[0].SpanContext.TraceID().String(), "linked to the delivery")
	}
	assert.Equal(t, 2, consumers)
}

// Subscribed opens once the sidecar fetched the subscriptions, and not
// before settle has passed since.
func TestSubscribedWaitsForTheSidecarsFetch(t *testing.T) {
	sub := NewSubscribed()
	cfg := config.App{ID: "test", MaxBodyBytes: 1 << 20}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpserver.NewEngine(cfg, log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	require.NoError(t, serveSubscriptions(subscriptionParams{Router: httpserver.NewRouter(cfg, e), Log: log, Tracing: telemetry.NoExport("test"), Subscribed: sub,
		Subscriptions: []Subscription{{Topic: "orders", Handler: func(context.Context, Event) error { return nil }}}}))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, sub.Wait(ctx, nil, 0), context.DeadlineExceeded, "nothing fetched yet")

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))
	require.Equal(t, http.StatusOK, w.Code)
	start := time.Now()
	require.NoError(t, sub.Wait(context.Background(), nil, 100*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond, "the settle time is waited out")
	require.NoError(t, sub.Wait(context.Background(), nil, 0), "and stays open")
}

// An app that restarts beside a running sidecar is not asked for its
// subscriptions again: the sidecar's metadata says they exist.
func TestSubscribedLearnsFromTheSidecarsMetadata(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/metadata" || r.Header.Get(apiTokenHeader) != "tok" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"id":"search","subscriptions":[{"pubsubname":"pubsub","topic":"catalog"}]}`)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	sc := NewSidecar(config.App{DaprHTTPPort: port, DaprAPIToken: "tok"}, slog.New(slog.NewTextHandler(io.Discard, nil)), telemetry.NoExport("test"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, NewSubscribed().Wait(ctx, sc, 0))
}
