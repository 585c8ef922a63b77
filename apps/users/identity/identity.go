// Package identity is the users service's port to an identity provider: who
// creates accounts, checks passwords and issues tokens. The built-in adapter
// (package builtin: argon2id, own ES256 issuer, refresh tokens in
// users-store) and the Cognito adapter (package cognito) implement Provider;
// package provider picks one by IDENTITY_PROVIDER.
package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tokens is what a successful sign-in or refresh returns.
type Tokens struct {
	AccessToken, RefreshToken string
	ExpiresIn                 time.Duration
}

// Errors a Provider reports; the API maps them to HTTP answers.
var (
	// ErrEmailTaken: SignUp found an account with this e-mail (in any case).
	ErrEmailTaken = errors.New("identity: e-mail already registered")
	// ErrInvalidCredentials: unknown e-mail or wrong password; deliberately
	// the same error for both.
	ErrInvalidCredentials = errors.New("identity: invalid credentials")
	// ErrInvalidToken: a refresh token that is unknown, expired, revoked or
	// reused.
	ErrInvalidToken = errors.New("identity: invalid token")
	// ErrLockedOut: too many failed sign-ins for this e-mail; the error is
	// (or wraps) a *LockedOutError that says when to retry.
	ErrLockedOut = errors.New("identity: too many failed sign-ins")
	// ErrUnknownUser: no account has this user id or e-mail (AccountAdmin).
	ErrUnknownUser = errors.New("identity: unknown user")
	// ErrWeakPassword: SignUp refused the password under the provider's own
	// policy (the users service checks its own policy before calling
	// SignUp). The API answers 400; to show the user why, wrap a
	// *password.PolicyError as well.
	ErrWeakPassword = errors.New("identity: password too weak")
)

// LockedOutError is the detail of ErrLockedOut: errors.Is(err, ErrLockedOut)
// holds for it, and errors.As finds it for the retry delay.
type LockedOutError struct {
	RetryAfter time.Duration
}

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("%v; retry in %s", ErrLockedOut, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrLockedOut) true.
func (e *LockedOutError) Is(target error) bool { return target == ErrLockedOut }

// RetryAfter returns how long err asks the caller to wait, and whether err
// is a lock-out at all.
func RetryAfter(err error) (time.Duration, bool) {
	var lo *LockedOutError
	if errors.As(err, &lo) {
		return lo.RetryAfter, true
	}
	return 0, errors.Is(err, ErrLockedOut)
}

// Provider creates accounts, signs users in and manages their tokens.
// E-mails reach it normalised (trimmed, lower case); user ids are the
// provider's own and key the users service's profiles.
type Provider interface {
	SignUp(ctx context.Context, email, password, name string) (userID string, err error)
	SignIn(ctx context.Context, email, password string) (Tokens, error)
	Refresh(ctx context.Context, refreshToken string) (Tokens, error)
	SignOut(ctx context.Context, refreshToken string) error
	GrantAdmin(ctx context.Context, userID string) error
}

// AccountAdmin is optional: a Provider that implements it lets start-up keep
// an existing account (the admin's) in step with the secret store. Without
// it, an existing admin account is left as it is.
type AccountAdmin interface {
	// UserID returns the id of the account with this e-mail, or ErrUnknownUser.
	UserID(ctx context.Context, email string) (string, error)
	// SetPassword makes password the account's password (a no-op when it
	// already is), or reports ErrUnknownUser.
	SetPassword(ctx context.Context, userID, password string) error
}
