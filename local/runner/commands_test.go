package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
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
	if err := run(ctx, []string{"stop", "-root", root}, &out); err == nil {
		t.Error("stop needs an app")
	}
	if err := run(ctx, []string{"stop", "users", "-root", root}, &out); err == nil || !strings.Contains(err.Error(), `app "users" is not in`) {
		t.Errorf("stop of an app not in the template: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"stop", "gateway", "-root", root}, &out); err != nil || out.String() != "gateway: not running\n" {
		t.Errorf("stop of a stopped app: %v %q", err, out.String())
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
	if err := run(ctx, []string{"infra", "-root", root}, &out); err != nil || out.String() != "jaeger\nprometheus\nredis\n" {
		t.Errorf("infra: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"infra", "-root", root, "-all"}, &out); err != nil || out.String() != "dynalite\nfauxqs\njaeger\nkafka\nmailpit\npostgres\nprometheus\nredis\n" {
		t.Errorf("infra -all: %v %q", err, out.String())
	}
}

func TestPrometheusTargets(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "dapr"), 0o755); err != nil {
		t.Fatal(err)
	}
	app := func(id string, n int) string {
		return fmt.Sprintf("  - appID: %s\n    appDirPath: ../apps/%[1]s\n    appPort: %d\n    daprHTTPPort: %d\n    daprGRPCPort: %d\n    daprInternalGRPCPort: %d\n    metricsPort: %d\n",
			id, 18080+n, 13600+n, 15600+n, 15700+n, 19600+n)
	}
	tmpl := "version: 1\napps:\n" + app("gateway", 0) + app("orders", 4)
	if err := os.WriteFile(filepath.Join(root, "dapr/dapr.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []targetGroup{
		{Targets: []string{"127.0.0.1:18080"}, Labels: map[string]string{"job": "apps", "app": "gateway"}},
		{Targets: []string{"127.0.0.1:18084"}, Labels: map[string]string{"job": "apps", "app": "orders"}},
		{Targets: []string{"127.0.0.1:19600"}, Labels: map[string]string{"job": "daprd", "app": "gateway"}},
		{Targets: []string{"127.0.0.1:19604"}, Labels: map[string]string{"job": "daprd", "app": "orders"}},
	}
	decode := func(what string, data []byte) {
		t.Helper()
		var got []targetGroup
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", what, got, want)
		}
	}
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, []string{"prometheus-targets", "-root", root}, &out); err != nil {
		t.Fatal(err)
	}
	decode("stdout", out.Bytes())

	// -o replaces the file, leaving no temporary file behind.
	file := filepath.Join(root, "run", "targets.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"prometheus-targets", "-root", root, "-o", file}, &out); err != nil || out.Len() != 0 {
		t.Fatalf("-o: %v %q", err, out.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	decode("-o", data)
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("files beside the targets: %v", entries)
	}

	if err := run(ctx, []string{"prometheus-targets", "-root", root, "-o", filepath.Join(root, "missing", "t.json")}, &out); err == nil {
		t.Error("-o into a missing folder must fail")
	}
	if err := run(ctx, []string{"prometheus-targets", "-root", root, "extra"}, &out); err == nil {
		t.Error("prometheus-targets takes no arguments")
	}
}
