// Package daprcli runs ShopMesh the way a Dapr developer does, with the Dapr
// CLI built here (local/daprcli): `dapr run -f dapr/dapr.yaml` with the e2e
// smoke tests against it and `dapr stop -f`, then the README's loop of one
// service under `dapr run` beside the runner's stack.
//
// `go tool task test:dapr-cli` runs it (on a stopped stack, with the local
// servers up) and sets SHOPMESH_DAPR_CLI to the CLI; without it the tests
// skip.
package daprcli

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopmesh/shopmesh/local/stack"
)

// smoke is the e2e subset run on the CLI's stack: browse, sign in, and a
// checkout that reaches confirmed (charged and mailed).
const smoke = "^(TestBrowseTheSeededCatalogue|TestSignUpSignInAndMe|TestCheckoutConfirmsChargesAndMails)$"

// readyTimeout bounds the wait for a whole stack: the template runs each app
// with `go run .`, so each one is compiled (linked, on a warm cache) first.
const readyTimeout = 5 * time.Minute

type env struct {
	root, cli, runtime string
	tmpl               *stack.Template
}

func setup(t *testing.T) env {
	t.Helper()
	cli := os.Getenv("SHOPMESH_DAPR_CLI")
	if cli == "" {
		t.Skip("set SHOPMESH_DAPR_CLI to the Dapr CLI (go tool task test:dapr-cli does)")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := stack.FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := stack.LoadTemplate(filepath.Join(root, stack.TemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	rt := os.Getenv("DAPR_RUNTIME_PATH")
	if rt == "" {
		rt = filepath.Join(root, ".local/dapr")
	}
	return env{root: root, cli: cli, runtime: rt, tmpl: tmpl}
}

// command runs the CLI (or a shell line using it) in its own process group,
// its output in a log file of the test, with the CLI first on PATH.
func (e env) command(t *testing.T, dir, log string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"DAPR_RUNTIME_PATH="+e.runtime,
		"PATH="+filepath.Dir(e.cli)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := os.MkdirAll(filepath.Join(e.root, ".local/logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(e.root, ".local/logs", log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killGroup is the cleanup of last resort: whatever is left of a CLI's
// process group (its daprd and apps share it) is killed.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func TestRunFileStartsThePlatform(t *testing.T) {
	e := setup(t)
	for _, a := range e.tmpl.Apps {
		if err := stack.CheckPorts(a); err != nil {
			t.Fatalf("the stack must be stopped first (go tool task down; the local servers may run): %v", err)
		}
	}

	run := e.command(t, e.root, "dapr-run-f.log", e.cli, "run", "-f", stack.TemplatePath)
	start := time.Now()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	t.Cleanup(func() { killGroup(run) })

	for _, a := range e.tmpl.Apps {
		waitReady(t, a, done, start.Add(readyTimeout))
	}
	t.Logf("dapr run -f: %d apps ready after %s", len(e.tmpl.Apps), time.Since(start).Round(time.Second))

	list := listApps(t, e)
	for _, a := range e.tmpl.Apps {
		if got := list[a.ID]; got != filepath.Join(e.root, stack.TemplatePath) {
			t.Errorf("dapr list: %s runs from template %q, want this checkout's", a.ID, got)
		}
	}

	runSmoke(t, e, smoke)

	stop := e.command(t, e.root, "dapr-stop-f.log", e.cli, "stop", "-f", stack.TemplatePath)
	if err := stop.Run(); err != nil {
		t.Fatalf("dapr stop -f: %v (.local/logs/dapr-stop-f.log)", err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("dapr run -f still running a minute after dapr stop -f")
	}
	for _, a := range e.tmpl.Apps {
		waitFree(t, a)
	}
}

// TestOneServiceBesideTheRest runs the README's loop: the runner's stack,
// its catalog stopped, and the catalog under `dapr run` from its folder with
// the command the README shows; the gateway browses through it; Ctrl-C
// stops it and `runner up` puts the stack's own back.
func TestOneServiceBesideTheRest(t *testing.T) {
	e := setup(t)
	catalog, err := e.tmpl.App("catalog")
	if err != nil {
		t.Fatal(err)
	}
	line := readmeCommand(t, e.root, "dapr run --app-id catalog")
	if want := oneAppCommand(t, catalog); line != want {
		t.Fatalf("README's dapr run of the catalog:\n  %s\nwant, from dapr/dapr.yaml:\n  %s", line, want)
	}

	runner := filepath.Join(e.root, ".local/bin/runner")
	for _, args := range [][]string{{"up"}, {"stop", "catalog"}} {
		if out, err := exec.Command(runner, args...).CombinedOutput(); err != nil {
			t.Fatalf("runner %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command(runner, "up").CombinedOutput(); err != nil {
			t.Errorf("runner up after the loop: %v\n%s", err, out)
		}
	})

	cmd := e.command(t, catalog.Dir, "dapr-run-catalog.log", "bash", "-c", line)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { killGroup(cmd) })
	waitReady(t, catalog, done, start.Add(readyTimeout))
	t.Logf("dapr run of the catalog: ready after %s", time.Since(start).Round(time.Second))

	runSmoke(t, e, "^TestBrowseTheSeededCatalogue$")
	// The gateway caches catalog reads: the browsing must have reached this
	// catalog, whose log lines the CLI prints.
	if b, err := os.ReadFile(filepath.Join(e.root, ".local/logs/dapr-run-catalog.log")); err != nil || !strings.Contains(string(b), `"method":"GET","path":"/products"`) {
		t.Errorf("the catalog under dapr run served no GET /products (%v); see .local/logs/dapr-run-catalog.log", err)
	}

	// Ctrl-C reaches the whole foreground group in a terminal.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("dapr run still running a minute after Ctrl-C")
	}
	waitFree(t, catalog)
}

// waitReady waits until the app answers 200 on its /readyz (which checks its
// sidecar too), failing early if the CLI exits.
func waitReady(t *testing.T, a stack.AppSpec, exited <-chan error, deadline time.Time) {
	t.Helper()
	url := "http://127.0.0.1:" + strconv.Itoa(a.App) + "/readyz"
	c := http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the Dapr CLI exited (%v) before %s was ready; see .local/logs/dapr-*.log and %s/.dapr/logs", err, a.ID, a.Dir)
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s; see %s/.dapr/logs", a.ID, url, a.Dir)
		}
	}
}

// waitFree waits until nothing listens on any of the app's ports.
func waitFree(t *testing.T, a stack.AppSpec) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var busy []int
		for _, p := range a.Ports.List() {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(stack.LoopbackAddress, strconv.Itoa(p.Port)), time.Second)
			if err == nil {
				c.Close()
				busy = append(busy, p.Port)
			}
		}
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: ports %v still answer after the stop", a.ID, busy)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// runSmoke runs e2e tests against the running stack.
func runSmoke(t *testing.T, e env, pattern string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", pattern, "./tests/e2e")
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "SHOPMESH_INTEGRATION=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("e2e %s against the Dapr CLI's stack: %v\n%s", pattern, err, out)
	}
	t.Logf("e2e %s: %s", pattern, strings.TrimSpace(string(out)))
}

// listApps returns each app id `dapr list` shows with its run template.
func listApps(t *testing.T, e env) map[string]string {
	t.Helper()
	cmd := exec.Command(e.cli, "list")
	cmd.Env = append(os.Environ(), "DAPR_RUNTIME_PATH="+e.runtime)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dapr list: %v", err)
	}
	apps := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for _, v := range f {
			if strings.HasSuffix(v, stack.TemplatePath) {
				apps[f[0]] = v
			}
		}
	}
	return apps
}

// readmeCommand returns the README's shell command that starts with prefix,
// its continuation lines joined.
func readmeCommand(t *testing.T, root, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, l := range strings.Split(joined, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			return strings.Join(strings.Fields(l), " ")
		}
	}
	t.Fatalf("README.md has no command starting with %q", prefix)
	return ""
}

// oneAppCommand is the `dapr run` of one app, run from its folder, with the
// values of dapr/dapr.yaml: what the README must show.
func oneAppCommand(t *testing.T, a stack.AppSpec) string {
	t.Helper()
	rel := func(p string) string {
		r, err := filepath.Rel(a.Dir, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	args := []string{"dapr", "run", "--app-id", a.ID,
		"--app-port", strconv.Itoa(a.App), "--dapr-http-port", strconv.Itoa(a.DaprHTTP),
		"--dapr-grpc-port", strconv.Itoa(a.DaprGRPC), "--dapr-internal-grpc-port", strconv.Itoa(a.DaprInternalGRPC),
		"--metrics-port", strconv.Itoa(a.Metrics), "--dapr-listen-addresses", stack.LoopbackAddress}
	if a.EnableAppHealthCheck {
		args = append(args, "--enable-app-health-check", "--app-health-check-path", a.AppHealthCheckPath)
	}
	for _, p := range a.ResourcesPaths {
		args = append(args, "--resources-path", rel(p))
	}
	args = append(args, "--config", rel(a.Config), "--placement-host-address", "''", "--scheduler-host-address", "''", "--")
	args = append(args, a.Command...)
	return strings.Join(args, " ")
}
