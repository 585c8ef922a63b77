// Package graphql serves the storefront graph at /graphql with gqlgen. The
// resolvers read through the same cached catalog and the same users client
// as the REST API, so both serve the same data; the services' answers
// become GraphQL errors with an extensions.code clients can switch on.
// Each field is checked against the access table (authz.Fields) before it
// is resolved.
package graphql

import (
	"context"
	"log/slog"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
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

// Resolver is the root of the resolvers.
type Resolver struct {
	cat   Catalog
	users Users
	log   *slog.Logger
}
