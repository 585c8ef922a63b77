package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// validateServiceName limits service names to what is a valid unquoted
// PostgreSQL name and a clean secrets key, so role, database, sql folder and
// secrets keys all agree: [a-z][a-z0-9_]*, at most 63 bytes.
func validateServiceName(name string) error {
	ok := name != "" && len(name) <= 63 && name[0] >= 'a' && name[0] <= 'z'
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("invalid service name %q: want lowercase letters, digits and _, starting with a letter, at most 63 bytes", name)
	}
	return nil
}

// quoteIdent quotes a role or database name for SQL text; DDL cannot take
// identifiers as bind parameters.
func quoteIdent(name string) string {
	return pgx.Identifier{name}.Sanitize()
}

// quoteLiteral quotes a string for SQL text (ROLE ... PASSWORD cannot be a
// bind parameter). Quotes are doubled; with a backslash an escape string
// (E'...', backslashes doubled) is used so the result is right whatever
// standard_conforming_strings says.
func quoteLiteral(s string) (string, error) {
	if strings.ContainsRune(s, 0) {
		return "", errors.New("string literal contains a NUL byte")
	}
	q := strings.ReplaceAll(s, "'", "''")
	if strings.Contains(q, `\`) {
		return `E'` + strings.ReplaceAll(q, `\`, `\\`) + `'`, nil
	}
	return "'" + q + "'", nil
}

// roleStatement creates or updates the service's login role. The password is
// always set so the role follows the secrets file; the NO* options keep the
// role unprivileged even if someone widened it by hand.
func roleStatement(service, password string, exists bool) (string, error) {
	lit, err := quoteLiteral(password)
	if err != nil {
		return "", fmt.Errorf("password of role %s: %w", service, err)
	}
	verb := "CREATE ROLE"
	if exists {
		verb = "ALTER ROLE"
	}
	return fmt.Sprintf("%s %s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s",
		verb, quoteIdent(service), lit), nil
}

// databaseStatement creates the service's database, or makes sure an
// existing one belongs to the service role.
func databaseStatement(service string, exists bool) string {
	if exists {
		return fmt.Sprintf("ALTER DATABASE %s OWNER TO %s", quoteIdent(service), quoteIdent(service))
	}
	return fmt.Sprintf("CREATE DATABASE %s OWNER %s", quoteIdent(service), quoteIdent(service))
}

// connectAdmin opens a superuser connection to the given database (empty:
// the one in the DSN).
func connectAdmin(ctx context.Context, adminDSN, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		// pgx's parse errors can echo the DSN, password included.
		return nil, errors.New("parse admin DSN: invalid (check -admin-dsn / MIGRATE_ADMIN_DSN)")
	}
	if database != "" {
		cfg.Database = database
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect as admin to database %q: %w", cfg.Database, err)
	}
	return conn, nil
}

// provisionService makes role and database <service> exist and be private.
// Statements run one at a time outside any transaction, because CREATE
// DATABASE refuses to run inside one. Each step is idempotent.
func provisionService(ctx context.Context, admin *pgx.Conn, adminDSN, service, password string) error {
	if err := ensureRole(ctx, admin, service, password); err != nil {
		return err
	}
	if err := ensureDatabase(ctx, admin, service); err != nil {
		return err
	}
	// PUBLIC gets CONNECT and TEMP on new databases by default; without this
	// every other service role could connect here. The owner keeps its rights.
	revoke := fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", quoteIdent(service))
	if _, err := admin.Exec(ctx, revoke); err != nil {
		return fmt.Errorf("revoke public access to database %s: %w", service, err)
	}
	return lockPublicSchema(ctx, adminDSN, service)
}

func ensureRole(ctx context.Context, admin *pgx.Conn, service, password string) error {
	var exists bool
	err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", service).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up role %s: %w", service, err)
	}
	stmt, err := roleStatement(service, password, exists)
	if err != nil {
		return err
	}
	// The error never contains the statement, so the password stays out of logs.
	if _, err := admin.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("ensure role %s: %w", service, err)
	}
	return nil
}

func ensureDatabase(ctx context.Context, admin *pgx.Conn, service string) error {
	var exists bool
	err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", service).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up database %s: %w", service, err)
	}
	if _, err := admin.Exec(ctx, databaseStatement(service, exists)); err != nil {
		return fmt.Errorf("ensure database %s: %w", service, err)
	}
	return nil
}

// lockPublicSchema removes CREATE on schema public from PUBLIC inside the
// service database. PostgreSQL 15 already defaults to that; doing it anyway
// also covers databases made from an older or altered template.
func lockPublicSchema(ctx context.Context, adminDSN, service string) error {
	conn, err := connectAdmin(ctx, adminDSN, service)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "REVOKE CREATE ON SCHEMA public FROM PUBLIC"); err != nil {
		return fmt.Errorf("revoke create on schema public in database %s: %w", service, err)
	}
	return nil
}
