package builtin_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/identity/builtin"
	"github.com/shopmesh/shopmesh/apps/users/store"
	"github.com/shopmesh/shopmesh/apps/users/userstest"
)

const (
	email = "ann@example.com"
	pw    = "correct horse battery"
)

func signUp(t *testing.T, e *userstest.Env) string {
	t.Helper()
	id, err := e.Provider.SignUp(t.Context(), email, pw, "Ann")
	require.NoError(t, err)
	return id
}

func TestSignUpAndSignIn(t *testing.T) {
	e := userstest.New(t)
	id := signUp(t, e)

	_, err := e.Provider.SignUp(t.Context(), email, "another password 1", "Ann 2")
	assert.ErrorIs(t, err, identity.ErrEmailTaken)

	toks, err := e.Provider.SignIn(t.Context(), email, pw)
	require.NoError(t, err)
	assert.Equal(t, 15*time.Minute, toks.ExpiresIn)
	assert.Len(t, toks.RefreshToken, 43, "32 random bytes, base64url")
	c, err := e.Verify(toks.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, id, c.Subject)
	assert.Equal(t, email, c.Email)
	assert.Equal(t, []string{"customer"}, c.Roles)

	// Credentials and tokens are stored only hashed, and nothing the
	// provider writes is published.
	for k, v := range e.KV.Dump() {
		assert.NotContains(t, v, pw, k)
		assert.NotContains(t, v, toks.RefreshToken, k)
		assert.NotContains(t, k, toks.RefreshToken)
		assert.NotContains(t, k, email, "e-mails appear in keys only hashed")
	}
	assert.Empty(t, e.KV.Events())
}

func TestSameAnswerForUnknownEmailAndWrongPassword(t *testing.T) {
	e := userstest.New(t)
	signUp(t, e)
	_, errWrong := e.Provider.SignIn(t.Context(), email, "wrong password!")
	_, errUnknown := e.Provider.SignIn(t.Context(), "bob@example.com", pw)
	assert.ErrorIs(t, errWrong, identity.ErrInvalidCredentials)
	assert.ErrorIs(t, errUnknown, identity.ErrInvalidCredentials)
	assert.Equal(t, errWrong.Error(), errUnknown.Error())
}

// The lock-out timeline: five failures in the window lock the e-mail out
// for the cool-down, even with the right password; afterwards sign-in
// works again; a success clears the count; failures age out of the window.
func TestLockoutTimeline(t *testing.T) {
	e := userstest.New(t)
	signUp(t, e)
	ctx := t.Context()
	fail := func() error {
		_, err := e.Provider.SignIn(ctx, email, "wrong password!")
		return err
	}

	for i := range 5 {
		require.ErrorIs(t, fail(), identity.ErrInvalidCredentials, "failure %d", i+1)
		e.Clock.Advance(time.Minute)
	}
	// 4 minutes after the fifth failure.
	e.Clock.Advance(3 * time.Minute)
	_, err := e.Provider.SignIn(ctx, email, pw)
	require.ErrorIs(t, err, identity.ErrLockedOut, "the right password is refused too")
	wait, ok := identity.RetryAfter(err)
	require.True(t, ok)
	assert.Equal(t, 11*time.Minute, wait, "cool-down of 15 minutes from the fifth failure")

	e.Clock.Advance(11*time.Minute - time.Second)
	_, err = e.Provider.SignIn(ctx, email, pw)
	require.ErrorIs(t, err, identity.ErrLockedOut)
	wait, _ = identity.RetryAfter(err)
	assert.Equal(t, time.Second, wait)

	e.Clock.Advance(time.Second)
	_, err = e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err, "the cool-down is over")

	// A success clears the count: 4 + success + 4 failures do not lock.
	for range 4 {
		require.ErrorIs(t, fail(), identity.ErrInvalidCredentials)
	}
	_, err = e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)
	for range 4 {
		require.ErrorIs(t, fail(), identity.ErrInvalidCredentials)
	}
	_, err = e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)

	// Failures older than the window do not count.
	for range 4 {
		require.ErrorIs(t, fail(), identity.ErrInvalidCredentials)
	}
	e.Clock.Advance(15*time.Minute + time.Second)
	require.ErrorIs(t, fail(), identity.ErrInvalidCredentials, "only one failure in the window")
	_, err = e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)
}

// Unknown e-mails are locked out alike (tracked by the normalised e-mail),
// so the answers never tell whether an account exists.
func TestUnknownEmailsLockOutToo(t *testing.T) {
	e := userstest.New(t)
	for range 5 {
		_, err := e.Provider.SignIn(t.Context(), "nobody@example.com", pw)
		require.ErrorIs(t, err, identity.ErrInvalidCredentials)
	}
	_, err := e.Provider.SignIn(t.Context(), "nobody@example.com", pw)
	require.ErrorIs(t, err, identity.ErrLockedOut)
	wait, _ := identity.RetryAfter(err)
	assert.Equal(t, 15*time.Minute, wait)
	// Other e-mails are unaffected.
	_, err = e.Provider.SignIn(t.Context(), "other@example.com", pw)
	assert.ErrorIs(t, err, identity.ErrInvalidCredentials)
}

// Parallel guesses are counted before the password is checked: of 50 at
// once, at most 5 get a verdict on the password.
func TestParallelGuessesAreBounded(t *testing.T) {
	e := userstest.New(t)
	signUp(t, e)
	var wg sync.WaitGroup
	var mu sync.Mutex
	verdicts := 0
	for range 50 {
		wg.Go(func() {
			_, err := e.Provider.SignIn(t.Context(), email, "wrong password!")
			if assert.Error(t, err) && !errors.Is(err, identity.ErrLockedOut) {
				assert.ErrorIs(t, err, identity.ErrInvalidCredentials)
				mu.Lock()
				verdicts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, verdicts, 5)
	assert.Positive(t, verdicts)
}

func TestRefreshRotation(t *testing.T) {
	e := userstest.New(t)
	id := signUp(t, e)
	ctx := t.Context()
	first, err := e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)

	e.Clock.Advance(time.Hour)
	second, err := e.Provider.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	c, err := e.Verify(second.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, id, c.Subject)

	third, err := e.Provider.Refresh(ctx, second.RefreshToken)
	require.NoError(t, err)

	// Reuse of a spent token: refused, and the whole family dies, including
	// the newest token.
	_, err = e.Provider.Refresh(ctx, first.RefreshToken)
	require.ErrorIs(t, err, identity.ErrInvalidToken)
	_, err = e.Provider.Refresh(ctx, third.RefreshToken)
	require.ErrorIs(t, err, identity.ErrInvalidToken, "family revoked")

	// Another sign-in is another family.
	other, err := e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)
	_, err = e.Provider.Refresh(ctx, other.RefreshToken)
	require.NoError(t, err)
}

func TestRefreshTokensExpireAndCarryNewRoles(t *testing.T) {
	e := userstest.New(t)
	id := signUp(t, e)
	ctx := t.Context()
	toks, err := e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)

	require.NoError(t, e.Provider.GrantAdmin(ctx, id))
	toks, err = e.Provider.Refresh(ctx, toks.RefreshToken)
	require.NoError(t, err)
	c, err := e.Verify(toks.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, []string{"customer", "admin"}, c.Roles, "a refresh reads the account afresh")

	e.Clock.Advance(30*24*time.Hour + time.Second)
	_, err = e.Provider.Refresh(ctx, toks.RefreshToken)
	assert.ErrorIs(t, err, identity.ErrInvalidToken, "expired after 30 days")
}

func TestRefreshRejectsGarbage(t *testing.T) {
	e := userstest.New(t)
	for _, bad := range []string{"", "x", "not-a-token-but-43-characters-long-aaaaaaaa", strings.Repeat("A", 43), strings.Repeat("A", 500)} {
		_, err := e.Provider.Refresh(t.Context(), bad)
		assert.ErrorIs(t, err, identity.ErrInvalidToken, "%q", bad)
		assert.NoError(t, e.Provider.SignOut(t.Context(), bad))
	}
}

func TestSignOut(t *testing.T) {
	e := userstest.New(t)
	signUp(t, e)
	ctx := t.Context()
	toks, err := e.Provider.SignIn(ctx, email, pw)
	require.NoError(t, err)
	require.NoError(t, e.Provider.SignOut(ctx, toks.RefreshToken))
	require.NoError(t, e.Provider.SignOut(ctx, toks.RefreshToken), "idempotent")
	_, err = e.Provider.Refresh(ctx, toks.RefreshToken)
	assert.ErrorIs(t, err, identity.ErrInvalidToken)
}

func TestGrantAdminAndSetPassword(t *testing.T) {
	e := userstest.New(t)
	id := signUp(t, e)
	ctx := t.Context()
	require.NoError(t, e.Provider.GrantAdmin(ctx, id))
	require.NoError(t, e.Provider.GrantAdmin(ctx, id), "idempotent")
	assert.ErrorIs(t, e.Provider.GrantAdmin(ctx, "no-such-user"), identity.ErrUnknownUser)

	got, err := e.Provider.UserID(ctx, email)
	require.NoError(t, err)
	assert.Equal(t, id, got)
	_, err = e.Provider.UserID(ctx, "nobody@example.com")
	assert.ErrorIs(t, err, identity.ErrUnknownUser)

	before := e.KV.Dump()
	require.NoError(t, e.Provider.SetPassword(ctx, id, pw))
	assert.Equal(t, before, e.KV.Dump(), "an unchanged password writes nothing")

	require.NoError(t, e.Provider.SetPassword(ctx, id, "a brand new password"))
	_, err = e.Provider.SignIn(ctx, email, pw)
	assert.ErrorIs(t, err, identity.ErrInvalidCredentials)
	toks, err := e.Provider.SignIn(ctx, email, "a brand new password")
	require.NoError(t, err)
	c, err := e.Verify(toks.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, []string{"customer", "admin"}, c.Roles)
}

func TestLoadConfig(t *testing.T) {
	c, err := builtin.LoadConfig(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, builtin.DefaultConfig, c)
	_, err = builtin.LoadConfig(func(k string) (string, bool) { return "0", k == "LOCKOUT_MAX_FAILURES" })
	assert.Error(t, err)
}

// A sign-up that died after claiming its e-mail blocks it for a minute at
// most; meanwhile the claim is no account for signing in.
func TestAbandonedClaimIsTakenOver(t *testing.T) {
	e := userstest.New(t)
	accounts := store.NewAccounts(e.KV)
	require.NoError(t, accounts.CreateAccount(t.Context(), builtin.Account{ID: "ghost", Email: email, CreatedAt: e.Clock.Now()}))

	e.Clock.Advance(30 * time.Second)
	_, err := e.Provider.SignUp(t.Context(), email, pw, "Ann")
	require.ErrorIs(t, err, identity.ErrEmailTaken, "a sign-up may still be hashing")
	_, err = e.Provider.SignIn(t.Context(), email, pw)
	require.ErrorIs(t, err, identity.ErrInvalidCredentials)
	_, err = e.Provider.UserID(t.Context(), email)
	require.ErrorIs(t, err, identity.ErrUnknownUser)

	e.Clock.Advance(31 * time.Second)
	id, err := e.Provider.SignUp(t.Context(), email, pw, "Ann")
	require.NoError(t, err)
	assert.NotEqual(t, "ghost", id)
	_, err = e.Provider.SignIn(t.Context(), email, pw)
	require.NoError(t, err)
}

// A sign-up that fails after its claim gives the e-mail back at once.
func TestFailedSignUpReleasesTheEmail(t *testing.T) {
	e := userstest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // hashing refuses to start for a caller that has gone
	_, err := e.Provider.SignUp(ctx, email, pw, "Ann")
	require.ErrorIs(t, err, context.Canceled)
	for k := range e.KV.Dump() {
		assert.False(t, strings.HasPrefix(k, "account"), "left behind: %s", k)
	}
	_, err = e.Provider.SignUp(t.Context(), email, pw, "Ann")
	require.NoError(t, err)
}
