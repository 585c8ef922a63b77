package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/password"
)

// maxAttempts bounds retries of a profile write that lost an ETag race.
const maxAttempts = 5

// Service implements the users service's use cases.
type Service struct {
	idp   identity.Provider
	store Store
	now   func() time.Time
	log   *slog.Logger
}

// NewService returns the service over an identity provider and a store.
func NewService(idp identity.Provider, store Store, log *slog.Logger) *Service {
	return &Service{idp: idp, store: store, now: func() time.Time { return time.Now().UTC() }, log: log}
}

// NormalizeEmail trims an e-mail and lower-cases it: accounts are unique by
// this form, whatever case the user types.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// text trims a free-text field and checks it holds 1 to maxLen characters
// (0 to maxLen when optional) of valid UTF-8 without control characters.
func text(field, v string, maxLen int, optional bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && optional:
		return "", nil
	case v == "":
		return "", &FieldError{Field: field, Reason: "is required"}
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return "", &FieldError{Field: field, Reason: "must be text without control characters"}
	case utf8.RuneCountInString(v) > maxLen:
		return "", &FieldError{Field: field, Reason: fmt.Sprintf("must have at most %d characters", maxLen)}
	}
	return v, nil
}

func normalizeName(name string) (string, error) { return text("name", name, MaxNameLength, false) }

// normalizeAddress trims an address and checks its text fields; the
// country code is upper-cased (its form is the API's to check).
func normalizeAddress(a Address) (Address, error) {
	var err error
	for _, f := range []struct {
		name     string
		v        *string
		max      int
		optional bool
	}{
		{"name", &a.Name, 100, false}, {"line1", &a.Line1, 200, false}, {"line2", &a.Line2, 200, true},
		{"city", &a.City, 100, false}, {"postal_code", &a.PostalCode, 20, false}, {"country", &a.Country, 2, false},
	} {
		if *f.v, err = text(f.name, *f.v, f.max, f.optional); err != nil {
			return Address{}, err
		}
	}
	a.Country = strings.ToUpper(a.Country)
	return a, nil
}

// Register creates an account with the identity provider and its profile,
// which announces user.registered. The provider guarantees the e-mail's
// uniqueness (identity.ErrEmailTaken); a weak password is password.ErrWeak.
func (s *Service) Register(ctx context.Context, email, pw, name string) (Profile, error) {
	email = NormalizeEmail(email)
	name, err := normalizeName(name)
	if err != nil {
		return Profile{}, err
	}
	if err := password.Check(pw, email); err != nil {
		return Profile{}, err
	}
	id, err := s.idp.SignUp(ctx, email, pw, name)
	if err != nil {
		return Profile{}, err
	}
	now := s.now()
	p := Profile{ID: id, Email: email, Name: name, Roles: []string{RoleCustomer}, Addresses: []Address{}, RegisteredAt: now, UpdatedAt: now}
	if err := s.store.CreateProfile(ctx, p); err != nil {
		// The account exists without a profile: the user can sign in, and
		// the first profile read recreates it (see profile).
		s.log.ErrorContext(ctx, "account created but its profile was not stored", "user_id", id, "err", err)
		return Profile{}, fmt.Errorf("storing the profile of user %s: %w", id, err)
	}
	return p, nil
}

// Login signs a user in.
func (s *Service) Login(ctx context.Context, email, pw string) (identity.Tokens, error) {
	return s.idp.SignIn(ctx, NormalizeEmail(email), pw)
}

// Refresh exchanges a refresh token for new tokens.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (identity.Tokens, error) {
	return s.idp.Refresh(ctx, strings.TrimSpace(refreshToken))
}

// Logout revokes a refresh token. It is idempotent: a token that is
// unknown, expired or revoked already is no error, whatever the provider
// says about it.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	err := s.idp.SignOut(ctx, strings.TrimSpace(refreshToken))
	if errors.Is(err, identity.ErrInvalidToken) {
		return nil
	}
	return err
}

// Me returns the caller's profile.
func (s *Service) Me(ctx context.Context, who Caller) (Profile, error) {
	p, _, err := s.profile(ctx, who)
	return p, err
}

// profile reads the caller's profile. A verified caller without one is an
// account whose registration stopped between the provider and the store:
// its profile is recreated from the token's identity (the name from the
// e-mail, as the provider's copy is out of reach) and announced then.
func (s *Service) profile(ctx context.Context, who Caller) (Profile, string, error) {
	p, etag, err := s.store.Profile(ctx, who.UserID)
	if !errors.Is(err, ErrNotFound) {
		return p, etag, err
	}
	email := NormalizeEmail(who.Email)
	name, _, _ := strings.Cut(email, "@")
	if name, err = normalizeName(name); err != nil {
		name = "Customer"
	}
	roles := []string{RoleCustomer}
	if slices.Contains(who.Roles, RoleAdmin) {
		roles = append(roles, RoleAdmin)
	}
	now := s.now()
	s.log.WarnContext(ctx, "verified caller has no profile; recreating it", "user_id", who.UserID)
	err = s.store.CreateProfile(ctx, Profile{ID: who.UserID, Email: email, Name: name, Roles: roles, Addresses: []Address{}, RegisteredAt: now, UpdatedAt: now})
	if err != nil {
		return Profile{}, "", fmt.Errorf("recreating the profile of %s: %w", who.UserID, err)
	}
	return s.store.Profile(ctx, who.UserID)
}

// Addresses lists the caller's addresses in the order they were added.
func (s *Service) Addresses(ctx context.Context, who Caller) ([]Address, error) {
	p, err := s.Me(ctx, who)
	return p.Addresses, err
}

// AddAddress adds an address (at most MaxAddresses) and returns it with its
// new id.
func (s *Service) AddAddress(ctx context.Context, who Caller, a Address) (Address, error) {
	a, err := normalizeAddress(a)
	if err != nil {
		return Address{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Address{}, fmt.Errorf("new address id: %w", err)
	}
	a.ID = id.String()
	err = s.updateProfile(ctx, who, func(p *Profile) error {
		if len(p.Addresses) >= MaxAddresses {
			return ErrTooManyAddresses
		}
		p.Addresses = append(p.Addresses, a)
		return nil
	})
	return a, err
}

// DeleteAddress removes one of the caller's addresses, or reports
// ErrNotFound.
func (s *Service) DeleteAddress(ctx context.Context, who Caller, addressID string) error {
	return s.updateProfile(ctx, who, func(p *Profile) error {
		i := slices.IndexFunc(p.Addresses, func(a Address) bool { return a.ID == addressID })
		if i < 0 {
			return ErrNotFound
		}
		p.Addresses = slices.Delete(p.Addresses, i, i+1)
		return nil
	})
}

// updateProfile applies change to the caller's profile and saves it,
// retrying when another write got there first.
func (s *Service) updateProfile(ctx context.Context, who Caller, change func(*Profile) error) error {
	for range maxAttempts {
		p, etag, err := s.profile(ctx, who)
		if err != nil {
			return err
		}
		if err := change(&p); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		err = s.store.SaveProfile(ctx, p, etag)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return err
	}
	return fmt.Errorf("updating the profile of %s: %w", who.UserID, ErrConflict)
}

// EnsureAdmin makes sure an admin account with this e-mail and password
// exists, idempotently: it creates it, or for an existing account sets the
// password (when the provider implements identity.AccountAdmin) and grants
// the admin role in the provider and the profile. It returns the user id
// and whether the account was created now.
func (s *Service) EnsureAdmin(ctx context.Context, email, pw string) (string, bool, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return "", false, errors.New("the admin e-mail is empty")
	}
	if err := password.Check(pw, email); err != nil {
		return "", false, fmt.Errorf("the admin password breaks the password policy: %w", err)
	}
	id, err := s.idp.SignUp(ctx, email, pw, AdminName)
	created := err == nil
	if errors.Is(err, identity.ErrEmailTaken) {
		adm, ok := s.idp.(identity.AccountAdmin)
		if !ok {
			return "", false, ErrAdminUnmanaged
		}
		if id, err = adm.UserID(ctx, email); err != nil {
			return "", false, fmt.Errorf("finding the admin account: %w", err)
		}
		if err = adm.SetPassword(ctx, id, pw); err != nil {
			return "", false, fmt.Errorf("setting the admin password: %w", err)
		}
	} else if err != nil {
		return "", false, fmt.Errorf("creating the admin account: %w", err)
	}
	if err := s.idp.GrantAdmin(ctx, id); err != nil {
		return "", false, fmt.Errorf("granting the admin role: %w", err)
	}
	for range maxAttempts {
		p, etag, err := s.store.Profile(ctx, id)
		if errors.Is(err, ErrNotFound) {
			now := s.now()
			p = Profile{ID: id, Email: email, Name: AdminName, Roles: []string{RoleCustomer, RoleAdmin}, Addresses: []Address{}, RegisteredAt: now, UpdatedAt: now}
			return id, created, s.store.CreateProfile(ctx, p)
		}
		if err != nil {
			return "", false, err
		}
		if p.HasRole(RoleAdmin) {
			return id, created, nil
		}
		p.Roles, p.UpdatedAt = append(p.Roles, RoleAdmin), s.now()
		err = s.store.SaveProfile(ctx, p, etag)
		if !errors.Is(err, ErrConflict) {
			return id, created, err
		}
	}
	return "", false, fmt.Errorf("granting the admin role in the profile: %w", ErrConflict)
}

// Module provides the Service.
var Module = fx.Provide(NewService)
