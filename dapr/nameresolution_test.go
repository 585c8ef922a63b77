package dapr_test

// TestNameResolutionToleratesLateRenewals runs two real daprds with the name
// resolution of dapr/config.yaml and freezes the callee's daprd (SIGSTOP)
// for 1.5 s at a time, as a busy machine can: its registration renewal runs
// late. Dapr's SQLite resolver (1.14 to 1.17) drops a registration that was not
// renewed within updateInterval in whole seconds; with its default timeout
// (1s) a late renewal often leaves the callee unresolvable and callers get
// "no host found". With the stack's settings it must never happen.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
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

	caller := daprxtest.StartDaprd(t, "caller", "--config", configPath, "--resources-path", t.TempDir())
	callee := daprxtest.StartDaprd(t, "callee", "--config", configPath, "--resources-path", t.TempDir())
	// Never leave the callee frozen: this runs before its daprd is stopped.
	t.Cleanup(func() { _ = callee.Process.Signal(syscall.SIGCONT) })

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
			resp, err := client.Get(caller.HTTP + "/v1.0/invoke/callee/method/ping")
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
		require.NoError(t, callee.Process.Signal(syscall.SIGSTOP))
		time.Sleep(1500 * time.Millisecond)
		require.NoError(t, callee.Process.Signal(syscall.SIGCONT))
	}
	time.Sleep(time.Second)
	close(done)
	<-sampled

	t.Logf("%d calls to a callee frozen 6 times for 1.5 s, %d answered \"no host found\"", calls.Load(), unresolved.Load())
	require.Greater(t, calls.Load(), int64(50), "too few calls sampled")
	require.Zero(t, unresolved.Load(), "the callee dropped out of name resolution")
	for name, d := range map[string]daprxtest.Sidecar{"caller": caller, "callee": callee} {
		select {
		case <-d.Exited:
			t.Fatalf("daprd %s exited during the test", name)
		default:
		}
	}
}
