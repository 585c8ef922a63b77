// Command users serves accounts, sign-in, tokens, profiles and addresses.
// State lives in the users-store component; the creation of each account
// is announced on the users topic through the kit's outbox.
package main

import (
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/admin"
	"github.com/shopmesh/shopmesh/apps/users/api"
	"github.com/shopmesh/shopmesh/apps/users/identity/provider"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/platform"
)

// modules is the whole app (main_test builds it without a sidecar).
var modules = fx.Options(
	platform.Module,
	store.Module,
	provider.Module,
	users.Module,
	api.Module,
	admin.Module,
)

func main() {
	fx.New(modules).Run()
}
