package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

func TestRecordsCarryIDs(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, config.App{ID: "catalog"})
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(WithRequestID(context.Background(), "req-1"), span)
	log.With("k", "v").InfoContext(ctx, "hello")

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "catalog", rec["app"])
	assert.Equal(t, "req-1", rec["request_id"])
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", rec["trace_id"])
	assert.Equal(t, "b7ad6b7169203331", rec["span_id"])
	assert.Equal(t, "v", rec["k"])
}
