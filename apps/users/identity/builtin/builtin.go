// Package builtin is the users service's own identity provider: accounts
// with argon2id password hashes, ES256 access tokens from package tokens,
// opaque rotating refresh tokens with reuse detection, and a per-e-mail
// lock-out after repeated failed sign-ins. It implements identity.Provider
// and identity.AccountAdmin over Store.
package builtin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/password"
	"github.com/shopmesh/shopmesh/apps/users/tokens"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Roles the provider puts in tokens (the same names as package users').
const (
	roleCustomer = "customer"
	roleAdmin    = "admin"
)

// maxAttempts bounds retries of a write that lost an ETag race.
const maxAttempts = 8

// Config tunes refresh tokens and the sign-in lock-out.
type Config struct {
	RefreshTTL    time.Duration // lifetime of a refresh token
	MaxFailures   int           // failed sign-ins within FailureWindow that lock an e-mail out
	FailureWindow time.Duration
	Cooldown      time.Duration // how long a lock-out lasts
}

// DefaultConfig is 30-day refresh tokens and 5 failures in 15 minutes
// locking out for 15 minutes.
var DefaultConfig = Config{RefreshTTL: 30 * 24 * time.Hour, MaxFailures: 5, FailureWindow: 15 * time.Minute, Cooldown: 15 * time.Minute}

// LoadConfig reads REFRESH_TOKEN_TTL, LOCKOUT_MAX_FAILURES, LOCKOUT_WINDOW
// and LOCKOUT_COOLDOWN, defaulting to DefaultConfig.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		RefreshTTL:    l.Duration("REFRESH_TOKEN_TTL", DefaultConfig.RefreshTTL),
		MaxFailures:   l.Int("LOCKOUT_MAX_FAILURES", DefaultConfig.MaxFailures),
		FailureWindow: l.Duration("LOCKOUT_WINDOW", DefaultConfig.FailureWindow),
		Cooldown:      l.Duration("LOCKOUT_COOLDOWN", DefaultConfig.Cooldown),
	}
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	switch {
	case cfg.RefreshTTL < time.Hour:
		return Config{}, errors.New("config REFRESH_TOKEN_TTL: must be at least 1h")
	case cfg.MaxFailures < 1 || cfg.MaxFailures > 1000:
		return Config{}, errors.New("config LOCKOUT_MAX_FAILURES: must be from 1 to 1000")
	case cfg.FailureWindow < time.Second || cfg.Cooldown < time.Second:
		return Config{}, errors.New("config LOCKOUT_WINDOW and LOCKOUT_COOLDOWN: must be at least 1s")
	}
	return cfg, nil
}

// Provider is the built-in identity provider.
type Provider struct {
	store  Store
	hasher *password.Hasher
	issuer *tokens.Issuer
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
}

var (
	_ identity.Provider     = (*Provider)(nil)
	_ identity.AccountAdmin = (*Provider)(nil)
)

// Option changes a Provider.
type Option func(*Provider)

// WithClock makes the provider read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// New returns the built-in provider.
func New(store Store, hasher *password.Hasher, issuer *tokens.Issuer, cfg Config, log *slog.Logger, opts ...Option) *Provider {
	p := &Provider{store: store, hasher: hasher, issuer: issuer, cfg: cfg, now: time.Now, log: log}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Ready reports whether tokens can be issued (a signing key is loaded).
func (p *Provider) Ready(ctx context.Context) error { return p.issuer.Ready(ctx) }

// claimTimeout is how long a sign-up may hold an e-mail before it has
// stored the password hash; an older claim was abandoned (its process
// died) and another sign-up may take the e-mail over.
const claimTimeout = time.Minute

// SignUp implements identity.Provider. It first claims the e-mail with a
// first-write of the account without a password hash, so of concurrent
// sign-ups for one address exactly one goes on, and the others are told
// at once, without spending hashing time. The winner then hashes the
// password and completes the account. The id index is written before and
// trusted only when the account it names carries the same id, so a sign-up
// that loses leaves nothing that matters.
func (p *Provider) SignUp(ctx context.Context, email, pw, _ string) (string, error) {
	if email == "" {
		return "", errors.New("builtin: sign-up without an e-mail")
	}
	uid, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new user id: %w", err)
	}
	now := p.now().UTC()
	a := Account{ID: uid.String(), Email: email, Roles: []string{roleCustomer}, CreatedAt: now, UpdatedAt: now}
	if err := p.store.IndexAccount(ctx, a.ID, email); err != nil {
		return "", err
	}
	etag, err := p.claim(ctx, a)
	if err != nil {
		p.unindex(ctx, a.ID)
		return "", err
	}
	a.PasswordHash, err = p.hasher.Hash(ctx, pw)
	if err == nil {
		err = p.store.SaveAccount(ctx, a, etag)
	}
	if err != nil {
		// Give the e-mail back at once rather than after claimTimeout, even
		// when the caller has gone.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := p.store.DeleteAccount(ctx, email, etag); derr != nil && !errors.Is(derr, ErrNotFound) {
			p.log.WarnContext(ctx, "could not release the e-mail of a failed sign-up", "user_id", a.ID, "err", derr)
		}
		p.unindex(ctx, a.ID)
		return "", err
	}
	return a.ID, nil
}

// claim stores a (without a password hash) under its e-mail and returns the
// stored account's ETag, or identity.ErrEmailTaken. It reads before it
// writes, so a known e-mail costs no refused write (each of which Dapr's
// resiliency would count as a failure of the store).
func (p *Provider) claim(ctx context.Context, a Account) (string, error) {
	for range maxAttempts {
		cur, etag, err := p.store.AccountByEmail(ctx, a.Email)
		switch {
		case errors.Is(err, ErrNotFound):
			// Free: claim it; the next round reads the ETag back.
			if err := p.store.CreateAccount(ctx, a); err != nil && !errors.Is(err, ErrConflict) {
				return "", err
			}
			continue
		case err != nil:
			return "", err
		case cur.ID == a.ID:
			return etag, nil // ours
		case cur.PasswordHash != "" || p.now().Sub(cur.CreatedAt) < claimTimeout:
			return "", identity.ErrEmailTaken
		}
		// An abandoned claim: take it over (the ETag settles a race for it).
		if err := p.store.SaveAccount(ctx, a, etag); err != nil && !errors.Is(err, ErrConflict) {
			return "", err
		}
	}
	return "", fmt.Errorf("claiming an e-mail: %w", ErrConflict)
}

func (p *Provider) unindex(ctx context.Context, id string) {
	if err := p.store.UnindexAccount(ctx, id); err != nil {
		p.log.WarnContext(ctx, "could not remove the id index of a failed sign-up", "user_id", id, "err", err)
	}
}

// account returns a completed account by e-mail: a claim whose sign-up has
// not stored its password hash yet does not count.
func (p *Provider) account(ctx context.Context, email string) (Account, string, error) {
	a, etag, err := p.store.AccountByEmail(ctx, email)
	if err == nil && a.PasswordHash == "" {
		return Account{}, "", fmt.Errorf("%w: sign-up of %s in progress", ErrNotFound, a.ID)
	}
	return a, etag, err
}

// accountByID is account by user id.
func (p *Provider) accountByID(ctx context.Context, id string) (Account, string, error) {
	a, etag, err := p.store.AccountByID(ctx, id)
	if err == nil && a.PasswordHash == "" {
		return Account{}, "", fmt.Errorf("%w: sign-up of %s in progress", ErrNotFound, a.ID)
	}
	return a, etag, err
}

// SignIn implements identity.Provider. Every attempt is counted before the
// password is checked, so parallel guesses cannot slip past the lock-out;
// a success clears the count. Unknown e-mails are counted and locked out
// alike and cost the same hashing time, so no answer tells whether an
// account exists.
func (p *Provider) SignIn(ctx context.Context, email, pw string) (identity.Tokens, error) {
	if err := p.countAttempt(ctx, email); err != nil {
		return identity.Tokens{}, err
	}
	a, _, err := p.account(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if err := p.hasher.VerifyDummy(ctx, pw); err != nil {
			return identity.Tokens{}, err
		}
		return identity.Tokens{}, identity.ErrInvalidCredentials
	}
	if err != nil {
		return identity.Tokens{}, err
	}
	ok, err := p.hasher.Verify(ctx, pw, a.PasswordHash)
	if err != nil {
		return identity.Tokens{}, fmt.Errorf("checking the password of %s: %w", a.ID, err)
	}
	if !ok {
		return identity.Tokens{}, identity.ErrInvalidCredentials
	}
	if err := p.store.ResetAttempts(ctx, email); err != nil {
		p.log.WarnContext(ctx, "could not clear failed sign-ins", "user_id", a.ID, "err", err)
	}
	if p.hasher.NeedsRehash(a.PasswordHash) {
		p.rehash(ctx, a.ID, pw)
	}
	return p.issue(ctx, a, uuid.NewString())
}

// countAttempt records a sign-in attempt for email, or refuses it with a
// *identity.LockedOutError while the e-mail is locked out.
func (p *Provider) countAttempt(ctx context.Context, email string) error {
	ttl := max(p.cfg.FailureWindow, p.cfg.Cooldown)
	for range maxAttempts {
		at, etag, err := p.store.Attempts(ctx, email)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		now := p.now()
		if now.Before(at.LockedUntil) {
			return &identity.LockedOutError{RetryAfter: at.LockedUntil.Sub(now)}
		}
		at.LockedUntil = time.Time{}
		at.Failures = slices.DeleteFunc(at.Failures, func(t time.Time) bool { return !t.After(now.Add(-p.cfg.FailureWindow)) })
		at.Failures = append(at.Failures, now)
		if len(at.Failures) >= p.cfg.MaxFailures {
			at.Failures, at.LockedUntil = nil, now.Add(p.cfg.Cooldown)
		}
		if etag == "" {
			err = p.store.CreateAttempts(ctx, email, at, ttl)
		} else {
			err = p.store.SaveAttempts(ctx, email, at, etag, ttl)
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	// Attempts for this e-mail race each other: whoever sends them, ask to
	// slow down rather than let them through uncounted.
	return &identity.LockedOutError{RetryAfter: time.Second}
}

// rehash stores a hash with the current parameters after a successful
// sign-in; failing is harmless (the old hash still verifies).
func (p *Provider) rehash(ctx context.Context, id, pw string) {
	if err := p.setPassword(ctx, id, pw, true); err != nil {
		p.log.WarnContext(ctx, "could not upgrade a password hash", "user_id", id, "err", err)
	}
}

// Refresh implements identity.Provider: the presented token is spent and a
// new one of the same family returned. Presenting a spent token again
// revokes its whole family, so a stolen token dies with the legitimate
// one at the next use of either.
func (p *Provider) Refresh(ctx context.Context, raw string) (identity.Tokens, error) {
	hash, ok := hashRefreshToken(raw)
	if !ok {
		return identity.Tokens{}, identity.ErrInvalidToken
	}
	rt, etag, err := p.store.RefreshToken(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return identity.Tokens{}, identity.ErrInvalidToken
	}
	if err != nil {
		return identity.Tokens{}, err
	}
	now := p.now()
	if !now.Before(rt.ExpiresAt) {
		return identity.Tokens{}, identity.ErrInvalidToken
	}
	revoked, err := p.store.FamilyRevoked(ctx, rt.FamilyID)
	if err != nil {
		return identity.Tokens{}, err
	}
	if revoked {
		return identity.Tokens{}, identity.ErrInvalidToken
	}
	if rt.Used {
		p.log.WarnContext(ctx, "refresh token reused; revoking its family", "user_id", rt.UserID, "family_id", rt.FamilyID)
		return identity.Tokens{}, p.revoke(ctx, rt.FamilyID, identity.ErrInvalidToken)
	}
	rt.Used, rt.UsedAt = true, now.UTC()
	err = p.store.SaveRefreshToken(ctx, hash, rt, etag, rt.ExpiresAt.Sub(now))
	if errors.Is(err, ErrConflict) {
		// Two uses of one token at the same moment: one of them is not
		// the legitimate client.
		p.log.WarnContext(ctx, "refresh token used concurrently; revoking its family", "user_id", rt.UserID, "family_id", rt.FamilyID)
		return identity.Tokens{}, p.revoke(ctx, rt.FamilyID, identity.ErrInvalidToken)
	}
	if err != nil {
		return identity.Tokens{}, err
	}
	a, _, err := p.accountByID(ctx, rt.UserID)
	if errors.Is(err, ErrNotFound) {
		return identity.Tokens{}, identity.ErrInvalidToken
	}
	if err != nil {
		return identity.Tokens{}, err
	}
	return p.issue(ctx, a, rt.FamilyID)
}

// revoke revokes a family and returns result, or the store's error.
func (p *Provider) revoke(ctx context.Context, family string, result error) error {
	if err := p.store.RevokeFamily(ctx, family, p.now().UTC(), p.cfg.RefreshTTL); err != nil {
		return err
	}
	return result
}

// SignOut implements identity.Provider: it revokes the token's family (the
// session). Unknown, malformed or already revoked tokens are no error.
func (p *Provider) SignOut(ctx context.Context, raw string) error {
	hash, ok := hashRefreshToken(raw)
	if !ok {
		return nil
	}
	rt, _, err := p.store.RefreshToken(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return p.revoke(ctx, rt.FamilyID, nil)
}

// GrantAdmin implements identity.Provider.
func (p *Provider) GrantAdmin(ctx context.Context, userID string) error {
	for range maxAttempts {
		a, etag, err := p.accountByID(ctx, userID)
		if errors.Is(err, ErrNotFound) {
			return identity.ErrUnknownUser
		}
		if err != nil {
			return err
		}
		if slices.Contains(a.Roles, roleAdmin) {
			return nil
		}
		a.Roles, a.UpdatedAt = append(a.Roles, roleAdmin), p.now().UTC()
		err = p.store.SaveAccount(ctx, a, etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("granting admin to %s: %w", userID, ErrConflict)
}

// UserID implements identity.AccountAdmin.
func (p *Provider) UserID(ctx context.Context, email string) (string, error) {
	a, _, err := p.account(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return "", identity.ErrUnknownUser
	}
	return a.ID, err
}

// SetPassword implements identity.AccountAdmin. It checks the current hash
// first, so an unchanged password costs one verification and no write.
func (p *Provider) SetPassword(ctx context.Context, userID, pw string) error {
	return p.setPassword(ctx, userID, pw, false)
}

func (p *Provider) setPassword(ctx context.Context, userID, pw string, onlyIfCurrent bool) error {
	for range maxAttempts {
		a, etag, err := p.accountByID(ctx, userID)
		if errors.Is(err, ErrNotFound) {
			return identity.ErrUnknownUser
		}
		if err != nil {
			return err
		}
		ok, err := p.hasher.Verify(ctx, pw, a.PasswordHash)
		if err != nil && !errors.Is(err, password.ErrMalformedHash) {
			return err
		}
		if onlyIfCurrent && !ok {
			return nil // changed meanwhile; leave it
		}
		if ok && !p.hasher.NeedsRehash(a.PasswordHash) {
			return nil
		}
		if a.PasswordHash, err = p.hasher.Hash(ctx, pw); err != nil {
			return err
		}
		a.UpdatedAt = p.now().UTC()
		err = p.store.SaveAccount(ctx, a, etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("setting the password of %s: %w", userID, ErrConflict)
}

// issue returns an access token for a and a new refresh token in family.
func (p *Provider) issue(ctx context.Context, a Account, family string) (identity.Tokens, error) {
	access, err := p.issuer.Issue(tokens.Claims{Subject: a.ID, Email: a.Email, Roles: a.Roles})
	if err != nil {
		return identity.Tokens{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return identity.Tokens{}, fmt.Errorf("refresh token: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(b[:])
	hash, _ := hashRefreshToken(raw)
	now := p.now().UTC()
	rt := RefreshToken{UserID: a.ID, FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(p.cfg.RefreshTTL)}
	if err := p.store.SaveRefreshToken(ctx, hash, rt, "", p.cfg.RefreshTTL); err != nil {
		return identity.Tokens{}, err
	}
	return identity.Tokens{AccessToken: access, RefreshToken: raw, ExpiresIn: p.issuer.TTL()}, nil
}

// hashRefreshToken returns the hex SHA-256 under which a refresh token is
// stored, if raw has the form issue gives tokens (32 bytes, base64url).
func hashRefreshToken(raw string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != 32 {
		return "", false
	}
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:]), true
}
