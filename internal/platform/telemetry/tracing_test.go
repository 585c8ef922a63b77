package telemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// A trace context survives the trip through a stored message, and a
// malformed one changes nothing.
func TestTraceParentRoundTrip(t *testing.T) {
	tr := NoExport("test")
	ctx, span := tr.Tracer("t").Start(context.Background(), "make")
	defer span.End()
	tp := TraceParent(ctx)
	assert.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, tp)

	got := trace.SpanContextFromContext(WithRemoteParent(context.Background(), tp))
	assert.Equal(t, span.SpanContext().TraceID(), got.TraceID())
	assert.Equal(t, span.SpanContext().SpanID(), got.SpanID())
	assert.True(t, got.IsRemote())

	assert.False(t, trace.SpanContextFromContext(WithRemoteParent(context.Background(), "00-zz-bad-01")).IsValid())
	assert.Empty(t, TraceParent(context.Background()), "no span, no traceparent")
}

// Sampling is parent-based: the caller's decision wins over the ratio.
func TestSamplingFollowsTheCaller(t *testing.T) {
	never, err := New(nil, config.App{ID: "test", TraceRatio: 0})
	assert.NoError(t, err)
	ctx, span := never.Tracer("t").Start(context.Background(), "new trace")
	assert.False(t, span.SpanContext().IsSampled(), "ratio 0: a new trace is not sampled")
	assert.True(t, span.SpanContext().IsValid(), "but it has ids, for logs and propagation")
	span.End()

	sampled := WithRemoteParent(ctx, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	_, child := never.Tracer("t").Start(sampled, "continued")
	defer child.End()
	assert.True(t, child.SpanContext().IsSampled(), "a sampled caller is followed")
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", child.SpanContext().TraceID().String())
}
