package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAllowsFlagsAfterTheArgument(t *testing.T) {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	n := fs.Int("n", 100, "")
	if err := parse(fs, []string{"gateway", "-n", "5"}, 1); err != nil {
		t.Fatal(err)
	}
	if *n != 5 || !reflect.DeepEqual(fs.Args(), []string{"gateway"}) {
		t.Errorf("n=%d args=%v", *n, fs.Args())
	}
	fs = flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.Int("n", 100, "")
	if err := parse(fs, []string{"a", "b"}, 1); err == nil {
		t.Error("two arguments must fail")
	}
}

func TestRunCommands(t *testing.T) {
	var out bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, nil, &out); err == nil || !strings.Contains(out.String(), "usage: runner") {
		t.Errorf("no command: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"frobnicate"}, &out); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
	if err := run(ctx, []string{"down", "extra"}, &out); err == nil {
		t.Error("down takes no arguments")
	}

	// ps, logs and down on an empty repo layout.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "dapr"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := "version: 1\napps:\n  - appID: gateway\n    appDirPath: ../apps/gateway\n    appPort: 18080\n    daprHTTPPort: 13600\n    daprGRPCPort: 15600\n    daprInternalGRPCPort: 15700\n    metricsPort: 19600\n"
	if err := os.WriteFile(filepath.Join(root, "dapr/dapr.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"ps", "-root", root}, &out); err != nil || !strings.Contains(out.String(), "gateway  app    -    stopped  18080") {
		t.Errorf("ps: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"logs", "-root", root}, &out); err != nil || !strings.Contains(out.String(), "no app logs") {
		t.Errorf("logs: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"down", "-root", root}, &out); err != nil || !strings.Contains(out.String(), "nothing to stop") {
		t.Errorf("down: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"up", "-root", root, "-profile", "nope"}, &out); err == nil || !strings.Contains(err.Error(), "no resources path ends in components/local") {
		t.Errorf("up with a bad profile: %v", err)
	}
	if err := run(ctx, []string{"binaries", "-root", root}, &out); err == nil || !strings.Contains(err.Error(), "gateway app") {
		t.Errorf("binaries of a stopped stack: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "components/local"), 0o755); err != nil {
		t.Fatal(err)
	}
	store := "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: s\nspec:\n  type: state.redis\n  version: v1\n"
	if err := os.WriteFile(filepath.Join(root, "components/local/s.yaml"), []byte(store), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"infra", "-root", root}, &out); err != nil || out.String() != "redis\n" {
		t.Errorf("infra: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"infra", "-root", root, "-all"}, &out); err != nil || out.String() != "dynalite\nfauxqs\nkafka\nmailpit\npostgres\nredis\n" {
		t.Errorf("infra -all: %v %q", err, out.String())
	}
}
