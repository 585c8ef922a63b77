package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

func profileKey(id string) string { return "user|" + id }

// profileRecord is the stored form of a profile and, published with its
// creation, the data of user.registered: a superset of
// contracts.UserEvent. It never holds credentials; those belong to the
// identity provider (accounts, below, for the built-in one).
type profileRecord struct {
	contracts.UserEvent
	Roles     []string        `json:"roles"`
	Addresses []addressRecord `json:"addresses"`
	UpdatedAt time.Time       `json:"updated_at"`
}

type addressRecord struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

func toProfileRecord(p users.Profile) profileRecord {
	r := profileRecord{
		UserEvent: contracts.UserEvent{ID: p.ID, Email: p.Email, Name: p.Name, RegisteredAt: p.RegisteredAt},
		Roles:     append([]string{}, p.Roles...),
		Addresses: make([]addressRecord, len(p.Addresses)),
		UpdatedAt: p.UpdatedAt,
	}
	for i, a := range p.Addresses {
		r.Addresses[i] = addressRecord(a)
	}
	return r
}

func (r profileRecord) profile() users.Profile {
	p := users.Profile{
		ID: r.ID, Email: r.Email, Name: r.Name, Roles: append([]string{}, r.Roles...),
		Addresses: make([]users.Address, len(r.Addresses)), RegisteredAt: r.RegisteredAt, UpdatedAt: r.UpdatedAt,
	}
	for i, a := range r.Addresses {
		p.Addresses[i] = users.Address(a)
	}
	return p
}

// Profiles implements users.Store.
type Profiles struct{ kv KV }

// NewProfiles returns the profile store over kv.
func NewProfiles(kv KV) *Profiles { return &Profiles{kv: kv} }

func usersErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", users.ErrNotFound, err)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w: %w", users.ErrConflict, err)
	}
	return err
}

// CreateProfile implements users.Store.
func (s *Profiles) CreateProfile(ctx context.Context, p users.Profile) error {
	return usersErr(s.kv.SaveAndPublish(ctx, profileKey(p.ID), toProfileRecord(p), contracts.UserRegistered))
}

// Profile implements users.Store.
func (s *Profiles) Profile(ctx context.Context, id string) (users.Profile, string, error) {
	var r profileRecord
	etag, err := s.kv.Get(ctx, profileKey(id), &r)
	if err != nil {
		return users.Profile{}, "", usersErr(err)
	}
	return r.profile(), etag, nil
}

// SaveProfile implements users.Store.
func (s *Profiles) SaveProfile(ctx context.Context, p users.Profile, etag string) error {
	if etag == "" {
		return errors.New("store: a profile update needs the etag it was read with")
	}
	return usersErr(s.kv.Save(ctx, profileKey(p.ID), toProfileRecord(p), etag, 0))
}
