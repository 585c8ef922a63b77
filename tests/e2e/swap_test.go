package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// redisCatalogStore maps catalog-store to Redis: only this YAML differs
// from the local profile (plus the scope and a pub/sub database of its own,
// so this extra instance's events stay out of the running stack's).
const redisCatalogStore = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: catalog-store
spec:
  type: state.redis
  version: v1
  metadata:
    - {name: redisHost, value: %q}
scopes: [%s]
`

// The same catalog binary serves the same API with catalog-store on Redis
// instead of PostgreSQL, by component YAML alone.
func TestCatalogRunsOnRedisByComponentYAMLAlone(t *testing.T) {
	requireStack(t)
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	tmpl, err := stack.LoadTemplate(filepath.Join(root, "dapr", "dapr.yaml"))
	require.NoError(t, err)
	spec, err := tmpl.App("catalog")
	require.NoError(t, err)

	// A distinct app id keeps this instance out of the stack's name
	// resolution and state keys; the binary is the stack's own.
	appID := fmt.Sprintf("catalog-redis-%d", time.Now().Unix()%100000)
	spec.ID, spec.Name, spec.Binary = appID, appID, l.AppBinary("catalog")
	spec.Ports, err = stack.FreePorts()
	require.NoError(t, err)

	resources := t.TempDir()
	local := filepath.Join(root, "components", "local")
	entries, err := os.ReadDir(local)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(local, e.Name()))
		require.NoError(t, err)
		switch e.Name() {
		case "catalog-store.yaml":
			data = fmt.Appendf(nil, redisCatalogStore, redisAddr, appID)
		case "pubsub.yaml":
			data = []byte(strings.Replace(string(data), "    - name: redisHost", "    - {name: redisDB, value: \"1\"}\n    - name: redisHost", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(resources, e.Name()), data, 0o600))
	}
	for i, p := range spec.ResourcesPaths {
		if p == local {
			spec.ResourcesPaths[i] = resources
		}
	}
	require.Contains(t, spec.ResourcesPaths, resources)

	ctx := context.Background()
	h, err := stack.StartApp(ctx, l, spec)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, h.Stop(context.Background()))
		flushRedisKeys(t, appID)
	})
	require.NoError(t, h.WaitReady(ctx, 90*time.Second))

	s := sidecar{appID: appID, base: h.DaprHTTPURL(), token: h.Tokens.DaprAPIToken}
	var page productPage
	r := s.invoke(t, http.MethodGet, "products?page_size=100", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.decode(t, &page)
	assert.GreaterOrEqual(t, len(page.Items), 50, "seeded into Redis")

	r = s.invoke(t, http.MethodPost, "products", newProductBody(uniqueSKU("RDS")))
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var p product
	r.decode(t, &p)
	require.Equal(t, http.StatusConflict, s.invoke(t, http.MethodPost, "products", newProductBody(p.SKU)).Status)
	body := newProductBody(p.SKU)
	body["name"] = "Stored in Redis"
	require.Equal(t, http.StatusOK, s.invoke(t, http.MethodPut, "products/"+p.ID, body).Status)
	var got product
	s.invoke(t, http.MethodGet, "products/"+p.ID, nil).decode(t, &got)
	assert.Equal(t, "Stored in Redis", got.Name)
	require.Equal(t, http.StatusNoContent, s.invoke(t, http.MethodDelete, "products/"+p.ID, nil).Status)
}

// flushRedisKeys removes what the extra instance stored: its state keys
// (Dapr prefixes them with the app id) and its pub/sub database.
func flushRedisKeys(t *testing.T, appID string) {
	t.Helper()
	ctx := context.Background()
	state := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer state.Close()
	iter := state.Scan(ctx, 0, appID+"||*", 500).Iterator()
	for iter.Next(ctx) {
		state.Del(ctx, iter.Val())
	}
	assert.NoError(t, iter.Err())
	events := redis.NewClient(&redis.Options{Addr: redisAddr, DB: 1})
	defer events.Close()
	assert.NoError(t, events.FlushDB(ctx).Err())
}
