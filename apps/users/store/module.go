package store

import (
	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Module provides the sidecar-backed KV, the profile store (users.Store),
// the built-in provider's store (builtin.Store) and the secret source.
var Module = fx.Options(
	outbox.Module(contracts.UsersStore),
	fx.Provide(
		fx.Annotate(NewDapr, fx.As(new(KV))),
		fx.Annotate(NewProfiles, fx.As(new(users.Store))),
		fx.Annotate(NewAccounts, fx.As(new(builtin.Store))),
		fx.Annotate(func(c dapr.Client) *Secrets { return NewSecrets(c) }, fx.As(new(secrets.Source))),
	),
)
