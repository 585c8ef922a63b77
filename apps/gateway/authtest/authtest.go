// Package authtest issues access tokens for the gateway's tests: an ES256
// issuer with rotating keys, a JWKS source that serves its public keys and
// counts fetches, and a way to forge tokens byte by byte.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

// Issuer signs tokens like the users service: ES256, kid in the header.
type Issuer struct {
	mu   sync.Mutex
	keys []jwk.Key // private; the last one signs
	n    int
}

// NewIssuer returns an issuer with one key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{}
	iss.Rotate(t)
	return iss
}

// Rotate adds a new signing key; the previous ones stay in the JWKS.
func (i *Issuer) Rotate(t testing.TB) string {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.n++
	kid := fmt.Sprintf("test-key-%d-%d", i.n, time.Now().UnixNano())
	must(t, key.Set(jwk.KeyIDKey, kid))
	must(t, key.Set(jwk.AlgorithmKey, jwa.ES256()))
	must(t, key.Set(jwk.KeyUsageKey, jwk.ForSignature))
	i.keys = append(i.keys, key)
	return kid
}

// Drop removes the oldest key from the JWKS (the end of a rotation).
func (i *Issuer) Drop() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = i.keys[1:]
}

// KID is the current signing key's id.
func (i *Issuer) KID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	kid, _ := i.keys[len(i.keys)-1].KeyID()
	return kid
}

// Public returns the current signing key's public half.
func (i *Issuer) Public(t testing.TB) jwk.Key {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	pub, err := i.keys[len(i.keys)-1].PublicKey()
	must(t, err)
	return pub
}

// Set is the JWKS: the public halves of every key held.
func (i *Issuer) Set(t testing.TB) jwk.Set {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jwk.NewSet()
	for _, k := range i.keys {
		pub, err := k.PublicKey()
		must(t, err)
		must(t, set.AddKey(pub))
	}
	return set
}

// JWKS is Set as JSON.
func (i *Issuer) JWKS(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(i.Set(t))
	must(t, err)
	return b
}

// Claims are the claims of a token; Token fills in the usual ones.
type Claims map[string]any

// Token signs claims with the current key, on top of valid defaults: sub
// "user-1", the contract's issuer and audience, the customer role, issued
// now and expiring in 15 minutes. A claim set to nil is left out.
func (i *Issuer) Token(t testing.TB, claims Claims) string {
	t.Helper()
	now := time.Now()
	all := Claims{
		"sub": "user-1", "email": "user-1@example.com", "roles": []string{auth.RoleCustomer},
		"iss": contracts.TokenIssuer, "aud": contracts.TokenAudience,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": fmt.Sprint(now.UnixNano()),
	}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	tok := jwt.New()
	for k, v := range all {
		if tv, ok := v.(time.Time); ok {
			v = tv.Unix()
		}
		if n, ok := v.(int64); ok && (k == "exp" || k == "iat" || k == "nbf") {
			v = time.Unix(n, 0)
		}
		must(t, tok.Set(k, v))
	}
	i.mu.Lock()
	key := i.keys[len(i.keys)-1]
	i.mu.Unlock()
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key))
	must(t, err)
	return string(signed)
}

// Sign signs input ("header.payload" as sent) with the current key the
// way ES256 does (r||s, 32 bytes each), so tests can sign encodings that
// Token never produces.
func (i *Issuer) Sign(t testing.TB, input []byte) []byte {
	t.Helper()
	i.mu.Lock()
	key := i.keys[len(i.keys)-1]
	i.mu.Unlock()
	var priv ecdsa.PrivateKey
	must(t, jwk.Export(key, &priv))
	sum := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, &priv, sum[:])
	must(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig
}

// Customer is a valid token of a customer.
func (i *Issuer) Customer(t testing.TB) string {
	return i.Token(t, Claims{"sub": "customer-1", "email": "customer@example.com"})
}

// Admin is a valid token of an administrator.
func (i *Issuer) Admin(t testing.TB) string {
	return i.Token(t, Claims{"sub": "admin-1", "email": "admin@example.com", "roles": []string{auth.RoleAdmin}})
}

// Forge builds a compact JWS from a header, claims and a signing function
// over "header.payload", which may return nothing (an unsigned token).
func Forge(header, claims map[string]any, sign func(signingInput []byte) []byte) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	return input + "." + enc.EncodeToString(sign([]byte(input)))
}

// ValidClaims are claims that pass every check, for forged tokens.
func ValidClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"sub": "user-1", "roles": []string{auth.RoleAdmin},
		"iss": contracts.TokenIssuer, "aud": contracts.TokenAudience,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
}

// Source serves an issuer's JWKS as an authn.Source and counts fetches.
type Source struct {
	Issuer *Issuer
	T      testing.TB
	// Fail, when set, makes fetches fail (a source that is down).
	Fail    atomic.Bool
	fetches atomic.Int64
}

// Fetch implements authn.Source.
func (s *Source) Fetch(context.Context) (jwk.Set, error) {
	s.fetches.Add(1)
	if s.Fail.Load() {
		return nil, fmt.Errorf("test source is down")
	}
	return s.Issuer.Set(s.T), nil
}

// Fetches counts the fetches so far.
func (s *Source) Fetches() int64 { return s.fetches.Load() }

func (s *Source) String() string { return "test source" }

// Config is the gateway's default configuration with short refresh times.
func Config(t testing.TB) authn.Config {
	t.Helper()
	cfg, err := authn.LoadConfig(func(string) (string, bool) { return "", false })
	must(t, err)
	return cfg
}

// Verifier returns a verifier of iss's tokens with the default
// configuration, and the source it fetches keys from.
func Verifier(t testing.TB, iss *Issuer) (*authn.Verifier, *Source) {
	t.Helper()
	src := &Source{Issuer: iss, T: t}
	cfg := Config(t)
	return authn.NewVerifier(cfg, authn.NewKeys(src, cfg, Discard())), src
}

// Discard is a logger that drops everything.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
