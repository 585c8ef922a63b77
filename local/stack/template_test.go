package stack

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// writeRepo makes a fake repo layout under a temp dir: dapr/<template>,
// components/<profiles>, apps/<ids>, dapr/config.yaml. It returns the root.
func writeRepo(t *testing.T, template string, profiles []string, apps []string) string {
	t.Helper()
	root := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk("dapr/resources")
	for _, p := range profiles {
		mk("components/" + p)
	}
	for _, a := range apps {
		mk("apps/" + a)
	}
	if err := os.WriteFile(filepath.Join(root, "dapr/config.yaml"), []byte("kind: Configuration\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, TemplatePath), []byte(template), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

const twoApps = `version: 1
common:
  resourcesPaths: ["../components/local", "./resources"]
  configFilePath: ./config.yaml
  appProtocol: http
  logLevel: info
  enableAppHealthCheck: true
  appHealthCheckPath: /healthz
  env:
    SHARED: common
    OVERRIDDEN: common
apps:
  - appID: gateway
    appDirPath: ../apps/gateway
    appPort: 8080
    daprHTTPPort: 3600
    daprGRPCPort: 50600
    daprInternalGRPCPort: 50700
    metricsPort: 9600
    command: ["go", "run", "."]
  - appID: catalog
    appDirPath: ../apps/catalog
    appPort: 8082
    daprHTTPPort: 3602
    daprGRPCPort: 50602
    daprInternalGRPCPort: 50702
    metricsPort: 9602
    logLevel: debug
    logAsJSON: true
    enableAppHealthCheck: false
    configFilePath: ./dapr-config.yaml
    resourcesPaths: ["./components", "/abs/resources"]
    env:
      OVERRIDDEN: catalog
      ONLY_CATALOG: "1"
      NUMBER: 30
`

func TestLoadTemplateResolvesPathsAndOverrides(t *testing.T) {
	root := writeRepo(t, twoApps, []string{"local"}, []string{"gateway", "catalog"})
	tmpl, err := LoadTemplate(filepath.Join(root, TemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.IDs(), []string{"gateway", "catalog"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	gw, err := tmpl.App("gateway")
	if err != nil {
		t.Fatal(err)
	}
	want := AppSpec{
		ID:                   "gateway",
		Dir:                  filepath.Join(root, "apps/gateway"),
		Ports:                Ports{App: 8080, DaprHTTP: 3600, DaprGRPC: 50600, DaprInternalGRPC: 50700, Metrics: 9600},
		AppProtocol:          "http",
		LogLevel:             "info",
		EnableAppHealthCheck: true,
		AppHealthCheckPath:   "/healthz",
		// common paths are relative to the template's folder
		Config:         filepath.Join(root, "dapr/config.yaml"),
		ResourcesPaths: []string{filepath.Join(root, "components/local"), filepath.Join(root, "dapr/resources")},
		Env:            map[string]string{"SHARED": "common", "OVERRIDDEN": "common"},
		Command:        []string{"go", "run", "."},
	}
	if !reflect.DeepEqual(gw, want) {
		t.Errorf("gateway:\n got %+v\nwant %+v", gw, want)
	}
	if err := gw.CheckPaths(); err != nil {
		t.Errorf("CheckPaths: %v", err)
	}

	cat, _ := tmpl.App("catalog")
	// app values override common; app paths are relative to appDirPath
	if cat.LogLevel != "debug" || !cat.LogAsJSON || cat.EnableAppHealthCheck || cat.AppHealthCheckPath != "/healthz" {
		t.Errorf("catalog overrides: %+v", cat)
	}
	if want := filepath.Join(root, "apps/catalog/dapr-config.yaml"); cat.Config != want {
		t.Errorf("catalog config = %s, want %s", cat.Config, want)
	}
	if want := []string{filepath.Join(root, "apps/catalog/components"), "/abs/resources"}; !reflect.DeepEqual(cat.ResourcesPaths, want) {
		t.Errorf("catalog resources = %v, want %v", cat.ResourcesPaths, want)
	}
	if want := map[string]string{"SHARED": "common", "OVERRIDDEN": "catalog", "ONLY_CATALOG": "1", "NUMBER": "30"}; !reflect.DeepEqual(cat.Env, want) {
		t.Errorf("catalog env = %v, want %v", cat.Env, want)
	}
	err = cat.CheckPaths()
	if err == nil || !strings.Contains(err.Error(), "dapr-config.yaml does not exist") || !strings.Contains(err.Error(), "/abs/resources does not exist") {
		t.Errorf("CheckPaths = %v, want missing config and resources", err)
	}

	// App returns a copy.
	gw.Env["SHARED"] = "changed"
	gw.ResourcesPaths[0] = "changed"
	again, _ := tmpl.App("gateway")
	if again.Env["SHARED"] != "common" || again.ResourcesPaths[0] == "changed" {
		t.Error("App must return a deep copy")
	}
	if _, err := tmpl.App("nope"); err == nil {
		t.Error("App(nope) must fail")
	}
}

func TestParseTemplateErrors(t *testing.T) {
	app := func(id string, port int, extra string) string {
		return "  - appID: " + id + "\n    appDirPath: ../apps/" + id + "\n" +
			"    appPort: " + itoa(port) + "\n    daprHTTPPort: " + itoa(port+1) + "\n    daprGRPCPort: " + itoa(port+2) +
			"\n    daprInternalGRPCPort: " + itoa(port+3) + "\n    metricsPort: " + itoa(port+4) + "\n" + extra
	}
	cases := []struct {
		name, yaml, want string
	}{
		{"version", "version: 2\napps:\n" + app("a", 1000, ""), "version is 2"},
		{"no apps", "version: 1\n", "no apps"},
		{"unknown field", "version: 1\napps:\n" + app("a", 1000, "    appHealthProbeInterval: 3\n"), "field appHealthProbeInterval not found"},
		{"dup id", "version: 1\napps:\n" + app("a", 1000, "") + app("a", 2000, ""), "a: duplicate appID"},
		{"dup port", "version: 1\napps:\n" + app("a", 1000, "") + app("b", 1004, ""), "b: port 1004 (app) is also used by a (metrics)"},
		{"missing port", "version: 1\napps:\n  - appID: a\n    appDirPath: x\n    appPort: 1\n    daprHTTPPort: 2\n    daprGRPCPort: 3\n    metricsPort: 5\n", "dapr internal grpc port 0"},
		{"bad id", "version: 1\napps:\n" + app("A_b", 1000, ""), `appID "A_b"`},
		{"no dir", "version: 1\napps:\n  - appID: a\n    appPort: 1\n    daprHTTPPort: 2\n    daprGRPCPort: 3\n    daprInternalGRPCPort: 4\n    metricsPort: 5\n", "appDirPath is required"},
		{"protocol", "version: 1\ncommon:\n  appProtocol: tcp\napps:\n" + app("a", 1000, ""), `appProtocol "tcp"`},
		{"log level", "version: 1\napps:\n" + app("a", 1000, "    logLevel: loud\n"), `logLevel "loud"`},
		{"scheduler", "version: 1\ncommon:\n  schedulerHostAddress: localhost\napps:\n" + app("a", 1000, ""), `schedulerHostAddress "localhost": the runner supports only ""`},
		{"placement", "version: 1\napps:\n" + app("a", 1000, "    placementHostAddress: localhost:50005\n"), `placementHostAddress "localhost:50005"`},
		{"listen", "version: 1\napps:\n" + app("a", 1000, "    apiListenAddresses: 0.0.0.0\n"), `apiListenAddresses "0.0.0.0": the runner supports only "127.0.0.1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTemplate([]byte(c.yaml), "/repo/dapr")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFindRoot(t *testing.T) {
	root := writeRepo(t, twoApps, []string{"local"}, []string{"gateway"})
	got, err := FindRoot(filepath.Join(root, "apps/gateway"))
	if err != nil || got != root {
		t.Fatalf("FindRoot = %q, %v; want %q", got, err, root)
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Fatal("FindRoot outside a repo must fail")
	}
}
