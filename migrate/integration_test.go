package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegration runs the whole command logic against a real PostgreSQL:
//
//	SHOPMESH_PG_ADMIN_DSN="postgres://postgres:PW@127.0.0.1:15432/postgres?sslmode=disable" go test ./migrate/...
//
// It uses two throwaway services (roles and databases mgtest_<random>),
// migrated with the real catalog files, and drops them at the end.
func TestIntegration(t *testing.T) {
	adminDSN := os.Getenv("SHOPMESH_PG_ADMIN_DSN")
	if adminDSN == "" {
		t.Skip("SHOPMESH_PG_ADMIN_DSN not set: skipping the PostgreSQL integration test (start one with local/postgres.sh start)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	adminCfg, err := pgx.ParseConfig(adminDSN)
	require.NoError(t, err)
	svcA, svcB := "mgtest_"+randomHex(t, 4), "mgtest_"+randomHex(t, 4)
	t.Cleanup(func() { dropService(t, adminDSN, svcA, svcB) })

	// The real catalog migrations, under each throwaway service's name.
	catalogUp, err := sqlFiles.ReadFile("sql/catalog/0001_dapr_state.up.sql")
	require.NoError(t, err)
	catalogDown, err := sqlFiles.ReadFile("sql/catalog/0001_dapr_state.down.sql")
	require.NoError(t, err)
	migrations := fstest.MapFS{}
	values := map[string]string{}
	for _, svc := range []string{svcA, svcB} {
		migrations[svc+"/0001_dapr_state.up.sql"] = &fstest.MapFile{Data: catalogUp}
		migrations[svc+"/0001_dapr_state.down.sql"] = &fstest.MapFile{Data: catalogDown}
		pw := randomHex(t, 16)
		values[passwordKey(svc)] = pw
		values[dsnKey(svc)] = serviceDSN(adminCfg, svc, pw, svc)
	}
	cfg := config{adminDSN: adminDSN, secrets: secrets{path: "test", values: values}}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))

	require.NoError(t, migrateAll(ctx, migrations, cfg, logger), "first run")

	connA := connect(ctx, t, serviceDSN(adminCfg, svcA, values[passwordKey(svcA)], svcA))
	var marker string
	require.NoError(t, connA.QueryRow(ctx,
		"SELECT value FROM dapr_metadata WHERE key = 'migrations-state-v2-'").Scan(&marker))
	assert.Equal(t, "2", marker, "Dapr's migration level of contrib v1.17.3")
	// Dapr's write path: an upsert with a server-side etag, as the role itself.
	_, err = connA.Exec(ctx, `INSERT INTO state (key, value, etag) VALUES ('k', '\x01', gen_random_uuid())`)
	require.NoError(t, err)
	var owner string
	require.NoError(t, connA.QueryRow(ctx,
		"SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'state'").Scan(&owner))
	assert.Equal(t, svcA, owner, "tables belong to the service role")

	// Role A must not even connect to service B's database.
	_, err = pgx.Connect(ctx, serviceDSN(adminCfg, svcA, values[passwordKey(svcA)], svcB))
	require.Error(t, err, "role %s connected to database %s", svcA, svcB)
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a server error, got %v", err)
	assert.Equal(t, "42501", pgErr.Code, "insufficient_privilege: %v", err)

	// A second run changes nothing and still succeeds.
	require.NoError(t, migrateAll(ctx, migrations, cfg, logger), "second run")
	var rows int
	require.NoError(t, connA.QueryRow(ctx, "SELECT count(*) FROM state").Scan(&rows))
	assert.Equal(t, 1, rows)
	var version int
	var dirty bool
	require.NoError(t, connA.QueryRow(ctx, "SELECT version, dirty FROM schema_migrations").Scan(&version, &dirty))
	assert.Equal(t, 1, version)
	assert.False(t, dirty)

	// Migrating without the admin step works too (roles already exist).
	require.NoError(t, migrateAll(ctx, migrations, config{secrets: cfg.secrets}, logger), "without admin DSN")
}

func TestIntegrationMissingPassword(t *testing.T) {
	adminDSN := os.Getenv("SHOPMESH_PG_ADMIN_DSN")
	if adminDSN == "" {
		t.Skip("SHOPMESH_PG_ADMIN_DSN not set")
	}
	migrations := fstest.MapFS{"mgtest_nopw/0001_x.up.sql": {Data: []byte("SELECT 1;")}}
	err := migrateAll(context.Background(), migrations,
		config{adminDSN: adminDSN, secrets: secrets{path: "test", values: map[string]string{}}},
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	assert.ErrorContains(t, err, `"mgtest_nopw-db-password"`)
}

// serviceDSN is a keyword/value DSN like the secrets file's, on the admin's server.
func serviceDSN(admin *pgx.ConnConfig, role, password, database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		admin.Host, admin.Port, role, password, database)
}

func connect(ctx context.Context, t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// dropService removes the throwaway databases, then their roles.
func dropService(t *testing.T, adminDSN string, services ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := connectAdmin(ctx, adminDSN, "")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer admin.Close(ctx)
	for _, svc := range services {
		if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", quoteIdent(svc))); err != nil {
			t.Errorf("cleanup: drop database %s: %v", svc, err)
		}
	}
	for _, svc := range services {
		if _, err := admin.Exec(ctx, fmt.Sprintf("DROP ROLE IF EXISTS %s", quoteIdent(svc))); err != nil {
			t.Errorf("cleanup: drop role %s: %v", svc, err)
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
