package stack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeRepo is a temp repo whose daprd and app binaries are fakes, with a
// template of the given apps on free ports. appEnv adds env per app id.
type fakeRepo struct {
	root    string
	layout  Layout
	tmpl    *Template
	records string
}

func newFakeRepo(t *testing.T, ids []string, appEnv map[string]map[string]string) *fakeRepo {
	t.Helper()
	records := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
common:
  resourcesPaths: ["../components/local", "./resources"]
  configFilePath: ./config.yaml
  appProtocol: http
  logLevel: info
  enableAppHealthCheck: true
  appHealthCheckPath: /healthz
  env:
    STACK_FAKE_PROCESS: "1"
    FAKE_RECORD_DIR: %q
    SHOPMESH_ENV: local
apps:
`, records)
	sets, err := FreePortSets(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		p := sets[i]
		fmt.Fprintf(&b, "  - appID: %s\n    appDirPath: ../apps/%s\n    appPort: %d\n    daprHTTPPort: %d\n    daprGRPCPort: %d\n    daprInternalGRPCPort: %d\n    metricsPort: %d\n    command: [go, run, .]\n",
			id, id, p.App, p.DaprHTTP, p.DaprGRPC, p.DaprInternalGRPC, p.Metrics)
		if env := appEnv[id]; len(env) > 0 {
			b.WriteString("    env:\n")
			for k, v := range env {
				fmt.Fprintf(&b, "      %s: %q\n", k, v)
			}
		}
	}
	root := writeRepo(t, b.String(), []string{"local", "aws"}, ids)
	l, err := NewLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := LoadTemplate(filepath.Join(root, TemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	bins := []string{l.Daprd}
	for _, id := range ids {
		bins = append(bins, l.AppBinary(id))
	}
	installFakes(t, bins...)
	if err := os.WriteFile(l.SecretsFile, []byte(`{"postgres-password":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Whatever a failing test leaves running is stopped.
	t.Cleanup(func() { _ = Down(context.Background(), l, &bytes.Buffer{}) })
	return &fakeRepo{root: root, layout: l, tmpl: tmpl, records: records}
}

func TestUpPsLogsDown(t *testing.T) {
	r := newFakeRepo(t, []string{"gateway", "catalog"}, map[string]map[string]string{"catalog": {"ONLY_CATALOG": "yes"}})
	l := r.layout
	// A pid file of another tool (local/redis.sh keeps one here) must be left alone.
	foreign := filepath.Join(l.RunDir, "redis.pid")
	if err := os.MkdirAll(l.RunDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var out bytes.Buffer
	if err := Up(ctx, l, r.tmpl, UpOptions{Profile: "aws", ReadyTimeout: 30 * time.Second, Out: &out}); err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	gw, _ := r.tmpl.App("gateway")
	for _, want := range []string{"gateway: started daprd", "catalog: started daprd", "ShopMesh is up (profile aws)", fmt.Sprintf("Gateway:    http://localhost:%d", gw.App), "Logs:       " + l.LogDir} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("up output lacks %q:\n%s", want, out.String())
		}
	}

	// What the processes were given.
	for _, id := range []string{"gateway", "catalog"} {
		spec, _ := r.tmpl.App(id)
		spec, _ = spec.WithProfile("aws")
		app := readRecord(t, filepath.Join(r.records, fmt.Sprintf("%s-%d.json", id, spec.App)))
		daprd := readRecord(t, filepath.Join(r.records, fmt.Sprintf("%s-daprd-%d.json", id, spec.DaprHTTP)))
		if !reflect.DeepEqual(daprd.Args, DaprdArgs(spec)) {
			t.Errorf("%s daprd args = %v", id, daprd.Args)
		}
		if !strings.Contains(strings.Join(daprd.Args, " "), filepath.Join(r.root, "components/aws")) {
			t.Errorf("%s: profile aws not applied: %v", id, daprd.Args)
		}
		if len(app.Args) != 0 {
			t.Errorf("%s app args = %v, want none", id, app.Args)
		}
		for _, rec := range []fakeRecord{app, daprd} {
			if rec.Dir != spec.Dir {
				t.Errorf("%s: cwd %s, want %s", id, rec.Dir, spec.Dir)
			}
			if rec.Env["SHOPMESH_SECRETS_FILE"] != l.SecretsFile || rec.Env["SHOPMESH_ENV"] != "local" {
				t.Errorf("%s: env lacks common env or secrets file: %v", id, rec.Env)
			}
			if rec.Env["PATH"] != os.Getenv("PATH") {
				t.Errorf("%s: the runner's env must be passed on", id)
			}
			if (rec.Env["ONLY_CATALOG"] == "yes") != (id == "catalog") {
				t.Errorf("%s: app env not applied per app", id)
			}
		}
		if app.Env["APP_ID"] != id || app.Env["APP_PORT"] != itoa(spec.App) || app.Env["DAPR_HTTP_PORT"] != itoa(spec.DaprHTTP) ||
			app.Env["DAPR_GRPC_PORT"] != itoa(spec.DaprGRPC) || app.Env["DAPR_METRICS_PORT"] != itoa(spec.Metrics) {
			t.Errorf("%s: app env lacks the CLI's variables: %v", id, app.Env)
		}
		if _, ok := daprd.Env["APP_PORT"]; ok && daprd.Env["APP_PORT"] != os.Getenv("APP_PORT") {
			t.Errorf("%s: daprd must not get the app's variables", id)
		}
		tok, err := ReadTokens(l, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range []fakeRecord{app, daprd} {
			if rec.Env["APP_API_TOKEN"] != tok.AppAPIToken || rec.Env["DAPR_API_TOKEN"] != tok.DaprAPIToken || len(tok.AppAPIToken) != 64 {
				t.Errorf("%s: tokens differ between app, daprd and tokens file", id)
			}
		}
		if fi, err := os.Stat(l.TokensFile(id)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: tokens file must be 0600: %v", id, err)
		}
	}
	gwTok, _ := ReadTokens(l, "gateway")
	catTok, _ := ReadTokens(l, "catalog")
	if gwTok == catTok {
		t.Error("each app must get its own tokens")
	}

	// ps
	rows, err := Status(ctx, l, r.tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("status rows = %+v", rows)
	}
	pids := map[string]int{}
	for _, row := range rows {
		if row.State != "ready" || row.Pid == 0 {
			t.Errorf("status row %+v, want ready", row)
		}
		pids[row.Name+"/"+string(row.Role)] = row.Pid
	}
	var table bytes.Buffer
	PrintStatus(&table, rows)
	if !strings.Contains(table.String(), "APP") || !strings.Contains(table.String(), "gateway  daprd") {
		t.Errorf("table:\n%s", table.String())
	}

	// A second up starts nothing.
	out.Reset()
	if err := Up(ctx, l, r.tmpl, UpOptions{Profile: "aws", ReadyTimeout: 30 * time.Second, Out: &out}); err != nil {
		t.Fatalf("second up: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "gateway: already running") || strings.Contains(out.String(), "started") {
		t.Errorf("second up output:\n%s", out.String())
	}
	rows, _ = Status(ctx, l, r.tmpl)
	for _, row := range rows {
		if pids[row.Name+"/"+string(row.Role)] != row.Pid {
			t.Errorf("second up changed %s %s pid", row.Name, row.Role)
		}
	}

	// A rebuilt app binary restarts that app only.
	if err := os.Remove(l.AppBinary("gateway")); err != nil {
		t.Fatal(err)
	}
	installFakes(t, l.AppBinary("gateway"))
	out.Reset()
	if err := Up(ctx, l, r.tmpl, UpOptions{Profile: "aws", ReadyTimeout: 30 * time.Second, Out: &out}); err != nil {
		t.Fatalf("up after rebuild: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "gateway: app binary was rebuilt; restarting") || !strings.Contains(out.String(), "catalog: already running") {
		t.Errorf("up after rebuild:\n%s", out.String())
	}
	// Another profile restarts everything with the new resources path.
	out.Reset()
	if err := Up(ctx, l, r.tmpl, UpOptions{Profile: "local", ReadyTimeout: 30 * time.Second, Out: &out}); err != nil {
		t.Fatalf("up with another profile: %v\n%s", err, out.String())
	}
	if strings.Count(out.String(), "daprd settings changed (profile or dapr.yaml); restarting") != 2 {
		t.Errorf("up with another profile:\n%s", out.String())
	}
	for _, id := range []string{"gateway", "catalog"} {
		spec := mustApp(t, r.tmpl, id)
		if pid := running(l.PidFile(id, RoleDaprd)); !slices.Equal(cmdline(pid)[1:], DaprdArgs(spec)) {
			t.Errorf("%s daprd runs %v", id, cmdline(pid))
		}
	}
	rows, _ = Status(ctx, l, r.tmpl)
	pids = map[string]int{}
	for _, row := range rows {
		pids[row.Name+"/"+string(row.Role)] = row.Pid
	}

	// logs
	var logs bytes.Buffer
	if err := Logs(l, "catalog", 100, &logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"catalog.log <==", "catalog-daprd.log <==", "fake catalog started", "fake catalog-daprd started", "runner: starting daprd of catalog"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if err := Logs(l, "nope", 100, &logs); !errors.Is(err, ErrNoLogs) {
		t.Error("logs of an unknown app must fail")
	}

	// down
	out.Reset()
	if err := Down(ctx, l, &out); err != nil {
		t.Fatalf("down: %v\n%s", err, out.String())
	}
	for key, pid := range pids {
		if Alive(pid) {
			t.Errorf("%s (pid %d) still alive after down", key, pid)
		}
	}
	left, _ := filepath.Glob(filepath.Join(l.RunDir, "*"))
	if !reflect.DeepEqual(left, []string{foreign}) {
		t.Errorf("run dir after down = %v, want only %s", left, foreign)
	}
	if !strings.Contains(out.String(), "gateway app: stopped pid") {
		t.Errorf("down output:\n%s", out.String())
	}
	// The logs stay, with the processes' goodbyes.
	data, _ := os.ReadFile(l.LogFile("gateway", RoleDaprd))
	if !strings.Contains(string(data), "fake gateway-daprd stopping") {
		t.Errorf("daprd was not stopped with SIGTERM:\n%s", data)
	}
	out.Reset()
	if err := Down(ctx, l, &out); err != nil || !strings.Contains(out.String(), "nothing to stop") {
		t.Errorf("second down: %v %q", err, out.String())
	}
}

func TestUpFailsOnBusyPortAndStartsNothing(t *testing.T) {
	r := newFakeRepo(t, []string{"gateway", "catalog"}, nil)
	cat, _ := r.tmpl.App("catalog")
	ln, err := listenLoopback(cat.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	var out bytes.Buffer
	err = Up(context.Background(), r.layout, r.tmpl, UpOptions{ReadyTimeout: 10 * time.Second, Out: &out})
	want := fmt.Sprintf("catalog: port %d (metrics) is already in use by another process", cat.Metrics)
	var busy *PortInUseError
	if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &busy) {
		t.Fatalf("up err = %v, want %q", err, want)
	}
	if files, _ := pidFiles(r.layout); len(files) != 0 {
		t.Errorf("pid files left: %v", files)
	}
}

func TestUpStopsWhatItStartedWhenAnAppFails(t *testing.T) {
	r := newFakeRepo(t, []string{"gateway", "catalog"}, map[string]map[string]string{"catalog": {"FAKE_EXIT": "1"}})
	var out bytes.Buffer
	start := time.Now()
	err := Up(context.Background(), r.layout, r.tmpl, UpOptions{ReadyTimeout: 60 * time.Second, Out: &out})
	if err == nil {
		t.Fatal("up must fail when an app exits")
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("up took %s: an exited app must fail the wait early", time.Since(start))
	}
	for _, want := range []string{"catalog: app exited", "last 20 lines of " + r.layout.LogFile("catalog", RoleApp), "fake app: exiting as told", "catalog-daprd.log"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(out.String(), "up failed; stopping the 2 app(s) it started") {
		t.Errorf("output:\n%s", out.String())
	}
	if files, _ := pidFiles(r.layout); len(files) != 0 {
		t.Errorf("pid files left: %v", files)
	}
	rows, _ := Status(context.Background(), r.layout, r.tmpl)
	for _, row := range rows {
		if row.State != "stopped" {
			t.Errorf("after a failed up: %+v", row)
		}
	}
}

func TestUpReadyTimeoutShowsLogs(t *testing.T) {
	r := newFakeRepo(t, []string{"gateway"}, nil)
	// An app that runs but never serves /readyz: a script that only sleeps.
	if err := os.Remove(r.layout.AppBinary("gateway")); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho app sleeping instead of serving\nsleep 60\n"
	if err := os.WriteFile(r.layout.AppBinary("gateway"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	start := time.Now()
	err := Up(context.Background(), r.layout, r.tmpl, UpOptions{ReadyTimeout: 2 * time.Second, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "gateway: not ready after 2s") ||
		!strings.Contains(err.Error(), "last 20 lines of "+r.layout.LogFile("gateway", RoleApp)) ||
		!strings.Contains(err.Error(), "app sleeping instead of serving") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("stopping the sleeping app took %s", time.Since(start))
	}
	if files, _ := pidFiles(r.layout); len(files) != 0 {
		t.Errorf("pid files left: %v", files)
	}
}

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+itoa(port))
}

func TestStartAppExtraInstance(t *testing.T) {
	r := newFakeRepo(t, []string{"gateway", "catalog"}, nil)
	ctx := context.Background()
	if err := Up(ctx, r.layout, r.tmpl, UpOptions{ReadyTimeout: 30 * time.Second, Out: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}

	// An extra catalog on other ports with another resources folder.
	spec, _ := r.tmpl.App("catalog")
	spec.Name = "catalog-extra"
	ports, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	spec.Ports = ports
	spec.ResourcesPaths = []string{filepath.Join(r.root, "components/aws")}
	h, err := StartApp(ctx, r.layout, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WaitReady(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	rec := readRecord(t, filepath.Join(r.records, fmt.Sprintf("catalog-daprd-%d.json", ports.DaprHTTP)))
	if !reflect.DeepEqual(rec.Args, DaprdArgs(spec)) || rec.Env["DAPR_API_TOKEN"] != h.Tokens.DaprAPIToken {
		t.Errorf("extra daprd got %v", rec.Args)
	}
	if tok, err := ReadTokens(r.layout, "catalog-extra"); err != nil || tok != h.Tokens {
		t.Errorf("ReadTokens = %v, %v", tok, err)
	}
	rows, _ := Status(ctx, r.layout, r.tmpl)
	if len(rows) != 6 || rows[4].Name != "catalog-extra" || rows[4].State != "running" {
		t.Errorf("status with an extra instance: %+v", rows)
	}
	// Starting it twice is refused.
	if _, err := StartApp(ctx, r.layout, spec); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second StartApp: %v", err)
	}

	appPid, daprdPid := h.AppPid(), h.DaprdPid()
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if Alive(appPid) || Alive(daprdPid) {
		t.Error("extra instance still alive after Stop")
	}
	if _, err := os.Stat(r.layout.PidFile("catalog-extra", RoleApp)); err == nil {
		t.Error("pid file left after Stop")
	}
	// The stack itself still runs.
	if err := WaitReady(ctx, r.layout, mustApp(t, r.tmpl, "catalog"), 5*time.Second, nil); err != nil {
		t.Errorf("the stack's catalog was disturbed: %v", err)
	}
}

func mustApp(t *testing.T, tmpl *Template, id string) AppSpec {
	t.Helper()
	s, err := tmpl.App(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPidFileOwnership(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "gateway")
	other := filepath.Join(dir, "bin", "gateway-other")
	installFakes(t, bin)

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "STACK_FAKE_PROCESS=1", "APP_PORT=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { _ = cmd.Process.Kill(); <-done }()
	pid := cmd.Process.Pid

	pidFile := filepath.Join(dir, "gateway.pid")
	if err := WritePidFile(pidFile, pid, bin); err != nil {
		t.Fatal(err)
	}
	pf, err := ReadPidFile(pidFile)
	if err != nil || pf.Pid != pid || pf.Binary != bin {
		t.Fatalf("ReadPidFile = %+v, %v", pf, err)
	}
	if !IsOurs(pid, bin) {
		st, _, _ := procState(pid)
		cl, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		t.Errorf("a live process of our binary must be ours (state %q, cmdline %q, want %q)", st, cl, bin)
	}
	if IsOurs(pid, other) {
		t.Error("a process of another binary (path prefix) must not be ours")
	}
	if IsOurs(os.Getpid(), bin) {
		t.Error("an unrelated live process (pid reused) must not be ours")
	}
	if running(pidFile) != pid {
		t.Error("running() must return the pid")
	}

	// A short-lived process, reaped: its pid is dead.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if IsOurs(dead.Process.Pid, "true") || Alive(dead.Process.Pid) {
		t.Error("a dead pid must not be ours")
	}
	// A zombie (exited, not reaped) is not alive either.
	zombie := exec.Command("sh", "-c", "exit 0")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _, _ := procState(zombie.Process.Pid)
		if st == "Z" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if Alive(zombie.Process.Pid) {
		t.Error("a zombie must not count as alive")
	}
	_ = zombie.Wait()

	// Bad pid files.
	for name, content := range map[string]string{"empty": "", "word": "abc\n", "init": "1\n/sbin/init\n"} {
		p := filepath.Join(dir, name+".pid")
		_ = os.WriteFile(p, []byte(content), 0o644)
		if _, err := ReadPidFile(p); err == nil {
			t.Errorf("%s pid file must not parse", name)
		}
	}
	// A pid file without a binary (another tool's) is left alone.
	foreign := filepath.Join(dir, "redis.pid")
	_ = os.WriteFile(foreign, []byte(fmt.Sprintf("%d\n", pid)), 0o644)
	if msg, err := stopPidFile(context.Background(), foreign); err != nil || !strings.Contains(msg, "left alone") {
		t.Errorf("stopPidFile(foreign) = %q, %v", msg, err)
	}
	if _, err := os.Stat(foreign); err != nil || !Alive(pid) {
		t.Error("a foreign pid file and its process must be left alone")
	}
	// A stale pid file of ours is removed without signalling anything.
	stale := filepath.Join(dir, "stale.pid")
	_ = WritePidFile(stale, os.Getpid(), bin)
	if msg, err := stopPidFile(context.Background(), stale); err != nil || !strings.Contains(msg, "was not running") {
		t.Errorf("stopPidFile(stale) = %q, %v", msg, err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale pid file must be removed")
	}
}

func TestStopGroupKillsAfterTimeout(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "stubborn")
	installFakes(t, bin)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "STACK_FAKE_PROCESS=1", "APP_PORT=0", "FAKE_IGNORE_TERM=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// It prints "started" once it ignores SIGTERM.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "started") {
		t.Fatalf("fake process: %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out); _ = cmd.Wait() }()
	killed, err := stopGroup(context.Background(), pid, 500*time.Millisecond)
	if err != nil || !killed {
		t.Fatalf("stopGroup = %v, %v; want killed", killed, err)
	}
	if groupAlive(pid) {
		t.Error("group still alive")
	}
}

func TestTailLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.log")
	var b strings.Builder
	for i := 1; i <= 10000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", 50))
	}
	_ = os.WriteFile(p, []byte(b.String()), 0o644)
	lines, err := TailLines(p, 3)
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "line 9998 ") || !strings.HasPrefix(lines[2], "line 10000 ") {
		t.Fatalf("TailLines = %q, %v", lines, err)
	}
	_ = os.WriteFile(p, []byte("a\nb"), 0o644)
	if lines, _ := TailLines(p, 5); !reflect.DeepEqual(lines, []string{"a", "b"}) {
		t.Errorf("short file: %q", lines)
	}
	_ = os.WriteFile(p, nil, 0o644)
	if lines, _ := TailLines(p, 5); len(lines) != 0 {
		t.Errorf("empty file: %q", lines)
	}
}
