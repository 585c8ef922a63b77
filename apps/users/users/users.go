// Package users is the users domain: registration, sign-in through the
// identity provider, profiles with roles and addresses, and the start-up
// admin account. It knows neither Gin nor Dapr: it works through
// identity.Provider and Store, which packages provider and store supply.
package users

import (
	"context"
	"errors"
	"time"
)

// Roles.
const (
	RoleCustomer = "customer" // every account
	RoleAdmin    = "admin"
)

// Limits.
const (
	MaxNameLength = 100
	MaxAddresses  = 20
)

// AdminName is the display name of the start-up admin account.
const AdminName = "Administrator"

// Profile is what the service keeps about a user besides credentials, for
// every identity provider, keyed by the provider's user id.
type Profile struct {
	ID           string
	Email        string
	Name         string
	Roles        []string
	Addresses    []Address
	RegisteredAt time.Time
	UpdatedAt    time.Time
}

// HasRole reports whether p holds role.
func (p Profile) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Address is a postal address in a user's address book. Country is an ISO
// 3166-1 alpha-2 code.
type Address struct {
	ID         string
	Name       string
	Line1      string
	Line2      string
	City       string
	PostalCode string
	Country    string
}

// Caller is the authenticated user a request acts for, as the gateway
// verified it from the access token.
type Caller struct {
	UserID string
	Email  string
	Roles  []string
}

// Errors the domain reports; handlers map them to HTTP answers. Besides
// these, identity's errors and password.ErrWeak pass through unchanged.
var (
	ErrNotFound = errors.New("not found")
	// ErrInvalid is what every *FieldError is.
	ErrInvalid          = errors.New("invalid input")
	ErrTooManyAddresses = errors.New("the address book is full")
	// ErrConflict is a store-level ETag clash.
	ErrConflict = errors.New("concurrent modification")
	// ErrAdminUnmanaged: the admin account exists but the identity provider
	// offers no way to check its password or find its id.
	ErrAdminUnmanaged = errors.New("the identity provider cannot manage an existing admin account")
)

// FieldError is invalid input the domain refuses: Field is its JSON name,
// Reason a message safe to show.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return e.Field + " " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Store persists profiles.
type Store interface {
	// CreateProfile stores p and, atomically with it, publishes
	// user.registered on the users topic (stored if and only if published).
	CreateProfile(ctx context.Context, p Profile) error
	// Profile returns a profile and its ETag, or ErrNotFound.
	Profile(ctx context.Context, id string) (Profile, string, error)
	// SaveProfile replaces a profile if its ETag still matches, else
	// ErrConflict. It publishes nothing.
	SaveProfile(ctx context.Context, p Profile, etag string) error
}
