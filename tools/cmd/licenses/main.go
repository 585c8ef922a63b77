// Command licenses lists every module that a Go module's packages, their
// tests and its tool directives are built from, with the licence of each,
// and fails when one is refused or cannot be classified.
//
//	licenses [-allow FILE] [-o DIR] [-test=false] NAME=MODULE_DIR...
//
// The modules of each NAME=MODULE_DIR are those of
// `go list -deps -test ./...` and `go list -deps tool` run there, the main
// module left out. A package's licence is that of the nearest directory,
// from the package's own up to its module's root, holding licence files
// (LICENSE*, LICENCE*, COPYING*, ...), as go-licenses does: a module whose
// packages carry licence files of their own (tflint's terraform/ holds
// Terraform's BUSL code) is judged by those too. Each file is classified by
// go-license-detector against the SPDX texts and searched for marker
// phrases (classify.go).
//
// Policy (policy.go): permissive licences and MPL-2.0 pass; AGPL, SSPL,
// BUSL, Commons Clause, Elastic, PolyForm, FSL, non-commercial, GPL, LGPL
// and JSON are refused; a module with no licence file, unrecognised licence
// files, or a licence on neither list fails too. An entry of the allow-list
// (-allow, tools/licenses-allow.yaml) accepts one such module, with the
// licence a person found and why it is acceptable; entries that accept
// nothing in any of the modules checked are reported, so that the list
// does not outlive its reasons.
//
// -o DIR gets licenses-NAME.tsv for each module: every dependency with
// version, status, licences and evidence. Exit status: 0 all accepted,
// 1 something refused or unknown, 2 the check could not run.
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
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("licenses", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowPath := fs.String("allow", "", "the allow-list file (YAML)")
	outDir := fs.String("o", "", "directory to write licenses-NAME.tsv into")
	tests := fs.Bool("test", true, "include the packages' test dependencies")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: licenses [-allow FILE] [-o DIR] [-test=false] NAME=MODULE_DIR...")
		return 2
	}
	allow, err := readAllowFile(*allowPath)
	if err != nil {
		fmt.Fprintln(stderr, "licenses:", err)
		return 2
	}
	status := 0
	for _, target := range fs.Args() {
		name, dir, ok := strings.Cut(target, "=")
		if !ok || name == "" || dir == "" {
			fmt.Fprintf(stderr, "licenses: %q: want NAME=MODULE_DIR\n", target)
			return 2
		}
		started := time.Now()
		mods, err := listModules(dir, []string{"./..."}, *tests)
		if err == nil {
			var more map[string]*module
			if more, err = listModules(dir, []string{"tool"}, false); err == nil {
				merge(mods, more)
			}
		}
		var results []*result
		if err == nil {
			results, err = check(mods)
		}
		if err != nil {
			fmt.Fprintf(stderr, "licenses %s: %v\n", name, err)
			return 2
		}
		if applyPolicy(results, allow) > 0 {
			status = 1
		}
		out := ""
		if *outDir != "" {
			out = filepath.Join(*outDir, "licenses-"+name+".tsv")
			if err := writeTSV(out, results); err != nil {
				fmt.Fprintln(stderr, "licenses:", err)
				return 2
			}
		}
		printSummary(stdout, name, out, results, time.Since(started))
	}
	for _, e := range allow.Modules {
		switch {
		case !e.used:
			fmt.Fprintf(stdout, "licenses: note: allow-list entry %s%s matches no module checked: remove it\n", e.Module, atVersion(e.Version))
		case !e.needed:
			fmt.Fprintf(stdout, "licenses: note: allow-list entry %s%s is not needed: the check accepts the module by itself\n", e.Module, atVersion(e.Version))
		}
	}
	return status
}

// module is one dependency and the directories of the packages used from it.
type module struct {
	Path, Version string
	Replace       string // "=> path@version" or "=> dir", if replaced
	Root          string // its directory
	PkgDirs       map[string]bool
}

func (m *module) key() string { return m.Path + "@" + m.Version + m.Replace }

// listModules runs go list in dir and groups the non-standard packages
// outside the main module by module.
func listModules(dir string, patterns []string, tests bool) (map[string]*module, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,Standard,Module"}
	if tests {
		args = append(args, "-test")
	}
	args = append(args, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	type goModule struct {
		Path, Version, Dir string
		Main               bool
		Replace            *struct{ Path, Version, Dir string }
	}
	mods := map[string]*module{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Dir string
			Standard        bool
			Module          *goModule
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if p.Standard || p.Module == nil || p.Module.Main || p.Dir == "" {
			continue
		}
		m := &module{Path: p.Module.Path, Version: p.Module.Version, Root: p.Module.Dir, PkgDirs: map[string]bool{}}
		if r := p.Module.Replace; r != nil {
			m.Root = r.Dir
			if r.Version != "" {
				m.Replace = " => " + r.Path + "@" + r.Version
			} else {
				m.Replace = " => " + r.Path
			}
		}
		if m.Root == "" {
			return nil, fmt.Errorf("module %s of package %s has no directory (not downloaded?)", m.key(), p.ImportPath)
		}
		if have := mods[m.key()]; have != nil {
			m = have
		} else {
			mods[m.key()] = m
		}
		m.PkgDirs[p.Dir] = true
	}
	return mods, nil
}

func merge(into, from map[string]*module) {
	for k, m := range from {
		if have := into[k]; have != nil {
			for d := range m.PkgDirs {
				have.PkgDirs[d] = true
			}
		} else {
			into[k] = m
		}
	}
}

// result is what the check found for one module.
type result struct {
	*module
	Files      []fileResult // of every licence directory its packages use
	Unlicensed []string     // package directories (relative) with no licence file up to the root
	IDs        []string     // every licence named
	Status     string       // allowed, allow-listed, refused, unknown
	Why        string
	Allow      *allowEntry
}

// check finds and classifies the licence files of every module.
func check(mods map[string]*module) ([]*result, error) {
	type job struct {
		dir, rel string
		files    []string
	}
	var results []*result
	jobs := map[string]*job{} // by licence directory
	dirsOf := map[*result][]string{}
	for _, m := range mods {
		r := &result{module: m}
		results = append(results, r)
		seen := map[string]bool{}
		for pd := range m.PkgDirs {
			ld, files, err := nearestLicenceDir(pd, m.Root)
			if err != nil {
				return nil, err
			}
			if ld == "" {
				rel, _ := filepath.Rel(m.Root, pd)
				r.Unlicensed = append(r.Unlicensed, filepath.ToSlash(rel))
				continue
			}
			if !seen[ld] {
				seen[ld] = true
				dirsOf[r] = append(dirsOf[r], ld)
			}
			if jobs[ld] == nil {
				rel, _ := filepath.Rel(m.Root, ld)
				if rel == "." {
					rel = ""
				}
				jobs[ld] = &job{dir: ld, rel: filepath.ToSlash(rel), files: files}
			}
		}
		sort.Strings(r.Unlicensed)
	}

	// Classify each licence directory once, in parallel.
	done := map[string][]fileResult{}
	var mu sync.Mutex
	var firstErr error
	queue := make(chan *job)
	var wg sync.WaitGroup
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				fr, err := classifyDir(j.dir, j.rel, j.files)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", j.dir, err)
				}
				done[j.dir] = fr
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, r := range results {
		dirs := dirsOf[r]
		sort.Strings(dirs)
		for _, d := range dirs {
			r.Files = append(r.Files, done[d]...)
		}
	}
	sort.Slice(results, func(i, j int) bool { return results[i].key() < results[j].key() })
	return results, nil
}

// nearestLicenceDir walks from dir up to root (inclusive) and returns the
// first directory holding licence files, and their names.
func nearestLicenceDir(dir, root string) (string, []string, error) {
	root = filepath.Clean(root)
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		files, err := licenceFiles(d)
		if err != nil {
			return "", nil, err
		}
		if len(files) > 0 {
			return d, files, nil
		}
		if d == root || !strings.HasPrefix(d, root+string(filepath.Separator)) {
			return "", nil, nil
		}
	}
}

// applyPolicy sets each result's status and returns how many fail.
func applyPolicy(results []*result, allow *allowFile) int {
	bad := 0
	for _, r := range results {
		ids := map[string]bool{}
		var refusedWhy, unclassified []string
		for _, f := range r.Files {
			if len(f.IDs) == 0 {
				unclassified = append(unclassified, f.Name)
			}
			var refused, whys []string
			for _, id := range f.IDs {
				ids[id] = true
				if why := refusal(id); why != "" {
					refused = append(refused, id)
					if !slices.Contains(whys, why) {
						whys = append(whys, why)
					}
				}
			}
			if len(refused) > 0 {
				refusedWhy = append(refusedWhy, fmt.Sprintf("%s in %s: %s", strings.Join(refused, " or "), f.Name, strings.Join(whys, "; ")))
			}
		}
		for id := range ids {
			r.IDs = append(r.IDs, id)
		}
		sort.Strings(r.IDs)
		var notListed []string
		for _, id := range r.IDs {
			if !allowedIDs[id] && refusal(id) == "" {
				notListed = append(notListed, id)
			}
		}
		switch {
		case len(refusedWhy) > 0:
			r.Status, r.Why = "refused", strings.Join(refusedWhy, "; ")
		case len(r.Unlicensed) > 0:
			r.Status, r.Why = "unknown", "no licence file from the package up to the module root: "+strings.Join(r.Unlicensed, ", ")
		case len(unclassified) > 0 && len(r.IDs) == 0:
			r.Status, r.Why = "unknown", "licence files not recognised: "+strings.Join(unclassified, ", ")
		case len(notListed) > 0:
			r.Status, r.Why = "unknown", "licence on neither the allowed nor the refused list: "+strings.Join(notListed, ", ")
		default:
			r.Status = "allowed"
		}
		if e := allow.find(r.Path, r.Version); e != nil {
			e.used = true
			if r.Status != "allowed" {
				e.needed = true
				r.Allow = e
				r.Status = "allow-listed"
			}
		}
		if r.Status == "refused" || r.Status == "unknown" {
			bad++
		}
	}
	return bad
}

func writeTSV(path string, results []*result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("module\tversion\tstatus\tlicences\tevidence\n")
	for _, r := range results {
		var ev []string
		for _, f := range r.Files {
			ev = append(ev, f.String())
		}
		if r.Why != "" {
			ev = append(ev, r.Why)
		}
		if r.Allow != nil {
			ev = append(ev, fmt.Sprintf("allow-list: %s: %s", r.Allow.Licence, oneLine(r.Allow.Reason)))
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", r.Path+r.Replace, r.Version, r.Status, strings.Join(r.IDs, ", "), strings.Join(ev, "; "))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func printSummary(w io.Writer, name, outPath string, results []*result, took time.Duration) {
	status := map[string]int{}
	perLicence := map[string]int{}
	for _, r := range results {
		status[r.Status]++
		if r.Status == "allowed" {
			perLicence[strings.Join(r.IDs, " + ")]++
		}
	}
	var lic []string
	for l := range perLicence {
		lic = append(lic, l)
	}
	sort.Slice(lic, func(i, j int) bool {
		if perLicence[lic[i]] != perLicence[lic[j]] {
			return perLicence[lic[i]] > perLicence[lic[j]]
		}
		return lic[i] < lic[j]
	})
	var parts []string
	for _, l := range lic {
		parts = append(parts, fmt.Sprintf("%s %d", l, perLicence[l]))
	}
	where := ""
	if outPath != "" {
		where = "; the list: " + outPath
	}
	fmt.Fprintf(w, "licenses %s: %d modules: %d allowed (%s), %d allow-listed, %d refused, %d unknown%s (%.1fs)\n",
		name, len(results), status["allowed"], strings.Join(parts, ", "), status["allow-listed"], status["refused"], status["unknown"], where, took.Seconds())
	for _, st := range []string{"refused", "unknown", "allow-listed"} {
		for _, r := range results {
			if r.Status != st {
				continue
			}
			switch st {
			case "allow-listed":
				fmt.Fprintf(w, "  allow-listed %s@%s%s: %s (%s)\n", r.Path, r.Version, r.Replace, r.Allow.Licence, r.Why)
			default:
				fmt.Fprintf(w, "  %s %s@%s%s: %s\n", strings.ToUpper(st), r.Path, r.Version, r.Replace, r.Why)
			}
		}
	}
}

func atVersion(v string) string {
	if v == "" {
		return ""
	}
	return "@" + v
}
