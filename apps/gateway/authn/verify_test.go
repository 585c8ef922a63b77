package authn_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

// clock is a settable time for the key cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	iss   *authtest.Issuer
	src   *authtest.Source
	keys  *authn.Keys
	v     *authn.Verifier
	clock *clock
}

func newFixture(t *testing.T, cfg authn.Config) *fixture {
	t.Helper()
	iss := authtest.NewIssuer(t)
	src := &authtest.Source{Issuer: iss, T: t}
	keys := authn.NewKeys(src, cfg, authtest.Discard())
	c := &clock{now: time.Now()}
	keys.SetClock(c.Now)
	return &fixture{iss: iss, src: src, keys: keys, v: authn.NewVerifier(cfg, keys), clock: c}
}

func (f *fixture) verify(t *testing.T, token string) (auth.Identity, error) {
	t.Helper()
	return f.v.Verify(t.Context(), token)
}

func requireRejected(t *testing.T, err error) *authn.TokenError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, authn.ErrInvalidToken)
	var te *authn.TokenError
	require.ErrorAs(t, err, &te)
	return te
}

func TestValidTokens(t *testing.T) {
	f := newFixture(t, authtest.Config(t))
	id, err := f.verify(t, f.iss.Customer(t))
	require.NoError(t, err)
	assert.Equal(t, auth.Identity{UserID: "customer-1", Email: "customer@example.com", Roles: []string{auth.RoleCustomer}}, id)

	id, err = f.verify(t, f.iss.Admin(t))
	require.NoError(t, err)
	assert.Equal(t, "admin-1", id.UserID)
	assert.ElementsMatch(t, []string{auth.RoleCustomer, auth.RoleAdmin}, id.Roles, "every verified user is a customer too")

	// No roles and no e-mail at all: still a customer, with no e-mail.
	id, err = f.verify(t, f.iss.Token(t, authtest.Claims{"roles": nil, "email": nil}))
	require.NoError(t, err)
	assert.Equal(t, []string{auth.RoleCustomer}, id.Roles)
	assert.Empty(t, id.Email)

	// Roles that could smuggle others through the comma-separated header are dropped.
	id, err = f.verify(t, f.iss.Token(t, authtest.Claims{"roles": []string{"x,admin", "admin\r\nX-Evil: 1", "support"}}))
	require.NoError(t, err)
	assert.Equal(t, []string{auth.RoleCustomer, "support"}, id.Roles)

	// Within the leeway of 30 s, in both directions.
	_, err = f.verify(t, f.iss.Token(t, authtest.Claims{"exp": time.Now().Add(-20 * time.Second).Unix()}))
	require.NoError(t, err, "expired 20 s ago is within the leeway")
	_, err = f.verify(t, f.iss.Token(t, authtest.Claims{"iat": time.Now().Add(20 * time.Second).Unix(), "nbf": time.Now().Add(20 * time.Second).Unix()}))
	require.NoError(t, err, "issued 20 s in the future is within the leeway")
	assert.EqualValues(t, 1, f.src.Fetches(), "the keys were fetched once")
}

func TestRejectedTokens(t *testing.T) {
	f := newFixture(t, authtest.Config(t))
	valid := f.iss.Customer(t)
	_, err := f.verify(t, valid)
	require.NoError(t, err)
	kid := f.iss.KID()

	// Tampered payload: roles changed to admin, the signature kept.
	parts := strings.Split(valid, ".")
	var claims map[string]any
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(payload, &claims))
	claims["roles"] = []string{"admin"}
	forgedPayload, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]

	// HS256 keyed with the public key, in each form an attacker might try.
	pub := f.iss.Public(t)
	pubJSON, _ := json.Marshal(pub)
	var raw any
	require.NoError(t, jwk.Export(pub, &raw))
	der, err := x509.MarshalPKIXPublicKey(raw)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := func(secret []byte) string {
		return authtest.Forge(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, authtest.ValidClaims(), func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		})
	}

	cases := map[string]string{
		"tampered payload":     tampered,
		"tampered signature":   parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipFirst(mustDecode(t, parts[2]))),
		"wrong issuer":         f.iss.Token(t, authtest.Claims{"iss": "https://evil.example"}),
		"no issuer":            f.iss.Token(t, authtest.Claims{"iss": nil}),
		"wrong audience":       f.iss.Token(t, authtest.Claims{"aud": "another-api"}),
		"no audience":          f.iss.Token(t, authtest.Claims{"aud": nil}),
		"no expiry":            f.iss.Token(t, authtest.Claims{"exp": nil}),
		"no subject":           f.iss.Token(t, authtest.Claims{"sub": nil}),
		"not yet valid":        f.iss.Token(t, authtest.Claims{"nbf": time.Now().Add(5 * time.Minute).Unix()}),
		"issued in future":     f.iss.Token(t, authtest.Claims{"iat": time.Now().Add(5 * time.Minute).Unix()}),
		"alg none, unsigned":   authtest.Forge(map[string]any{"alg": "none", "kid": kid}, authtest.ValidClaims(), func([]byte) []byte { return nil }),
		"alg none, signature":  authtest.Forge(map[string]any{"alg": "none", "kid": kid}, authtest.ValidClaims(), func([]byte) []byte { return []byte("x") }),
		"alg NONE":             authtest.Forge(map[string]any{"alg": "NONE", "kid": kid}, authtest.ValidClaims(), func([]byte) []byte { return []byte("x") }),
		"HS256, JWK as secret": hs(pubJSON),
		"HS256, PEM as secret": hs(pubPEM),
		"HS256, DER as secret": hs(der),
		"no kid":               authtest.Forge(map[string]any{"alg": "ES256"}, authtest.ValidClaims(), func([]byte) []byte { return make([]byte, 64) }),
		"garbage":              "not.a.token",
		"two parts":            parts[0] + "." + parts[1],
		"JSON serialization":   `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		"too long":             valid + strings.Repeat("A", authn.MaxTokenBytes),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.verify(t, tok)
			requireRejected(t, err)
			t.Log(err)
		})
	}

	t.Run("expired", func(t *testing.T) {
		_, err := f.verify(t, f.iss.Token(t, authtest.Claims{"exp": time.Now().Add(-time.Minute).Unix(), "iat": time.Now().Add(-16 * time.Minute).Unix()}))
		assert.True(t, requireRejected(t, err).Expired)
	})
}

func flipFirst(b []byte) []byte {
	b[0] ^= 0xff
	return b
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// An RS256 token is refused while ES256 is pinned, even when its key is in
// the JWKS and its signature is good.
func TestRS256IsRefusedWhenES256IsPinned(t *testing.T) {
	f := newFixture(t, authtest.Config(t))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	priv, err := jwk.Import(rsaKey)
	require.NoError(t, err)
	require.NoError(t, priv.Set(jwk.KeyIDKey, "rsa-1"))
	pub, err := priv.PublicKey()
	require.NoError(t, err)
	sign := func(kid string) string {
		require.NoError(t, priv.Set(jwk.KeyIDKey, kid))
		tok := jwt.New()
		for k, v := range authtest.ValidClaims() {
			require.NoError(t, tok.Set(k, v))
		}
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), priv))
		require.NoError(t, err)
		return string(b)
	}
	// The RSA key is published too, so only the algorithm pin stops it.
	src := &setSource{set: f.iss.Set(t)}
	require.NoError(t, src.set.AddKey(pub))
	cfg := authtest.Config(t)
	v := authn.NewVerifier(cfg, authn.NewKeys(src, cfg, authtest.Discard()))

	_, err = v.Verify(t.Context(), sign("rsa-1"))
	requireRejected(t, err)
	_, err = v.Verify(t.Context(), sign(f.iss.KID()))
	requireRejected(t, err)

	// The same token is accepted once RS256 is the configured algorithm
	// (as for Cognito): the refusal above is the pin, not a broken token.
	cfg.Algorithms = []jwa.SignatureAlgorithm{jwa.RS256()}
	v = authn.NewVerifier(cfg, authn.NewKeys(src, cfg, authtest.Discard()))
	_, err = v.Verify(t.Context(), sign("rsa-1"))
	require.NoError(t, err)
	// ...and an ES256 token no longer is.
	_, err = v.Verify(t.Context(), f.iss.Customer(t))
	requireRejected(t, err)
}

func TestKeyRotation(t *testing.T) {
	cfg := authtest.Config(t)
	require.Equal(t, 10*time.Second, cfg.MinRefreshInterval)
	f := newFixture(t, cfg)
	before := f.iss.Customer(t)
	_, err := f.verify(t, before)
	require.NoError(t, err)
	require.EqualValues(t, 1, f.src.Fetches())

	// The issuer rotates; its JWKS holds the new key and the previous one.
	f.iss.Rotate(t)
	after := f.iss.Customer(t)
	f.clock.Advance(11 * time.Second)
	_, err = f.verify(t, after)
	require.NoError(t, err, "an unknown kid makes the gateway fetch the keys again")
	assert.EqualValues(t, 2, f.src.Fetches(), "exactly one more fetch")
	_, err = f.verify(t, before)
	require.NoError(t, err, "a token signed before the rotation stays valid while its key is in the JWKS")
	_, err = f.verify(t, after)
	require.NoError(t, err)
	assert.EqualValues(t, 2, f.src.Fetches(), "known kids cause no fetch")

	// Made-up kids: one fetch per 10 s at most, however many arrive.
	made := authtest.Forge(map[string]any{"alg": "ES256", "kid": "made-up"}, authtest.ValidClaims(), func([]byte) []byte { return make([]byte, 64) })
	f.clock.Advance(time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := f.v.Verify(t.Context(), made)
			assert.ErrorIs(t, err, authn.ErrInvalidToken)
			assert.ErrorIs(t, err, authn.ErrUnknownKey)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 2, f.src.Fetches(), "within 10 s of the last fetch on demand, no fetch")
	f.clock.Advance(10 * time.Second)
	for range 50 {
		wg.Go(func() { _, _ = f.v.Verify(t.Context(), made) })
	}
	wg.Wait()
	assert.EqualValues(t, 3, f.src.Fetches(), "50 concurrent unknown kids cause one fetch")

	// The old key leaves the JWKS: once the gateway has fetched the keys
	// again, tokens signed with it are refused.
	f.iss.Drop()
	f.keys.Refresh()
	_, err = f.verify(t, before)
	requireRejected(t, err)
	_, err = f.verify(t, after)
	require.NoError(t, err)
}

func TestKeysUnavailable(t *testing.T) {
	f := newFixture(t, authtest.Config(t))
	f.src.Fail.Store(true)
	_, err := f.verify(t, f.iss.Customer(t))
	require.ErrorIs(t, err, authn.ErrKeysUnavailable)
	assert.NotErrorIs(t, err, authn.ErrInvalidToken)

	// Once the source answers (and 10 s have passed), tokens verify.
	f.src.Fail.Store(false)
	f.clock.Advance(10 * time.Second)
	_, err = f.verify(t, f.iss.Customer(t))
	require.NoError(t, err)

	// A later failure keeps the keys held.
	f.src.Fail.Store(true)
	f.keys.Refresh()
	_, err = f.verify(t, f.iss.Customer(t))
	require.NoError(t, err)
}

// Cognito: RS256, audience in client_id, roles in cognito:groups, no e-mail
// in access tokens, token_use access.
func TestCognitoClaimMapping(t *testing.T) {
	const pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf"
	env := map[string]string{
		"AUTH_JWKS_URL":       pool + "/.well-known/jwks.json",
		"AUTH_ISSUER":         pool,
		"AUTH_AUDIENCE":       "client-123",
		"AUTH_AUDIENCE_CLAIM": "client_id",
		"AUTH_ROLES_CLAIM":    "cognito:groups",
		"AUTH_ALGORITHMS":     "RS256",
		"AUTH_TOKEN_USE":      "access",
	}
	cfg, err := authn.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	assert.IsType(t, authn.URLSource{}, authn.NewSource(cfg, nil), "a JWKS URL is fetched directly")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	priv, err := jwk.Import(rsaKey)
	require.NoError(t, err)
	require.NoError(t, priv.Set(jwk.KeyIDKey, "cognito-1"))
	require.NoError(t, priv.Set(jwk.AlgorithmKey, jwa.RS256()))
	pub, err := priv.PublicKey()
	require.NoError(t, err)
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(pub))
	v := authn.NewVerifier(cfg, authn.NewKeys(&setSource{set: set}, cfg, authtest.Discard()))

	sign := func(claims map[string]any) string {
		tok := jwt.New()
		now := time.Now()
		base := map[string]any{
			"sub": "5f1e-uuid", "iss": pool, "client_id": "client-123", "token_use": "access",
			"cognito:groups": []string{"admin"}, "username": "alice", "scope": "openid",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		}
		for k, v := range claims {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		for k, v := range base {
			require.NoError(t, tok.Set(k, v))
		}
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), priv))
		require.NoError(t, err)
		return string(b)
	}
	id, err := v.Verify(t.Context(), sign(nil))
	require.NoError(t, err)
	assert.Equal(t, auth.Identity{UserID: "5f1e-uuid", Roles: []string{auth.RoleCustomer, auth.RoleAdmin}}, id)

	id, err = v.Verify(t.Context(), sign(map[string]any{"cognito:groups": nil, "email": "a@example.com"}))
	require.NoError(t, err)
	assert.Equal(t, auth.Identity{UserID: "5f1e-uuid", Email: "a@example.com", Roles: []string{auth.RoleCustomer}}, id)

	for name, claims := range map[string]map[string]any{
		"other client":          {"client_id": "client-999"},
		"no client_id":          {"client_id": nil},
		"ID token":              {"token_use": "id", "aud": "client-123", "client_id": nil},
		"another pool's issuer": {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"},
	} {
		_, err := v.Verify(t.Context(), sign(claims))
		assert.ErrorIs(t, err, authn.ErrInvalidToken, name)
	}
}

func TestConfig(t *testing.T) {
	cfg, err := authn.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, contracts.TokenIssuer, cfg.Issuer)
	assert.Equal(t, contracts.TokenAudience, cfg.Audience)
	assert.Equal(t, []jwa.SignatureAlgorithm{jwa.ES256()}, cfg.Algorithms)
	assert.Equal(t, contracts.AppUsers, cfg.JWKSApp)
	assert.Equal(t, 30*time.Second, cfg.Leeway)
	assert.Equal(t, 5*time.Minute, cfg.RefreshInterval)
	assert.IsType(t, authn.AppSource{}, authn.NewSource(cfg, nil), "by default the keys come from the users app through Dapr")

	for name, env := range map[string]map[string]string{
		"HS256":        {"AUTH_ALGORITHMS": "ES256,HS256"},
		"none":         {"AUTH_ALGORITHMS": "none"},
		"unknown alg":  {"AUTH_ALGORITHMS": "ES999"},
		"no algs":      {"AUTH_ALGORITHMS": " , "},
		"http URL":     {"AUTH_JWKS_URL": "http://keys.example.com/jwks.json"},
		"relative URL": {"AUTH_JWKS_URL": "/jwks.json"},
		"huge leeway":  {"AUTH_LEEWAY": "1h"},
		"bad duration": {"AUTH_JWKS_REFRESH_INTERVAL": "often"},
	} {
		_, err := authn.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		assert.Error(t, err, name)
	}
	_, err = authn.LoadConfig(func(k string) (string, bool) {
		return map[string]string{"AUTH_JWKS_URL": "http://127.0.0.1:9999/jwks.json"}[k], k == "AUTH_JWKS_URL"
	})
	assert.NoError(t, err, "plain http is allowed to the loopback interface")
}

// setSource serves a fixed set.
type setSource struct{ set jwk.Set }

func (s *setSource) Fetch(context.Context) (jwk.Set, error) { return s.set, nil }

func (s *setSource) String() string { return "fixed set" }
