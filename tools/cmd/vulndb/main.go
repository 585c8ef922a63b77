// Command vulndb builds a Go vulnerability database that govulncheck reads
// with -db file:///DIR from the golang.org/x/vulndb module, fetched through
// the Go module proxy like any module: no vuln.go.dev needed.
//
//	vulndb -module golang.org/x/vulndb@VERSION -out DIR [-stamp TEXT]
//	vulndb -src VULNDB_DIR -modified RFC3339 -out DIR [-stamp TEXT]
//
// It converts every report of data/reports (YAML) into an OSV entry as
// vulndb's own generator does (report.go), checks each entry against the
// OSV vulndb ships for it in data/osv (check.go; -check=false skips that),
// and writes the layout govulncheck v1.9.0 reads (db.go). As vulndb's
// database does, it leaves out the excluded reports (data/excluded, and any
// report with an "excluded" field) and keeps withdrawn ones with their
// "withdrawn" time, which govulncheck then ignores.
//
// vulndb sets an entry's "modified" from its file's git history, which a
// module zip does not carry: every entry gets the time of the vulndb
// commit the module version was made from (the proxy's .info Time, also the
// pseudo-version's timestamp), so the database says how current it is.
// "published" is the report's own field where it has one, else left zero,
// as in vulndb's data/osv.
//
// DIR is replaced whole, and only when everything succeeded; -stamp is then
// written to DIR/SOURCE (the Taskfile keeps the module version and a hash of
// this command's code there, to rebuild only when one changes).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vulndb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mod := fs.String("module", "", "golang.org/x/vulndb@VERSION to download through the module proxy and convert")
	src := fs.String("src", "", "a vulndb tree to convert instead of -module (with -modified)")
	modified := fs.String("modified", "", "with -src: the entries' modified time (RFC 3339)")
	out := fs.String("out", "", "directory to write the database into (replaced whole)")
	stamp := fs.String("stamp", "", "text to write into OUT/SOURCE after a successful build")
	check := fs.Bool("check", true, "compare every entry with vulndb's data/osv and fail on a difference")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || (*mod == "") == (*src == "") || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: vulndb (-module golang.org/x/vulndb@VERSION | -src DIR -modified RFC3339) -out DIR [-stamp TEXT] [-check=false]")
		return 2
	}
	started := time.Now()
	var (
		dir  string
		when time.Time
		name string
	)
	if *mod != "" {
		d, t, err := download(*mod)
		if err != nil {
			fmt.Fprintln(stderr, "vulndb:", err)
			return 1
		}
		dir, when, name = d, t, *mod
	} else {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			fmt.Fprintln(stderr, "vulndb: -modified:", err)
			return 2
		}
		dir, when, name = *src, t, *src
	}
	st, err := build(dir, when, *out, *stamp, *check)
	if err != nil {
		fmt.Fprintln(stderr, "vulndb:", err)
		return 1
	}
	checked := "not compared with vulndb's data/osv (-check=false)"
	if *check {
		checked = fmt.Sprintf("each equal to vulndb's own data/osv entry but for \"modified\" (%s)", when.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "vulndb: %s: %d entries for %d modules (%d withdrawn, kept as vulndb keeps them); %d excluded reports left out; %s; wrote %s in %.1fs\n",
		name, st.entries, st.modules, st.withdrawn, st.excluded, checked, *out, time.Since(started).Seconds())
	return 0
}

type stats struct {
	entries, modules, withdrawn, excluded int
}

// download fetches module@version into the module cache through GOPROXY
// (checked against go.sum's database like any download) and returns its
// directory and the commit time the proxy reports for that version.
func download(modVersion string) (string, time.Time, error) {
	if !strings.Contains(modVersion, "@") {
		return "", time.Time{}, fmt.Errorf("-module %q: want path@version", modVersion)
	}
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir() // outside any module: nothing's go.mod is touched
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var info struct {
		Path, Version, Info, Dir, Error string
	}
	if jerr := json.Unmarshal(b, &info); jerr != nil && err == nil {
		err = jerr
	}
	if info.Error != "" {
		return "", time.Time{}, fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("go mod download %s: %v: %s", modVersion, err, stderr.String())
	}
	ib, err := os.ReadFile(info.Info)
	if err != nil {
		return "", time.Time{}, err
	}
	var vi struct{ Time time.Time }
	if err := json.Unmarshal(ib, &vi); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", info.Info, err)
	}
	if vi.Time.IsZero() {
		return "", time.Time{}, fmt.Errorf("%s: no Time", info.Info)
	}
	return info.Dir, vi.Time, nil
}

// build converts the reports under dir/data and writes the database to out,
// with stamp in out/SOURCE when it is not empty.
func build(dir string, modified time.Time, out, stamp string, check bool) (stats, error) {
	var st stats
	reports, err := filepath.Glob(filepath.Join(dir, "data", "reports", "*.yaml"))
	if err != nil {
		return st, err
	}
	if len(reports) == 0 {
		return st, fmt.Errorf("%s: no data/reports/*.yaml", dir)
	}
	excluded, err := filepath.Glob(filepath.Join(dir, "data", "excluded", "*.yaml"))
	if err != nil {
		return st, err
	}
	st.excluded = len(excluded)
	var entries []*entry
	modules := map[string]bool{}
	for _, f := range reports {
		r, err := readReport(f)
		if err != nil {
			return st, err
		}
		if want := r.ID + ".yaml"; filepath.Base(f) != want {
			return st, fmt.Errorf("%s: holds report %s (want file %s)", f, r.ID, want)
		}
		if r.Excluded != "" {
			st.excluded++
			continue
		}
		e, err := r.toOSV(modified)
		if err != nil {
			return st, err
		}
		if e.Withdrawn != nil {
			st.withdrawn++
		}
		for _, a := range e.Affected {
			modules[a.Module.Path] = true
		}
		entries = append(entries, e)
	}
	st.entries, st.modules = len(entries), len(modules)

	if check {
		osvDir := filepath.Join(dir, "data", "osv")
		if _, err := os.Stat(osvDir); err != nil {
			return st, fmt.Errorf("cannot compare with vulndb's own OSV (run with -check=false to skip): %w", err)
		}
		problems, err := checkAgainstOSV(entries, osvDir)
		if err != nil {
			return st, err
		}
		if len(problems) > 0 {
			const show = 20
			msg := problems
			if len(msg) > show {
				msg = append(msg[:show:show], fmt.Sprintf("... and %d more", len(problems)-show))
			}
			return st, fmt.Errorf("%d of %d entries do not match vulndb's data/osv:\n  %s", len(problems), len(entries), strings.Join(msg, "\n  "))
		}
	}

	// Write beside out, then swap, so that a failed build leaves the old
	// database (and its SOURCE stamp) as it was.
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return st, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".new-")
	if err != nil {
		return st, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return st, err
	}
	if err := writeDB(tmp, entries); err != nil {
		return st, err
	}
	if stamp != "" {
		if err := os.WriteFile(filepath.Join(tmp, "SOURCE"), []byte(stamp+"\n"), 0o644); err != nil {
			return st, err
		}
	}
	old := out + ".old"
	if err := os.RemoveAll(old); err != nil {
		return st, err
	}
	if err := os.Rename(out, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return st, err
	}
	return st, os.RemoveAll(old)
}
