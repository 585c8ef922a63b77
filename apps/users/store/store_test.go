package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Memory must behave like the PostgreSQL store where the service relies on
// it: ETags, first-write, TTLs.
func TestMemorySemantics(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := store.NewMemory(func() time.Time { return now })
	ctx := t.Context()
	var v string

	_, err := m.Get(ctx, "k", &v)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, m.Create(ctx, "k", "a", 0))
	require.ErrorIs(t, m.Create(ctx, "k", "b", 0), store.ErrConflict)
	etag, err := m.Get(ctx, "k", &v)
	require.NoError(t, err)
	assert.Equal(t, "a", v)

	require.NoError(t, m.Save(ctx, "k", "c", etag, 0))
	require.ErrorIs(t, m.Save(ctx, "k", "d", etag, 0), store.ErrConflict, "stale etag")
	require.ErrorIs(t, m.Delete(ctx, "k", etag), store.ErrConflict)
	require.ErrorIs(t, m.Save(ctx, "missing", "x", "1", 0), store.ErrConflict, "etag on a missing key")
	require.NoError(t, m.Delete(ctx, "missing", ""))

	require.NoError(t, m.Save(ctx, "ttl", "x", "", time.Minute))
	now = now.Add(time.Minute)
	_, err = m.Get(ctx, "ttl", &v)
	require.ErrorIs(t, err, store.ErrNotFound, "expired")
	require.NoError(t, m.Create(ctx, "ttl", "y", 0), "an expired key can be created again")
}

func TestProfilesPublishOnlyOnCreate(t *testing.T) {
	m := store.NewMemory(nil)
	s := store.NewProfiles(m)
	ctx := t.Context()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := users.Profile{ID: "u1", Email: "ann@example.com", Name: "Ann", Roles: []string{"customer"}, Addresses: []users.Address{}, RegisteredAt: at, UpdatedAt: at}
	require.NoError(t, s.CreateProfile(ctx, p))
	got, etag, err := s.Profile(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, p, got)

	got.Addresses = append(got.Addresses, users.Address{ID: "a1", Name: "Ann", Line1: "1 Main St", City: "X", PostalCode: "1", Country: "US"})
	require.NoError(t, s.SaveProfile(ctx, got, etag))
	require.ErrorIs(t, s.SaveProfile(ctx, got, etag), users.ErrConflict)
	_, _, err = s.Profile(ctx, "u2")
	require.ErrorIs(t, err, users.ErrNotFound)

	evs := m.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, contracts.UserRegistered, evs[0].Type)
	assert.JSONEq(t, `{"id":"u1","email":"ann@example.com","name":"Ann","registered_at":"2026-01-01T00:00:00Z","roles":["customer"],"addresses":[],"updated_at":"2026-01-01T00:00:00Z"}`, string(evs[0].Data))
}

func TestAccountIndexIsCheckedAgainstTheAccount(t *testing.T) {
	m := store.NewMemory(nil)
	s := store.NewAccounts(m)
	ctx := t.Context()
	require.NoError(t, s.IndexAccount(ctx, "u1", "ann@example.com"))
	require.NoError(t, s.CreateAccount(ctx, builtin.Account{ID: "u1", Email: "ann@example.com", PasswordHash: "h"}))
	// A sign-up that lost the race left an index pointing at Ann's e-mail.
	require.NoError(t, s.IndexAccount(ctx, "u2", "ann@example.com"))
	require.ErrorIs(t, s.CreateAccount(ctx, builtin.Account{ID: "u2", Email: "ann@example.com"}), builtin.ErrConflict)

	a, _, err := s.AccountByID(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "u1", a.ID)
	_, _, err = s.AccountByID(ctx, "u2")
	assert.ErrorIs(t, err, builtin.ErrNotFound, "never someone else's account")
}

// fakeClient answers GetSecret like daprd does for the local file store.
type fakeClient struct {
	dapr.Client
	secrets map[string]string
	err     error
}

func (f fakeClient) GetSecret(_ context.Context, store, key string, _ map[string]string) (map[string]string, error) {
	if store != contracts.SecretStore {
		return nil, errors.New("wrong store " + store)
	}
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.secrets[key]
	if !ok {
		return nil, errors.New("rpc error: code = Unknown desc = failed getting secret with key " + key + " from secret store secretstore: secret " + key + " not found")
	}
	return map[string]string{key: v}, nil
}

func TestSecrets(t *testing.T) {
	s := store.NewSecrets(fakeClient{secrets: map[string]string{"admin-email": "a@b.c"}})
	v, err := s.Secret(t.Context(), "admin-email")
	require.NoError(t, err)
	assert.Equal(t, "a@b.c", v)
	_, err = s.Secret(t.Context(), "jwt-previous-signing-key")
	assert.ErrorIs(t, err, secrets.ErrNotFound)

	down := store.NewSecrets(fakeClient{err: errors.New("rpc error: code = Unavailable desc = connection refused")})
	_, err = down.Secret(t.Context(), "jwt-previous-signing-key")
	require.Error(t, err)
	assert.NotErrorIs(t, err, secrets.ErrNotFound, "an outage is not an absent key")
}
