package platform

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Module is the kit every app starts from: configuration, JSON logging,
// traces, metrics, the HTTP server, health probes and the Dapr sidecar.
var Module = fx.Options(
	fx.Provide(config.Load),
	logging.Module,
	telemetry.Module,
	metrics.Module,
	httpserver.Module,
	health.Module,
	daprx.Module,
)
