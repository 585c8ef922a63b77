package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

func TestRecordsCarryIDs(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, config.App{ID: "catalog"})
	ctx := WithIDs(context.Background(), "req-1", "0af7651916cd43dd8448eb211c80319c")
	log.With("k", "v").InfoContext(ctx, "hello")

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "catalog", rec["app"])
	assert.Equal(t, "req-1", rec["request_id"])
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", rec["trace_id"])
	assert.Equal(t, "v", rec["k"])
}
