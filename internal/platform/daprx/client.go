// Package daprx is the app's one door to its Dapr sidecar: the go-sdk client,
// typed JSON state with ETags, publishing, subscriptions served from Gin, and
// service invocation. Domain code never imports it; an app's store and events
// packages do.
package daprx

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/metric/noop"
	"go.uber.org/fx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/health"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Module provides the Dapr client, the Sidecar, the Publisher, the Invoker and
// the sidecar readiness check, and serves the app's subscriptions.
var Module = fx.Options(
	fx.Provide(
		NewClient,
		NewSidecar,
		NewCountedPublisher,
		NewSubscribed,
		NewInvoker,
		fx.Annotate(func(s *Sidecar) health.Check {
			return health.Check{Name: "dapr-sidecar", Check: s.Ready}
		}, fx.ResultTags(`group:"readiness"`)),
	),
	fx.Invoke(serveSubscriptions),
)

// apiTokenHeader authenticates the app to its sidecar and the sidecar to the app.
const apiTokenHeader = "dapr-api-token"

// NewClient connects the go-sdk client to the sidecar's gRPC port without
// blocking: the sidecar may start after the app (it waits for the app port),
// so calls fail until it is up and /readyz reports it.
// Every call carries the caller's trace context (traceparent in the gRPC
// metadata): the sidecar's spans for state, publish and invoke join the
// app's trace, and a published event carries it to its consumers.
func NewClient(lc fx.Lifecycle, cfg config.App, tr telemetry.Tracing) (dapr.Client, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.DaprGRPCPort))
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tr.Provider),
			otelgrpc.WithPropagators(tr.Propagator),
			otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
		)),
	}
	if cfg.DaprAPIToken != "" {
		opts = append(opts,
			grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
				return invoker(metadata.AppendToOutgoingContext(ctx, apiTokenHeader, cfg.DaprAPIToken), method, req, reply, cc, o...)
			}),
			grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, o ...grpc.CallOption) (grpc.ClientStream, error) {
				return streamer(metadata.AppendToOutgoingContext(ctx, apiTokenHeader, cfg.DaprAPIToken), desc, cc, method, o...)
			}),
		)
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dapr client for %s: %w", addr, err)
	}
	c := dapr.NewClientWithConnection(conn)
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// Sidecar talks to the sidecar's HTTP API for what gRPC does not offer well:
// health and HTTP service invocation.
type Sidecar struct {
	base   string
	token  string
	http   *http.Client // traced: service invocation
	probes *http.Client // untraced: health probes every few seconds
	log    *slog.Logger
}

// NewSidecar returns the sidecar of this app.
func NewSidecar(cfg config.App, log *slog.Logger, tr telemetry.Tracing) *Sidecar {
	return &Sidecar{
		base:  "http://127.0.0.1:" + strconv.Itoa(cfg.DaprHTTPPort),
		token: cfg.DaprAPIToken,
		http: &http.Client{
			Timeout:   30 * time.Second,
			Transport: tr.Transport(http.DefaultTransport, invokeSpanName),
		},
		probes: &http.Client{Timeout: 30 * time.Second},
		log:    log,
	}
}

// Ready reports whether the sidecar has finished starting (components loaded,
// APIs up, app channel open).
func (s *Sidecar) Ready(ctx context.Context) error {
	return s.probe(ctx, "/v1.0/healthz")
}

// WaitOutbound blocks until the sidecar's components are initialised and its
// APIs serve, or ctx ends. Start-up work that needs state (seeding, for one)
// waits here: the full healthz would also wait for this app's own port.
func (s *Sidecar) WaitOutbound(ctx context.Context) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		err := s.probe(ctx, "/v1.0/healthz/outbound")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the dapr sidecar: %w (last: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (s *Sidecar) probe(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.probes.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar unreachable: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sidecar not ready: %s", resp.Status)
	}
	return nil
}

// hasSubscriptions reports whether the sidecar's metadata lists any
// subscription: it fetched the app's (or has declarative ones).
func (s *Sidecar) hasSubscriptions(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v1.0/metadata", nil)
	if err != nil {
		return false
	}
	if s.token != "" {
		req.Header.Set(apiTokenHeader, s.token)
	}
	resp, err := s.probes.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var md struct {
		Subscriptions []json.RawMessage `json:"subscriptions"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&md) == nil && len(md.Subscriptions) > 0
}
