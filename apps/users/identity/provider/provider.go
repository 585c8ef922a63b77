// Package provider chooses the identity provider by IDENTITY_PROVIDER:
// "builtin" (default; package builtin) or "cognito" (package cognito, AWS).
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/cognito"
	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
	"github.com/shopmesh/shopmesh/apps/users/password"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
	"github.com/shopmesh/shopmesh/internal/platform/background"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// Kinds of provider.
const (
	Builtin = "builtin"
	Cognito = "cognito"
)

// Config selects the provider.
type Config struct{ Kind string }

// LoadConfig reads IDENTITY_PROVIDER (builtin or cognito; default builtin).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{Kind: l.String("IDENTITY_PROVIDER", Builtin)}
	if cfg.Kind != Builtin && cfg.Kind != Cognito {
		return Config{}, fmt.Errorf("config IDENTITY_PROVIDER: %q is neither %s nor %s", cfg.Kind, Builtin, Cognito)
	}
	return cfg, l.Err()
}

// newCognito builds the Cognito adapter from COGNITO_* settings.
func newCognito(ctx context.Context, lookup func(string) (string, bool)) (identity.Provider, error) {
	cfg, err := cognito.LoadConfig(lookup)
	if err != nil {
		return nil, err
	}
	return cognito.New(ctx, cfg)
}

type params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    Config
	Tokens    tokens.Config
	Keys      *tokens.Keyring
	Sidecar   *daprx.Sidecar
	Log       *slog.Logger
	Builtin   *builtin.Provider // cheap to build; used only when chosen
}

// New returns the configured provider. For the built-in one it also runs
// the signing-key reload loop for the app's lifetime.
func New(p params) (identity.Provider, error) {
	if p.Config.Kind == Cognito {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		idp, err := newCognito(ctx, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		p.Log.Info("identity provider: cognito")
		return idp, nil
	}
	background.Go(p.Lifecycle, func(ctx context.Context) {
		p.Keys.Run(ctx, p.Tokens.ReloadInterval, p.Sidecar.WaitOutbound, p.Log)
	})
	p.Log.Info("identity provider: builtin")
	return p.Builtin, nil
}

// readiness reports the provider's own readiness (the built-in one: a
// signing key is loaded) when it has any.
func readiness(idp identity.Provider) health.Check {
	check := func(context.Context) error { return nil }
	if r, ok := idp.(interface{ Ready(context.Context) error }); ok {
		check = r.Ready
	}
	return health.Check{Name: "identity-provider", Check: check}
}

// Module provides the identity.Provider chosen by IDENTITY_PROVIDER, the
// built-in provider's parts (hashing, tokens) and its readiness check.
var Module = fx.Options(
	password.Module,
	tokens.Module,
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		func() (builtin.Config, error) { return builtin.LoadConfig(os.LookupEnv) },
		func(s builtin.Store, h *password.Hasher, i *tokens.Issuer, cfg builtin.Config, log *slog.Logger) *builtin.Provider {
			return builtin.New(s, h, i, cfg, log)
		},
		New,
		fx.Annotate(readiness, fx.ResultTags(`group:"readiness"`)),
	),
)
