package main

// The vulndb module ships, beside each report, the OSV vulndb's own
// generator made from it (data/osv/<ID>.json, kept current by vulndb's
// checks; its "modified" is left zero there, to be set from git history when
// the database is built). Every converted entry must equal that file but for
// "modified": a report this converter reads differently from vulndb fails
// the build instead of reaching govulncheck as a wrong entry.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// checkAgainstOSV compares the entries with the OSV files in osvDir and
// returns one line per difference (an entry missing on either side, or
// differing). Entries are compared as JSON values, "modified" left out.
func checkAgainstOSV(entries []*entry, osvDir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return nil, err
	}
	shipped := map[string]string{}
	for _, f := range files {
		shipped[strings.TrimSuffix(filepath.Base(f), ".json")] = f
	}
	var problems []string
	for _, e := range entries {
		f, ok := shipped[e.ID]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: converted, but %s has no %s.json", e.ID, osvDir, e.ID))
			continue
		}
		delete(shipped, e.ID)
		want, err := readJSONValue(f)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			return nil, err
		}
		delete(got, "modified")
		delete(want, "modified")
		if !reflect.DeepEqual(got, want) {
			problems = append(problems, fmt.Sprintf("%s: differs from %s: %s", e.ID, f, firstDifference(got, want)))
		}
	}
	for id := range shipped {
		problems = append(problems, fmt.Sprintf("%s: %s has it, but no report converted to it", id, osvDir))
	}
	sort.Strings(problems)
	return problems, nil
}

func readJSONValue(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// firstDifference names the first top-level field whose values differ.
func firstDifference(got, want map[string]any) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if !reflect.DeepEqual(got[k], want[k]) {
			g, _ := json.Marshal(got[k])
			w, _ := json.Marshal(want[k])
			return fmt.Sprintf("field %q: converted %s, vulndb %s", k, clip(g), clip(w))
		}
	}
	return "?"
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
