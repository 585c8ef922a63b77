// Command inventory keeps stock per product in the inventory-store
// component and reserves it for orders: it consumes order events, publishes
// reservation outcomes and stock changes on the inventory topic, and
// releases reservations whose order never finished when the
// reservation-sweep cron binding fires.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/api"
	"github.com/shopmesh/shopmesh/apps/inventory/catalogclient"
	"github.com/shopmesh/shopmesh/apps/inventory/events"
	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/apps/inventory/outcomes"
	"github.com/shopmesh/shopmesh/apps/inventory/store"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test builds it without a sidecar).
var modules = fx.Options(
	platform.Module,
	store.Module,
	catalogclient.Module,
	events.Module,
	inventory.Module,
	outcomes.Module,
	api.Module,
)

func main() {
	fx.New(modules).Run()
}
