package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fixtureTime = time.Date(2099, 2, 3, 4, 5, 6, 0, time.UTC)

// TestRealReportsMatchVulndb converts six reports of the real database
// and compares each entry with the OSV vulndb's generator made of it.
func TestRealReportsMatchVulndb(t *testing.T) {
	st, err := build(filepath.Join("testdata", "real"), fixtureTime, filepath.Join(t.TempDir(), "db"), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if st.entries != 6 || st.withdrawn != 1 {
		t.Errorf("stats = %+v, want 6 entries, 1 withdrawn", st)
	}
}

// TestCheckCatchesADifference: an entry that differs from vulndb's own
// OSV, or an OSV file no report converts to, fails the build.
func TestCheckCatchesADifference(t *testing.T) {
	src := t.TempDir()
	copyDir(t, filepath.Join("testdata", "real"), src)
	osvFile := filepath.Join(src, "data", "osv", "GO-2020-0001.json")
	b, err := os.ReadFile(osvFile)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(b, []byte(`"fixed": "1.6.0"`), []byte(`"fixed": "1.6.1"`), 1)
	if bytes.Equal(changed, b) {
		t.Fatal("fixture changed: no fixed 1.6.0 in GO-2020-0001.json")
	}
	writeFile(t, osvFile, string(changed))
	writeFile(t, filepath.Join(src, "data", "osv", "GO-2099-9999.json"), `{"id": "GO-2099-9999"}`)

	out := filepath.Join(t.TempDir(), "db")
	_, err = build(src, fixtureTime, out, "", true)
	if err == nil {
		t.Fatal("build passed")
	}
	for _, want := range []string{`GO-2020-0001: differs from`, `field "affected"`, `GO-2099-9999: `, "no report converted to it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build wrote %s", out)
	}
}

func TestUnknownFieldIsRefused(t *testing.T) {
	_, err := parseReport([]byte("id: GO-2099-0009\nmodules:\n    - module: example.com/x\n      vulnerable_symbols: [F]\n"), "r.yaml")
	if err == nil || !strings.Contains(err.Error(), "vulnerable_symbols") {
		t.Errorf("err = %v, want one naming the unknown field", err)
	}
}

// TestFixtureLayout checks the files govulncheck reads, on reports made up
// for it: a vulnerable range of a fake module, a withdrawn report, a
// standard library one in the older versions syntax, an excluded one.
func TestFixtureLayout(t *testing.T) {
	out := filepath.Join(t.TempDir(), "db")
	st, err := build(filepath.Join("testdata", "vulndb"), fixtureTime, out, "stamp 1", true)
	if err != nil {
		t.Fatal(err)
	}
	if st.entries != 3 || st.withdrawn != 1 || st.excluded != 1 {
		t.Errorf("stats = %+v, want 3 entries, 1 withdrawn, 1 excluded", st)
	}
	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if !db.Modified.Equal(fixtureTime) {
		t.Errorf("db.json modified = %v, want %v", db.Modified, fixtureTime)
	}
	var modules []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &modules)
	got, _ := json.Marshal(modules)
	want := `[{"path":"example.com/fakevuln","vulns":[{"id":"GO-2099-0001","modified":"2099-02-03T04:05:06Z","fixed":"1.4.1"},{"id":"GO-2099-0002","modified":"2099-02-03T04:05:06Z"}]},{"path":"stdlib","vulns":[{"id":"GO-2099-0003","modified":"2099-02-03T04:05:06Z","fixed":"1.20.0"}]}]`
	if string(got) != want {
		t.Errorf("modules.json =\n%s\nwant\n%s", got, want)
	}
	var e entry
	readJSON(t, filepath.Join(out, "ID", "GO-2099-0001.json"), &e)
	if r := e.Affected[0].Ranges[0].Events; len(r) != 2 || r[0].Introduced != "1.2.0" || r[1].Fixed != "1.4.1" {
		t.Errorf("GO-2099-0001 events = %+v", r)
	}
	if s := e.Affected[0].EcosystemSpecific.Packages[0].Symbols; strings.Join(s, ",") != "Must,Parse" {
		t.Errorf("GO-2099-0001 symbols = %v, want derived and original, sorted", s)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "GO-2099-0004.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the excluded report is in the database")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "SOURCE")); string(b) != "stamp 1\n" {
		t.Errorf("SOURCE = %q", b)
	}
}

// TestGovulncheckReadsTheDatabase runs govulncheck (the tools module's
// v1.9.0) with the fixture database on three programs that use a fake
// module served by a file:// module proxy: one calls the vulnerable
// symbol at a vulnerable version (exit status 3), one only imports its
// package (a package-level finding, status 0), one calls it at the fixed
// version (nothing). The withdrawn report must never show.
func TestGovulncheckReadsTheDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs govulncheck")
	}
	tmp := t.TempDir()
	db := filepath.Join(tmp, "db")
	if _, err := build(filepath.Join("testdata", "vulndb"), fixtureTime, db, "", true); err != nil {
		t.Fatal(err)
	}
	gv := filepath.Join(tmp, "govulncheck")
	if out, err := exec.Command("go", "build", "-o", gv, "golang.org/x/vuln/cmd/govulncheck").CombinedOutput(); err != nil {
		t.Fatalf("building govulncheck: %v\n%s", err, out)
	}

	proxy := filepath.Join(tmp, "proxy")
	for _, v := range []string{"v1.3.0", "v1.4.1"} {
		publish(t, proxy, "example.com/fakevuln", v, map[string]string{
			"go.mod": "module example.com/fakevuln\n\ngo 1.21\n",
			"parse/parse.go": `package parse

// Parse is vulnerable (GO-2099-0001).
func Parse(s string) int { return len(s) }

// Must calls Parse.
func Must(s string) int { return Parse(s) }

// Safe is not vulnerable.
func Safe() int { return 1 }
`,
		})
	}
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy),
		"GOSUMDB=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
	program := func(name, version, expr string) string {
		dir := filepath.Join(tmp, name)
		writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/"+name+"\n\ngo 1.21\n\nrequire example.com/fakevuln "+version+"\n")
		writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nimport \"example.com/fakevuln/parse\"\n\nfunc main() { println("+expr+") }\n")
		return dir
	}
	scan := func(dir string, args ...string) (string, int) {
		cmd := exec.Command(gv, append([]string{"-db", "file://" + filepath.ToSlash(db), "-C", dir}, append(args, "./...")...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}

	out, code := scan(program("calls", "v1.3.0", `parse.Must("x")`))
	if code != 3 || !strings.Contains(out, "GO-2099-0001") || !strings.Contains(out, "example.com/fakevuln@v1.4.1") {
		t.Errorf("calls: exit %d, want 3 with GO-2099-0001 fixed in v1.4.1:\n%s", code, out)
	}
	if strings.Contains(out, "GO-2099-0002") {
		t.Errorf("calls: the withdrawn GO-2099-0002 is reported:\n%s", out)
	}

	out, code = scan(program("imports", "v1.3.0", `parse.Safe()`), "-format", "json")
	if code != 0 {
		t.Errorf("imports: exit %d, want 0:\n%s", code, out)
	}
	levels := findingLevels(t, out, "GO-2099-0001")
	if !levels["package"] || levels["symbol"] {
		t.Errorf("imports: GO-2099-0001 found at levels %v, want package and not symbol:\n%s", levels, out)
	}

	out, code = scan(program("fixed", "v1.4.1", `parse.Must("x")`))
	if code != 0 || strings.Contains(out, "GO-2099-0001") {
		t.Errorf("fixed: exit %d, want 0 without GO-2099-0001:\n%s", code, out)
	}
}

// findingLevels reads govulncheck's JSON stream and returns the levels
// (module, package, symbol) at which id was found.
func findingLevels(t *testing.T, stream, id string) map[string]bool {
	t.Helper()
	levels := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(stream))
	for dec.More() {
		var m struct {
			Finding *struct {
				OSV   string
				Trace []struct{ Module, Package, Function string }
			}
		}
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("govulncheck JSON: %v", err)
		}
		if m.Finding == nil || m.Finding.OSV != id || len(m.Finding.Trace) == 0 {
			continue
		}
		switch top := m.Finding.Trace[0]; {
		case top.Function != "":
			levels["symbol"] = true
		case top.Package != "":
			levels["package"] = true
		default:
			levels["module"] = true
		}
	}
	return levels
}

// publish writes module@version into a GOPROXY=file:// directory.
func publish(t *testing.T, proxy, mod, version string, files map[string]string) {
	t.Helper()
	dir := filepath.Join(proxy, filepath.FromSlash(mod), "@v")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, content := range files {
		w, err := zw.Create(mod + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, version+".zip"), zb.String())
	writeFile(t, filepath.Join(dir, version+".mod"), files["go.mod"])
	writeFile(t, filepath.Join(dir, version+".info"), `{"Version":"`+version+`","Time":"2024-01-01T00:00:00Z"}`)
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	writeFile(t, filepath.Join(dir, "list"), string(list)+version+"\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(to, rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
