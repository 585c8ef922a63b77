package backend_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/search/api"
	"github.com/shopmesh/shopmesh/apps/search/backend"
	"github.com/shopmesh/shopmesh/apps/search/events"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/apps/search/searchtest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// TestEventsThroughARealSidecar runs search's modules beside a real daprd
// with Redis pub/sub: events published on the catalog and inventory
// topics reach the index, in version order; an undecodable event is
// dead-lettered; and
// searches answer through Dapr service invocation. The catalog is a fake
// (the first build reads it); the streams live in their own Redis database
// so the shared stack never sees these events.
func TestEventsThroughARealSidecar(t *testing.T) {
	daprxtest.RequireIntegration(t)
	redis := "127.0.0.1:" + cmp.Or(os.Getenv("SHOPMESH_REDIS_PORT"), "16379")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("SEARCH_DATA_DIR", t.TempDir())
	resources := daprxtest.WriteResources(t, map[string]string{
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: %q}
  - {name: redisDB, value: "9"}
  - {name: maxLenApprox, value: "1000"}
`, contracts.PubSub, redis),
	})

	seed := searchtest.Seed(t)
	// Earlier runs' events are redelivered to this run's new consumer group
	// (and dead-lettered again): only this run's is passed on.
	dead := make(chan daprx.Event, 1)
	app := daprxtest.Start(t, "searchtest-"+run, resources,
		backend.Module, events.Module, api.Module,
		fx.Decorate(func(search.Catalog) search.Catalog { return searchtest.NewCatalog(seed) }),
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: contracts.DeadLetter(contracts.TopicCatalog), Handler: func(_ context.Context, e daprx.Event) error {
				if strings.Contains(string(e.Data), run) {
					select {
					case dead <- e:
					default:
					}
				}
				return nil
			}}
		})),
	)
	ctx := context.Background()
	pub := daprx.NewPublisher(app.Client)

	// Through the sidecar, as the gateway calls search.
	find := func(query url.Values) []string {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1.0/invoke/%s/method/search?%s",
			app.Config.DaprHTTPPort, app.Config.ID, query.Encode()), nil)
		require.NoError(t, err)
		req.Header.Set("dapr-api-token", app.Config.DaprAPIToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var res api.Results
		require.NoError(t, json.Unmarshal(body, &res))
		out := make([]string, len(res.Items))
		for i, p := range res.Items {
			out[i] = p.SKU
		}
		return out
	}
	eventually := func(query url.Values, want bool, sku, msg string) time.Duration {
		began := time.Now()
		require.Eventually(t, func() bool { return slices.Contains(find(query), sku) == want }, 20*time.Second, 50*time.Millisecond, msg)
		return time.Since(began)
	}
	assert.Equal(t, []string{"KIT-0001"}, find(url.Values{"q": {"stainles kettel"}}), "the first build read the catalog")

	// A product of this run only: the streams keep earlier runs' events,
	// which a new consumer group reads from the start.
	id, sku := searchtest.IDAt(time.Now(), int(time.Now().UnixNano()%1000)), "IT-"+run
	word := "zorblat" + run
	event := func(version int64, name string) contracts.ProductEvent {
		return contracts.ProductEvent{
			ID: id, SKU: sku, Name: name, Description: "Integration test product.", Category: "kitchen",
			Price: contracts.Money{Amount: 1234, Currency: "USD"}, InStock: true, Version: version, UpdatedAt: time.Now().UTC(),
		}
	}
	require.NoError(t, pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductCreated, id, event(1, "Kettle "+word)))
	took := eventually(url.Values{"q": {word}}, true, sku, "a created product is searchable")
	t.Logf("a new product was searchable %v after it was published", took)
	require.NoError(t, pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductUpdated, id, event(2, "Teapot "+word)))
	eventually(url.Values{"q": {"teapot " + word}}, true, sku, "an update is searchable")

	stock := contracts.StockEvent{ProductID: id, InStock: false, Version: 1, At: time.Now().UTC()}
	require.NoError(t, pub.Publish(ctx, contracts.TopicInventory, contracts.StockChanged, id, stock))
	eventually(url.Values{"q": {word}, "in_stock": {"false"}}, true, sku, "a stock change applies")

	require.NoError(t, pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductUpdated, id, event(1, "Kettle "+word)))
	tomb := contracts.ProductEvent{ID: id, SKU: sku, Version: 3, Deleted: true, UpdatedAt: time.Now().UTC()}
	require.NoError(t, pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductDeleted, id, tomb))
	eventually(url.Values{"q": {word}}, false, sku, "a deletion applies")
	assert.NotContains(t, find(url.Values{"q": {"kettle " + word}}), sku, "the older update did not bring it back")

	require.NoError(t, pub.Publish(ctx, contracts.TopicCatalog, contracts.ProductCreated, "x", map[string]any{"id": 42, "run": run}))
	select {
	case e := <-dead:
		assert.Equal(t, contracts.ProductCreated, e.Type)
	case <-time.After(30 * time.Second):
		t.Fatal("an undecodable event was not dead-lettered")
	}
}
