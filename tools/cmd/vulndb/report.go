package main

// The YAML report format of golang.org/x/vulndb (data/reports/GO-*.yaml, see
// its doc/format.md) and its conversion to OSV. The conversion follows
// golang.org/x/vulndb/internal/report (Report.ToOSV and its helpers),
// whose packages other modules cannot import; vulndb's own generated OSV,
// shipped beside the reports in data/osv, is the reference the build
// compares every converted entry against (see check.go).

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// report is one data/reports/GO-*.yaml file. Every field the format has is
// declared, so that a report with a field this converter does not know
// fails to decode instead of being silently half-read.
type report struct {
	ID             string      `yaml:"id"`
	Excluded       string      `yaml:"excluded"`
	Modules        []*module   `yaml:"modules"`
	Summary        string      `yaml:"summary"`
	Description    string      `yaml:"description"`
	Published      time.Time   `yaml:"published"`
	Withdrawn      *time.Time  `yaml:"withdrawn"`
	CVEs           []string    `yaml:"cves"`
	GHSAs          []string    `yaml:"ghsas"`
	UnknownAliases []string    `yaml:"unknown_aliases"` // not published to OSV
	Related        []string    `yaml:"related"`
	Credits        []string    `yaml:"credits"`
	References     []reference `yaml:"references"`
	CVEMetadata    *cveMeta    `yaml:"cve_metadata"`
	NoCVEMetadata  bool        `yaml:"no_cve_metadata"`
	Notes          []yaml.Node `yaml:"notes"`  // not published
	Source         *sourceMeta `yaml:"source"` // not published
	ReviewStatus   string      `yaml:"review_status"`
	UnreviewedOK   bool        `yaml:"unreviewed_ok"`
	Unexcluded     string      `yaml:"unexcluded"` // not published
}

type module struct {
	Module               string     `yaml:"module"`
	Versions             versions   `yaml:"versions"`
	NonGoVersions        versions   `yaml:"non_go_versions"`
	UnsupportedVersions  versions   `yaml:"unsupported_versions"`
	VulnerableAt         *string    `yaml:"vulnerable_at"`
	VulnerableAtRequires []string   `yaml:"vulnerable_at_requires"`
	Packages             []*pkgInfo `yaml:"packages"`
	FixLinks             []string   `yaml:"fix_links"`
	SkipLint             bool       `yaml:"skip_lint"`
}

type pkgInfo struct {
	Package         string   `yaml:"package"`
	GOOS            []string `yaml:"goos"`
	GOARCH          []string `yaml:"goarch"`
	Symbols         []string `yaml:"symbols"`
	DerivedSymbols  []string `yaml:"derived_symbols"`
	ExcludedSymbols []string `yaml:"excluded_symbols"` // not published (vulndb: "govulncheck cannot consume it")
	SkipFix         string   `yaml:"skip_fix"`
}

type cveMeta struct {
	ID          string   `yaml:"id"`
	CWE         string   `yaml:"cwe"`
	Description string   `yaml:"description"`
	References  []string `yaml:"references"`
}

type sourceMeta struct {
	ID      string     `yaml:"id"`
	Created *time.Time `yaml:"created"`
}

// version is one event of a module's affected range.
type version struct {
	Type    string // "introduced" or "fixed"
	Version string // without a "v" prefix, as in OSV
}

type versions []version

// UnmarshalYAML reads the list form "- introduced: X" / "- fixed: Y" and
// the two older forms vulndb still accepts ("- introduced: X\n  fixed: Y"
// and "- version: X\n  type: T").
func (vs *versions) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: versions must be a sequence", n.Line)
	}
	*vs = versions{}
	for _, vn := range n.Content {
		if vn.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: a version must be a mapping", vn.Line)
		}
		c := vn.Content
		switch {
		case len(c) == 4 && c[0].Value == "introduced":
			*vs = append(*vs, version{c[0].Value, c[1].Value}, version{c[2].Value, c[3].Value})
		case len(c) == 4:
			*vs = append(*vs, version{Type: c[3].Value, Version: c[1].Value})
		case len(c) == 2 && c[0].Kind == yaml.ScalarNode && c[1].Kind == yaml.ScalarNode:
			*vs = append(*vs, version{Type: c[0].Value, Version: c[1].Value})
		default:
			return fmt.Errorf("line %d: a version must be a mapping with one value", vn.Line)
		}
	}
	return nil
}

type reference struct {
	Type string // upper case, as in OSV: ADVISORY, FIX, WEB, ...
	URL  string
}

func (r *reference) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return fmt.Errorf("line %d: a reference must be a mapping with one value", n.Line)
	}
	r.Type = strings.ToUpper(n.Content[0].Value)
	r.URL = n.Content[1].Value
	return nil
}

// readReport decodes one report file, refusing unknown fields.
func readReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseReport(b, path)
}

func parseReport(b []byte, name string) (*report, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("%s: no id", name)
	}
	return &r, nil
}

// Module paths the reports use for the standard library and the go command,
// and the names OSV (and govulncheck) use for them.
const (
	reportStdModule       = "std"
	reportToolchainModule = "cmd"
	osvStdModule          = "stdlib"
	osvToolchainModule    = "toolchain"
)

const schemaVersion = "1.3.1"

func reviewStatusToOSV(s string) (string, error) {
	switch s {
	case "":
		return "", nil
	case "REVIEWED":
		return "REVIEWED", nil
	case "UNREVIEWED", "NEEDS_REVIEW":
		return "UNREVIEWED", nil
	}
	return "", fmt.Errorf("unknown review_status %q", s)
}

// toOSV converts a report as vulndb's Report.ToOSV does. modified is the
// entry's modification time: vulndb takes it from the git history of the
// entry's file, which a module zip does not have (see main.go).
func (r *report) toOSV(modified time.Time) (*entry, error) {
	status, err := reviewStatusToOSV(r.ReviewStatus)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.ID, err)
	}
	e := &entry{
		SchemaVersion: schemaVersion,
		ID:            r.ID,
		Modified:      osvTime(modified),
		Published:     osvTime(r.Published),
		Related:       r.Related,
		Summary:       toParagraphs(r.Summary),
		DatabaseSpecific: &databaseSpecific{
			URL:          "https://pkg.go.dev/vuln/" + r.ID,
			ReviewStatus: status,
		},
	}
	if r.Withdrawn != nil {
		w := osvTime(*r.Withdrawn)
		e.Withdrawn = &w
	}
	for _, c := range r.Credits {
		e.Credits = append(e.Credits, credit{Name: c})
	}
	hasNonGoVersions := false
	for _, m := range r.Modules {
		a, err := toAffected(m)
		if err != nil {
			return nil, fmt.Errorf("%s: module %s: %w", r.ID, m.Module, err)
		}
		e.Affected = append(e.Affected, a)
		if len(m.NonGoVersions) != 0 {
			hasNonGoVersions = true
		}
	}
	for _, ref := range r.References {
		e.References = append(e.References, osvReference(ref))
	}
	// Aliases: the CVEs, the CVE the Go CNA assigned (cve_metadata), the GHSAs.
	e.Aliases = append(e.Aliases, r.CVEs...)
	if r.CVEMetadata != nil && r.CVEMetadata.ID != "" {
		e.Aliases = append(e.Aliases, r.CVEMetadata.ID)
	}
	e.Aliases = append(e.Aliases, r.GHSAs...)

	details := r.Description
	if details == "" {
		details = r.Summary
	}
	if hasNonGoVersions && r.ReviewStatus != "REVIEWED" {
		if !strings.HasSuffix(details, ".") {
			details += "."
		}
		details = details + "\n\n" + r.nonGoExplanation()
	}
	e.Details = toParagraphs(details)
	return e, nil
}

func toAffected(m *module) (affected, error) {
	name := m.Module
	switch name {
	case reportStdModule:
		name = osvStdModule
	case reportToolchainModule:
		name = osvToolchainModule
	}
	ranges, err := m.Versions.toRanges("SEMVER")
	if err != nil {
		return affected{}, err
	}
	if ranges == nil {
		// No versions: every version is affected.
		ranges = []osvRange{{Type: "SEMVER", Events: []rangeEvent{{Introduced: "0"}}}}
	}
	custom, err := m.NonGoVersions.toRanges("ECOSYSTEM")
	if err != nil {
		return affected{}, err
	}
	a := affected{
		Module:            osvModule{Path: name, Ecosystem: "Go"},
		Ranges:            ranges,
		EcosystemSpecific: &ecosystemSpecific{CustomRanges: custom},
	}
	for _, p := range m.Packages {
		syms := append(append([]string{}, p.Symbols...), p.DerivedSymbols...)
		sort.Strings(syms)
		a.EcosystemSpecific.Packages = append(a.EcosystemSpecific.Packages, osvPackage{
			Path:    p.Package,
			GOOS:    p.GOOS,
			GOARCH:  p.GOARCH,
			Symbols: syms,
		})
	}
	return a, nil
}

// toRanges makes one range of the given type from the events, starting it
// at "introduced: 0" when the first event is a fix. Nil when there are none.
func (vs versions) toRanges(typ string) ([]osvRange, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	r := osvRange{Type: typ}
	if vs[0].Type != "introduced" {
		r.Events = append(r.Events, rangeEvent{Introduced: "0"})
	}
	for _, v := range vs {
		switch v.Type {
		case "introduced":
			r.Events = append(r.Events, rangeEvent{Introduced: v.Version})
		case "fixed":
			r.Events = append(r.Events, rangeEvent{Fixed: v.Version})
		default:
			return nil, fmt.Errorf("version type %q is not supported in a range", v.Type)
		}
	}
	return []osvRange{r}, nil
}

func (r *report) nonGoExplanation() string {
	const explanation = `NOTE: The source advisory for this report
contains additional versions that could not be automatically mapped to standard
Go module versions.

(If this is causing false-positive reports from vulnerability scanners,
please suggest an edit to the report.)

The additional affected modules and versions are: `
	var vs []string
	for _, m := range r.Modules {
		if s := m.NonGoVersions.verboseString(); s != "" {
			vs = append(vs, fmt.Sprintf("%s %s", m.Module, s))
		}
	}
	return explanation + strings.Join(vs, "; ") + "."
}

// verboseString says the (introduced, fixed) pairs in words:
// "before v1.2.0, from v1.3.0 before v1.3.4".
func (vs versions) verboseString() string {
	prefix := func(s string) string {
		if s != "" && isSemver(s) {
			return "v" + s
		}
		return s
	}
	var parts []string
	var intro string
	for _, v := range vs {
		switch v.Type {
		case "introduced":
			intro = v.Version
			if intro == "0" {
				intro = ""
			}
			intro = prefix(intro)
		case "fixed":
			fixed := prefix(v.Version)
			switch {
			case intro == "" && fixed == "":
				parts = append(parts, "")
			case intro == "":
				parts = append(parts, "before "+fixed)
			case fixed == "":
				parts = append(parts, intro+" and later")
			default:
				parts = append(parts, "from "+intro+" before "+fixed)
			}
			intro = ""
		}
	}
	return strings.Join(parts, ", ")
}

var (
	listMarker     = regexp.MustCompile(`([\*\-\+>]|\d+[.\)]) [^\n]+`)
	spaces         = regexp.MustCompile(`[[:space:]]+`)
	paragraphBreak = regexp.MustCompile(`\s*\n{2,}\s*`)
)

// toParagraphs joins a text's lines with single spaces, keeping paragraph
// breaks (an empty line) and Markdown list items on lines of their own.
func toParagraphs(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = spaces.ReplaceAllString(strings.TrimSpace(line), " ")
		if line == "" {
			b.WriteString("\n\n")
			continue
		}
		if i > 0 {
			if loc := listMarker.FindStringIndex(line); loc != nil && loc[0] == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(line)
	}
	return paragraphBreak.ReplaceAllString(b.String(), "\n\n")
}
