package tokens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Config says who issues tokens, for whom, and how long they and the keys
// last.
type Config struct {
	Issuer         string
	Audience       string
	AccessTTL      time.Duration
	ReloadInterval time.Duration
}

// LoadConfig reads AUTH_ISSUER and AUTH_AUDIENCE (defaults: the contracts'
// TokenIssuer and TokenAudience), ACCESS_TOKEN_TTL (15m) and
// KEY_RELOAD_INTERVAL (30s).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Issuer:         l.String("AUTH_ISSUER", contracts.TokenIssuer),
		Audience:       l.String("AUTH_AUDIENCE", contracts.TokenAudience),
		AccessTTL:      l.Duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		ReloadInterval: l.Duration("KEY_RELOAD_INTERVAL", 30*time.Second),
	}
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	if cfg.AccessTTL < time.Minute || cfg.AccessTTL > 24*time.Hour {
		return Config{}, errors.New("config ACCESS_TOKEN_TTL: must be from 1m to 24h")
	}
	if cfg.ReloadInterval < time.Second {
		return Config{}, errors.New("config KEY_RELOAD_INTERVAL: must be at least 1s")
	}
	return cfg, nil
}

// Claims are what an access token says about its subject.
type Claims struct {
	Subject string
	Email   string
	Roles   []string
	// Set by Verify: the token's id, key id and times.
	ID        string
	KeyID     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Issuer signs access tokens with the keyring's current key.
type Issuer struct {
	keys *Keyring
	cfg  Config
	now  func() time.Time
}

// NewIssuer returns an Issuer over keys.
func NewIssuer(keys *Keyring, cfg Config) *Issuer {
	return &Issuer{keys: keys, cfg: cfg, now: time.Now}
}

// WithClock returns a copy of i that reads the time from now (tests).
func (i *Issuer) WithClock(now func() time.Time) *Issuer {
	c := *i
	c.now = now
	return &c
}

// TTL is the lifetime of the tokens i issues.
func (i *Issuer) TTL() time.Duration { return i.cfg.AccessTTL }

// Issue returns a signed ES256 JWT for c (sub, email, roles, iss, aud, iat,
// exp, jti; header kid).
func (i *Issuer) Issue(c Claims) (string, error) {
	key, err := i.keys.Signer()
	if err != nil {
		return "", err
	}
	if c.Subject == "" {
		return "", errors.New("tokens: a token needs a subject")
	}
	roles := c.Roles
	if roles == nil {
		roles = []string{}
	}
	now := i.now().Truncate(time.Second)
	tok, err := jwt.NewBuilder().
		Issuer(i.cfg.Issuer).
		Audience([]string{i.cfg.Audience}).
		Subject(c.Subject).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(i.cfg.AccessTTL)).
		JwtID(uuid.NewString()).
		Claim("email", c.Email).
		Claim("roles", roles).
		Build()
	if err != nil {
		return "", fmt.Errorf("building token: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return string(signed), nil
}

// ErrInvalid: a token that fails verification or validation.
var ErrInvalid = errors.New("tokens: invalid access token")

// Verify checks token against the JWKS set the way a relying party (the
// gateway) should: the key is picked by kid and its alg (ES256) is used,
// whatever the token's header claims; issuer, audience and times must hold.
func Verify(token string, set jwk.Set, issuer, audience string, now time.Time) (Claims, error) {
	if !auth.CanonicalJWS(token) {
		return Claims{}, fmt.Errorf("%w: not three segments of canonical base64url", ErrInvalid)
	}
	tok, err := jwt.ParseString(token,
		jwt.WithKeySet(set, jws.WithRequireKid(true)),
		jwt.WithValidate(true),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithTypedClaim("roles", []string{}),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var c Claims
	c.Subject, _ = tok.Subject()
	c.ID, _ = tok.JwtID()
	c.IssuedAt, _ = tok.IssuedAt()
	c.ExpiresAt, _ = tok.Expiration()
	_ = tok.Get("email", &c.Email)
	_ = tok.Get("roles", &c.Roles)
	msg, err := jws.Parse([]byte(token))
	if err == nil && len(msg.Signatures()) == 1 {
		c.KeyID, _ = msg.Signatures()[0].ProtectedHeaders().KeyID()
	}
	return c, nil
}

// Module provides the Config, the Keyring (not yet loaded: package
// provider starts its reload loop when the built-in provider is chosen) and
// the Issuer.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	func(src secrets.Source, cfg Config) *Keyring { return NewKeyring(src, cfg.AccessTTL+time.Minute) },
	NewIssuer,
)

// Ready reports whether tokens can be issued (a signing key is loaded).
func (i *Issuer) Ready(ctx context.Context) error { return i.keys.Ready(ctx) }
