package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/password"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/apps/users/userstest"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

const pw = "correct horse battery"

func TestRegister(t *testing.T) {
	e := userstest.New(t)
	p, err := e.Service.Register(t.Context(), "  Ann@Example.COM ", pw, "  Ann Example ")
	require.NoError(t, err)
	assert.Equal(t, "ann@example.com", p.Email, "trimmed and lower-cased")
	assert.Equal(t, "Ann Example", p.Name)
	assert.Equal(t, []string{users.RoleCustomer}, p.Roles)

	// Exactly one user.registered, carrying the contract's fields and no
	// credentials.
	evs := e.KV.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, contracts.UserRegistered, evs[0].Type)
	var ev contracts.UserEvent
	require.NoError(t, json.Unmarshal(evs[0].Data, &ev))
	assert.Equal(t, contracts.UserEvent{ID: p.ID, Email: "ann@example.com", Name: "Ann Example", RegisteredAt: p.RegisteredAt}, ev)
	assert.NotContains(t, string(evs[0].Data), "argon2")
	assert.NotContains(t, string(evs[0].Data), "password")
	assert.NotContains(t, string(evs[0].Data), pw)

	// Any case of the e-mail is taken now.
	_, err = e.Service.Register(t.Context(), "ANN@example.com", "another good password", "Ann 2")
	assert.ErrorIs(t, err, identity.ErrEmailTaken)
	assert.Len(t, e.KV.Events(), 1)

	// And the account signs in, in any case.
	_, err = e.Service.Login(t.Context(), " ANN@EXAMPLE.com", pw)
	require.NoError(t, err)
}

func TestRegisterRefusesWeakPasswordsAndBadNames(t *testing.T) {
	e := userstest.New(t)
	for _, bad := range []string{"short", "password123", "QWERTYUIOP", "ann@example.com", strings.Repeat("x", 129)} {
		_, err := e.Service.Register(t.Context(), "ann@example.com", bad, "Ann")
		assert.ErrorIs(t, err, password.ErrWeak, bad)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("n", 101), "Ann\x00", "Ann\nAdmin", "\xff"} {
		_, err := e.Service.Register(t.Context(), "ann@example.com", pw, bad)
		assert.ErrorIs(t, err, users.ErrInvalid, "%q", bad)
		var fe *users.FieldError
		if assert.ErrorAs(t, err, &fe) {
			assert.Equal(t, "name", fe.Field)
		}
	}
	_, err := e.Service.Register(t.Context(), "ann@example.com", pw, strings.Repeat("é", 100))
	require.NoError(t, err, "100 characters, 200 bytes")
	assert.Len(t, e.KV.Events(), 1, "only the valid registration")
}

// 20 concurrent registrations of one address in different cases: exactly
// one wins, the others see ErrEmailTaken, one event is published.
func TestRegistrationRace(t *testing.T) {
	e := userstest.New(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, taken := 0, 0
	for i := range 20 {
		addr := []rune("race@example.com")
		for j := range addr {
			if (i>>(j%5))&1 == 1 {
				addr[j] = []rune(strings.ToUpper(string(addr[j])))[0]
			}
		}
		wg.Go(func() {
			_, err := e.Service.Register(context.Background(), string(addr), pw, fmt.Sprintf("Racer %d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, identity.ErrEmailTaken):
				taken++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, 19, taken)
	assert.Len(t, e.KV.Events(), 1)
	accounts := 0
	for k := range e.KV.Dump() {
		if strings.HasPrefix(k, "account|") {
			accounts++
		}
	}
	assert.Equal(t, 1, accounts)
}

func caller(t *testing.T, e *userstest.Env) users.Caller {
	t.Helper()
	p, err := e.Service.Register(t.Context(), "ann@example.com", pw, "Ann")
	require.NoError(t, err)
	return users.Caller{UserID: p.ID, Email: p.Email, Roles: p.Roles}
}

var home = users.Address{Name: "Ann Example", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}

func TestAddresses(t *testing.T) {
	e := userstest.New(t)
	who := caller(t, e)
	ctx := t.Context()

	bad := home
	bad.City = "Spring\x00field"
	_, err := e.Service.AddAddress(ctx, who, bad)
	var fe *users.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "city", fe.Field)

	a, err := e.Service.AddAddress(ctx, who, home)
	require.NoError(t, err)
	assert.NotEmpty(t, a.ID)
	b, err := e.Service.AddAddress(ctx, who, users.Address{Name: "Work", Line1: "2 Side St", Line2: "Floor 3", City: "Berlin", PostalCode: "10115", Country: "DE"})
	require.NoError(t, err)

	me, err := e.Service.Me(ctx, who)
	require.NoError(t, err)
	require.Len(t, me.Addresses, 2)
	assert.Equal(t, []string{a.ID, b.ID}, []string{me.Addresses[0].ID, me.Addresses[1].ID}, "in the order added")

	require.NoError(t, e.Service.DeleteAddress(ctx, who, a.ID))
	assert.ErrorIs(t, e.Service.DeleteAddress(ctx, who, a.ID), users.ErrNotFound)
	as, err := e.Service.Addresses(ctx, who)
	require.NoError(t, err)
	require.Len(t, as, 1)
	assert.Equal(t, b, as[0])

	for range users.MaxAddresses - 1 {
		_, err := e.Service.AddAddress(ctx, who, home)
		require.NoError(t, err)
	}
	_, err = e.Service.AddAddress(ctx, who, home)
	assert.ErrorIs(t, err, users.ErrTooManyAddresses)

	assert.Len(t, e.KV.Events(), 1, "profile updates are not published")
}

// Concurrent additions all land: the ETag retries merge them.
func TestConcurrentAddresses(t *testing.T) {
	e := userstest.New(t)
	who := caller(t, e)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, err := e.Service.AddAddress(context.Background(), who, home)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	as, err := e.Service.Addresses(t.Context(), who)
	require.NoError(t, err)
	assert.Len(t, as, 5)
}

// An account whose profile was never stored (the registration stopped
// between the provider and the store) gets one on first use.
func TestMissingProfileIsRecreated(t *testing.T) {
	e := userstest.New(t)
	id, err := e.Provider.SignUp(t.Context(), "bob@example.com", pw, "Bob")
	require.NoError(t, err)
	who := users.Caller{UserID: id, Email: "bob@example.com", Roles: []string{"customer"}}
	p, err := e.Service.Me(t.Context(), who)
	require.NoError(t, err)
	assert.Equal(t, id, p.ID)
	assert.Equal(t, "bob", p.Name)
	assert.Equal(t, []string{"customer"}, p.Roles)
	require.Len(t, e.KV.Events(), 1, "its user.registered goes out then")
}

func TestEnsureAdminIsIdempotent(t *testing.T) {
	e := userstest.New(t)
	ctx := t.Context()
	id, created, err := e.Service.EnsureAdmin(ctx, "Admin@ShopMesh.test", "admin-secret-pw")
	require.NoError(t, err)
	assert.True(t, created)

	again, created, err := e.Service.EnsureAdmin(ctx, "admin@shopmesh.test", "admin-secret-pw")
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, id, again)
	assert.Len(t, e.KV.Events(), 1, "one account, one event")

	p, err := e.Service.Me(ctx, users.Caller{UserID: id})
	require.NoError(t, err)
	assert.Equal(t, []string{users.RoleCustomer, users.RoleAdmin}, p.Roles)
	assert.Equal(t, users.AdminName, p.Name)

	toks, err := e.Service.Login(ctx, "admin@shopmesh.test", "admin-secret-pw")
	require.NoError(t, err)
	c, err := e.Verify(toks.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, []string{"customer", "admin"}, c.Roles)

	// The secret changed: the account follows it.
	_, _, err = e.Service.EnsureAdmin(ctx, "admin@shopmesh.test", "the new admin password")
	require.NoError(t, err)
	_, err = e.Service.Login(ctx, "admin@shopmesh.test", "admin-secret-pw")
	assert.ErrorIs(t, err, identity.ErrInvalidCredentials)
	_, err = e.Service.Login(ctx, "admin@shopmesh.test", "the new admin password")
	assert.NoError(t, err)
}

// An existing customer account with the admin's e-mail becomes admin.
func TestEnsureAdminPromotesAnExistingAccount(t *testing.T) {
	e := userstest.New(t)
	who := caller(t, e)
	id, created, err := e.Service.EnsureAdmin(t.Context(), "ann@example.com", "admin-secret-pw")
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, who.UserID, id)
	p, err := e.Service.Me(t.Context(), who)
	require.NoError(t, err)
	assert.Equal(t, []string{users.RoleCustomer, users.RoleAdmin}, p.Roles)
}

func TestEnsureAdminRefusesAWeakPassword(t *testing.T) {
	e := userstest.New(t)
	_, _, err := e.Service.EnsureAdmin(t.Context(), "admin@shopmesh.test", "admin")
	assert.ErrorIs(t, err, password.ErrWeak)
	assert.Empty(t, e.KV.Dump())
}

// A provider without identity.AccountAdmin cannot check an existing admin.
type bareProvider struct{ identity.Provider }

func TestEnsureAdminWithABareProvider(t *testing.T) {
	e := userstest.New(t)
	svc := users.NewService(bareProvider{e.Provider}, store.NewProfiles(e.KV), e.Log)
	_, created, err := svc.EnsureAdmin(t.Context(), "admin@shopmesh.test", "admin-secret-pw")
	require.NoError(t, err)
	assert.True(t, created)
	_, _, err = svc.EnsureAdmin(t.Context(), "admin@shopmesh.test", "admin-secret-pw")
	assert.ErrorIs(t, err, users.ErrAdminUnmanaged)
}
