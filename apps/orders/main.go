// Command orders serves carts, checkout and orders. Carts live in the
// cart-store component with a TTL; orders in orders-store, whose
// outbox publishes order.* events on the orders topic. It
// consumes the saga's outcomes from the inventory and payments topics.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/api"
	"github.com/shopmesh/shopmesh/apps/orders/events"
	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/apps/orders/outcomes"
	"github.com/shopmesh/shopmesh/apps/orders/products"
	"github.com/shopmesh/shopmesh/apps/orders/store"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test builds it without a sidecar).
var modules = fx.Options(
	platform.Module,
	store.Module,
	products.Module,
	orders.Module,
	outcomes.Module,
	api.Module,
	events.Module,
)

func main() {
	fx.New(modules).Run()
}
