package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// invoker answers service invocations from an http.Handler, as the users
// app behind its sidecar would, and records what was invoked.
type invoker struct {
	h     http.Handler
	calls []string
}

func (i *invoker) Call(ctx context.Context, app, method, path string, _ url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	i.calls = append(i.calls, app+" "+method+" "+path)
	req := httptest.NewRequestWithContext(ctx, method, "/"+path, body)
	req.Header = header.Clone()
	w := httptest.NewRecorder()
	i.h.ServeHTTP(w, req)
	return w.Result(), nil
}

func jwksHandler(body func() []byte, hits *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body())
	})
}

// The default source: the users app's JWKS through Dapr service invocation.
func TestAppSourceFetchesThroughDapr(t *testing.T) {
	iss := authtest.NewIssuer(t)
	inv := &invoker{h: jwksHandler(func() []byte { return iss.JWKS(t) }, nil)}
	cfg := authtest.Config(t)
	src := authn.NewSource(cfg, inv)
	v := authn.NewVerifier(cfg, authn.NewKeys(src, cfg, authtest.Discard()))

	_, err := v.Verify(t.Context(), iss.Customer(t))
	require.NoError(t, err)
	assert.Equal(t, []string{contracts.AppUsers + " GET .well-known/jwks.json"}, inv.calls)
}

// Cognito's JWKS, fetched from its URL (an httptest server here).
func TestURLSourceAndPeriodicRefresh(t *testing.T) {
	iss := authtest.NewIssuer(t)
	var hits atomic.Int64
	srv := httptest.NewServer(jwksHandler(func() []byte { return iss.JWKS(t) }, &hits))
	t.Cleanup(srv.Close)

	cfg := authtest.Config(t)
	cfg.JWKSURL = srv.URL + "/.well-known/jwks.json"
	cfg.RefreshInterval = 50 * time.Millisecond
	keys := authn.NewKeys(authn.NewSource(cfg, nil), cfg, authtest.Discard())
	keys.Start()
	t.Cleanup(keys.Stop)
	require.Eventually(t, func() bool { return hits.Load() >= 1 }, 2*time.Second, 10*time.Millisecond, "fetched at start")

	kid := iss.Rotate(t)
	// No request needed: the periodic refresh brings the new key.
	require.Eventually(t, func() bool { _, ok := mustSet(t, keys, kid); return ok }, 2*time.Second, 10*time.Millisecond)
	assert.GreaterOrEqual(t, hits.Load(), int64(2))
}

// mustSet looks kid up without causing a fetch on demand (the minimum
// interval has not passed since the start).
func mustSet(t *testing.T, k *authn.Keys, kid string) (jwk.Key, bool) {
	t.Helper()
	key, err := k.Lookup(t.Context(), kid)
	return key, err == nil
}

func TestJWKSContentIsFiltered(t *testing.T) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key := func(kid, use string) jwk.Key {
		k, err := jwk.Import(raw) // private: only its public half may be kept
		require.NoError(t, err)
		if kid != "" {
			require.NoError(t, k.Set(jwk.KeyIDKey, kid))
		}
		if use != "" {
			require.NoError(t, k.Set(jwk.KeyUsageKey, use))
		}
		return k
	}
	set := jwk.NewSet()
	for _, k := range []jwk.Key{key("sig-1", "sig"), key("no-use", ""), key("enc-1", "enc"), key("", "sig")} {
		require.NoError(t, set.AddKey(k))
	}
	body, err := json.Marshal(set)
	require.NoError(t, err)
	inv := &invoker{h: jwksHandler(func() []byte { return body }, nil)}
	got, err := authn.AppSource{Invoker: inv, App: "users"}.Fetch(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, got.Len())
	for i := range got.Len() {
		k, _ := got.Key(i)
		kid, _ := k.KeyID()
		assert.Contains(t, []string{"sig-1", "no-use"}, kid)
		assert.NotContains(t, jsonOf(t, k), `"d"`, "no private material is kept")
	}

	for name, h := range map[string]http.Handler{
		"not found":  http.NotFoundHandler(),
		"not JSON":   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }),
		"empty set":  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) }),
		"enc only":   jwksHandler(func() []byte { b, _ := json.Marshal(map[string]any{"keys": []any{key("e", "enc")}}); return b }, nil),
		"oversized":  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat(" ", 2<<20))) }),
		"server err": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }),
	} {
		_, err := authn.AppSource{Invoker: &invoker{h: h}, App: "users"}.Fetch(t.Context())
		assert.Error(t, err, name)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
