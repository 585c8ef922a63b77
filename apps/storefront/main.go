// Command storefront serves ShopMesh's web shop: server-rendered pages over
// the public REST API, which it calls through the gateway like any other
// client. Its sidecar serves one purpose, the secret store, which holds the
// key that seals the shoppers' session cookies.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/secrets"
	"github.com/shopmesh/shopmesh/apps/storefront/web"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test builds it without a sidecar).
var modules = fx.Options(
	platform.Module,
	secrets.Module,
	gateway.Module,
	web.Module,
)

func main() {
	fx.New(modules).Run()
}
