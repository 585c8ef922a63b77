package provider

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/apps/users/userstest"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, Builtin, c.Kind)
	c, err = LoadConfig(env(map[string]string{"IDENTITY_PROVIDER": "cognito"}))
	require.NoError(t, err)
	assert.Equal(t, Cognito, c.Kind)
	_, err = LoadConfig(env(map[string]string{"IDENTITY_PROVIDER": "ldap"}))
	assert.Error(t, err)
}

func TestCognitoNeedsItsSettings(t *testing.T) {
	_, err := newCognito(t.Context(), env(nil))
	assert.ErrorContains(t, err, "COGNITO_USER_POOL_ID")
}

type noReady struct{ identity.Provider }

func TestReadiness(t *testing.T) {
	e := userstest.New(t)
	assert.NoError(t, readiness(e.Provider).Check(t.Context()), "key loaded")
	assert.NoError(t, readiness(noReady{}).Check(context.Background()), "providers without Ready are always ready")
}
