package stack_test

import (
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/local/stack"
)

// appConstants is every contracts.AppXxx constant. Add a new app here when it
// is added to internal/contracts and to dapr/dapr.yaml.
var appConstants = []string{
	contracts.AppGateway,
	contracts.AppUsers,
	contracts.AppCatalog,
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
