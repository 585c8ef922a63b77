package stack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ReadyPath is the app endpoint that answers 200 once the app can serve.
const ReadyPath = "/readyz"

// DefaultReadyTimeout is how long Up waits for every app to be ready.
const DefaultReadyTimeout = 180 * time.Second

// LogTailLines is how many lines of each log a readiness failure shows.
const LogTailLines = 20

// Handle is an app and its daprd started by StartApp.
type Handle struct {
	Spec   AppSpec
	Layout Layout
	Tokens Tokens
	app    *process
	daprd  *process
}

type process struct {
	role    Role
	cmd     *exec.Cmd
	binary  string
	pidFile string
	logFile string
	done    chan struct{} // closed when the process has exited (and been reaped)
	err     error         // the Wait error, valid after done
}

// AppPid and DaprdPid are the pids (and process groups) of the two processes.
func (h *Handle) AppPid() int   { return h.app.cmd.Process.Pid }
func (h *Handle) DaprdPid() int { return h.daprd.cmd.Process.Pid }

// AppURL is the app's base URL.
func (h *Handle) AppURL() string { return fmt.Sprintf("http://127.0.0.1:%d", h.Spec.App) }

// DaprHTTPURL is the base URL of the sidecar's HTTP API (send Tokens.DaprAPIToken
// in the dapr-api-token header).
func (h *Handle) DaprHTTPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", h.Spec.DaprHTTP) }

// StartApp starts spec's daprd and app together (daprd waits for the app's
// port, the app for daprd) with new tokens, each in its own process group,
// logging to the layout's log folder and recording pid files in its run
// folder. Both keep running after the caller exits unless stopped with
// Handle.Stop (or `runner down`, which finds them by their pid files).
//
// For an extra instance beside the running stack, derive spec from the
// template's app and change Name, Ports (see FreePorts) and ResourcesPaths
// (see ExampleStartApp). Keeping the ID means Dapr sees a second replica of
// that app (name resolution, pub/sub consumer group, component scopes);
// change ID too for an independent app.
func StartApp(ctx context.Context, l Layout, spec AppSpec) (*Handle, error) {
	name := spec.InstanceName()
	if err := errors.Join(spec.CheckPaths(), l.checkBinaries(spec)); err != nil {
		return nil, err
	}
	for _, role := range []Role{RoleApp, RoleDaprd} {
		if pid := running(l.PidFile(name, role)); pid != 0 {
			return nil, fmt.Errorf("%s: %s is already running (pid %d)", name, role, pid)
		}
	}
	if err := CheckPorts(spec); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := l.ensureDirs(); err != nil {
		return nil, err
	}
	tokens, err := NewTokens()
	if err != nil {
		return nil, err
	}
	if err := writeTokens(l.TokensFile(name), tokens); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	h := &Handle{Spec: spec, Layout: l, Tokens: tokens}
	h.daprd, err = startProcess(l, spec, RoleDaprd, l.Daprd, DaprdArgs(spec), DaprdEnv(spec, l, tokens))
	if err != nil {
		_ = os.Remove(l.TokensFile(name))
		return nil, err
	}
	h.app, err = startProcess(l, spec, RoleApp, l.binaryFor(spec), nil, AppEnv(spec, l, tokens))
	if err != nil {
		_ = h.daprd.stop(context.Background())
		_ = os.Remove(l.TokensFile(name))
		return nil, err
	}
	return h, nil
}

// StartAppBesideDaprd starts spec's app alone, beside its running daprd,
// with the tokens the pair was started with, and returns its pid.
func StartAppBesideDaprd(l Layout, spec AppSpec) (int, error) {
	tokens, err := ReadTokens(l, spec.InstanceName())
	if err != nil {
		return 0, err
	}
	p, err := startProcess(l, spec, RoleApp, l.binaryFor(spec), nil, AppEnv(spec, l, tokens))
	if err != nil {
		return 0, err
	}
	return p.cmd.Process.Pid, nil
}

func startProcess(l Layout, spec AppSpec, role Role, binary string, args []string, env map[string]string) (*process, error) {
	name := spec.InstanceName()
	p := &process{
		role:    role,
		binary:  binary,
		pidFile: l.PidFile(name, role),
		logFile: l.LogFile(name, role),
		done:    make(chan struct{}),
	}
	logf, err := os.OpenFile(p.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open %s log: %w", name, role, err)
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "\n===== %s runner: starting %s of %s in %s: %s =====\n",
		time.Now().Format(time.RFC3339), role, name, spec.Dir, strings.Join(append([]string{binary}, args...), " "))

	cmd := exec.Command(binary, args...)
	cmd.Dir = spec.Dir
	cmd.Env = processEnv(env)
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group: a Ctrl-C in the runner's terminal does not reach it,
	// and stopping signals the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s %s: %w", name, role, binary, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := WritePidFile(p.pidFile, cmd.Process.Pid, binary); err != nil {
		_ = p.stop(context.Background())
		return nil, fmt.Errorf("%s: %s: %w", name, role, err)
	}
	return p, nil
}

// exited returns an error if the process has exited.
func (p *process) exited() error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s exited: %w", p.role, p.err)
		}
		return fmt.Errorf("%s exited", p.role)
	default:
		return nil
	}
}

func (p *process) stop(ctx context.Context) error {
	defer os.Remove(p.pidFile)
	select {
	case <-p.done:
	default:
		if _, err := stopGroup(ctx, p.cmd.Process.Pid, StopTimeout); err != nil {
			return fmt.Errorf("stop %s: %w", p.role, err)
		}
	}
	// stopGroup saw the leader dead; let Wait finish reaping it.
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// Stop stops the app and its daprd (SIGTERM to each process group, SIGKILL
// after StopTimeout) and removes their pid and token files.
func (h *Handle) Stop(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []*process{h.app, h.daprd} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.stop(ctx)
		}()
	}
	wg.Wait()
	_ = os.Remove(h.Layout.TokensFile(h.Spec.InstanceName()))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", h.Spec.InstanceName(), err)
	}
	return nil
}

// Exited returns an error if the app or its daprd has exited.
func (h *Handle) Exited() error {
	return errors.Join(h.app.exited(), h.daprd.exited())
}

// WaitReady waits until the app answers 200 on /readyz, failing early if
// either process exits. Its error includes the tails of both logs.
func (h *Handle) WaitReady(ctx context.Context, timeout time.Duration) error {
	return WaitReady(ctx, h.Layout, h.Spec, timeout, h.Exited)
}

// WaitReady waits until spec's app answers 200 on http://127.0.0.1:<app port>/readyz.
// exited, if not nil, is polled and ends the wait with its error. On failure
// the error includes the last LogTailLines lines of the app's and daprd's logs.
func WaitReady(ctx context.Context, l Layout, spec AppSpec, timeout time.Duration, exited func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + LoopbackAddress + ":" + strconv.Itoa(spec.App) + ReadyPath
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := "no answer yet"
	for {
		if exited != nil {
			if err := exited(); err != nil {
				return readyError(l, spec, err.Error())
			}
		}
		if code, err := get(ctx, client, url); err == nil && code == http.StatusOK {
			return nil
		} else if err == nil {
			last = "last answer: HTTP " + strconv.Itoa(code)
		} else if ctx.Err() == nil {
			last = "last error: " + err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return readyError(l, spec, fmt.Sprintf("not ready after %s (%s from %s)", timeout, last, url))
			}
			return fmt.Errorf("%s: waiting for %s: %w", spec.InstanceName(), url, ctx.Err())
		case <-tick.C:
		}
	}
}

func get(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func readyError(l Layout, spec AppSpec, why string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", spec.InstanceName(), why)
	for _, role := range []Role{RoleApp, RoleDaprd} {
		path := l.LogFile(spec.InstanceName(), role)
		fmt.Fprintf(&b, "\n----- last %d lines of %s -----\n", LogTailLines, path)
		lines, err := TailLines(path, LogTailLines)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
			continue
		}
		for _, line := range lines {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return errors.New(strings.TrimRight(b.String(), "\n"))
}

// writeTokens records an instance's tokens (mode 0600) so that tools and
// tests can call a sidecar that `runner up` started; see ReadTokens.
func writeTokens(path string, t Tokens) error {
	content := EnvAppAPIToken + "=" + t.AppAPIToken + "\n" + EnvDaprAPIToken + "=" + t.DaprAPIToken + "\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	return nil
}

// ReadTokens returns the tokens of a running instance (by name, usually the app id).
func ReadTokens(l Layout, name string) (Tokens, error) {
	data, err := os.ReadFile(l.TokensFile(name))
	if err != nil {
		return Tokens{}, fmt.Errorf("tokens of %s: %w", name, err)
	}
	var t Tokens
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case EnvAppAPIToken:
			t.AppAPIToken = v
		case EnvDaprAPIToken:
			t.DaprAPIToken = v
		}
	}
	if t.AppAPIToken == "" || t.DaprAPIToken == "" {
		return Tokens{}, fmt.Errorf("tokens of %s: %s is incomplete", name, l.TokensFile(name))
	}
	return t, nil
}
