// Package userstest assembles the users service for tests: the real
// domain, built-in provider, store mapping and token issuer over an
// in-memory state store, cheap argon2 parameters and a fake clock.
package userstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
	"github.com/shopmesh/shopmesh/apps/users/password"
	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Cheap hashing for tests: the format and logic are what is tested.
var FastHashing = password.Config{Params: password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, MaxConcurrent: 8}

// TokenConfig is the issuer configuration of Env.
var TokenConfig = tokens.Config{Issuer: contracts.TokenIssuer, Audience: contracts.TokenAudience, AccessTTL: 15 * time.Minute, ReloadInterval: time.Second}

// Env is a users service without a sidecar.
type Env struct {
	Clock    *Clock
	KV       *store.Memory
	Secrets  secrets.Map
	Keys     *tokens.Keyring
	Issuer   *tokens.Issuer
	Hasher   *password.Hasher
	Provider *builtin.Provider
	Service  *users.Service
	Log      *slog.Logger
}

// New returns an Env with a loaded signing key ("kid-1") and the admin
// credentials admin@shopmesh.test / "admin-secret-pw" in its secrets.
func New(t testing.TB) *Env {
	t.Helper()
	e := &Env{
		Clock: &Clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
		Secrets: secrets.Map{
			secrets.SigningKey:    NewSigningKey(t),
			secrets.SigningKeyID:  "kid-1",
			secrets.AdminEmail:    "Admin@ShopMesh.test",
			secrets.AdminPassword: "admin-secret-pw",
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	e.KV = store.NewMemory(e.Clock.Now)
	e.Keys = tokens.NewKeyringWithClock(e.Secrets, TokenConfig.AccessTTL, e.Clock.Now)
	if err := e.Keys.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.Issuer = tokens.NewIssuer(e.Keys, TokenConfig).WithClock(e.Clock.Now)
	h, err := password.NewHasher(FastHashing)
	if err != nil {
		t.Fatal(err)
	}
	e.Hasher = h
	e.Provider = builtin.New(store.NewAccounts(e.KV), h, e.Issuer, builtin.DefaultConfig, e.Log, builtin.WithClock(e.Clock.Now))
	e.Service = users.NewService(e.Provider, store.NewProfiles(e.KV), e.Log)
	return e
}

// Verify checks an access token against the Env's JWKS at the Env's time.
func (e *Env) Verify(token string) (tokens.Claims, error) {
	return tokens.Verify(token, e.Keys.PublicSet(), TokenConfig.Issuer, TokenConfig.Audience, e.Clock.Now())
}

// NewSigningKey returns a fresh P-256 key in PKCS#8 PEM, as
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes it.
func NewSigningKey(t testing.TB) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
