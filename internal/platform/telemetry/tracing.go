// Package telemetry holds the app's OpenTelemetry tracer provider and the W3C
// propagators (trace context and baggage) every instrumented edge shares:
// the Gin server, the go-sdk's gRPC connection, service invocation over
// HTTP, and the events published and consumed through the sidecar.
//
// Nothing here is global: the provider and the propagator are handed to
// each instrumentation explicitly, so tests can build several apps in one
// process.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Module provides the Tracing of the app.
var Module = fx.Provide(New)

// Tracing is what instrumentation needs: where spans go, and how a span's
// context crosses a process boundary.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
}

// Tracer returns the tracer of one instrumented piece of the kit.
func (t Tracing) Tracer(name string) trace.Tracer { return t.Provider.Tracer(name) }

// Transport wraps base so that every outbound HTTP call is a client span of
// the caller's trace, named by spanName, and carries its traceparent. It
// records no metrics: the server called counts its own requests.
func (t Tracing) Transport(base http.RoundTripper, spanName func(operation string, r *http.Request) string) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(spanName),
	)
}

// New builds the tracer provider: parent-based sampling (a call that
// arrives sampled or not keeps that decision, so the first hop, the
// gateway, decides for the whole checkout) with cfg.TraceRatio for new
// traces, and batched OTLP/HTTP export to cfg.OTLPEndpoint when it is set.
// The provider flushes what it holds when the app stops.
func New(lc fx.Lifecycle, cfg config.App) (Tracing, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.TraceRatio))),
		sdktrace.WithResource(resource.NewSchemaless(
			semconv.ServiceName(cfg.ID),
			semconv.DeploymentEnvironmentName(cfg.Env),
		)),
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.OTLPEndpoint, "/")+"/v1/traces"))
		if err != nil {
			return Tracing{}, fmt.Errorf("otlp exporter for %s: %w", cfg.OTLPEndpoint, err)
		}
		// Spans leave in batches off the request's path; a collector that
		// is down costs dropped spans, never a slower checkout.
		opts = append(opts, sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	if lc != nil {
		lc.Append(fx.StopHook(tp.Shutdown))
	}
	return Tracing{
		Provider:   tp,
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// TraceParent returns the W3C traceparent of ctx's span ("" when there is
// none), for a message that leaves the process after the call that made it
// (the outbox's events). Only the trace context travels, not baggage.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// WithRemoteParent returns ctx whose current span is the one traceparent
// names, as if the call had arrived with it; an empty or malformed
// traceparent leaves ctx as it is.
func WithRemoteParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// NoExport returns a Tracing that samples everything and exports nothing:
// spans still start, continue the caller's trace and reach logs, for tests
// and tools that build an app's pieces by hand.
func NoExport(app string) Tracing {
	t, _ := New(nil, config.App{ID: app, TraceRatio: 1})
	return t
}
