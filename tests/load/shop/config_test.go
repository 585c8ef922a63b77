package shop

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFlagsDefaultToTheEnvironment(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs, env(map[string]string{
		"SHOPMESH_GATEWAY": "https://shop.example.com", "SHOPMESH_SHOPPER_ADDRS": "none",
		"SHOPMESH_ADMIN_EMAIL": "ops@example.com", "SHOPMESH_ADMIN_PASSWORD": "s3cret-pass",
	}))
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, "https://shop.example.com", c.Gateway)
	assert.Equal(t, "none", c.ShopperAddrs)
	email, password, err := c.adminCredentials()
	require.NoError(t, err)
	assert.Equal(t, "ops@example.com", email)
	assert.Equal(t, "s3cret-pass", password)
	assert.Empty(t, fs.Lookup("admin-password").DefValue, "-h must not print the password")

	c = Config{}
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs, env(nil))
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, "http://127.0.0.1:8080", c.Gateway)
	assert.Equal(t, "auto", c.ShopperAddrs)
}

func TestAdminCredentialsFlagsThenEnvironmentThenSecretsFile(t *testing.T) {
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	require.NoError(t, os.WriteFile(secrets, []byte(`{"admin-email":"file@example.com","admin-password":"file-pass","postgres-password":"x"}`), 0o600))

	c := Config{Secrets: secrets}
	email, password, err := c.adminCredentials()
	require.NoError(t, err)
	assert.Equal(t, []string{"file@example.com", "file-pass"}, []string{email, password})

	c = Config{Secrets: secrets, AdminEmail: "flag@example.com", envAdminEmail: "env@example.com", envAdminPassword: "env-pass"}
	email, password, err = c.adminCredentials()
	require.NoError(t, err)
	assert.Equal(t, []string{"flag@example.com", "env-pass"}, []string{email, password})

	c = Config{Secrets: secrets, envAdminPassword: "env-pass"}
	email, password, err = c.adminCredentials()
	require.NoError(t, err)
	assert.Equal(t, []string{"file@example.com", "env-pass"}, []string{email, password})

	_, _, err = Config{Secrets: filepath.Join(t.TempDir(), "missing.json")}.adminCredentials()
	assert.ErrorContains(t, err, "SHOPMESH_ADMIN_EMAIL")
}

func TestGatewayIsLocal(t *testing.T) {
	for url, want := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:8080": true, "http://[::1]:8080": true,
		"http://127.3.4.5": true, "https://shop.example.com": false, "http://10.0.0.5:8080": false,
	} {
		got, err := Config{Gateway: url}.GatewayIsLocal()
		require.NoError(t, err, url)
		assert.Equal(t, want, got, url)
	}
	_, err := Config{Gateway: "127.0.0.1:8080/x"}.GatewayIsLocal()
	assert.Error(t, err)
}
