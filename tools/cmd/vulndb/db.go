package main

// The OSV entries and the database layout govulncheck reads with
// -db file:///DIR (golang.org/x/vuln v1.9.0, internal/client: the "v1"
// schema of https://go.dev/security/vuln/database#api):
//
//	index/db.json       {"modified": T}, the newest entry's modified time
//	index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}]
//	index/vulns.json    [{"id", "modified", "aliases"}]
//	ID/<ID>.json        one OSV entry
//
// govulncheck takes a local directory as this schema when
// index/modules.json exists, reads the ".json" files (vuln.go.dev serves
// them gzipped; a local database needs no .gz), and picks the entries of a
// module from modules.json: those with no "fixed" or a "fixed" above the
// version in use, then filters them by the entries' ranges.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/mod/semver"
)

// osvTime marshals as RFC 3339 in UTC, the zero time included, as
// vulndb's osv.Time does.
type osvTime time.Time

func (t osvTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}

func (t *osvTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	tt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	*t = osvTime(tt.UTC())
	return nil
}

// entry is an OSV entry, with the fields (and their order) of vulndb's.
type entry struct {
	SchemaVersion    string            `json:"schema_version,omitempty"`
	ID               string            `json:"id"`
	Modified         osvTime           `json:"modified"`
	Published        osvTime           `json:"published"`
	Withdrawn        *osvTime          `json:"withdrawn,omitempty"`
	Aliases          []string          `json:"aliases,omitempty"`
	Related          []string          `json:"related,omitempty"`
	Summary          string            `json:"summary,omitempty"`
	Details          string            `json:"details"`
	Affected         []affected        `json:"affected"`
	References       []osvReference    `json:"references,omitempty"`
	Credits          []credit          `json:"credits,omitempty"`
	DatabaseSpecific *databaseSpecific `json:"database_specific,omitempty"`
}

type affected struct {
	Module            osvModule          `json:"package"`
	Ranges            []osvRange         `json:"ranges,omitempty"`
	EcosystemSpecific *ecosystemSpecific `json:"ecosystem_specific,omitempty"`
}

type osvModule struct {
	Path      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

type osvRange struct {
	Type   string       `json:"type"`
	Events []rangeEvent `json:"events"`
}

type rangeEvent struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

type ecosystemSpecific struct {
	Packages     []osvPackage `json:"imports,omitempty"`
	CustomRanges []osvRange   `json:"custom_ranges,omitempty"`
}

type osvPackage struct {
	Path    string   `json:"path"`
	GOOS    []string `json:"goos,omitempty"`
	GOARCH  []string `json:"goarch,omitempty"`
	Symbols []string `json:"symbols,omitempty"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type credit struct {
	Name string `json:"name"`
}

type databaseSpecific struct {
	URL          string `json:"url,omitempty"`
	ReviewStatus string `json:"review_status,omitempty"`
}

type dbMeta struct {
	Modified osvTime `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string  `json:"id"`
	Modified osvTime `json:"modified"`
	Fixed    string  `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string   `json:"id"`
	Modified osvTime  `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
}

// isSemver reports whether v, without its "v", is a semantic version.
func isSemver(v string) bool { return semver.IsValid("v" + v) }

// before reports v < w for unprefixed versions ("" sorts first).
func before(v, w string) bool { return semver.Compare("v"+v, "v"+w) < 0 }

// latestFixed is the highest "fixed" of the SEMVER ranges, or "" when the
// vulnerability was introduced again after it (vulndb's osvutils.LatestFixed,
// govulncheck's NonSupersededFix).
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// writeDB writes the entries in govulncheck's layout into dir, which must
// not exist yet.
func writeDB(dir string, entries []*entry) error {
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	var db dbMeta
	modules := map[string]*moduleMeta{}
	var vulns []vulnMeta
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.ID] {
			return fmt.Errorf("id %s appears twice", e.ID)
		}
		seen[e.ID] = true
		if time.Time(e.Modified).After(time.Time(db.Modified)) {
			db.Modified = e.Modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Module.Path]
			if m == nil {
				m = &moduleMeta{Path: a.Module.Path, Vulns: []moduleVuln{}}
				modules[a.Module.Path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	paths := make([]string, 0, len(modules))
	for p := range modules {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	mods := make([]*moduleMeta, 0, len(paths))
	for _, p := range paths {
		mods = append(mods, modules[p])
	}

	if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "ID"), 0o755); err != nil {
		return err
	}
	for name, v := range map[string]any{"db": db, "modules": mods, "vulns": vulns} {
		if err := writeJSON(filepath.Join(dir, "index", name+".json"), v); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := writeJSON(filepath.Join(dir, "ID", e.ID+".json"), e); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
