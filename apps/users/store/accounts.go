package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
)

// Keys of the built-in provider. E-mails appear in keys only hashed: keys
// are not secret, and Dapr refuses keys containing "||", which an e-mail
// may.
func emailHash(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}
func accountKey(email string) string   { return "account|" + emailHash(email) }
func accountIndexKey(id string) string { return "account-id|" + id }
func attemptsKey(email string) string  { return "signin|" + emailHash(email) }
func refreshKey(hash string) string    { return "refresh|" + hash }
func familyKey(family string) string   { return "refresh-family|" + family }

type accountRecord struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"password_hash,omitempty"`
	Roles        []string  `json:"roles"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type accountIndexRecord struct {
	Email string `json:"email"`
}

type attemptsRecord struct {
	Failures    []time.Time `json:"failures,omitempty"`
	LockedUntil time.Time   `json:"locked_until,omitzero"`
}

type refreshRecord struct {
	UserID    string    `json:"user_id"`
	FamilyID  string    `json:"family_id"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Used      bool      `json:"used"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}

type familyRecord struct {
	RevokedAt time.Time `json:"revoked_at"`
}

// Accounts implements builtin.Store.
type Accounts struct{ kv KV }

// NewAccounts returns the built-in provider's store over kv.
func NewAccounts(kv KV) *Accounts { return &Accounts{kv: kv} }

func builtinErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", builtin.ErrNotFound, err)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w: %w", builtin.ErrConflict, err)
	}
	return err
}

// CreateAccount implements builtin.Store.
func (s *Accounts) CreateAccount(ctx context.Context, a builtin.Account) error {
	return builtinErr(s.kv.Create(ctx, accountKey(a.Email), accountRecord(a), 0))
}

// DeleteAccount implements builtin.Store.
func (s *Accounts) DeleteAccount(ctx context.Context, email, etag string) error {
	return builtinErr(s.kv.Delete(ctx, accountKey(email), etag))
}

// AccountByEmail implements builtin.Store.
func (s *Accounts) AccountByEmail(ctx context.Context, email string) (builtin.Account, string, error) {
	var r accountRecord
	etag, err := s.kv.Get(ctx, accountKey(email), &r)
	if err != nil {
		return builtin.Account{}, "", builtinErr(err)
	}
	return builtin.Account(r), etag, nil
}

// AccountByID implements builtin.Store.
func (s *Accounts) AccountByID(ctx context.Context, id string) (builtin.Account, string, error) {
	var idx accountIndexRecord
	if _, err := s.kv.Get(ctx, accountIndexKey(id), &idx); err != nil {
		return builtin.Account{}, "", builtinErr(err)
	}
	a, etag, err := s.AccountByEmail(ctx, idx.Email)
	if err != nil {
		return builtin.Account{}, "", err
	}
	if a.ID != id {
		// Left by a sign-up that lost the e-mail to another one.
		return builtin.Account{}, "", fmt.Errorf("%w: account %s", builtin.ErrNotFound, id)
	}
	return a, etag, nil
}

// SaveAccount implements builtin.Store.
func (s *Accounts) SaveAccount(ctx context.Context, a builtin.Account, etag string) error {
	if etag == "" {
		return errors.New("store: an account update needs the etag it was read with")
	}
	return builtinErr(s.kv.Save(ctx, accountKey(a.Email), accountRecord(a), etag, 0))
}

// IndexAccount implements builtin.Store.
func (s *Accounts) IndexAccount(ctx context.Context, id, email string) error {
	return builtinErr(s.kv.Save(ctx, accountIndexKey(id), accountIndexRecord{Email: email}, "", 0))
}

// UnindexAccount implements builtin.Store.
func (s *Accounts) UnindexAccount(ctx context.Context, id string) error {
	return builtinErr(s.kv.Delete(ctx, accountIndexKey(id), ""))
}

// Attempts implements builtin.Store.
func (s *Accounts) Attempts(ctx context.Context, email string) (builtin.Attempts, string, error) {
	var r attemptsRecord
	etag, err := s.kv.Get(ctx, attemptsKey(email), &r)
	if err != nil {
		return builtin.Attempts{}, "", builtinErr(err)
	}
	return builtin.Attempts(r), etag, nil
}

// CreateAttempts implements builtin.Store.
func (s *Accounts) CreateAttempts(ctx context.Context, email string, a builtin.Attempts, ttl time.Duration) error {
	return builtinErr(s.kv.Create(ctx, attemptsKey(email), attemptsRecord(a), ttl))
}

// SaveAttempts implements builtin.Store.
func (s *Accounts) SaveAttempts(ctx context.Context, email string, a builtin.Attempts, etag string, ttl time.Duration) error {
	return builtinErr(s.kv.Save(ctx, attemptsKey(email), attemptsRecord(a), etag, ttl))
}

// ResetAttempts implements builtin.Store.
func (s *Accounts) ResetAttempts(ctx context.Context, email string) error {
	return builtinErr(s.kv.Delete(ctx, attemptsKey(email), ""))
}

// RefreshToken implements builtin.Store.
func (s *Accounts) RefreshToken(ctx context.Context, hash string) (builtin.RefreshToken, string, error) {
	var r refreshRecord
	etag, err := s.kv.Get(ctx, refreshKey(hash), &r)
	if err != nil {
		return builtin.RefreshToken{}, "", builtinErr(err)
	}
	return builtin.RefreshToken(r), etag, nil
}

// SaveRefreshToken implements builtin.Store.
func (s *Accounts) SaveRefreshToken(ctx context.Context, hash string, t builtin.RefreshToken, etag string, ttl time.Duration) error {
	return builtinErr(s.kv.Save(ctx, refreshKey(hash), refreshRecord(t), etag, max(ttl, time.Second)))
}

// FamilyRevoked implements builtin.Store.
func (s *Accounts) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	var r familyRecord
	_, err := s.kv.Get(ctx, familyKey(family), &r)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, builtinErr(err)
}

// RevokeFamily implements builtin.Store. The record outlives every token of
// the family: none lives longer than ttl from now.
func (s *Accounts) RevokeFamily(ctx context.Context, family string, at time.Time, ttl time.Duration) error {
	return builtinErr(s.kv.Save(ctx, familyKey(family), familyRecord{RevokedAt: at}, "", ttl))
}
