package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// UpOptions tune Up.
type UpOptions struct {
	// Profile names the components folder that replaces components/local.
	Profile string
	// ReadyTimeout bounds the wait for every app's /readyz (DefaultReadyTimeout if 0).
	ReadyTimeout time.Duration
	// Out receives progress and the summary (os.Stdout if nil).
	Out io.Writer
}

// Up starts every app of the template that is not already running, each with
// its daprd, and waits until all answer 200 on /readyz. An app whose app and
// daprd are both running (per their pid files) is left alone, so Up is
// idempotent. If anything fails, Up stops what it started and returns the error.
func Up(ctx context.Context, l Layout, tmpl *Template, opts UpOptions) (err error) {
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	profile := opts.Profile
	if profile == "" {
		// Restarting what is missing keeps the profile the stack runs.
		profile = l.RunningProfile()
	}
	t, err := tmpl.WithProfile(profile)
	if err != nil {
		return err
	}
	if err := l.ensureDirs(); err != nil {
		return err
	}

	// Which apps to start; the rest are running already.
	var toStart, appsOnly []AppSpec
	for _, s := range t.Apps {
		name := s.InstanceName()
		appPid, daprdPid := running(l.PidFile(name, RoleApp)), running(l.PidFile(name, RoleDaprd))
		switch {
		case appPid == 0 && daprdPid != 0 && daprdCurrent(s, daprdPid):
			// The app died and its sidecar lives on, as when Kubernetes
			// restarts a crashed container: start the app alone, with the
			// pair's tokens. Stopping the daprd now would lose the events
			// it is still retrying to the dead app: contrib v1.17.3's Redis
			// streams acknowledge a message whose delivery failed while the
			// subscription has not closed yet.
			if _, err := ReadTokens(l, name); err == nil {
				appsOnly = append(appsOnly, s)
				continue
			}
			fmt.Fprintf(out, "%s: the app is not running and its tokens are unreadable; restarting both\n", name)
		case appPid != 0 && daprdPid != 0:
			why := outdated(s, appPid, daprdPid)
			if why == "" {
				fmt.Fprintf(out, "%s: already running (app pid %d, daprd pid %d)\n", name, appPid, daprdPid)
				continue
			}
			fmt.Fprintf(out, "%s: %s; restarting\n", name, why)
		case appPid != 0 || daprdPid != 0:
			// Half an app: restart both, as the two share their tokens.
			fmt.Fprintf(out, "%s: only one of app and daprd is running; restarting both\n", name)
		}
		if err := stopInstance(ctx, l, name, io.Discard); err != nil {
			return err
		}
		toStart = append(toStart, s)
	}

	// Check everything before starting anything.
	var errs []error
	if len(toStart) > 0 {
		if _, err := os.Stat(l.SecretsFile); err != nil {
			errs = append(errs, fmt.Errorf("secrets file %s is missing (run `go tool task infra:up`)", l.SecretsFile))
		}
	}
	for _, s := range toStart {
		errs = append(errs, s.CheckPaths(), l.checkBinaries(s), CheckPorts(s))
	}
	for _, s := range appsOnly {
		errs = append(errs, s.CheckPaths(), l.checkBinaries(s), checkPortList(s.InstanceName(), s.Ports.List()[:1])) // the app's port
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	var started []*Handle
	defer func() {
		if err != nil && len(started) > 0 {
			fmt.Fprintf(out, "up failed; stopping the %d app(s) it started\n", len(started))
			stopAll(started)
		}
	}()
	for _, s := range toStart {
		h, err := StartApp(ctx, l, s)
		if err != nil {
			return err
		}
		started = append(started, h)
		fmt.Fprintf(out, "%s: started daprd (pid %d) and app (pid %d)\n", s.InstanceName(), h.DaprdPid(), h.AppPid())
	}
	for _, s := range appsOnly {
		pid, err := StartAppBesideDaprd(l, s)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: started app (pid %d) beside its running daprd\n", s.InstanceName(), pid)
	}

	// Wait for every app, the running ones too.
	fmt.Fprintf(out, "waiting up to %s for %d app(s) to answer %s ...\n", timeout, len(t.Apps), ReadyPath)
	handles := map[string]*Handle{}
	for _, h := range started {
		handles[h.Spec.InstanceName()] = h
	}
	errs = make([]error, len(t.Apps))
	progress := newProgress(out, len(t.Apps))
	var wg sync.WaitGroup
	for i, s := range t.Apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exited := func() error { return runningPair(l, s.InstanceName()) }
			if h := handles[s.InstanceName()]; h != nil {
				exited = h.Exited
			}
			errs[i] = WaitReady(ctx, l, s, timeout, exited)
			progress.done(l, s.InstanceName(), errs[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.WriteFile(l.profileFile(), []byte(profile+"\n"), 0o600); err != nil {
		return fmt.Errorf("recording the profile: %w", err)
	}
	printSummary(out, l, t, profile)
	return nil
}

// outdated tells why a running instance no longer matches what Up would
// start ("" if it does): a rebuilt binary, or other daprd flags (another
// profile, or an edited dapr.yaml).
func outdated(s AppSpec, appPid, daprdPid int) string {
	var why []string
	if binaryReplaced(appPid) {
		why = append(why, "app binary was rebuilt")
	}
	if binaryReplaced(daprdPid) {
		why = append(why, "daprd was rebuilt")
	}
	if args := cmdline(daprdPid); len(args) == 0 || !slices.Equal(args[1:], DaprdArgs(s)) {
		why = append(why, "daprd settings changed (profile or dapr.yaml)")
	}
	return strings.Join(why, ", ")
}

// daprdCurrent reports whether the running daprd is the one spec would
// start now: same binary, same arguments.
func daprdCurrent(s AppSpec, daprdPid int) bool {
	args := cmdline(daprdPid)
	return len(args) > 0 && !binaryReplaced(daprdPid) && slices.Equal(args[1:], DaprdArgs(s))
}

// runningPair returns an error unless both processes of an instance run.
func runningPair(l Layout, name string) error {
	var errs []error
	for _, role := range []Role{RoleApp, RoleDaprd} {
		if running(l.PidFile(name, role)) == 0 {
			errs = append(errs, fmt.Errorf("%s is not running", role))
		}
	}
	return errors.Join(errs...)
}

func stopAll(hs []*Handle) {
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = h.Stop(context.Background())
		}()
	}
	wg.Wait()
}

func printSummary(out io.Writer, l Layout, t *Template, profile string) {
	fmt.Fprintf(out, "\nShopMesh is up (profile %s):\n", profile)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range t.Apps {
		fmt.Fprintf(tw, "  %s\thttp://localhost:%d\tdapr http :%d, grpc :%d\n", s.InstanceName(), s.App, s.DaprHTTP, s.DaprGRPC)
	}
	tw.Flush()
	for _, s := range t.Apps {
		switch s.ID {
		case contracts.AppStorefront:
			fmt.Fprintf(out, "Storefront: http://localhost:%d\n", s.App)
		case contracts.AppGateway:
			fmt.Fprintf(out, "Gateway:    http://localhost:%d\n", s.App)
		}
	}
	fmt.Fprintf(out, "Logs:       %s (go tool task logs -- <app>)\n", l.LogDir)
}

// pidFiles lists the pid files in the run folder that this package wrote
// (they name the binary on their second line), sorted. Other tools keep pid
// files there too (e.g. local/redis.sh): those are left alone.
func pidFiles(l Layout) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(l.RunDir, "*.pid"))
	if err != nil {
		return nil, fmt.Errorf("list pid files: %w", err)
	}
	sort.Strings(files)
	var ours []string
	for _, f := range files {
		if pf, err := ReadPidFile(f); err == nil && pf.Binary != "" {
			ours = append(ours, f)
		}
	}
	return ours, nil
}

// instanceOf tells the instance name and role from a pid file's name.
func instanceOf(pidFile string) (string, Role) {
	base := strings.TrimSuffix(filepath.Base(pidFile), ".pid")
	if name, ok := strings.CutSuffix(base, "-daprd"); ok {
		return name, RoleDaprd
	}
	return base, RoleApp
}

// stopInstance stops both processes of an instance by their pid files.
func stopInstance(ctx context.Context, l Layout, name string, out io.Writer) error {
	var errs []error
	for _, role := range []Role{RoleApp, RoleDaprd} {
		path := l.PidFile(name, role)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		msg, err := stopPidFile(ctx, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", name, role, err))
			continue
		}
		fmt.Fprintf(out, "%s %s: %s\n", name, role, msg)
	}
	_ = os.Remove(l.TokensFile(name))
	return errors.Join(errs...)
}

// Stop stops the named instances (an app and its daprd each) that up
// started, by their pid files; up starts them again. An instance that is not
// running is reported and left alone.
func Stop(ctx context.Context, l Layout, names []string, out io.Writer) error {
	var errs []error
	for _, name := range names {
		app, daprd := l.PidFile(name, RoleApp), l.PidFile(name, RoleDaprd)
		if !exists(app) && !exists(daprd) {
			fmt.Fprintf(out, "%s: not running\n", name)
			continue
		}
		errs = append(errs, stopInstance(ctx, l, name, out))
	}
	return errors.Join(errs...)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Down stops every process that has a pid file in the run folder (and is
// ours: see IsOurs), all at once, and removes the pid and token files. It
// touches nothing else.
func Down(ctx context.Context, l Layout, out io.Writer) error {
	_ = os.Remove(l.profileFile())
	files, err := pidFiles(l)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(out, "nothing to stop")
		return nil
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	names := map[string]bool{}
	for _, f := range files {
		name, role := instanceOf(f)
		names[name] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, err := stopPidFile(ctx, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", name, role, err))
				return
			}
			fmt.Fprintf(out, "%s %s: %s\n", name, role, msg)
		}()
	}
	wg.Wait()
	for name := range names {
		_ = os.Remove(l.TokensFile(name))
	}
	return errors.Join(errs...)
}

// ProcStatus is one row of Status.
type ProcStatus struct {
	Name  string
	Role  Role
	Pid   int    // 0 if unknown
	State string // ready, running, stale (pid file of a dead process), stopped
	Ports string
}

// Status reports the app and daprd of every template app, and of any other
// instance that has pid files (e.g. one started by a test).
func Status(ctx context.Context, l Layout, tmpl *Template) ([]ProcStatus, error) {
	files, err := pidFiles(l)
	if err != nil {
		return nil, err
	}
	specs := map[string]AppSpec{}
	var order []string
	if tmpl != nil {
		for _, s := range tmpl.Apps {
			specs[s.InstanceName()] = s
			order = append(order, s.InstanceName())
		}
	}
	for _, f := range files {
		name, _ := instanceOf(f)
		if _, ok := specs[name]; !ok {
			specs[name] = AppSpec{}
			order = append(order, name)
		}
	}
	client := &http.Client{Timeout: time.Second}
	var rows []ProcStatus
	for _, name := range order {
		s := specs[name]
		for _, role := range []Role{RoleApp, RoleDaprd} {
			row := ProcStatus{Name: name, Role: role, State: "stopped", Ports: "-"}
			var probe string
			if s.ID != "" {
				if role == RoleApp {
					row.Ports = strconv.Itoa(s.App)
					probe = fmt.Sprintf("http://%s:%d%s", LoopbackAddress, s.App, ReadyPath)
				} else {
					row.Ports = fmt.Sprintf("http %d, grpc %d, internal %d, metrics %d", s.DaprHTTP, s.DaprGRPC, s.DaprInternalGRPC, s.Metrics)
					probe = fmt.Sprintf("http://%s:%d/v1.0/healthz", LoopbackAddress, s.DaprHTTP)
				}
			}
			if pf, err := ReadPidFile(l.PidFile(name, role)); err == nil {
				row.Pid = pf.Pid
				row.State = "stale"
				if IsOurs(pf.Pid, pf.Binary) {
					row.State = "running"
					if probe != "" {
						if code, err := get(ctx, client, probe); err == nil && code/100 == 2 {
							row.State = "ready"
						}
					}
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// PrintStatus writes rows as a table.
func PrintStatus(out io.Writer, rows []ProcStatus) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tROLE\tPID\tSTATE\tPORTS")
	for _, r := range rows {
		pid := "-"
		if r.Pid != 0 {
			pid = strconv.Itoa(r.Pid)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Role, pid, r.State, r.Ports)
	}
	tw.Flush()
}

// ErrNoLogs is returned by Logs for an instance that has no log file.
var ErrNoLogs = errors.New("no logs")

// Logs writes the last n lines of the app and daprd logs of an instance (a
// template app id, or the Name of an extra instance).
func Logs(l Layout, name string, n int, out io.Writer) error {
	var files []string
	for _, role := range []Role{RoleApp, RoleDaprd} {
		if _, err := os.Stat(l.LogFile(name, role)); err == nil {
			files = append(files, l.LogFile(name, role))
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("%w for %q in %s", ErrNoLogs, name, l.LogDir)
	}
	for _, f := range files {
		lines, err := TailLines(f, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "==> %s <==\n", f)
		for _, line := range lines {
			fmt.Fprintln(out, line)
		}
		fmt.Fprintln(out)
	}
	return nil
}

// progress prints each app as its wait ends: ready, with the time it took,
// or failed, with the last lines of its logs, so a person sees which app
// holds up the start and why without opening a file.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
	total int
	ready int
}

// failureLogLines is how much of a failed app's logs up prints.
const failureLogLines = 15

func newProgress(out io.Writer, total int) *progress {
	return &progress{out: out, start: time.Now(), total: total}
}

func (p *progress) done(l Layout, name string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	took := time.Since(p.start).Round(100 * time.Millisecond)
	if err == nil {
		p.ready++
		fmt.Fprintf(p.out, "%s: ready after %s (%d of %d)\n", name, took, p.ready, p.total)
		return
	}
	fmt.Fprintf(p.out, "%s: not ready after %s: %v\n", name, took, err)
	if lerr := Logs(l, name, failureLogLines, p.out); lerr != nil {
		fmt.Fprintf(p.out, "%s: %v\n", name, lerr)
	}
}
