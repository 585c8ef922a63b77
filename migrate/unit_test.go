package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMigrateURL(t *testing.T) {
	cases := []struct {
		name, dsn, want string
	}{
		{
			name: "secrets file form",
			dsn:  "host=127.0.0.1 port=15432 user=catalog password=0a1b2c dbname=catalog sslmode=disable",
			want: "pgx5://catalog:0a1b2c@127.0.0.1:15432/catalog?sslmode=disable",
		},
		{
			name: "quoted value with escapes and spaces around =",
			dsn:  `host = localhost user=u password='p@ss w\'rd/\\' dbname=d`,
			want: "pgx5://u:p%40ss%20w%27rd%2F%5C@localhost/d",
		},
		{
			name: "unix socket dir goes to the query",
			dsn:  "host=/work/.local/run/postgres port=15432 user=u dbname=d",
			want: "pgx5://u@/d?host=%2Fwork%2F.local%2Frun%2Fpostgres&port=15432",
		},
		{
			name: "ipv6 host",
			dsn:  "host=::1 port=5432 user=u dbname=d",
			want: "pgx5://u@[::1]:5432/d",
		},
		{
			name: "url form only changes the scheme",
			dsn:  "postgres://u:pw@127.0.0.1:15432/d?sslmode=disable",
			want: "pgx5://u:pw@127.0.0.1:15432/d?sslmode=disable",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := migrateURL(tc.dsn)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestMigrateURLSameConnection checks the URL means the same connection as
// the keyword DSN to pgx itself, which is what the pgx5 driver uses.
func TestMigrateURLSameConnection(t *testing.T) {
	dsn := `host=127.0.0.1 port=15432 user=catalog password='it\'s not \'plain\' :/@?#' dbname=catalog sslmode=disable connect_timeout=7`
	u, err := migrateURL(dsn)
	require.NoError(t, err)

	want, err := pgconn.ParseConfig(dsn)
	require.NoError(t, err)
	got, err := pgconn.ParseConfig(strings.Replace(u, "pgx5://", "postgres://", 1))
	require.NoError(t, err)
	assert.Equal(t, want.Host, got.Host)
	assert.Equal(t, want.Port, got.Port)
	assert.Equal(t, want.User, got.User)
	assert.Equal(t, want.Password, got.Password)
	assert.Equal(t, "it's not 'plain' :/@?#", got.Password)
	assert.Equal(t, want.Database, got.Database)
	assert.Equal(t, want.ConnectTimeout, got.ConnectTimeout)
	assert.Nil(t, got.TLSConfig, "sslmode=disable must survive")
}

func TestMigrateURLErrorsHideValues(t *testing.T) {
	for _, dsn := range []string{
		"host=h password='secret-value",  // unterminated quote
		"host=h secret-value",            // no '='
		"host=h password=secret-value\\", // lone backslash
		"password=secret-value",          // password without user
		"host=a,b user=u password=secret-value",
	} {
		_, err := migrateURL(dsn)
		require.Error(t, err, dsn)
		assert.NotContains(t, err.Error(), "secret-value", "errors must not leak values")
	}
}

func TestReadSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"catalog-db-password":"pw","catalog-store-dsn":"host=x"}`), 0o600))

	sec, err := readSecrets(path)
	require.NoError(t, err)
	pw, err := sec.get(passwordKey("catalog"))
	require.NoError(t, err)
	assert.Equal(t, "pw", pw)
	dsn, err := sec.get(dsnKey("catalog"))
	require.NoError(t, err)
	assert.Equal(t, "host=x", dsn)

	_, err = sec.get(dsnKey("orders"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"orders-store-dsn"`)
	assert.Contains(t, err.Error(), path)
}

func TestReadSecretsBadFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := readSecrets(filepath.Join(dir, "missing.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "local/secrets.sh ensure")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"catalog-db-password": 1}`), 0o600))
	_, err = readSecrets(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
}

func TestQuoting(t *testing.T) {
	assert.Equal(t, `"catalog"`, quoteIdent("catalog"))
	assert.Equal(t, `"we""ird name"`, quoteIdent(`we"ird name`))

	for in, want := range map[string]string{
		"0a1b2c":   `'0a1b2c'`,
		"it's":     `'it''s'`,
		`back\sl'`: `E'back\\sl'''`,
	} {
		got, err := quoteLiteral(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := quoteLiteral("nul\x00")
	assert.Error(t, err)
}

func TestStatements(t *testing.T) {
	stmt, err := roleStatement("catalog", "pw'1", false)
	require.NoError(t, err)
	assert.Equal(t, `CREATE ROLE "catalog" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'pw''1'`, stmt)
	stmt, err = roleStatement("catalog", "pw", true)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stmt, `ALTER ROLE "catalog" WITH LOGIN`), stmt)

	assert.Equal(t, `CREATE DATABASE "catalog" OWNER "catalog"`, databaseStatement("catalog", false))
	assert.Equal(t, `ALTER DATABASE "catalog" OWNER TO "catalog"`, databaseStatement("catalog", true))
}

func TestValidateServiceName(t *testing.T) {
	for _, ok := range []string{"catalog", "mgtest_0a1b", "a1"} {
		assert.NoError(t, validateServiceName(ok), ok)
	}
	for _, bad := range []string{"", "Catalog", "1abc", "a-b", `a"b`, strings.Repeat("a", 64)} {
		assert.Error(t, validateServiceName(bad), bad)
	}
}

func TestSelectServices(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/0001_a.up.sql": {Data: []byte("SELECT 1;")},
		"orders/0001_a.up.sql":  {Data: []byte("SELECT 1;")},
		"README.md":             {Data: []byte("not a service")},
	}
	got, err := selectServices(fsys, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"catalog", "orders"}, got)

	got, err = selectServices(fsys, []string{"orders"})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, got)

	_, err = selectServices(fsys, []string{"users"})
	assert.ErrorContains(t, err, `"users" has no migrations`)
}

// TestEmbeddedMigrations guards the shipped files: every service folder has
// matching up/down pairs golang-migrate can parse, and catalog sets up what
// Dapr's state.postgresql v2 expects.
func TestEmbeddedMigrations(t *testing.T) {
	up, err := sqlFiles.ReadFile("sql/catalog/0001_dapr_state.up.sql")
	require.NoError(t, err)
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS dapr_metadata",
		"CREATE TABLE IF NOT EXISTS state (",
		"etag uuid NOT NULL DEFAULT gen_random_uuid()",
		"state_expires_at_idx ON state (expires_at)",
		"('migrations-state-v2-', '1')",
	} {
		assert.Contains(t, string(up), want)
	}
	_, err = sqlFiles.ReadFile("sql/catalog/0001_dapr_state.down.sql")
	require.NoError(t, err)
	up, err = sqlFiles.ReadFile("sql/catalog/0002_dapr_state_row_id.up.sql")
	require.NoError(t, err)
	for _, want := range []string{
		"ADD COLUMN IF NOT EXISTS row_id BIGINT",
		"ADD GENERATED BY DEFAULT AS IDENTITY",
		"state_row_id_uidx ON state (row_id)",
		"('migrations-state-v2-', '2')",
	} {
		assert.Contains(t, string(up), want)
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"MIGRATE_ADMIN_DSN": "postgres://a", "SHOPMESH_SECRETS_FILE": "/s.json"}
	opts, err := parseFlags([]string{"-services", "catalog, orders"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "postgres://a", opts.adminDSN)
	assert.Equal(t, "/s.json", opts.secretsFile)
	assert.Equal(t, []string{"catalog", "orders"}, opts.services)

	opts, err = parseFlags(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ".local/secrets.json", opts.secretsFile)
	assert.Empty(t, opts.adminDSN)
	assert.Empty(t, opts.services)
}
