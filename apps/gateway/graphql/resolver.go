// Package graphql serves the storefront graph at /graphql with gqlgen. The
// resolvers read through the same cached catalog as the REST API, so both
// serve the same data; the catalog's answers become GraphQL errors with an
// extensions.code clients can switch on.
package graphql

import (
	"context"
	"log/slog"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
)

// Catalog is what the resolvers read: the catalog, cached.
type Catalog interface {
	ListProducts(ctx context.Context, q catalogclient.ListQuery) (catalogclient.Response, error)
	Product(ctx context.Context, id string) (catalogclient.Response, error)
	Categories(ctx context.Context) (catalogclient.Response, error)
}

// Resolver is the root of the resolvers.
type Resolver struct {
	cat Catalog
	log *slog.Logger
}
