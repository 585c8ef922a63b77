package builtin

import (
	"context"
	"errors"
	"time"
)

// Errors a Store reports.
var (
	ErrNotFound = errors.New("builtin: not found")
	ErrConflict = errors.New("builtin: concurrent modification")
)

// Account is a built-in account. Its password hash never leaves the
// provider: not in events, logs or answers.
type Account struct {
	ID           string
	Email        string // normalised
	PasswordHash string // argon2id PHC string; empty while its sign-up is in progress
	Roles        []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Attempts are the recent sign-in attempts for one e-mail.
type Attempts struct {
	Failures    []time.Time // within the failure window, oldest first
	LockedUntil time.Time   // zero when not locked out
}

// RefreshToken is a stored refresh token (the store knows only its hash).
type RefreshToken struct {
	UserID    string
	FamilyID  string // every token rotated from one sign-in
	IssuedAt  time.Time
	ExpiresAt time.Time
	Used      bool
	UsedAt    time.Time
}

// Store persists the provider's state. Nothing it writes is published.
type Store interface {
	// CreateAccount stores a under its e-mail unless the e-mail is taken
	// (ErrConflict).
	CreateAccount(ctx context.Context, a Account) error
	DeleteAccount(ctx context.Context, email, etag string) error               // ErrConflict
	AccountByEmail(ctx context.Context, email string) (Account, string, error) // ErrNotFound
	// AccountByID follows the id index; ErrNotFound also when the index
	// points at an account with another id.
	AccountByID(ctx context.Context, id string) (Account, string, error)
	SaveAccount(ctx context.Context, a Account, etag string) error // ErrConflict
	IndexAccount(ctx context.Context, id, email string) error
	UnindexAccount(ctx context.Context, id string) error

	Attempts(ctx context.Context, email string) (Attempts, string, error) // ErrNotFound
	CreateAttempts(ctx context.Context, email string, a Attempts, ttl time.Duration) error
	SaveAttempts(ctx context.Context, email string, a Attempts, etag string, ttl time.Duration) error
	ResetAttempts(ctx context.Context, email string) error

	RefreshToken(ctx context.Context, hash string) (RefreshToken, string, error) // ErrNotFound
	SaveRefreshToken(ctx context.Context, hash string, t RefreshToken, etag string, ttl time.Duration) error
	FamilyRevoked(ctx context.Context, family string) (bool, error)
	RevokeFamily(ctx context.Context, family string, at time.Time, ttl time.Duration) error
}
