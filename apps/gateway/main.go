// Command gateway serves ShopMesh's public API: REST under /api/v1 and
// GraphQL at /graphql, in front of the services it reaches through its Dapr
// sidecar, with bearer-token authentication, a route and field access
// table, a response cache, per-client rate limits in Redis and a bound on
// the requests it serves at once (admission).
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/admission"
	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/cache"
	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/graphql"
	"github.com/shopmesh/shopmesh/apps/gateway/inventoryclient"
	"github.com/shopmesh/shopmesh/apps/gateway/notificationsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/openapi"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/paymentsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ratelimit"
	"github.com/shopmesh/shopmesh/apps/gateway/redisconn"
	"github.com/shopmesh/shopmesh/apps/gateway/rest"
	"github.com/shopmesh/shopmesh/apps/gateway/searchclient"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
	"github.com/shopmesh/shopmesh/internal/platform"
)

func main() {
	fx.New(modules).Run()
}

// modules is the whole app; the route test builds it too.
var modules = fx.Options(
	platform.Module,
	redisconn.Module,
	authn.Module,
	outbound.Module,
	catalogclient.Module,
	usersclient.Module,
	searchclient.Module,
	ordersclient.Module,
	inventoryclient.Module,
	paymentsclient.Module,
	notificationsclient.Module,
	cache.Module,
	admission.Module,
	ratelimit.Module,
	rest.Module,
	graphql.Module,
	openapi.Module,
)
