package stack_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/local/stack"
)

// appConstants is every contracts.AppXxx constant. Add a new app here when it
// is added to internal/contracts and to dapr/dapr.yaml.
var appConstants = []string{
	contracts.AppGateway,
	contracts.AppUsers,
	contracts.AppCatalog,
	contracts.AppInventory,
	contracts.AppOrders,
	contracts.AppPayments,
	contracts.AppNotifications,
	contracts.AppSearch,
	contracts.AppStorefront,
}

func loadRepoTemplate(t *testing.T) *stack.Template {
	t.Helper()
	root, err := stack.FindRoot("")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := stack.LoadTemplate(filepath.Join(root, stack.TemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// The app ids of dapr/dapr.yaml are exactly the contracts' app constants.
func TestTemplateAppIDsMatchContracts(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	got := tmpl.IDs()
	want := append([]string(nil), appConstants...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("app ids in %s = %v, contracts.AppXxx = %v", tmpl.Path, got, want)
	}
}

// The repo's template maps to daprd flags, uses components/local, and every
// app gets the flags the runner relies on.
func TestRepoTemplateMapsToDaprd(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	root := filepath.Dir(filepath.Dir(tmpl.Path))
	for _, app := range tmpl.Apps {
		args := stack.DaprdArgs(app)
		has := map[string]string{}
		for i := 0; i+1 < len(args); i++ {
			has[args[i]] = args[i+1]
		}
		if has["--app-id"] != app.ID || has["--app-channel-address"] != "127.0.0.1" || has["--dapr-listen-addresses"] != "127.0.0.1" {
			t.Errorf("%s: daprd args %v", app.ID, args)
		}
		if app.Dir != filepath.Join(root, "apps", app.ID) {
			t.Errorf("%s: app folder %s", app.ID, app.Dir)
		}
		found := false
		for _, p := range app.ResourcesPaths {
			if !filepath.IsAbs(p) {
				t.Errorf("%s: resources path %s is not absolute", app.ID, p)
			}
			found = found || p == filepath.Join(root, "components", stack.DefaultProfile)
		}
		if !found {
			t.Errorf("%s: no components/%s resources path: %v", app.ID, stack.DefaultProfile, app.ResourcesPaths)
		}
	}
}

// No port of the template lies in the kernel's ephemeral range: an outgoing
// connection of any process can take such a port as its local end, and the
// app or daprd that needs it then fails to start (this happened with
// daprd gRPC ports at 50600+, within Linux's default 32768-60999).
func TestTemplatePortsAreNotEphemeral(t *testing.T) {
	low, high := stack.EphemeralPortRange()
	tmpl := loadRepoTemplate(t)
	for _, app := range tmpl.Apps {
		for _, p := range app.Ports.List() {
			if p.Port >= low && p.Port <= high {
				t.Errorf("%s: %s port %d is in the ephemeral range %d-%d", app.ID, p.Role, p.Port, low, high)
			}
		}
	}
}

// runnerProfiles are the folders under components/ besides local that `task
// up PROFILE=<name>` runs and `task test:profiles` tests.
var runnerProfiles = []string{"redis-only", "aws-emulated", "aws-emulated-snssqs"}

// clusterProfiles are the folders under components/ for EKS, not the runner.
var clusterProfiles = []string{"aws", "aws-alternatives"}

// Every folder under components/ is either run by the runner (and so by
// this file's tests and task test:profiles) or one of the cluster's.
func TestEveryProfileFolderIsKnown(t *testing.T) {
	root := filepath.Dir(filepath.Dir(loadRepoTemplate(t).Path))
	entries, err := os.ReadDir(filepath.Join(root, "components"))
	if err != nil {
		t.Fatal(err)
	}
	known := append(append([]string{stack.DefaultProfile}, runnerProfiles...), clusterProfiles...)
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(known, e.Name()) {
			t.Errorf("components/%s is neither in runnerProfiles nor in clusterProfiles", e.Name())
		}
	}
}

// A profile is only its component YAMLs: every daprd flag and variable is
// the local profile's but the resources path, and the profile names exactly
// the components the local one does.
func TestProfilesDifferOnlyInTheirComponents(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	root := filepath.Dir(filepath.Dir(tmpl.Path))
	names := func(profile string) []string {
		files, err := filepath.Glob(filepath.Join(root, "components", profile, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range files {
			files[i] = filepath.Base(f)
		}
		return files
	}
	local := names(stack.DefaultProfile)
	l := stack.Layout{SecretsFile: "/secrets.json"}
	tokens := stack.Tokens{AppAPIToken: "a", DaprAPIToken: "d"}
	for _, profile := range runnerProfiles {
		if got := names(profile); !reflect.DeepEqual(got, local) {
			t.Errorf("components/%s has %v, components/local %v", profile, got, local)
		}
		other, err := tmpl.WithProfile(profile)
		if err != nil {
			t.Fatal(err)
		}
		for i, app := range tmpl.Apps {
			a, b := stack.DaprdArgs(app), stack.DaprdArgs(other.Apps[i])
			if len(a) != len(b) {
				t.Fatalf("%s: %v vs %v", app.ID, a, b)
			}
			for j := range a {
				if a[j] == b[j] {
					continue
				}
				if a[j-1] != "--resources-path" || a[j] != filepath.Join(root, "components", stack.DefaultProfile) || b[j] != filepath.Join(root, "components", profile) {
					t.Errorf("%s: daprd argument %d is %q on local and %q on %s", app.ID, j, a[j], b[j], profile)
				}
			}
			if !reflect.DeepEqual(stack.DaprdEnv(app, l, tokens), stack.DaprdEnv(other.Apps[i], l, tokens)) {
				t.Errorf("%s: daprd environment differs on %s", app.ID, profile)
			}
		}
	}
}

// The Dapr configuration of every app keeps Dapr's SQLite name
// resolution from failing the stack (see dapr/config.yaml): its clean-up
// deletes live registrations, so it is off; and a renewal must be allowed to
// run late by more than the second that whole-second timestamps can cost.
func TestSQLiteNameResolutionTimings(t *testing.T) {
	seen := map[string]bool{}
	for _, app := range loadRepoTemplate(t).Apps {
		if app.Config == "" || seen[app.Config] {
			continue
		}
		seen[app.Config] = true
		data, err := os.ReadFile(app.Config)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Spec struct {
				NameResolution struct {
					Component     string            `yaml:"component"`
					Configuration map[string]string `yaml:"configuration"`
				} `yaml:"nameResolution"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			t.Fatalf("%s: %v", app.Config, err)
		}
		nr := cfg.Spec.NameResolution
		if nr.Component != "sqlite" {
			continue
		}
		duration := func(key string) time.Duration {
			d, err := time.ParseDuration(nr.Configuration[key])
			if err != nil {
				t.Fatalf("%s: nameResolution %s %q: %v", app.Config, key, nr.Configuration[key], err)
			}
			return d
		}
		if d := duration("cleanupInterval"); d != 0 {
			t.Errorf("%s: cleanupInterval %v, want 0s (the clean-up deletes live registrations)", app.Config, d)
		}
		update, timeout := duration("updateInterval"), duration("timeout")
		if timeout < 2*time.Second {
			t.Errorf("%s: timeout %v leaves a renewal less than a second of slack; want at least 2s", app.Config, timeout)
		}
		if update-timeout < time.Second || update != update.Truncate(time.Second) {
			t.Errorf("%s: updateInterval %v must be whole seconds and at least 1s above timeout %v (daprd refuses it otherwise)", app.Config, update, timeout)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no app has a Dapr configuration")
	}
}
