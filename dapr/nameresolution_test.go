package dapr_test

// TestNameResolutionToleratesLateRenewals runs two real daprds with the name
// resolution of dapr/config.yaml and freezes the callee's daprd (SIGSTOP)
// for 1.5 s at a time, as a busy machine can: its registration renewal runs
// late. Dapr 1.14's SQLite resolver drops a registration that was not
// renewed within updateInterval in whole seconds; with its default timeout
// (1s) a late renewal often leaves the callee unresolvable and callers get
// "no host found". With the stack's settings it must never happen.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

func TestNameResolutionToleratesLateRenewals(t *testing.T) {
	daprxtest.RequireIntegration(t)
	daprd := filepath.Join(daprxtest.RepoRoot(t), ".local", "bin", "daprd")
	require.FileExists(t, daprd, "run go tool task build:daprd")

	work := t.TempDir()
	config, err := yaml.Marshal(map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Configuration",
		"metadata":   map[string]any{"name": "nameresolution"},
		"spec":       map[string]any{"nameResolution": daprxtest.LocalNameResolution(t, filepath.Join(work, "nr.db"))},
	})
	require.NoError(t, err)
	configPath := filepath.Join(work, "config.yaml")
	require.NoError(t, os.WriteFile(configPath, config, 0o600))

	caller := startDaprd(t, daprd, "caller", configPath)
	callee := startDaprd(t, daprd, "callee", configPath)

	var calls, unresolved atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		// A short timeout: while the callee is frozen a resolved call
		// hangs on its connection, an unresolved one is answered at once.
		client := &http.Client{Timeout: 300 * time.Millisecond}
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			calls.Add(1)
			resp, err := client.Get(caller.base + "/v1.0/invoke/callee/method/ping")
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "no host found") {
				unresolved.Add(1)
			}
		}
	}()

	for range 6 {
		time.Sleep(time.Second)
		require.NoError(t, callee.cmd.Process.Signal(syscall.SIGSTOP))
		time.Sleep(1500 * time.Millisecond)
		require.NoError(t, callee.cmd.Process.Signal(syscall.SIGCONT))
	}
	time.Sleep(time.Second)
	close(done)
	<-sampled

	t.Logf("%d calls to a callee frozen 6 times for 1.5 s, %d answered \"no host found\"", calls.Load(), unresolved.Load())
	require.Greater(t, calls.Load(), int64(50), "too few calls sampled")
	require.Zero(t, unresolved.Load(), "the callee dropped out of name resolution")
	for _, d := range []sidecar{caller, callee} {
		select {
		case <-d.exited:
			t.Fatalf("daprd %s exited during the test", d.name)
		default:
		}
	}
}

type sidecar struct {
	name   string
	base   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startDaprd runs an app-less daprd as appID and waits until it is healthy.
// It stops when t ends; its log is shown if t failed.
func startDaprd(t *testing.T, daprd, appID, config string) sidecar {
	t.Helper()
	ports := daprxtest.FreePorts(t, 4)
	logPath := filepath.Join(t.TempDir(), appID+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(daprd, "--app-id", appID,
		"--dapr-http-port", strconv.Itoa(ports[0]), "--dapr-grpc-port", strconv.Itoa(ports[1]),
		"--dapr-internal-grpc-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--config", config, "--resources-path", t.TempDir(), "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	s := sidecar{name: appID, base: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s daprd log:\n%s", appID, b)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.exited:
			t.Fatalf("daprd %s exited while starting", appID)
		default:
		}
		if resp, err := http.Get(s.base + "/v1.0/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		require.True(t, time.Now().Before(deadline), "daprd %s not healthy within 60s", appID)
		time.Sleep(100 * time.Millisecond)
	}
}
