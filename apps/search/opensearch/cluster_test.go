package opensearch

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/indextest"
	"github.com/shopmesh/shopmesh/apps/search/search"
)

// TestRealCluster runs the adapter conformance suite (the same one the
// embedded index passes) against the cluster at OPENSEARCH_URL, with the
// other OPENSEARCH_* settings of the app. Each index gets its own alias
// "shopmesh-test-<run>-<n>"; its indices are deleted afterwards.
func TestRealCluster(t *testing.T) {
	if os.Getenv("OPENSEARCH_URL") == "" {
		t.Skip("OPENSEARCH_URL is not set: the OpenSearch adapter is covered here only by the tests on the requests it builds; " +
			"set OPENSEARCH_URL (and OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD or OPENSEARCH_AUTH=sigv4) to run the conformance suite against a real cluster")
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	n := 0
	indextest.Run(t, 1500*time.Millisecond, func(t *testing.T) search.Index {
		n++
		cfg, err := LoadConfig(func(k string) (string, bool) {
			if k == "OPENSEARCH_INDEX" {
				return "shopmesh-test-" + run + "-" + strconv.Itoa(n), true
			}
			return os.LookupEnv(k)
		})
		require.NoError(t, err)
		x, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, err)
		t.Cleanup(func() {
			// The alias goes with its indices.
			status, body, err := x.call(context.Background(), http.MethodDelete, "/"+cfg.Alias+"-*", nil, nil, false)
			if err != nil || status/100 != 2 {
				t.Logf("could not delete the test indices %s-*: %d %s %v", cfg.Alias, status, body, err)
			}
		})
		return x
	})
}
