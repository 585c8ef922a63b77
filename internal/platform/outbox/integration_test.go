package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
	"github.com/shopmesh/shopmesh/internal/platform/outbox/outboxtest"
)

// These tests run the outbox against a real daprd with the local Redis and
// PostgreSQL as state stores (key prefix and table prefix of the run's own)
// and Redis pub/sub on a topic of the run's own. `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip.

type harness struct {
	client dapr.Client
	topic  string
	events chan daprx.Event
}

func start(t *testing.T) harness {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["catalog-store-dsn"]
	require.NotEmpty(t, dsn)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	topic := "outboxtest-" + run
	resources := daprxtest.WriteResources(t, map[string]string{
		"redis.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv-redis}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:16379"}
  - {name: keyPrefix, value: "outboxtest-%s"}
`, run),
		"postgres.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv-postgres}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "outboxtest_"}
  - {name: keyPrefix, value: "outboxtest-%s"}
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
	events := make(chan daprx.Event, 64)
	app := daprxtest.Start(t, topic, resources,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: topic, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
	)
	return harness{client: app.Client, topic: topic, events: events}
}

// next waits for the next delivered event.
func (h harness) next(t *testing.T) daprx.Event {
	t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no event was delivered")
		return daprx.Event{}
	}
}

// none requires that no event arrives for a while.
func (h harness) none(t *testing.T, why string) {
	t.Helper()
	select {
	case e := <-h.events:
		t.Fatalf("%s, but %s %s arrived: %s", why, e.Type, e.ID, e.Data)
	case <-time.After(2 * time.Second):
	}
}

// downPublisher fails every send: the broker is out of reach, or the
// process dies before it publishes.
type downPublisher struct{}

func (downPublisher) Send(context.Context, daprx.Message) error { return errors.New("broker down") }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

type thing struct {
	Name string `json:"name"`
}

func saved(topic, name string) []outbox.Event {
	return []outbox.Event{{Topic: topic, Type: "thing.saved", Key: name, Data: thing{name}}}
}

// slotsLeft counts the outbox records under an owner's first slots.
func slotsLeft(t *testing.T, st *daprx.State) int {
	t.Helper()
	// The owner ids are private; a key-prefix scan is not on Dapr's API.
	// Each test's store starts empty, so the seats tell the owners.
	seats := make([]string, 8)
	for i := range seats {
		seats[i] = "outbox-seat|" + strconv.Itoa(i)
	}
	items, err := st.GetBulk(context.Background(), seats)
	require.NoError(t, err)
	n := 0
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var seat struct {
			Owner string `json:"owner"`
			Slots int    `json:"slots"`
		}
		require.NoError(t, it.Decode(&seat))
		keys := make([]string, seat.Slots)
		for i := range keys {
			keys[i] = "outbox|" + seat.Owner + "|" + strconv.Itoa(i)
		}
		slots, err := st.GetBulk(context.Background(), keys)
		require.NoError(t, err)
		for _, s := range slots {
			if s.Value != nil {
				n++
			}
		}
	}
	return n
}

func TestOutboxAgainstRealStores(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	for _, store := range []string{"kv-redis", "kv-postgres"} {
		t.Run(store, func(t *testing.T) {
			st := daprx.NewState(h.client, store)
			pub := outboxtest.Retopic{Publisher: daprx.NewPublisher(h.client), Topic: h.topic}
			o := outboxtest.StartWith(t, st, pub, outboxtest.Config())

			// Committed: stored, published once, and the record deleted.
			require.NoError(t, o.Transact(ctx, saved(h.topic, "one"), daprx.Op{Key: "one", Value: thing{"one"}}))
			e := h.next(t)
			assert.Equal(t, "thing.saved", e.Type)
			var got thing
			require.NoError(t, e.Decode(&got))
			assert.Equal(t, thing{"one"}, got)
			require.Eventually(t, func() bool { return slotsLeft(t, st) == 0 }, 5*time.Second, 50*time.Millisecond)

			// Refused for a stale ETag: nothing stored, published or left.
			etag, err := st.Get(ctx, "one", &got)
			require.NoError(t, err)
			require.NoError(t, st.Save(ctx, "one", thing{"changed"}, etag))
			err = o.Transact(ctx, saved(h.topic, "lost"), daprx.Op{Key: "one", Value: thing{"lost"}, ETag: etag})
			require.ErrorIs(t, err, daprx.ErrConflict)
			h.none(t, "a refused transaction publishes nothing")
			assert.Equal(t, 0, slotsLeft(t, st), "and leaves no record behind")

			// And nothing stalls after it.
			require.NoError(t, o.Transact(ctx, saved(h.topic, "two"), daprx.Op{Key: "two", Value: thing{"two"}}))
			require.NoError(t, h.next(t).Decode(&got))
			assert.Equal(t, thing{"two"}, got)
		})
	}
}

// A process that dies between its commit and its publish: the record it
// left is published by its restart (same instance name) at once, or by
// any other process once its lease ran out; either way exactly once.
func TestOutboxRecoversWhatACrashLeft(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	for _, store := range []string{"kv-redis", "kv-postgres"} {
		t.Run(store, func(t *testing.T) {
			st := daprx.NewState(h.client, store)
			pub := outboxtest.Retopic{Publisher: daprx.NewPublisher(h.client), Topic: h.topic}
			crash := func(cfg outbox.Config, name string) {
				t.Helper()
				// Run stops, Close is never called: as after a SIGKILL.
				o := outbox.New(st, downPublisher{}, cfg, discard())
				runCtx, stop := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { defer close(done); o.Run(runCtx) }()
				require.Eventually(t, func() bool { return o.Ready(ctx) == nil }, 20*time.Second, 20*time.Millisecond)
				require.NoError(t, o.Transact(ctx, saved(h.topic, name), daprx.Op{Key: name, Value: thing{name}}))
				stop()
				<-done
				var got thing
				_, err := st.Get(ctx, name, &got)
				require.NoError(t, err, "the change was committed")
			}

			restarted := outboxtest.Config()
			crash(restarted, "restart")
			h.none(t, "the publisher was down")
			outboxtest.StartWith(t, st, pub, restarted)
			e := h.next(t)
			var got thing
			require.NoError(t, e.Decode(&got))
			assert.Equal(t, thing{"restart"}, got)
			h.none(t, "published once")

			// Another process sweeps the seat of one that never came back.
			gone := outboxtest.Config()
			gone.Lease, gone.TxTimeout = 2*time.Second, time.Second
			crash(gone, "gone")
			sweeper := outboxtest.Config()
			sweeper.Sweep = 200 * time.Millisecond
			outboxtest.StartWith(t, st, pub, sweeper)
			e = h.next(t)
			require.NoError(t, e.Decode(&got))
			assert.Equal(t, thing{"gone"}, got)
			h.none(t, "published once")
			assert.Equal(t, 0, slotsLeft(t, st))
		})
	}
}
