// Command vulncheck runs govulncheck on one Go module (source mode) or one
// binary, keeps its full JSON output, and prints one paragraph per
// vulnerability: its ID, the module and version in use, the fixed version,
// the summary, and for a called one the shortest call path from our code.
//
//	vulncheck -govulncheck PATH -db DIR -name NAME [-json FILE] [-scan symbol|package] [-warn-only] -C MODULE_DIR [PATTERN...]
//	vulncheck -govulncheck PATH -db DIR -name NAME [-json FILE] [-warn-only] -binary FILE
//
// The policy (exit status): 3 when code calls a vulnerable symbol (what
// govulncheck's own exit status 3 means), unless -warn-only; 0 when the
// vulnerabilities found are only in packages imported but not called, or in
// modules required but not imported: those are printed as warnings; 1 when
// govulncheck could not run. -warn-only is for code that is not ours (the
// third-party servers the stack builds from source): everything is printed,
// nothing fails. PATTERN defaults to ./...
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
	"sort"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vulncheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gv := fs.String("govulncheck", "govulncheck", "the govulncheck binary")
	db := fs.String("db", "", "the vulnerability database directory (govulncheck -db file:///DIR)")
	name := fs.String("name", "", "what is scanned, for the messages")
	dir := fs.String("C", "", "the module to scan in source mode")
	binary := fs.String("binary", "", "a Go binary to scan instead of a module")
	level := fs.String("scan", "symbol", "with -C: symbol (call graph) or package (imports only)")
	jsonOut := fs.String("json", "", "file to keep govulncheck's JSON output in")
	warnOnly := fs.Bool("warn-only", false, "print called vulnerabilities as warnings: exit 0")
	maxLines := fs.Int("max", 0, "print at most this many vulnerabilities (0: all); the JSON keeps them all")
	from := fs.String("from", "", "summarize this saved govulncheck JSON output instead of running govulncheck")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *from != "" {
		f, err := os.Open(*from)
		if err != nil {
			fmt.Fprintln(stderr, "vulncheck:", err)
			return 1
		}
		defer f.Close()
		return report(f, *name, *warnOnly, *maxLines, 0, stdout, stderr)
	}
	if *db == "" || (*dir == "") == (*binary == "") || (*binary != "" && fs.NArg() > 0) {
		fmt.Fprintln(stderr, "usage: vulncheck -govulncheck PATH -db DIR -name NAME [-json FILE] [-warn-only] (-C MODULE_DIR [-scan symbol|package] [PATTERN...] | -binary FILE)")
		return 1
	}
	absDB, err := filepath.Abs(*db)
	if err != nil {
		fmt.Fprintln(stderr, "vulncheck:", err)
		return 1
	}
	gvArgs := []string{"-db", "file://" + filepath.ToSlash(absDB), "-format", "json"}
	what := *name
	if *binary != "" {
		gvArgs = append(gvArgs, "-mode", "binary", *binary)
		if what == "" {
			what = *binary
		}
	} else {
		patterns := fs.Args()
		if len(patterns) == 0 {
			patterns = []string{"./..."}
		}
		gvArgs = append(gvArgs, "-scan", *level, "-C", *dir)
		gvArgs = append(gvArgs, patterns...)
		if what == "" {
			what = *dir
		}
	}

	started := time.Now()
	cmd := exec.Command(*gv, gvArgs...)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	runErr := cmd.Run()
	took := time.Since(started)
	if *jsonOut != "" {
		if err := os.MkdirAll(filepath.Dir(*jsonOut), 0o755); err == nil {
			err = os.WriteFile(*jsonOut, out.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "vulncheck:", err)
			return 1
		}
	}
	if runErr != nil {
		// In JSON mode govulncheck exits 0 whatever it finds: anything
		// else is a failure to scan.
		fmt.Fprintf(stderr, "vulncheck %s: %s %s: %v\n%s", what, *gv, strings.Join(gvArgs, " "), runErr, errOut.String())
		return 1
	}
	return report(&out, what, *warnOnly, *maxLines, took, stdout, stderr)
}

// report summarizes govulncheck's JSON output and returns the exit status.
func report(r io.Reader, what string, warnOnly bool, maxLines int, took time.Duration, stdout, stderr io.Writer) int {
	res, err := summarize(r)
	if err != nil {
		fmt.Fprintf(stderr, "vulncheck %s: reading govulncheck's output: %v\n", what, err)
		return 1
	}
	res.print(stdout, what, warnOnly, maxLines, took)
	if res.called() > 0 && !warnOnly {
		return 3
	}
	return 0
}

// The govulncheck JSON protocol (v1.0.0): a stream of messages, each with
// one of these fields set.
type message struct {
	Config  *config   `json:"config"`
	OSV     *osvEntry `json:"osv"`
	Finding *finding  `json:"finding"`
	SBOM    *sbom     `json:"SBOM"`
}

type config struct {
	ScannerVersion string     `json:"scanner_version"`
	DBLastModified *time.Time `json:"db_last_modified"`
	GoVersion      string     `json:"go_version"`
	ScanLevel      string     `json:"scan_level"`
	ScanMode       string     `json:"scan_mode"`
}

type sbom struct {
	GoVersion string `json:"go_version"`
}

type osvEntry struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// A finding is one vulnerability at one level: its trace's first frame is
// the vulnerable module (module level), package (package level) or symbol
// (symbol level, with the call stack up to our code after it).
type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Package  string    `json:"package"`
	Function string    `json:"function"`
	Receiver string    `json:"receiver"`
	Position *position `json:"position"`
}

type position struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Levels, from weakest to strongest.
const (
	levelRequired = iota // a vulnerable module version is required
	levelImported        // a vulnerable package is imported
	levelCalled          // a vulnerable symbol is called
)

// vuln is everything found about one OSV entry.
type vuln struct {
	ID       string
	Summary  string
	Level    int
	Modules  map[string]bool // module@version in use
	Packages map[string]bool
	Fixed    map[string]bool
	Traces   int     // symbol-level findings (call paths found)
	Shortest []frame // the shortest call path
}

type result struct {
	Config *config
	GoVer  string
	Vulns  map[string]*vuln
}

func summarize(r io.Reader) (*result, error) {
	res := &result{Vulns: map[string]*vuln{}}
	summaries := map[string]string{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		switch {
		case m.Config != nil:
			res.Config = m.Config
		case m.SBOM != nil:
			res.GoVer = m.SBOM.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f := m.Finding
			if len(f.Trace) == 0 {
				return nil, fmt.Errorf("finding %s without a trace", f.OSV)
			}
			v := res.Vulns[f.OSV]
			if v == nil {
				v = &vuln{ID: f.OSV, Modules: map[string]bool{}, Packages: map[string]bool{}, Fixed: map[string]bool{}}
				res.Vulns[f.OSV] = v
			}
			top := f.Trace[0]
			lvl := levelRequired
			switch {
			case top.Function != "":
				lvl = levelCalled
			case top.Package != "":
				lvl = levelImported
			}
			if lvl > v.Level {
				v.Level = lvl
			}
			v.Modules[moduleVersion(top)] = true
			if top.Package != "" {
				v.Packages[top.Package] = true
			}
			if f.FixedVersion != "" {
				v.Fixed[f.FixedVersion] = true
			}
			if lvl == levelCalled {
				v.Traces++
				if v.Shortest == nil || shorter(f.Trace, v.Shortest) {
					v.Shortest = f.Trace
				}
			}
		}
	}
	for id, v := range res.Vulns {
		v.Summary = summaries[id]
	}
	if res.Config == nil {
		return nil, errors.New("no config message: is this govulncheck -format json output?")
	}
	return res, nil
}

// shorter orders call paths by length, then by their text, so that the
// example printed does not depend on govulncheck's output order.
func shorter(a, b []frame) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return callPath(a) < callPath(b)
}

func moduleVersion(f frame) string {
	if f.Version == "" {
		return f.Module
	}
	return f.Module + "@" + f.Version
}

func (r *result) called() int {
	n := 0
	for _, v := range r.Vulns {
		if v.Level == levelCalled {
			n++
		}
	}
	return n
}

func (r *result) print(w io.Writer, what string, warnOnly bool, maxLines int, took time.Duration) {
	counts := [3]int{}
	for _, v := range r.Vulns {
		counts[v.Level]++
	}
	goVer := r.GoVer
	if goVer == "" {
		goVer = r.Config.GoVersion
	}
	var db string
	if r.Config.DBLastModified != nil {
		db = ", database of " + r.Config.DBLastModified.UTC().Format("2006-01-02")
	}
	calledWord := "FAIL"
	if warnOnly {
		calledWord = "warning only: not our code"
	}
	timing := ""
	if took > 0 {
		timing = fmt.Sprintf(", %.1fs", took.Seconds())
	}
	fmt.Fprintf(w, "vulncheck %s (govulncheck %s, %s mode, %s level, %s%s%s): %d called (%s), %d imported but not called, %d in required modules not imported\n",
		what, r.Config.ScannerVersion, r.Config.ScanMode, r.Config.ScanLevel, goVer, db, timing,
		counts[levelCalled], calledWord, counts[levelImported], counts[levelRequired])

	vulns := make([]*vuln, 0, len(r.Vulns))
	for _, v := range r.Vulns {
		vulns = append(vulns, v)
	}
	sort.Slice(vulns, func(i, j int) bool {
		if vulns[i].Level != vulns[j].Level {
			return vulns[i].Level > vulns[j].Level
		}
		return vulns[i].ID > vulns[j].ID // newest first
	})
	for i, v := range vulns {
		if maxLines > 0 && i == maxLines {
			fmt.Fprintf(w, "  ... and %d more\n", len(vulns)-maxLines)
			break
		}
		label := map[int]string{levelCalled: "CALLED  ", levelImported: "imported", levelRequired: "required"}[v.Level]
		if v.Level == levelCalled && !warnOnly {
			label = "FAIL    "
		}
		fixed := "no fixed version"
		if len(v.Fixed) > 0 {
			fixed = "fixed in " + strings.Join(keys(v.Fixed), ", ")
		}
		pkgs := ""
		if len(v.Packages) > 0 {
			p := keys(v.Packages)
			if len(p) > 3 {
				p = append(p[:3:3], fmt.Sprintf("%d more packages", len(p)-3))
			}
			pkgs = " (" + strings.Join(p, ", ") + ")"
		}
		mods := keys(v.Modules)
		if len(mods) > 3 {
			mods = append(mods[:3:3], fmt.Sprintf("%d more modules", len(mods)-3))
		}
		fmt.Fprintf(w, "  %s %s %s%s, %s: %s\n", label, v.ID, strings.Join(mods, ", "), pkgs, fixed, v.Summary)
		if v.Shortest != nil {
			fmt.Fprintf(w, "           %d call path(s); shortest: %s\n", v.Traces, callPath(v.Shortest))
		}
	}
}

// callPath writes a symbol-level trace from our code to the vulnerable
// symbol: "apps/x/y.go:33:16 y.(*Client).Get → io.Copy → x509.(*Certificate).Verify".
func callPath(trace []frame) string {
	var b strings.Builder
	last := trace[len(trace)-1]
	if last.Position != nil && last.Position.Filename != "" {
		fmt.Fprintf(&b, "%s:%d:%d ", last.Position.Filename, last.Position.Line, last.Position.Column)
	}
	for i := len(trace) - 1; i >= 0; i-- {
		b.WriteString(funcName(trace[i]))
		if i > 0 {
			b.WriteString(" → ")
		}
	}
	return b.String()
}

func funcName(f frame) string {
	pkg := f.Package
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	switch {
	case f.Function == "":
		return pkg
	case strings.HasPrefix(f.Receiver, "*"):
		return fmt.Sprintf("%s.(%s).%s", pkg, f.Receiver, f.Function)
	case f.Receiver != "":
		return fmt.Sprintf("%s.%s.%s", pkg, f.Receiver, f.Function)
	}
	return pkg + "." + f.Function
}

func keys(m map[string]bool) []string {
	s := make([]string, 0, len(m))
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
