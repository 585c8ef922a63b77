// Package outbound is how the gateway calls services: Dapr service
// invocation that carries the caller's verified identity, and only that.
// Every call's identity headers (auth.Identity.Header) are built here from
// the identity package authn put in the request context; whatever a client
// or a caller put in those headers is dropped.
package outbound

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Module provides the Invoker over the app's sidecar.
var Module = fx.Provide(func(inv *daprx.Invoker) *Invoker { return New(inv) })

// Caller is Dapr HTTP service invocation (*daprx.Invoker).
type Caller interface {
	Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error)
}

// Invoker is a Caller that forwards the verified identity.
type Invoker struct{ next Caller }

// New returns an Invoker that calls through next.
func New(next Caller) *Invoker { return &Invoker{next: next} }

// identityPrefix starts the canonical name of every identity header.
const identityPrefix = "X-Shopmesh-User-"

// Call calls app with header minus any identity header, plus the identity
// of ctx (auth.FromContext) when there is one.
func (i *Invoker) Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	h := make(http.Header, len(header)+3)
	for k, vs := range header {
		if !strings.HasPrefix(http.CanonicalHeaderKey(k), identityPrefix) {
			h[k] = vs
		}
	}
	if id, ok := auth.FromContext(ctx); ok {
		for k, vs := range id.Header() {
			h[k] = vs
		}
	}
	return i.next.Call(ctx, app, method, path, query, body, h)
}
