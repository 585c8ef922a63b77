// Command runner starts and stops ShopMesh locally: every app of
// dapr/dapr.yaml beside its own daprd, like `dapr run -f dapr/dapr.yaml` but
// without the Dapr CLI and with prebuilt binaries (see local/stack).
//
//	runner up [-profile NAME] [-timeout 180s]   (NAME: the running stack's profile, else local)
//	runner down
//	runner stop APP...
//	runner ps
//	runner logs [-n 100] [-f] [app]
//
// Each app runs as the prebuilt .local/bin/<appID> (`go tool task build`),
// not as the template's `command` (`go run .`, meant for Dapr CLI users): up
// does not compile anything, and each pid file names the app itself rather
// than a `go run` parent. State lives in .local/run (pid and token files) and
// .local/logs (<app>.log, <app>-daprd.log).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(1)
	}
}
