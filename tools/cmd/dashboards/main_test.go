package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/tools/generated"
)

// committedDir is observability/dashboards of this checkout, as a path
// through this package's folder on purpose, not cleaned: go test caches a
// passing result and reruns it when a file the test read changed, but only
// for files inside the module (tools/), judged by the path as the test
// opened it. Through "tools/cmd/dashboards/../../../observability" a hand
// edit of the JSON reruns the test instead of replaying an old pass.
func committedDir(t *testing.T) string {
	t.Helper()
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := pkg + "/../../../observability/dashboards"
	root, err := generated.RepoRoot(markerPath)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "observability", "dashboards")
	st, err := os.Stat(want)
	if err != nil {
		t.Fatalf("no %s: run %s", want, regenerate)
	}
	if got, err := os.Stat(dir); err != nil || !os.SameFile(got, st) {
		t.Fatalf("the test runs in %s, not in tools/cmd/dashboards of the checkout %s", pkg, root)
	}
	return dir
}

// The JSON in git is what the generator writes now: a change to the code
// that is not regenerated, or a hand edit of the JSON, fails here.
func TestCommittedJSONIsUpToDate(t *testing.T) {
	dir := committedDir(t)
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := generated.Check(dir, ".json", files, regenerate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// run writes exactly what render returns, and deletes what it no longer
// writes.
func TestRunWritesAndPrunes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gone.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, f.Name)
	}
	want = append(want, "README.md")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files written: %v, want %v", got, want)
	}
}

// grafanaDashboard is the part of the SDK's JSON the checks below read.
type grafanaDashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		GridPos struct {
			X, Y, W, H int
		} `json:"gridPos"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr   string `json:"expr"`
			RefID  string `json:"refId"`
			Legend string `json:"legendFormat"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name, Type, Query string
		} `json:"list"`
	} `json:"templating"`
}

// grafanaVar finds a Grafana variable in an expression.
var grafanaVar = regexp.MustCompile(`\$\{?[A-Za-z_]\w*\}?`)

// Every panel is one the page can draw: a known type, a unique id, inside
// the 24 columns, a Prometheus datasource from the variable, and
// expressions that use no variable but $__rate_interval and $__range.
func TestPanelsAreDrawable(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == indexFile {
			continue
		}
		var d grafanaDashboard
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(d.Templating.List) != 1 || d.Templating.List[0].Name != datasourceVar || d.Templating.List[0].Query != "prometheus" {
			t.Errorf("%s: templating %+v, want the one datasource variable", f.Name, d.Templating.List)
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			where := f.Name + ": panel " + p.Title
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: id %d is 0 or not unique", where, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
				t.Errorf("%s: gridPos %+v outside the 24 columns", where, p.GridPos)
			}
			switch p.Type {
			case "row":
				continue
			case "timeseries", "stat":
			default:
				t.Errorf("%s: type %q, which the page does not draw", where, p.Type)
			}
			if p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("%s: needs a title and a query", where)
			}
			if p.Datasource.UID != "${"+datasourceVar+"}" {
				t.Errorf("%s: datasource %q", where, p.Datasource.UID)
			}
			for _, tg := range p.Targets {
				for _, v := range grafanaVar.FindAllString(tg.Expr, -1) {
					if v != rateInterval && v != timeRange {
						t.Errorf("%s: expression uses %s; only %s and %s are substituted: %s", where, v, rateInterval, timeRange, tg.Expr)
					}
				}
				if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") {
					t.Errorf("%s: unbalanced parentheses in %s", where, tg.Expr)
				}
			}
		}
	}
}

// Every app of dapr/dapr.yaml (the single source of app ids) has its
// dashboard.
func TestEveryAppHasADashboard(t *testing.T) {
	root, err := generated.RepoRoot(markerPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "dapr", "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`(?m)^\s*-\s*appID:\s*(\S+)\s*$`).FindAllStringSubmatch(string(raw), -1)
	if len(ids) == 0 {
		t.Fatal("no appID in dapr/dapr.yaml")
	}
	var have []string
	for _, s := range services {
		have = append(have, s.id)
	}
	for _, m := range ids {
		if !slices.Contains(have, m[1]) {
			t.Errorf("app %s of dapr/dapr.yaml has no dashboard: add it to services in boards.go and run %s", m[1], regenerate)
		}
	}
	if len(have) != len(ids) {
		t.Errorf("dashboards for %v, apps in dapr/dapr.yaml: %d", have, len(ids))
	}
}
