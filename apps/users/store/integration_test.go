package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/internal/platform/outbox/outboxtest"
)

// These tests run store.Dapr against a real daprd, the local
// PostgreSQL (the users database, own table prefix) and Redis, like the
// kit's daprx integration tests. `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip. SHOPMESH_REDIS_PORT picks
// another Redis port than 16379.

type harness struct {
	client dapr.Client
	events chan daprx.Event
	topic  string
}

func start(t *testing.T) harness {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["users-store-dsn"]
	require.NotEmpty(t, dsn, "no users-store-dsn: run go tool task infra:up and migrate")
	redis := "127.0.0.1:" + cmp.Or(os.Getenv("SHOPMESH_REDIS_PORT"), "16379")

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	appID, topic := "userstest-"+run, "userstest-"+run
	secretsFile := filepath.Join(t.TempDir(), "secrets.json")
	require.NoError(t, os.WriteFile(secretsFile, []byte(`{"jwt-signing-key-id":"kid-1"}`), 0o600))
	resources := daprxtest.WriteResources(t, map[string]string{
		"users-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "userstest_"}
  - {name: keyPrefix, value: %q}
`, contracts.UsersStore, dsn, appID),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: %q}
`, redis),
		"secretstore.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: %q}
`, contracts.SecretStore, secretsFile),
	})

	events := make(chan daprx.Event, 16)
	app := daprxtest.Start(t, appID, resources,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: topic, Types: []string{contracts.UserRegistered}, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
	)
	return harness{client: app.Client, events: events, topic: topic}
}

// kv returns the KV with an outbox that publishes on the run's topic.
func (h harness) kv(t *testing.T) *store.Dapr {
	return store.NewDapr(h.client, outboxtest.Start(t, h.client, contracts.UsersStore, h.topic))
}

type rec struct {
	N int `json:"n"`
}

func TestDaprKVAgainstPostgres(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	kv := h.kv(t)
	var got rec

	_, err := kv.Get(ctx, "missing", &got)
	require.ErrorIs(t, err, store.ErrNotFound)

	// First-write, with and without a TTL (the TTL path calls the client
	// directly and must map refusals the same way).
	require.NoError(t, kv.Create(ctx, "a", rec{1}, 0))
	require.ErrorIs(t, kv.Create(ctx, "a", rec{2}, 0), store.ErrConflict)
	require.NoError(t, kv.Create(ctx, "t", rec{1}, time.Hour))
	require.ErrorIs(t, kv.Create(ctx, "t", rec{2}, time.Hour), store.ErrConflict)

	// ETags, with and without a TTL.
	for _, ttl := range []time.Duration{0, time.Hour} {
		etag, err := kv.Get(ctx, "a", &got)
		require.NoError(t, err)
		require.NoError(t, kv.Save(ctx, "a", rec{got.N + 1}, etag, ttl))
		require.ErrorIs(t, kv.Save(ctx, "a", rec{99}, etag, ttl), store.ErrConflict, "stale etag, ttl %s", ttl)
	}
	etag, err := kv.Get(ctx, "a", &got)
	require.NoError(t, err)
	assert.Equal(t, rec{3}, got)
	require.ErrorIs(t, kv.Delete(ctx, "a", "00000000-0000-0000-0000-000000000000"), store.ErrConflict)
	require.NoError(t, kv.Delete(ctx, "a", etag))
	require.NoError(t, kv.Delete(ctx, "a", ""), "deleting nothing is fine")

	// TTLs expire; an expired key can be created again.
	require.NoError(t, kv.Save(ctx, "short", rec{1}, "", time.Second))
	time.Sleep(2500 * time.Millisecond)
	_, err = kv.Get(ctx, "short", &got)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, kv.Create(ctx, "short", rec{2}, time.Hour))

	// Concurrent first-writes of one key: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Go(func() {
			err := kv.Create(ctx, "race", rec{i}, 0)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
}

func TestProfileCreationIsPublished(t *testing.T) {
	h := start(t)
	kv := h.kv(t)
	ev := contracts.UserEvent{ID: "u-1", Email: "ann@example.com", Name: "Ann", RegisteredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, kv.SaveAndPublish(context.Background(), "user|u-1", ev, contracts.UserRegistered))
	select {
	case e := <-h.events:
		assert.Equal(t, contracts.UserRegistered, e.Type)
		var got contracts.UserEvent
		require.NoError(t, e.Decode(&got))
		assert.Equal(t, ev, got)
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox event was not delivered")
	}
}

func TestSecretsAgainstTheFileStore(t *testing.T) {
	h := start(t)
	s := store.NewSecrets(h.client)
	v, err := s.Secret(context.Background(), secrets.SigningKeyID)
	require.NoError(t, err)
	assert.Equal(t, "kid-1", v)
	_, err = s.Secret(context.Background(), secrets.PreviousSigningKey)
	assert.ErrorIs(t, err, secrets.ErrNotFound, "daprd's wording of a missing secret is recognised")
}
