package cognito

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{
		"COGNITO_REGION":        "eu-west-1",
		"AWS_REGION":            "us-east-1",
		"COGNITO_USER_POOL_ID":  "eu-west-1_AbCdEf123",
		"COGNITO_CLIENT_ID":     "client",
		"COGNITO_CLIENT_SECRET": "secret",
		"COGNITO_ADMIN_GROUP":   "shop-admins",
	}))
	require.NoError(t, err)
	assert.Equal(t, Config{
		Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123", ClientID: "client",
		ClientSecret: "secret", AdminGroup: "shop-admins",
	}, cfg)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(env(map[string]string{
		"AWS_REGION":           "eu-west-1",
		"COGNITO_USER_POOL_ID": "local_pool",
		"COGNITO_CLIENT_ID":    "client",
		"COGNITO_ENDPOINT":     "http://127.0.0.1:9229",
	}))
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", cfg.Region, "AWS_REGION when COGNITO_REGION is unset")
	assert.Equal(t, DefaultAdminGroup, cfg.AdminGroup)
	assert.Equal(t, "http://127.0.0.1:9229", cfg.Endpoint)
	assert.Empty(t, cfg.ClientSecret)
}

func TestLoadConfigListsEveryMissingValue(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{"COGNITO_CLIENT_ID": "  "}))
	require.Error(t, err)
	for _, name := range []string{"COGNITO_REGION (or AWS_REGION)", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"} {
		assert.ErrorContains(t, err, name)
	}
}

func TestLoadConfigRejectsPoolOfAnotherRegion(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{
		"AWS_REGION":           "us-east-1",
		"COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123",
		"COGNITO_CLIENT_ID":    "client",
	}))
	assert.ErrorContains(t, err, "user pool eu-west-1_AbCdEf123 is in region eu-west-1, not us-east-1")
}

func TestNewValidates(t *testing.T) {
	_, err := New(context.Background(), Config{Region: "eu-west-1"})
	assert.ErrorContains(t, err, "user pool ID is empty")
	assert.ErrorContains(t, err, "client ID is empty")
}

func TestIssuerAndJWKS(t *testing.T) {
	cfg := Config{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"}
	assert.Equal(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", cfg.Issuer())
	assert.Equal(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json", cfg.JWKSURL())
}
