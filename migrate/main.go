// Command migrate prepares the PostgreSQL databases of ShopMesh services.
//
// For every service with a folder under sql/ (embedded in the binary) it
//  1. when given a superuser DSN (-admin-dsn / MIGRATE_ADMIN_DSN): ensures a
//     login role <svc> whose password comes from the secrets file, a database
//     <svc> owned by it that no other role may connect to, and no CREATE on
//     its public schema for PUBLIC;
//  2. applies sql/<svc>/NNNN_*.up.sql with golang-migrate, connected as the
//     service role itself (DSN <svc>-store-dsn from the secrets file), so the
//     tables are owned by the role the service's Dapr sidecar uses.
//
// Usage (from the repo root, after local/postgres.sh start):
//
//	go build -o .local/bin/migrate ./migrate
//	.local/bin/migrate -admin-dsn "postgres://postgres:PW@127.0.0.1:15432/postgres?sslmode=disable"
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// sqlFiles holds sql/<service>/NNNN_name.{up,down}.sql. A package-level
// variable is the only way go:embed works; it is read-only.
//
//go:embed sql
var sqlFiles embed.FS

// options are the command-line settings.
type options struct {
	adminDSN    string
	secretsFile string
	services    []string
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Getenv, logger); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		logger.Error("migrate failed", "error", err.Error())
		os.Exit(1)
	}
}

// run is main without the process exit, so the flow is testable.
func run(args []string, getenv func(string) string, logger *slog.Logger) error {
	opts, err := parseFlags(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	migrations, err := fs.Sub(sqlFiles, "sql")
	if err != nil {
		return fmt.Errorf("open embedded sql folder: %w", err)
	}
	sec, err := readSecrets(opts.secretsFile)
	if err != nil {
		return err
	}
	return migrateAll(ctx, migrations, config{
		adminDSN: opts.adminDSN,
		services: opts.services,
		secrets:  sec,
	}, logger)
}

// parseFlags reads the flags; environment variables supply the defaults so
// the DSN with the superuser password need not appear in a process listing.
func parseFlags(args []string, getenv func(string) string, out io.Writer) (options, error) {
	fset := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fset.SetOutput(out)
	secretsDefault := getenv("SHOPMESH_SECRETS_FILE")
	if secretsDefault == "" {
		secretsDefault = ".local/secrets.json"
	}
	var opts options
	var services string
	fset.StringVar(&opts.adminDSN, "admin-dsn", getenv("MIGRATE_ADMIN_DSN"),
		"superuser DSN used to create service roles and databases (env MIGRATE_ADMIN_DSN); empty skips that step")
	fset.StringVar(&opts.secretsFile, "secrets-file", secretsDefault,
		"JSON file with <svc>-db-password and <svc>-store-dsn (env SHOPMESH_SECRETS_FILE)")
	fset.StringVar(&services, "services", "",
		"comma-separated services to migrate (default: every folder under the embedded sql/)")
	if err := fset.Parse(args); err != nil {
		return options{}, err
	}
	if fset.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fset.Args(), " "))
	}
	for _, s := range strings.Split(services, ",") {
		if s = strings.TrimSpace(s); s != "" {
			opts.services = append(opts.services, s)
		}
	}
	return opts, nil
}
