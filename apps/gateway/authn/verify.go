package authn

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

// ErrInvalidToken is what every rejected token's error wraps: clients get
// a 401 for it.
var ErrInvalidToken = errors.New("invalid access token")

// TokenError says why a token was rejected. Reason is for logs; clients
// learn only whether the token expired (so they know to refresh it).
type TokenError struct {
	Reason  string
	Expired bool
	Err     error
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "invalid access token: " + e.Reason + ": " + e.Err.Error()
	}
	return "invalid access token: " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidToken) hold.
func (e *TokenError) Is(target error) bool { return target == ErrInvalidToken }

func (e *TokenError) Unwrap() error { return e.Err }

func reject(reason string, err error) error { return &TokenError{Reason: reason, Err: err} }

// KeyLookup finds a verification key by kid (*Keys).
type KeyLookup interface {
	Lookup(ctx context.Context, kid string) (jwk.Key, error)
}

// MaxTokenBytes caps what is parsed; real access tokens are well under 2 KiB.
const MaxTokenBytes = 8 << 10

// compactJWS is three base64url parts with a non-empty signature: the JSON
// serialization and unsigned tokens never reach the parser.
var compactJWS = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

// rolePattern is what a role may look like. Roles travel to services as a
// comma-separated header, so anything else (a Cognito group named
// "x,admin") is dropped rather than split into roles nobody granted.
var rolePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// Verifier checks access tokens and turns them into identities.
type Verifier struct {
	cfg  Config
	keys KeyLookup
	now  func() time.Time
}

// NewVerifier returns a Verifier of tokens signed with keys.
func NewVerifier(cfg Config, keys KeyLookup) *Verifier {
	return &Verifier{cfg: cfg, keys: keys, now: time.Now}
}

// WithClock returns a copy of v that reads the time from now (tests).
func (v *Verifier) WithClock(now func() time.Time) *Verifier {
	c := *v
	c.now = now
	return &c
}

// Verify checks raw — signature, algorithm, issuer, audience, lifetime —
// and returns who it was issued to. Every verified identity holds the
// customer role. Errors wrap ErrInvalidToken, or ErrKeysUnavailable when
// no key could be had to check the signature with.
func (v *Verifier) Verify(ctx context.Context, raw string) (auth.Identity, error) {
	if len(raw) > MaxTokenBytes {
		return auth.Identity{}, reject("longer than the limit", nil)
	}
	if !compactJWS.MatchString(raw) {
		return auth.Identity{}, reject("not a signed JWT in compact form", nil)
	}
	// jwx decodes leniently; checked here, one token has one spelling, so a
	// client cannot mint variants of a token it holds, each a new token to
	// whatever is keyed by the token string (a revocation list, a cache).
	if !auth.CanonicalJWS(raw) {
		return auth.Identity{}, reject("not in canonical base64url", nil)
	}
	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil {
		return auth.Identity{}, reject("unparsable", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return auth.Identity{}, reject("not exactly one signature", nil)
	}
	hdr := sigs[0].ProtectedHeaders()
	alg, _ := hdr.Algorithm()
	// The algorithm is pinned by configuration: "none", HMAC keyed with a
	// public key, or RSA where ECDSA is expected never get as far as a key.
	if !slices.Contains(v.cfg.Algorithms, alg) {
		return auth.Identity{}, reject(fmt.Sprintf("algorithm %q is not accepted", alg.String()), nil)
	}
	kid, _ := hdr.KeyID()
	if kid == "" {
		return auth.Identity{}, reject("no kid", nil)
	}
	key, err := v.keys.Lookup(ctx, kid)
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return auth.Identity{}, err
	case err != nil:
		return auth.Identity{}, reject(fmt.Sprintf("kid %q", kid), err)
	}
	if err := keyFits(key, alg); err != nil {
		return auth.Identity{}, reject(fmt.Sprintf("kid %q", kid), err)
	}

	opts := []jwt.ParseOption{
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithAcceptableSkew(v.cfg.Leeway),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
	}
	if v.cfg.AudienceClaim == ClaimAudience {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	tok, err := jwt.Parse([]byte(raw), opts...)
	if err != nil {
		te := &TokenError{Reason: "rejected", Err: err}
		if errors.Is(err, jwt.TokenExpiredError()) {
			te.Reason, te.Expired = "expired", true
		}
		return auth.Identity{}, te
	}
	if v.cfg.AudienceClaim != ClaimAudience {
		if got := stringClaim(tok, v.cfg.AudienceClaim); got != v.cfg.Audience {
			return auth.Identity{}, reject(fmt.Sprintf("%s %q is not the audience", v.cfg.AudienceClaim, got), nil)
		}
	}
	if v.cfg.TokenUse != "" {
		if got := stringClaim(tok, ClaimTokenUse); got != v.cfg.TokenUse {
			return auth.Identity{}, reject(fmt.Sprintf("token_use %q, want %q", got, v.cfg.TokenUse), nil)
		}
	}
	return v.identity(tok)
}

// keyFits checks that key may verify alg: its type matches, and so does its
// own alg when the JWKS names one.
func keyFits(key jwk.Key, alg jwa.SignatureAlgorithm) error {
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg.String() {
		return fmt.Errorf("the key is for %s, the token says %s", ka, alg)
	}
	want := jwa.RSA()
	switch {
	case strings.HasPrefix(alg.String(), "ES"):
		want = jwa.EC()
	case strings.HasPrefix(alg.String(), "EdDSA") || alg == jwa.EdDSA():
		want = jwa.OKP()
	}
	if key.KeyType() != want {
		return fmt.Errorf("a %s key cannot verify %s", key.KeyType(), alg)
	}
	return nil
}

func (v *Verifier) identity(tok jwt.Token) (auth.Identity, error) {
	sub, _ := tok.Subject()
	if sub == "" || !headerSafe(sub, 255) {
		return auth.Identity{}, reject("sub is empty, too long or has control characters", nil)
	}
	email := stringClaim(tok, v.cfg.EmailClaim)
	if !headerSafe(email, 320) {
		email = "" // it only informs services; a malformed one is dropped
	}
	id := auth.Identity{UserID: sub, Email: email, Roles: []string{auth.RoleCustomer}}
	for _, r := range rolesClaim(tok, v.cfg.RolesClaim) {
		if rolePattern.MatchString(r) && !slices.Contains(id.Roles, r) {
			id.Roles = append(id.Roles, r)
		}
	}
	return id, nil
}

// headerSafe reports whether s can travel in a header: printable ASCII
// and at most max bytes.
func headerSafe(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r > unicode.MaxASCII {
			return false
		}
	}
	return true
}

func stringClaim(tok jwt.Token, name string) string {
	var v any
	if name == "" || tok.Get(name, &v) != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

// rolesClaim reads an array of strings; a single string is one role.
func rolesClaim(tok jwt.Token, name string) []string {
	var v any
	if name == "" || tok.Get(name, &v) != nil {
		return nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
