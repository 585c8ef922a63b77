package daprx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/shopmesh/shopmesh/internal/platform"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// These tests run the kit against a real daprd 1.14.0 and the local Redis
// and PostgreSQL (`go tool task infra:up`). `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip.

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && filepath.Base(filepath.Dir(dir)) != "local" {
			if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "repository root not found")
		dir = parent
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type secrets map[string]string

func readSecrets(t *testing.T, root string) secrets {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".local", "secrets.json"))
	require.NoError(t, err, "run go tool task infra:up first")
	var s secrets
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// components writes the test's own resources: an outbox-enabled Redis store,
// a PostgreSQL store in the catalog database (own table prefix), Redis
// pub/sub. Names and topic are unique per run, so runs do not interfere.
func components(t *testing.T, root, run string) string {
	t.Helper()
	dsn := readSecrets(t, root)["catalog-store-dsn"]
	require.NotEmpty(t, dsn)
	dir := t.TempDir()
	files := map[string]string{
		"redis.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: kv-redis}
spec:
  type: state.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:16379"}
  - {name: keyPrefix, value: "kittest-%[1]s"}
  - {name: outboxPublishPubsub, value: pubsub}
  - {name: outboxPublishTopic, value: "kittest-%[1]s"}
  - {name: outboxDiscardWhenMissingState, value: "true"}
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
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

type harness struct {
	client dapr.Client
	events chan daprx.Event
	cfg    config.App
}

// start runs the kit in this process (app port, subscriptions, tokens) and
// a daprd beside it, and waits until the sidecar reports ready.
func start(t *testing.T) harness {
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("integration test: set SHOPMESH_INTEGRATION=1 with the local infra up (go tool task test does)")
	}
	root := repoRoot(t)
	daprd := filepath.Join(root, ".local", "bin", "daprd")
	require.FileExists(t, daprd, "run go tool task build:daprd")

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	appID := "kittest-" + run
	cfg := config.App{
		ID: appID, ListenHost: "127.0.0.1", Port: freePort(t), DaprHTTPPort: freePort(t), DaprGRPCPort: freePort(t),
		DaprAPIToken: "dapr-token-" + run, AppAPIToken: "app-token-" + run,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second,
	}
	events := make(chan daprx.Event, 16)
	var client dapr.Client
	app := fxtest.New(t,
		platform.Module,
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
		fx.NopLogger,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: "kittest-" + run, Types: []string{"thing.saved"}, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
		fx.Populate(&client),
	)
	app.RequireStart()
	t.Cleanup(app.RequireStop)

	cmd := exec.Command(daprd,
		"--app-id", appID, "--app-port", strconv.Itoa(cfg.Port),
		"--dapr-http-port", strconv.Itoa(cfg.DaprHTTPPort), "--dapr-grpc-port", strconv.Itoa(cfg.DaprGRPCPort),
		"--dapr-internal-grpc-port", strconv.Itoa(freePort(t)), "--metrics-port", strconv.Itoa(freePort(t)),
		"--resources-path", components(t, root, run), "--app-channel-address", "127.0.0.1", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DAPR_API_TOKEN="+cfg.DaprAPIToken, "APP_API_TOKEN="+cfg.AppAPIToken)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "daprd.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("daprd log:\n%s", b)
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", cfg.Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "sidecar not ready in time")
		time.Sleep(200 * time.Millisecond)
	}
	return harness{client: client, events: events, cfg: cfg}
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

func TestOutboxTransactionIsDelivered(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	st := daprx.NewState(h.client, "kv-redis")
	require.NoError(t, st.Transact(ctx, daprx.Op{Key: "t1", Value: thing{"outboxed", 7}, Metadata: map[string]string{"type": "thing.saved"}}))

	select {
	case e := <-h.events:
		assert.Equal(t, "thing.saved", e.Type)
		var got thing
		require.NoError(t, e.Decode(&got))
		assert.Equal(t, thing{"outboxed", 7}, got)
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox event was not delivered")
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
