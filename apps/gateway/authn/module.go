// Package authn verifies the gateway's bearer tokens: ES256 JWTs issued by
// the users service locally, or Amazon Cognito's on AWS. It checks the
// signature against a cached JWKS (fetched through Dapr service invocation
// from the users app, or from a URL), pins the algorithm, and requires the
// configured issuer and audience and a current lifetime. A verified token
// becomes an auth.Identity in the request context, which the gateway
// forwards to services (see package outbound) and package authz checks.
package authn

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the Config, the Keys (started and stopped with the app)
// and the Verifier.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	newKeys,
	func(cfg Config, k *Keys) *Verifier { return NewVerifier(cfg, k) },
)

func newKeys(lc fx.Lifecycle, cfg Config, inv *daprx.Invoker, log *slog.Logger) *Keys {
	k := NewKeys(NewSource(cfg, inv), cfg, log.With("component", "jwks"))
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { k.Start(); return nil },
		OnStop:  func(context.Context) error { k.Stop(); return nil },
	})
	return k
}

// NewSource returns the JWKS source cfg selects: the URL when one is set,
// the app through Dapr service invocation otherwise.
func NewSource(cfg Config, inv Invoker) Source {
	if cfg.JWKSURL != "" {
		return URLSource{Client: &http.Client{Timeout: cfg.FetchTimeout}, URL: cfg.JWKSURL}
	}
	return AppSource{Invoker: inv, App: cfg.JWKSApp}
}
