package tokens_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// newPEM returns a fresh P-256 key as openssl genpkey writes it (PKCS#8).
func newPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var cfg = tokens.Config{Issuer: contracts.TokenIssuer, Audience: contracts.TokenAudience, AccessTTL: 15 * time.Minute, ReloadInterval: time.Second}

type fixture struct {
	secrets secrets.Map
	clock   *clock
	keys    *tokens.Keyring
	issuer  *tokens.Issuer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		secrets: secrets.Map{secrets.SigningKey: newPEM(t), secrets.SigningKeyID: "kid-1"},
		clock:   &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)},
	}
	f.keys = tokens.NewKeyringWithClock(f.secrets, cfg.AccessTTL, f.clock.now)
	require.NoError(t, f.keys.Load(t.Context()))
	f.issuer = tokens.NewIssuer(f.keys, cfg).WithClock(f.clock.now)
	return f
}

// rotate does what `local/secrets.sh rotate-jwt-key` does to the store.
func (f *fixture) rotate(t *testing.T, newKID string) {
	t.Helper()
	f.secrets[secrets.PreviousSigningKey] = f.secrets[secrets.SigningKey]
	f.secrets[secrets.PreviousKeyID] = f.secrets[secrets.SigningKeyID]
	f.secrets[secrets.SigningKey] = newPEM(t)
	f.secrets[secrets.SigningKeyID] = newKID
	require.NoError(t, f.keys.Load(t.Context()))
}

func (f *fixture) verify(token string) (tokens.Claims, error) {
	return tokens.Verify(token, f.keys.PublicSet(), cfg.Issuer, cfg.Audience, f.clock.now())
}

func TestIssuedTokenClaims(t *testing.T) {
	f := newFixture(t)
	tok, err := f.issuer.Issue(tokens.Claims{Subject: "u-1", Email: "ann@example.com", Roles: []string{"customer", "admin"}})
	require.NoError(t, err)

	c, err := f.verify(tok)
	require.NoError(t, err)
	assert.Equal(t, "u-1", c.Subject)
	assert.Equal(t, "ann@example.com", c.Email)
	assert.Equal(t, []string{"customer", "admin"}, c.Roles)
	assert.Equal(t, "kid-1", c.KeyID)
	assert.NotEmpty(t, c.ID)
	assert.Equal(t, f.clock.now(), c.IssuedAt)
	assert.Equal(t, 15*time.Minute, c.ExpiresAt.Sub(c.IssuedAt))

	// The raw header and claims, as the gateway will read them.
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	var hdr, claims map[string]any
	decodePart(t, parts[0], &hdr)
	decodePart(t, parts[1], &claims)
	assert.Equal(t, map[string]any{"alg": "ES256", "kid": "kid-1", "typ": "JWT"}, hdr)
	assert.Equal(t, contracts.TokenIssuer, claims["iss"])
	assert.Equal(t, []any{contracts.TokenAudience}, claims["aud"])
	for _, k := range []string{"sub", "email", "roles", "exp", "iat", "jti"} {
		assert.Contains(t, claims, k)
	}

	// Two tokens never share a jti.
	tok2, err := f.issuer.Issue(tokens.Claims{Subject: "u-1"})
	require.NoError(t, err)
	c2, err := f.verify(tok2)
	require.NoError(t, err)
	assert.NotEqual(t, c.ID, c2.ID)
	assert.Equal(t, []string{}, c2.Roles)
}

func decodePart(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

func TestTokensExpireAndNeedIssuerAndAudience(t *testing.T) {
	f := newFixture(t)
	tok, err := f.issuer.Issue(tokens.Claims{Subject: "u-1"})
	require.NoError(t, err)
	set := f.keys.PublicSet()

	_, err = tokens.Verify(tok, set, "someone-else", cfg.Audience, f.clock.now())
	assert.ErrorIs(t, err, tokens.ErrInvalid)
	_, err = tokens.Verify(tok, set, cfg.Issuer, "other-api", f.clock.now())
	assert.ErrorIs(t, err, tokens.ErrInvalid)
	_, err = tokens.Verify(tok, set, cfg.Issuer, cfg.Audience, f.clock.now().Add(14*time.Minute))
	assert.NoError(t, err)
	_, err = tokens.Verify(tok, set, cfg.Issuer, cfg.Audience, f.clock.now().Add(16*time.Minute))
	assert.ErrorIs(t, err, tokens.ErrInvalid, "expired")
}

// A rotation keeps tokens of the old key verifiable with the new JWKS, and
// new tokens carry the new kid.
func TestRotationKeepsOldTokensVerifiable(t *testing.T) {
	f := newFixture(t)
	old, err := f.issuer.Issue(tokens.Claims{Subject: "u-1"})
	require.NoError(t, err)

	f.rotate(t, "kid-2")
	assert.Equal(t, "kid-2", f.keys.CurrentKeyID())
	assert.Equal(t, []string{"kid-2", "kid-1"}, kids(t, f.keys.PublicSet()), "current first, then previous")

	c, err := f.verify(old)
	require.NoError(t, err, "a token of the previous key verifies with the new JWKS")
	assert.Equal(t, "kid-1", c.KeyID)

	fresh, err := f.issuer.Issue(tokens.Claims{Subject: "u-1"})
	require.NoError(t, err)
	c, err = f.verify(fresh)
	require.NoError(t, err)
	assert.Equal(t, "kid-2", c.KeyID)

	// A second rotation drops kid-1 from the store; it stays published for
	// the lifetime of the tokens it signed, then goes.
	f.rotate(t, "kid-3")
	assert.Equal(t, []string{"kid-3", "kid-1", "kid-2"}, kids(t, f.keys.PublicSet()))
	_, err = f.verify(old)
	require.NoError(t, err)
	f.clock.advance(cfg.AccessTTL + time.Second)
	require.NoError(t, f.keys.Load(t.Context()))
	assert.Equal(t, []string{"kid-3", "kid-2"}, kids(t, f.keys.PublicSet()))
	_, err = f.verify(old)
	assert.ErrorIs(t, err, tokens.ErrInvalid, "expired and its key retired")
}

func kids(t *testing.T, set jwk.Set) []string {
	t.Helper()
	var out []string
	for i := range set.Len() {
		k, ok := set.Key(i)
		require.True(t, ok)
		id, _ := k.KeyID()
		out = append(out, id)
	}
	return out
}

func TestJWKSIsPublicES256(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, "kid-2")
	b, err := json.Marshal(f.keys.PublicSet())
	require.NoError(t, err)
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Keys, 2)
	for _, k := range doc.Keys {
		assert.Equal(t, "EC", k["kty"])
		assert.Equal(t, "P-256", k["crv"])
		assert.Equal(t, "ES256", k["alg"])
		assert.Equal(t, "sig", k["use"])
		assert.NotEmpty(t, k["kid"])
		assert.NotContains(t, k, "d", "no private part")
	}
}

// The verifier uses the key's algorithm, never the token's header: tokens
// with alg none, HS256 over the public key, an unknown key or no kid fail.
func TestAlgorithmIsPinned(t *testing.T) {
	f := newFixture(t)
	good, err := f.issuer.Issue(tokens.Claims{Subject: "u-1", Roles: []string{"customer"}})
	require.NoError(t, err)
	parts := strings.Split(good, ".")

	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// alg none, claims upgraded to admin.
	var claims map[string]any
	decodePart(t, parts[1], &claims)
	claims["roles"] = []string{"admin"}
	none := enc(map[string]string{"alg": "none", "kid": "kid-1"}) + "." + enc(claims) + "."
	_, err = f.verify(none)
	assert.ErrorIs(t, err, tokens.ErrInvalid)

	// HS256 keyed with the public JWK's JSON (the classic confusion).
	pubJSON, err := json.Marshal(f.keys.PublicSet())
	require.NoError(t, err)
	signingInput := enc(map[string]string{"alg": "HS256", "kid": "kid-1", "typ": "JWT"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, pubJSON)
	mac.Write([]byte(signingInput))
	hs := signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	_, err = f.verify(hs)
	assert.ErrorIs(t, err, tokens.ErrInvalid)

	// ES256 with a key that is not published, but claiming kid-1.
	rogue, err := tokens.ParsePrivateKey(newPEM(t), "kid-1")
	require.NoError(t, err)
	tok, err := jwt.NewBuilder().Issuer(cfg.Issuer).Audience([]string{cfg.Audience}).Subject("u-1").
		Expiration(f.clock.now().Add(time.Minute)).Build()
	require.NoError(t, err)
	forged, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), rogue))
	require.NoError(t, err)
	_, err = f.verify(string(forged))
	assert.ErrorIs(t, err, tokens.ErrInvalid)

	// No kid at all.
	noKID, err := tokens.ParsePrivateKey(f.secrets[secrets.SigningKey], "x")
	require.NoError(t, err)
	require.NoError(t, noKID.Remove(jwk.KeyIDKey))
	unkeyed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), noKID))
	require.NoError(t, err)
	_, err = f.verify(string(unkeyed))
	assert.ErrorIs(t, err, tokens.ErrInvalid)

	// Tampered payload.
	_, err = f.verify(parts[0] + "." + enc(claims) + "." + parts[2])
	assert.ErrorIs(t, err, tokens.ErrInvalid)
}

func TestLoadFailuresKeepTheKeys(t *testing.T) {
	f := newFixture(t)
	good := f.secrets[secrets.SigningKey]

	f.secrets[secrets.SigningKey] = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
	err := f.keys.Load(t.Context())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not a key", "errors never quote key material")
	assert.Equal(t, "kid-1", f.keys.CurrentKeyID(), "the last good key stays")

	delete(f.secrets, secrets.SigningKey)
	require.ErrorIs(t, f.keys.Load(t.Context()), secrets.ErrNotFound)
	assert.Equal(t, "kid-1", f.keys.CurrentKeyID())

	// A previous key with the current kid is a broken rotation.
	f.secrets[secrets.SigningKey] = good
	f.secrets[secrets.PreviousSigningKey], f.secrets[secrets.PreviousKeyID] = newPEM(t), "kid-1"
	assert.Error(t, f.keys.Load(t.Context()))
}

func TestNoKeyNoTokens(t *testing.T) {
	keys := tokens.NewKeyring(secrets.Map{}, time.Minute)
	_, err := tokens.NewIssuer(keys, cfg).Issue(tokens.Claims{Subject: "u"})
	assert.ErrorIs(t, err, tokens.ErrNoKey)
	assert.ErrorIs(t, keys.Ready(t.Context()), tokens.ErrNoKey)
	assert.Equal(t, 0, keys.PublicSet().Len())
}

func TestParsePrivateKeyRejects(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	require.NoError(t, err)
	for name, pemText := range map[string]string{
		"garbage": "hello",
		"rsa":     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})),
		"p-384":   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})),
		"cert":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})),
	} {
		_, err := tokens.ParsePrivateKey(pemText, "kid")
		assert.Error(t, err, name)
	}
	_, err = tokens.ParsePrivateKey(newPEM(t), "bad kid")
	assert.Error(t, err, "kid with a space")
	_, err = tokens.ParsePrivateKey(newPEM(t), "")
	assert.Error(t, err, "empty kid")
}

func TestLoadConfig(t *testing.T) {
	c, err := tokens.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, tokens.Config{Issuer: contracts.TokenIssuer, Audience: contracts.TokenAudience, AccessTTL: 15 * time.Minute, ReloadInterval: 30 * time.Second}, c)
	env := map[string]string{"AUTH_ISSUER": "https://cognito-idp.example/pool", "AUTH_AUDIENCE": "client-1", "KEY_RELOAD_INTERVAL": "5s"}
	c, err = tokens.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	assert.Equal(t, "https://cognito-idp.example/pool", c.Issuer)
	assert.Equal(t, "client-1", c.Audience)
	assert.Equal(t, 5*time.Second, c.ReloadInterval)
	_, err = tokens.LoadConfig(func(k string) (string, bool) { return "0s", k == "KEY_RELOAD_INTERVAL" })
	assert.Error(t, err)
}
