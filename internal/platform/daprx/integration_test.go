package daprx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// These tests run the kit against a real daprd and the local Redis
// and PostgreSQL (`go tool task infra:up`). `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip.

// components writes the test's own resources: a Redis store,
// a PostgreSQL store in the catalog database (own table prefix), Redis
// pub/sub. Names and topic are unique per run, so runs do not interfere.
func components(t *testing.T, run string) string {
	t.Helper()
	dsn := daprxtest.LocalSecrets(t)["catalog-store-dsn"]
	require.NotEmpty(t, dsn)
	return daprxtest.WriteResources(t, map[string]string{
		"redis.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv-redis}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:16379"}
  - {name: keyPrefix, value: "kittest-%[1]s"}
`, run),
		"postgres.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv-postgres}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "kittest_"}
  - {name: keyPrefix, value: "kittest-%s"}
`, dsn, run),
		"pubsub.yaml": `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:16379"}
`,
	})
}

type harness struct {
	client dapr.Client
	events chan daprx.Event
	cfg    config.App
}

// start runs the kit in this process with a subscription to the run's own
// topic, beside a daprd on the test's components.
func start(t *testing.T) harness {
	daprxtest.RequireIntegration(t)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	events := make(chan daprx.Event, 16)
	app := daprxtest.Start(t, "kittest-"+run, components(t, run),
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: "kittest-" + run, Types: []string{"thing.saved"}, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
	)
	return harness{client: app.Client, events: events, cfg: app.Config}
}

type thing struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func TestStateAgainstRealStores(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	for _, store := range []string{"kv-redis", "kv-postgres"} {
		t.Run(store, func(t *testing.T) {
			st := daprx.NewState(h.client, store)

			var got thing
			_, err := st.Get(ctx, "missing", &got)
			require.ErrorIs(t, err, daprx.ErrNotFound)

			require.NoError(t, st.Create(ctx, "a", thing{"a", 1}))
			require.ErrorIs(t, st.Create(ctx, "a", thing{"a", 2}), daprx.ErrConflict, "first-write refuses a taken key")

			etag, err := st.Get(ctx, "a", &got)
			require.NoError(t, err)
			assert.Equal(t, thing{"a", 1}, got)
			require.NoError(t, st.Save(ctx, "a", thing{"a", 3}, etag), "etag %q", etag)
			require.ErrorIs(t, st.Save(ctx, "a", thing{"a", 4}, etag), daprx.ErrConflict, "a stale etag is refused")
			require.ErrorIs(t, st.Delete(ctx, "a", etag), daprx.ErrConflict)

			require.NoError(t, st.Save(ctx, "b", thing{"b", 1}, ""))
			items, err := st.GetBulk(ctx, []string{"b", "nope", "a"})
			require.NoError(t, err)
			require.Len(t, items, 3)
			assert.Equal(t, "b", items[0].Key)
			assert.Nil(t, items[1].Value)
			require.NoError(t, items[2].Decode(&got))
			assert.Equal(t, thing{"a", 3}, got)

			etag, err = st.Get(ctx, "a", &got)
			require.NoError(t, err)
			require.NoError(t, st.Delete(ctx, "a", etag))
			require.NoError(t, st.Delete(ctx, "b", ""))
			_, err = st.Get(ctx, "a", &got)
			require.ErrorIs(t, err, daprx.ErrNotFound)
		})
	}
}

func TestPublishAndSubscribe(t *testing.T) {
	h := start(t)
	pub := daprx.NewPublisher(h.client)
	require.NoError(t, pub.Publish(context.Background(), "kittest-"+strings.TrimPrefix(h.cfg.ID, "kittest-"), "thing.saved", "k1", thing{"published", 1}))
	select {
	case e := <-h.events:
		var got thing
		require.NoError(t, e.Decode(&got))
		assert.Equal(t, thing{"published", 1}, got)
	case <-time.After(20 * time.Second):
		t.Fatal("the event was not delivered")
	}
}

// Send keeps the message's id as the CloudEvent id, so a message sent twice
// (the outbox's recovery may) reaches consumers with one id.
func TestSendKeepsTheMessageID(t *testing.T) {
	h := start(t)
	pub := daprx.NewPublisher(h.client)
	m := daprx.Message{ID: "0193f2a4-0000-7000-8000-00000000abcd", Topic: h.cfg.ID, Type: "thing.saved", Key: "k1", Data: []byte(`{"name":"sent","n":2}`)}
	for range 2 {
		require.NoError(t, pub.Send(context.Background(), m))
	}
	for range 2 {
		select {
		case e := <-h.events:
			assert.Equal(t, m.ID, e.ID)
			assert.Equal(t, "thing.saved", e.Type)
			var got thing
			require.NoError(t, e.Decode(&got))
			assert.Equal(t, thing{"sent", 2}, got)
		case <-time.After(20 * time.Second):
			t.Fatal("the message was not delivered")
		}
	}
}

func TestSidecarRefusesCallsWithoutTheToken(t *testing.T) {
	h := start(t)
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1.0/state/kv-redis/x", h.cfg.DaprHTTPPort), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// And the app refuses calls that claim to be the sidecar without its token.
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/dapr/subscribe", h.cfg.Port))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestWriteCarriesMetadataAndIsGuarded(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	ttl := map[string]string{"ttlInSeconds": "60"}
	for _, store := range []string{"kv-redis", "kv-postgres"} {
		t.Run(store, func(t *testing.T) {
			st := daprx.NewState(h.client, store)
			var got thing
			require.NoError(t, st.Write(ctx, "w", thing{"w", 1}, "", ttl))
			require.ErrorIs(t, st.Write(ctx, "w", thing{"w", 2}, "", ttl), daprx.ErrConflict, "without an etag it only creates")

			etag, err := st.Get(ctx, "w", &got)
			require.NoError(t, err)
			require.NoError(t, st.Write(ctx, "w", thing{"w", 3}, etag, ttl))
			require.ErrorIs(t, st.Write(ctx, "w", thing{"w", 4}, etag, ttl), daprx.ErrConflict, "a stale etag is refused")

			// The metadata reaches the store: a one-second TTL expires the
			// key, and an expired key can be created again.
			etag, err = st.Get(ctx, "w", &got)
			require.NoError(t, err)
			assert.Equal(t, thing{"w", 3}, got)
			require.NoError(t, st.Write(ctx, "w", thing{"w", 5}, etag, map[string]string{"ttlInSeconds": "1"}))
			require.Eventually(t, func() bool {
				_, err := st.Get(ctx, "w", &got)
				return errors.Is(err, daprx.ErrNotFound)
			}, 10*time.Second, 200*time.Millisecond)
			require.NoError(t, st.Write(ctx, "w", thing{"w", 6}, "", ttl))
			require.NoError(t, st.Delete(ctx, "w", ""))
		})
	}
}

func TestTransactionFirstWrite(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	st := daprx.NewState(h.client, "kv-postgres")
	require.NoError(t, st.Transact(ctx, daprx.Op{Key: "claim", Value: thing{"first", 1}, Create: true}, daprx.Op{Key: "other", Value: thing{"other", 1}}))

	err := st.Transact(ctx, daprx.Op{Key: "other", Value: thing{"other", 2}}, daprx.Op{Key: "claim", Value: thing{"second", 2}, Create: true})
	require.Error(t, err, "a taken key refuses a first-write inside a transaction")
	var got thing
	_, err = st.Get(ctx, "claim", &got)
	require.NoError(t, err)
	assert.Equal(t, thing{"first", 1}, got)
	_, err = st.Get(ctx, "other", &got)
	require.NoError(t, err)
	assert.Equal(t, thing{"other", 1}, got, "the refused transaction changed nothing")
	require.NoError(t, st.Delete(ctx, "claim", ""))
	require.NoError(t, st.Delete(ctx, "other", ""))
}
