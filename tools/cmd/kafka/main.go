// Command kafka is the local stand-in for Amazon MSK in the aws-emulated
// component profile: a one-broker Kafka from franz-go's kfake, with the
// SASL/SCRAM-SHA-512 over TLS listener the pubsub.kafka components of
// components/aws expect, plus the two helpers the scripts and the e2e suite
// need around it.
//
//	kafka serve   [-listen ADDR] [-sasl-user U -sasl-password P] [-tls-cert F -tls-key F]
//	              [-data-dir DIR] [-partitions N] [-log-level L]
//	kafka replay  -brokers ADDRS [-sasl-user U -sasl-password P] [-tls-ca F] -topic T -match S
//	kafka gencert -dir DIR [-hosts H,...]
//
// local/kafka.sh starts and stops `kafka serve` for the local stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  kafka serve   [flags]   run a one-broker Kafka (kfake) until SIGTERM/SIGINT
  kafka replay  [flags]   produce again every record of a topic whose value contains a string
  kafka count   [flags]   count the records of a topic whose value contains a string
  kafka gencert [flags]   write a self-signed CA and a server certificate for the broker
Run 'kafka COMMAND -h' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		var cfg serveConfig
		if cfg, err = parseServe(args[1:], getenv, stderr); err == nil {
			err = serve(ctx, cfg, stdout, stderr)
		}
	case "replay":
		var cfg replayConfig
		if cfg, err = parseReplay(args[0], args[1:], getenv, stderr); err == nil {
			var n int
			n, err = replay(ctx, cfg)
			if err == nil {
				fmt.Fprintf(stdout, "appended %d records to %s\n", n, cfg.topic)
			}
		}
	case "count":
		var cfg replayConfig
		if cfg, err = parseReplay(args[0], args[1:], getenv, stderr); err == nil {
			var n int
			n, err = count(ctx, cfg)
			if err == nil {
				fmt.Fprintf(stdout, "%d records of %s match\n", n, cfg.topic)
			}
		}
	case "gencert":
		var cfg gencertConfig
		if cfg, err = parseGencert(args[1:], stderr); err == nil {
			err = gencert(cfg, stderr)
		}
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kafka: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "kafka %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
