package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/admin"
	"github.com/shopmesh/shopmesh/apps/users/secrets"
	"github.com/shopmesh/shopmesh/apps/users/userstest"
)

func ready(context.Context) error { return nil }

func TestBootstrapCreatesTheAdminOnce(t *testing.T) {
	e := userstest.New(t)
	b := admin.New(e.Service, e.Secrets, ready, e.Log)
	require.Error(t, b.Done(t.Context()), "not ready before it ran")
	b.Run(t.Context())
	require.NoError(t, b.Done(t.Context()))

	// A restart does it again without a second account.
	admin.New(e.Service, e.Secrets, ready, e.Log).Run(t.Context())
	assert.Len(t, e.KV.Events(), 1)

	toks, err := e.Service.Login(t.Context(), "admin@shopmesh.test", "admin-secret-pw")
	require.NoError(t, err)
	c, err := e.Verify(toks.AccessToken)
	require.NoError(t, err)
	assert.Contains(t, c.Roles, "admin")
}

// Until the secrets are there it keeps trying, and is not ready.
func TestBootstrapRetriesUntilTheSecretsExist(t *testing.T) {
	e := userstest.New(t)
	delete(e.Secrets, secrets.AdminPassword)
	b := admin.New(e.Service, e.Secrets, ready, e.Log)
	err := b.Once(t.Context())
	require.ErrorIs(t, err, secrets.ErrNotFound)

	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	b.Run(ctx) // returns when ctx ends
	assert.Error(t, b.Done(t.Context()))
}

func TestBootstrapWaitsForTheSidecar(t *testing.T) {
	e := userstest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	waited := false
	b := admin.New(e.Service, e.Secrets, func(context.Context) error {
		waited = true
		cancel()
		return errors.New("sidecar down")
	}, e.Log)
	b.Run(ctx)
	assert.True(t, waited)
	assert.Empty(t, e.KV.Dump(), "nothing written before the sidecar is up")
}
