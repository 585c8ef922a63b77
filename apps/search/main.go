// Command search serves full-text product search: typo tolerant, with
// filters, sorts and facets. Its index (embedded bleve on local disk, or
// OpenSearch) is fed by the catalog's product events and inventory's stock
// events, and rebuilt from the catalog when it is missing or on request.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/search/api"
	"github.com/shopmesh/shopmesh/apps/search/backend"
	"github.com/shopmesh/shopmesh/apps/search/events"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test runs it beside a fake sidecar).
var modules = fx.Options(
	platform.Module,
	backend.Module,
	events.Module,
	api.Module,
)

func main() {
	fx.New(modules).Run()
}
