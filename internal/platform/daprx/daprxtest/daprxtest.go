// Package daprxtest runs the platform kit in a test process beside a real
// daprd (the project's .local/bin/daprd) on resources the test writes, so
// integration tests exercise real components. Tests that use it skip unless
// SHOPMESH_INTEGRATION is set (`go tool task test` sets it, with the local
// Redis and PostgreSQL up).
package daprxtest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/platform"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/local/stack"
)

// RequireIntegration skips t unless integration tests are switched on.
func RequireIntegration(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("integration test: set SHOPMESH_INTEGRATION=1 with the local infra up (go tool task test does)")
	}
}

// RepoRoot is the checkout's root (the folder holding dapr/dapr.yaml).
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "repository root not found")
		dir = parent
	}
}

// LocalSecrets reads the local secret store, .local/secrets.json.
func LocalSecrets(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), ".local", "secrets.json"))
	require.NoError(t, err, "run go tool task infra:up first")
	var s map[string]string
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// LocalNameResolution is the nameResolution of the local Dapr
// Configuration, dapr/config.yaml, with its SQLite file moved to db: tests
// that run several daprds resolve names with the stack's own settings.
func LocalNameResolution(t *testing.T, db string) map[string]any {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "dapr", "config.yaml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var cfg struct {
		Spec struct {
			NameResolution map[string]any `yaml:"nameResolution"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	nr := cfg.Spec.NameResolution
	require.Equal(t, "sqlite", nr["component"], "%s: nameResolution.component", path)
	conf, ok := nr["configuration"].(map[string]any)
	require.True(t, ok, "%s: nameResolution.configuration", path)
	conf["connectionString"] = db
	return nr
}

// FreePorts returns n distinct loopback ports that were free a moment ago
// (see stack.FreeLoopbackPorts).
func FreePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := stack.FreeLoopbackPorts(n)
	require.NoError(t, err)
	return ports
}

// Sidecar is a daprd started by StartDaprd.
type Sidecar struct {
	// HTTP is the base URL of daprd's HTTP API.
	HTTP    string
	Process *os.Process
	// Exited is closed once daprd has exited.
	Exited <-chan struct{}
}

// StartDaprd runs the project's daprd as appID on free ports, with args
// added (resources, configuration, app port), and waits until
// /v1.0/healthz answers 204. daprd stops when t ends; its log is shown if
// t failed.
func StartDaprd(t *testing.T, appID string, args ...string) Sidecar {
	t.Helper()
	daprd := filepath.Join(RepoRoot(t), ".local", "bin", "daprd")
	require.FileExists(t, daprd, "run go tool task build:daprd")
	ports := FreePorts(t, 4)
	cmd := exec.Command(daprd, append([]string{
		"--app-id", appID,
		"--dapr-http-port", strconv.Itoa(ports[0]), "--dapr-grpc-port", strconv.Itoa(ports[1]),
		"--dapr-internal-grpc-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--log-level", "info",
	}, args...)...)
	logPath := filepath.Join(t.TempDir(), "daprd.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s daprd log:\n%s", appID, b)
		}
	})

	s := Sidecar{HTTP: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), Process: cmd.Process, Exited: exited}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("daprd %s exited while starting (component init failed?)", appID)
		default:
		}
		if resp, err := http.Get(s.HTTP + "/v1.0/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		require.True(t, time.Now().Before(deadline), "daprd %s not healthy within 60s", appID)
		time.Sleep(200 * time.Millisecond)
	}
}

// WriteResources writes the named component YAMLs into a new folder.
func WriteResources(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

// App is a kit app running in the test process with its sidecar.
type App struct {
	Client dapr.Client
	Config config.App
}

// Start runs the kit (platform.Module plus opts) as appID with API tokens
// both ways, and a daprd on resources beside it, and waits until /readyz
// answers 200. Both stop when t ends; the daprd log is shown if t failed.
func Start(t *testing.T, appID, resources string, opts ...fx.Option) App {
	t.Helper()
	RequireIntegration(t)
	daprd := filepath.Join(RepoRoot(t), ".local", "bin", "daprd")
	require.FileExists(t, daprd, "run go tool task build:daprd")

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	ports := FreePorts(t, 5)
	cfg := config.App{
		ID: appID, ListenHost: "127.0.0.1", Port: ports[0], DaprHTTPPort: ports[1], DaprGRPCPort: ports[2],
		DaprAPIToken: "dapr-token-" + run, AppAPIToken: "app-token-" + run,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second,
	}
	var client dapr.Client
	app := fxtest.New(t, append([]fx.Option{
		platform.Module,
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
		fx.NopLogger,
		fx.Populate(&client),
	}, opts...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)

	cmd := exec.Command(daprd,
		"--app-id", appID, "--app-port", strconv.Itoa(cfg.Port),
		"--dapr-http-port", strconv.Itoa(cfg.DaprHTTPPort), "--dapr-grpc-port", strconv.Itoa(cfg.DaprGRPCPort),
		"--dapr-internal-grpc-port", strconv.Itoa(ports[3]), "--metrics-port", strconv.Itoa(ports[4]),
		"--resources-path", resources, "--app-channel-address", "127.0.0.1", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DAPR_API_TOKEN="+cfg.DaprAPIToken, "APP_API_TOKEN="+cfg.AppAPIToken)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "daprd.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("daprd log:\n%s", b)
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", cfg.Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "sidecar not ready in time")
		time.Sleep(200 * time.Millisecond)
	}
	return App{Client: client, Config: cfg}
}
