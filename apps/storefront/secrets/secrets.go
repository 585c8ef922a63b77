// Package secrets reads the storefront's one secret, the session-sealing
// key, from the Dapr secret store, and keeps the app unready until it has.
// It is the storefront's only use of its sidecar.
package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/storefront/session"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/background"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// Module provides the session.Keeper over the secret store, loads the key
// once the app has started, and reports readiness only once it has.
var Module = fx.Options(
	fx.Provide(
		func(c dapr.Client, log *slog.Logger) *session.Keeper { return session.NewKeeper(Store{client: c}, log) },
		fx.Annotate(func(k *session.Keeper) health.Check {
			return health.Check{Name: "session-key", Check: k.Ready}
		}, fx.ResultTags(`group:"readiness"`)),
	),
	fx.Invoke(load),
)

// retryEvery is the pause between attempts to read a key that failed.
const retryEvery = 2 * time.Second

// load reads the key beside start-up rather than in it: the sidecar may
// start after the app (it waits for the app's port), and until the key is
// there pages answer 503 and /readyz says why.
func load(lc fx.Lifecycle, k *session.Keeper, sc *daprx.Sidecar) {
	background.Go(lc, func(ctx context.Context) { k.Run(ctx, sc.WaitOutbound, retryEvery) })
}

// Store is a session.Source on contracts.SecretStore.
type Store struct{ client dapr.Client }

// Secret implements session.Source. Errors never contain the value.
func (s Store) Secret(ctx context.Context, name string) (string, error) {
	m, err := s.client.GetSecret(ctx, contracts.SecretStore, name, nil)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("secret %s: not in %s", name, contracts.SecretStore)
	}
	return v, nil
}
