package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// serveConfig is what `kafka serve` runs with.
type serveConfig struct {
	listen       string
	saslUser     string
	saslPassword string
	tlsCert      string
	tlsKey       string
	dataDir      string
	partitions   int
	logLevel     kfake.LogLevel
}

const serveUsage = `usage: kafka serve [flags]

Runs a one-broker Kafka (github.com/twmb/franz-go/pkg/kfake) on -listen until
SIGTERM or SIGINT, and prints "listening on ADDR" on stdout once it accepts
connections. Topics are created on first use (produce or metadata request)
with -partitions partitions; consumer groups and committed offsets work as in
Kafka. With -sasl-user, every client must authenticate with SASL
SCRAM-SHA-512 as that superuser; with -tls-cert/-tls-key, the listener speaks
TLS only.

Without -data-dir, topics, records and committed offsets live in memory: a
restart of the broker loses them (fine for tests, surprising for a stack).
With -data-dir, kfake keeps them in that folder and reloads them on start;
the SASL user always comes from the flags, not from the folder.

The password may also come from the environment variable KAFKA_SASL_PASSWORD,
which keeps it out of the process list.

Flags:
`

// parseServe reads `kafka serve` flags; getenv supplies KAFKA_SASL_PASSWORD.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := newFlagSet("serve", serveUsage, stderr)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:19092", "host:port to listen on; the broker advertises this address to clients")
	fs.StringVar(&cfg.saslUser, "sasl-user", "", "enable SASL SCRAM-SHA-512 with this superuser")
	fs.StringVar(&cfg.saslPassword, "sasl-password", "", "the superuser's password (or the environment variable KAFKA_SASL_PASSWORD)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate (chain) of the listener; enables TLS with -tls-key")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "keep topics, records and offsets in this folder across restarts (default: memory only)")
	fs.IntVar(&cfg.partitions, "partitions", 3, "partitions of an auto-created topic")
	level := fs.String("log-level", "warn", "broker log level on stderr: none, error, warn, info, debug")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if cfg.saslPassword == "" {
		cfg.saslPassword = getenv("KAFKA_SASL_PASSWORD")
	}
	var err error
	if cfg.logLevel, err = parseLogLevel(*level); err != nil {
		return cfg, usageError(fs, err)
	}
	switch {
	case (cfg.saslUser == "") != (cfg.saslPassword == ""):
		return cfg, usageError(fs, errors.New("-sasl-user and -sasl-password go together"))
	case (cfg.tlsCert == "") != (cfg.tlsKey == ""):
		return cfg, usageError(fs, errors.New("-tls-cert and -tls-key go together"))
	case cfg.partitions < 1:
		return cfg, usageError(fs, fmt.Errorf("-partitions must be at least 1, not %d", cfg.partitions))
	}
	host, _, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return cfg, usageError(fs, fmt.Errorf("-listen %q: %w", cfg.listen, err))
	}
	// The broker advertises the address it listens on; a wildcard address
	// would send clients to 0.0.0.0 after bootstrap.
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return cfg, usageError(fs, fmt.Errorf("-listen %q: give a concrete host (it is advertised to clients)", cfg.listen))
	}
	return cfg, nil
}

func parseLogLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return kfake.LogLevelNone, fmt.Errorf("unknown -log-level %q (none, error, warn, info, debug)", s)
}

// startCluster starts the broker described by cfg; the caller closes it.
func startCluster(cfg serveConfig, logs io.Writer) (*kfake.Cluster, error) {
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS key pair: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1:<port>; ours honours -listen as given,
		// and does TLS itself (see compatListener).
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			ln, err := net.Listen(network, cfg.listen)
			if err != nil {
				return nil, err
			}
			return compatListener{Listener: ln, tlsConfig: tlsConfig}, nil
		}),
		kfake.ClusterID("shopmesh-local"),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.partitions),
		kfake.WithLogger(kfake.BasicLogger(logs, cfg.logLevel)),
	}
	if cfg.saslUser != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", cfg.saslUser, cfg.saslPassword))
	}
	if cfg.dataDir != "" {
		// kfake reloads SASL users from the folder in preference to its
		// options; drop them so the flags (the secret file's password) win
		// even after the password changed.
		if err := os.Remove(filepath.Join(cfg.dataDir, "sasl.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reset persisted SASL users: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start broker on %s: %w", cfg.listen, err)
	}
	return c, nil
}

// serve runs the broker until ctx ends, then closes it (which, with a data
// folder, writes its state).
func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	c, err := startCluster(cfg, stderr)
	if err != nil {
		return err
	}
	mode := "PLAINTEXT"
	switch {
	case cfg.saslUser != "" && cfg.tlsCert != "":
		mode = "SASL_SSL (SCRAM-SHA-512, user " + cfg.saslUser + ")"
	case cfg.saslUser != "":
		mode = "SASL_PLAINTEXT (SCRAM-SHA-512, user " + cfg.saslUser + ")"
	case cfg.tlsCert != "":
		mode = "SSL"
	}
	store := "in memory (lost on restart)"
	if cfg.dataDir != "" {
		store = "in " + cfg.dataDir
	}
	fmt.Fprintf(stderr, "kafka: %s, topics auto-created with %d partitions, data %s\n", mode, cfg.partitions, store)
	fmt.Fprintf(stdout, "listening on %s\n", strings.Join(c.ListenAddrs(), ","))
	<-ctx.Done()
	fmt.Fprintln(stderr, "kafka: shutting down")
	start := time.Now()
	c.Close()
	fmt.Fprintf(stderr, "kafka: stopped in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
