// Command catalog serves products and categories from the catalog-store
// state component and announces every change on the catalog topic. It
// keeps each product's in_stock from the inventory's stock events.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/api"
	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/apps/catalog/events"
	"github.com/shopmesh/shopmesh/apps/catalog/seed"
	"github.com/shopmesh/shopmesh/apps/catalog/store"
	"github.com/shopmesh/shopmesh/internal/platform"
)

func main() {
	fx.New(
		platform.Module,
		store.Module,
		catalog.Module,
		api.Module,
		events.Module,
		seed.Module,
	).Run()
}
