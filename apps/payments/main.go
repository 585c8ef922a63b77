// Command payments charges each order once its stock is reserved, refunds it
// when the order is cancelled afterwards, and announces payment.* events on
// the payments topic through the kit's outbox on the payments-store. The
// provider is the sandbox; its ledger lives in the same store.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/api"
	"github.com/shopmesh/shopmesh/apps/payments/events"
	"github.com/shopmesh/shopmesh/apps/payments/outcomes"
	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/store"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// app is the payments service on top of the platform kit (the integration
// test runs it beside a real sidecar).
var app = fx.Options(
	store.Module,
	payments.Module,
	outcomes.Module,
	events.Module,
	api.Module,
)

func main() {
	fx.New(platform.Module, app).Run()
}
