package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func text(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commonsClause is the Commons Clause condition as projects append it to
// an open-source licence.
const commonsClause = `
"Commons Clause" License Condition v1.0

The Software is provided to you by the Licensor under the License, as
defined below, subject to the following condition.

Without limiting other conditions in the License, the grant of rights under
the License will not include, and the License does not grant to you, the
right to Sell the Software.
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestClassifyTexts(t *testing.T) {
	cases := []struct {
		name, content string
		want          string // an id the file must be given; "" for none
		status        string // what the policy makes of a module with only this file
	}{
		{"AGPL", text(t, "AGPL-3.0.txt"), "AGPL-3.0-only", "refused"},
		{"SSPL", text(t, "SSPL-1.0.txt"), "SSPL-1.0", "refused"},
		{"BUSL", text(t, "BUSL-1.1.txt"), "BUSL-1.1", "refused"},
		{"MIT", text(t, "MIT.txt"), "MIT", "allowed"},
		{"Apache without appendix", text(t, "Apache-2.0-no-appendix.txt"), "Apache-2.0", "allowed"},
		{"Apache with Commons Clause", text(t, "Apache-2.0-no-appendix.txt") + commonsClause, "Commons-Clause", "refused"},
		{"not a licence", "All rights reserved. Ask us before you use this.\n", "", "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "LICENSE"), c.content)
			files, err := licenceFiles(dir)
			if err != nil || len(files) != 1 {
				t.Fatalf("licenceFiles = %v, %v", files, err)
			}
			res, err := classifyDir(dir, "", files)
			if err != nil {
				t.Fatal(err)
			}
			ids := res[0].IDs
			if c.want == "" && len(ids) != 0 || c.want != "" && !contains(ids, c.want) {
				t.Errorf("ids = %v, want %q", ids, c.want)
			}
			r := &result{module: &module{Path: "example.com/x"}, Files: res}
			applyPolicy([]*result{r}, &allowFile{})
			if r.Status != c.status {
				t.Errorf("status = %s (%s), want %s", r.Status, r.Why, c.status)
			}
		})
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestLicenceFileNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"LICENSE", "LICENCE.md", "COPYING", "LICENSE-BUSL", "license.go", "syscall_bsd.go", "README.md", "NOTICE"} {
		writeFile(t, filepath.Join(dir, n), "x")
	}
	writeFile(t, filepath.Join(dir, "LICENSES", "MIT.txt"), "x")
	got, err := licenceFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "COPYING LICENCE.md LICENSE LICENSE-BUSL LICENSES/MIT.txt"
	if strings.Join(got, " ") != want {
		t.Errorf("licenceFiles = %v, want %s", got, want)
	}
}

// TestModuleCheck runs the command on a module whose dependencies (local
// replacements) carry each kind of licence, a nested one included.
func TestModuleCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	root := t.TempDir()
	deps := map[string]map[string]string{ // module → file → content
		"agpl":     {"LICENSE": text(t, "AGPL-3.0.txt")},
		"sspl":     {"LICENSE": text(t, "SSPL-1.0.txt")},
		"apache":   {"LICENSE.txt": text(t, "Apache-2.0-no-appendix.txt")},
		"apachecc": {"LICENSE": text(t, "Apache-2.0-no-appendix.txt") + commonsClause},
		"none":     {},
		// MIT at the root, but the package used carries BUSL code.
		"mixed":  {"LICENSE": text(t, "MIT.txt"), "terraform/LICENSE-BUSL": text(t, "BUSL-1.1.txt")},
		"unused": {"LICENSE": text(t, "MIT.txt")},
	}
	var goMod, imports strings.Builder
	goMod.WriteString("module example.com/app\n\ngo 1.22\n\n")
	for name, files := range deps {
		dir := filepath.Join(root, "deps", name)
		writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/"+name+"\n\ngo 1.22\n")
		pkg := "example.com/" + name
		pkgDir := dir
		if name == "mixed" {
			pkg += "/terraform"
			pkgDir = filepath.Join(dir, "terraform")
		}
		writeFile(t, filepath.Join(pkgDir, "x.go"), "package x\n")
		for f, c := range files {
			writeFile(t, filepath.Join(dir, f), c)
		}
		fmt.Fprintf(&goMod, "require example.com/%s v0.0.0\nreplace example.com/%s => ./deps/%s\n", name, name, name)
		if name != "unused" {
			fmt.Fprintf(&imports, "\t_ %q\n", pkg)
		}
	}
	writeFile(t, filepath.Join(root, "go.mod"), goMod.String())
	writeFile(t, filepath.Join(root, "main.go"), "package main\n\nimport (\n"+imports.String()+")\n\nfunc main() {}\n")

	allow := filepath.Join(root, "allow.yaml")
	writeFile(t, allow, `modules:
  - module: example.com/none
    licence: MIT, in the README
    reason: a person read it
  - module: example.com/gone
    licence: MIT
    reason: no longer a dependency
  - module: example.com/apache
    licence: Apache-2.0
    reason: the check knows it by itself now
`)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-allow", allow, "-o", out, "app=" + root}, &stdout, &stderr)
	got := stdout.String()
	t.Log(got, stderr.String())
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"REFUSED example.com/agpl@v0.0.0 => ./deps/agpl: AGPL-3.0-only or AGPL-3.0-or-later in LICENSE: network copyleft",
		"REFUSED example.com/sspl@v0.0.0 => ./deps/sspl: SSPL-1.0 in LICENSE",
		"REFUSED example.com/apachecc@v0.0.0 => ./deps/apachecc: Commons-Clause in LICENSE",
		"REFUSED example.com/mixed@v0.0.0 => ./deps/mixed: BUSL-1.1 in terraform/LICENSE-BUSL",
		"allow-listed example.com/none@v0.0.0 => ./deps/none: MIT, in the README (no licence file",
		"allow-list entry example.com/gone matches no module checked",
		"allow-list entry example.com/apache is not needed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "example.com/unused") {
		t.Error("a module no package uses was checked")
	}
	tsv, err := os.ReadFile(filepath.Join(out, "licenses-app.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tsv), "example.com/apache => ./deps/apache\tv0.0.0\tallowed\tApache-2.0\tLICENSE.txt: Apache-2.0 (by its wording)") {
		t.Errorf("licenses-app.tsv lacks the allowed Apache module:\n%s", tsv)
	}
}

func TestAllowFileNeedsAReason(t *testing.T) {
	p := filepath.Join(t.TempDir(), "allow.yaml")
	writeFile(t, p, "modules:\n  - module: example.com/x\n    licence: MIT\n")
	if _, err := readAllowFile(p); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Errorf("err = %v, want one asking for a reason", err)
	}
	writeFile(t, p, "modules:\n  - module: example.com/x\n    licence: MIT\n    reason: ok\n    extra: 1\n")
	if _, err := readAllowFile(p); err == nil {
		t.Error("an unknown field was accepted")
	}
}

// TestAllowListFile checks the project's allow-list parses.
func TestAllowListFile(t *testing.T) {
	a, err := readAllowFile(filepath.Join("..", "..", "licenses-allow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Modules) == 0 {
		t.Error("tools/licenses-allow.yaml has no entries")
	}
}
