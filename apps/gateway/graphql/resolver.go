// Package graphql serves the storefront graph at /graphql with gqlgen. The
// resolvers read through the same cached catalog and the same service
// clients as the REST API, so both serve the same data; the services'
// answers become GraphQL errors with an extensions.code clients can switch
// on. Each field is checked against the access table (authz.Fields) before
// it is resolved.
package graphql

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/apps/gateway/usersclient"
)

// Catalog is what the resolvers read: the catalog, cached.
type Catalog interface {
	ListProducts(ctx context.Context, q catalogclient.ListQuery) (catalogclient.Response, error)
	Product(ctx context.Context, id string) (catalogclient.Response, error)
	Categories(ctx context.Context) (catalogclient.Response, error)
}

// Users is what the resolvers ask the users app: the caller's profile.
type Users interface {
	Me(ctx context.Context) (usersclient.Response, error)
}

// Orders is what the resolvers ask the orders app: the caller's cart,
// checkout and orders.
type Orders interface {
	Cart(ctx context.Context) (servicecall.Answer, error)
	AddToCart(ctx context.Context, body []byte) (servicecall.Answer, error)
	RemoveFromCart(ctx context.Context, productID string) (servicecall.Answer, error)
	Checkout(ctx context.Context, body []byte, idempotencyKey string) (servicecall.Answer, error)
	Orders(ctx context.Context) (servicecall.Answer, error)
	Order(ctx context.Context, id string) (servicecall.Answer, error)
}

// Search is what the resolvers ask the search app.
type Search interface {
	Search(ctx context.Context, params url.Values) (servicecall.Answer, error)
}

// Services are the apps the resolvers call.
type Services struct {
	Catalog Catalog
	Users   Users
	Orders  Orders
	Search  Search
}

// Resolver is the root of the resolvers.
type Resolver struct {
	cat    Catalog
	users  Users
	orders Orders
	search Search
	log    *slog.Logger
}
