package backend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/backend"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	cfg, err := backend.LoadConfig(env())
	require.NoError(t, err)
	assert.Equal(t, backend.Config{Backend: backend.Bleve, DataDir: "../../.local/data/search", CatalogTimeout: 30 * time.Second}, cfg,
		"bleve under the checkout's .local when run from apps/search")

	cfg, err = backend.LoadConfig(env("SEARCH_BACKEND", "opensearch", "OPENSEARCH_URL", "https://search.example:443", "OPENSEARCH_AUTH", "sigv4", "AWS_REGION", "eu-west-1"))
	require.NoError(t, err)
	assert.Equal(t, backend.OpenSearch, cfg.Backend)
	assert.Equal(t, []string{"https://search.example:443"}, cfg.OpenSearch.URLs)

	for name, lookup := range map[string]func(string) (string, bool){
		"unknown backend":         env("SEARCH_BACKEND", "solr"),
		"opensearch without url":  env("SEARCH_BACKEND", "opensearch"),
		"bad timeout":             env("SEARCH_CATALOG_TIMEOUT", "soon"),
		"non-positive timeout":    env("SEARCH_CATALOG_TIMEOUT", "0s"),
		"opensearch, bad replica": env("SEARCH_BACKEND", "opensearch", "OPENSEARCH_URL", "http://x", "OPENSEARCH_REPLICAS", "many"),
	} {
		_, err := backend.LoadConfig(lookup)
		assert.Error(t, err, name)
	}
}
