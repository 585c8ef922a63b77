package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// database driver
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// config is what one migrate run needs besides the migration files.
type config struct {
	adminDSN string   // superuser DSN; empty skips provisioning
	services []string // empty: every folder of the migration FS
	secrets  secrets
}

// migrateAll provisions (with an admin DSN) and migrates each service.
// migrations holds one folder per service with golang-migrate files
// (NNNN_name.up.sql / .down.sql); taking it as a parameter lets tests pass
// their own files.
func migrateAll(ctx context.Context, migrations fs.FS, cfg config, logger *slog.Logger) error {
	services, err := selectServices(migrations, cfg.services)
	if err != nil {
		return err
	}
	if cfg.adminDSN != "" {
		if err := provisionAll(ctx, cfg.adminDSN, services, cfg.secrets, logger); err != nil {
			return err
		}
	} else {
		logger.Info("no admin DSN given: skipping role and database provisioning")
	}
	for _, svc := range services {
		dsn, err := cfg.secrets.get(dsnKey(svc))
		if err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
		if err := migrateService(ctx, migrations, svc, dsn, logger); err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
	}
	return nil
}

// selectServices returns the requested services, or all folders of the
// migration FS, after checking each has a valid name and a folder.
func selectServices(migrations fs.FS, requested []string) ([]string, error) {
	entries, err := fs.ReadDir(migrations, ".")
	if err != nil {
		return nil, fmt.Errorf("list migration folders: %w", err)
	}
	var available []string
	for _, e := range entries {
		if e.IsDir() {
			available = append(available, e.Name())
		}
	}
	services := requested
	if len(services) == 0 {
		services = available
	}
	if len(services) == 0 {
		return nil, errors.New("no service migrations found")
	}
	for _, svc := range services {
		if err := validateServiceName(svc); err != nil {
			return nil, err
		}
		if !slices.Contains(available, svc) {
			return nil, fmt.Errorf("service %q has no migrations (known: %v)", svc, available)
		}
	}
	return services, nil
}

// provisionAll runs the superuser step for every service over one admin
// connection, reading all passwords first so a missing key fails early.
func provisionAll(ctx context.Context, adminDSN string, services []string, sec secrets, logger *slog.Logger) error {
	passwords := make(map[string]string, len(services))
	for _, svc := range services {
		pw, err := sec.get(passwordKey(svc))
		if err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
		passwords[svc] = pw
	}
	admin, err := connectAdmin(ctx, adminDSN, "")
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	for _, svc := range services {
		if err := provisionService(ctx, admin, adminDSN, svc, passwords[svc]); err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
		logger.Info("provisioned", "service", svc, "role", svc, "database", svc)
	}
	return nil
}

// migrateService applies the service's pending up migrations as the
// service role. An up-to-date database (ErrNoChange) is success.
func migrateService(ctx context.Context, migrations fs.FS, service, dsn string, logger *slog.Logger) error {
	dbURL, err := migrateURL(dsn)
	if err != nil {
		return fmt.Errorf("secrets key %s: %w", dsnKey(service), err)
	}
	src, err := iofs.New(migrations, service)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, dbURL)
	if err != nil {
		_ = src.Close()
		return fmt.Errorf("connect to database as role %s: %w", service, err)
	}
	defer m.Close()

	// golang-migrate does not take a context; GracefulStop makes it stop
	// between migrations when we are interrupted.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-done:
		}
	}()

	from, err := currentVersion(m)
	if err != nil {
		return err
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("apply migrations from version %d: %w", from, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	to, err := currentVersion(m)
	if err != nil {
		return err
	}
	// Version 0 means no migration applied yet.
	logger.Info("migrated", "service", service, "from_version", from, "to_version", to, "changed", from != to)
	return nil
}

// currentVersion is the applied version (0 when none). A dirty database
// (a migration failed half-way) is an error: it needs a look by hand.
func currentVersion(m *migrate.Migrate) (uint, error) {
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read migration version: %w", err)
	}
	if dirty {
		return v, fmt.Errorf("database is dirty at version %d (a migration failed part-way): fix it by hand, then set the version with golang-migrate force", v)
	}
	return v, nil
}
