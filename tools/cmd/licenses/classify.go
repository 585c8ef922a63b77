package main

// Classifying the licence files of one directory: go-license-detector
// (github.com/go-enry/go-license-detector/v4, which cyclonedx-gomod already
// brings) compares each file with the SPDX licence texts it embeds; marker
// phrases catch the source-available licences its list predates (BUSL,
// Elastic, PolyForm) and additions such as the Commons Clause, which sit
// beside a permissive text the detector would otherwise report alone.

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/go-enry/go-license-detector/v4/licensedb"
	"github.com/go-enry/go-license-detector/v4/licensedb/filer"
)

// licenceFileRe matches the names of the files read as licences:
// LICENSE, LICENCE, COPYING, COPYRIGHT, UNLICENSE, with any suffix
// (LICENSE.md, LICENSE-MIT, COPYING.LESSER, LICENSE-BUSL).
var licenceFileRe = regexp.MustCompile(`(?i)^(licen[cs]es?|copying|copyright|unlicense)([-_. ].*)?$`)

// notLicenceExt are extensions of files whose names look like licences but
// hold code or data (license.go, licenses.json).
var notLicenceExt = map[string]bool{
	".go": true, ".json": true, ".yaml": true, ".yml": true, ".tmpl": true,
	".sh": true, ".py": true, ".js": true, ".ts": true, ".c": true, ".h": true, ".s": true,
	".proto": true, ".toml": true, ".csv": true, ".tsv": true, ".xml": true, ".html": true,
}

// minConfidence is go-license-detector's own threshold; within
// tieTolerance of a file's best score, licences count as equally likely
// (the detector scores AGPL-3.0-only and -or-later alike, for example).
const (
	minConfidence = 0.75
	tieTolerance  = 0.02
)

// markers are phrases whose presence in a licence file names a licence,
// whatever else the file holds.
var markers = []struct {
	re *regexp.Regexp
	id string
}{
	// The licence's own title: MPL-2.0 and GPL-3.0 name the AGPL in mixed
	// case (as a secondary licence, as a compatible one), which is no use.
	{regexp.MustCompile(`GNU\s+AFFERO\s+GENERAL\s+PUBLIC\s+LICENSE`), "AGPL-3.0"},
	{regexp.MustCompile(`(?i)Server\s+Side\s+Public\s+License`), "SSPL-1.0"},
	{regexp.MustCompile(`(?i)Business\s+Source\s+License`), "BUSL-1.1"},
	{regexp.MustCompile(`(?i)Commons\s+Clause`), "Commons-Clause"},
	{regexp.MustCompile(`(?i)Elastic\s+License\s+2\.0`), "Elastic-2.0"},
	{regexp.MustCompile(`(?i)PolyForm\s+(Noncommercial|Small\s+Business|Internal\s+Use|Free\s+Trial|Perimeter|Shield|Strict)`), "PolyForm"},
	{regexp.MustCompile(`(?i)Functional\s+Source\s+License`), "FSL"},
	{regexp.MustCompile(`(?i)Confluent\s+Community\s+License`), "Confluent-Community"},
}

// apacheRe recognise the Apache License 2.0 without its appendix and
// its "END OF TERMS AND CONDITIONS" line (how cobra, afero and others ship
// it), which go-license-detector, comparing
// with the full SPDX text, scores below its threshold. Used only for files
// the detector found nothing in.
var apacheRe = []*regexp.Regexp{
	regexp.MustCompile(`Apache License\s+Version 2\.0, January 2004`),
	regexp.MustCompile(`TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION`),
	regexp.MustCompile(`Grant of Patent License`),
	regexp.MustCompile(`Limitation of Liability`),
}

func isApache2(text []byte) bool {
	for _, re := range apacheRe {
		if !re.Match(text) {
			return false
		}
	}
	return true
}

// fileResult is what one licence file was found to be.
type fileResult struct {
	Name       string   // relative to the module root
	Detected   []string // the detector's best matches (equally likely ones included)
	Confidence float32  // of the best match
	Markers    []string // licences named by marker phrases (or the Apache fallback)
	IDs        []string // both; empty: unclassified
}

func (f fileResult) String() string {
	var parts []string
	if len(f.Detected) > 0 {
		parts = append(parts, fmt.Sprintf("%s (%.2f)", strings.Join(f.Detected, " or "), f.Confidence))
	}
	if len(f.Markers) > 0 {
		parts = append(parts, strings.Join(f.Markers, " + ")+" (by its wording)")
	}
	if len(parts) == 0 {
		return f.Name + ": unclassified"
	}
	return f.Name + ": " + strings.Join(parts, " + ")
}

// licenceFiles lists the licence files in dir (and in a licenses/
// subdirectory of it), sorted.
func licenceFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if !licenceFileRe.MatchString(name) || notLicenceExt[strings.ToLower(filepath.Ext(name))] {
			continue
		}
		if !e.IsDir() {
			files = append(files, name)
			continue
		}
		if strings.EqualFold(name, "licenses") || strings.EqualFold(name, "licences") {
			sub, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				if !s.IsDir() && !notLicenceExt[strings.ToLower(filepath.Ext(s.Name()))] {
					files = append(files, path.Join(name, s.Name()))
				}
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// classifyDir classifies the licence files of dir, naming them relative to
// rel (the directory's path in its module, "" for the root).
func classifyDir(dir, rel string, files []string) ([]fileResult, error) {
	matches, err := licensedb.Detect(&listFiler{dir: dir, files: files})
	if err != nil && !errors.Is(err, licensedb.ErrNoLicenseFound) {
		return nil, err
	}
	var out []fileResult
	for _, f := range files {
		r := fileResult{Name: path.Join(rel, f)}
		var best float32
		for _, m := range matches {
			if c, ok := m.Files[f]; ok && c > best {
				best = c
			}
		}
		ids := map[string]bool{}
		if best >= minConfidence {
			r.Confidence = best
			var deprecated []string
			for id, m := range matches {
				if c, ok := m.Files[f]; ok && c >= best-tieTolerance {
					if strings.HasPrefix(id, "deprecated_") {
						deprecated = append(deprecated, id)
					} else {
						ids[id] = true
					}
				}
			}
			// The detector scores retired SPDX ids (GPL-3.0, now
			// GPL-3.0-only) like their successors: name them only
			// when nothing current matched as well.
			if len(ids) == 0 {
				for _, id := range deprecated {
					ids[strings.TrimPrefix(id, "deprecated_")] = true
				}
			}
		}
		for id := range ids {
			r.Detected = append(r.Detected, id)
		}
		sort.Strings(r.Detected)
		text, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 && isApache2(text) {
			r.Markers = append(r.Markers, "Apache-2.0")
		}
		for _, mk := range markers {
			if mk.re.Match(text) && !hasPrefixIn(r.Detected, mk.id) {
				r.Markers = append(r.Markers, mk.id)
			}
		}
		r.IDs = append(append([]string{}, r.Detected...), r.Markers...)
		sort.Strings(r.IDs)
		out = append(out, r)
	}
	return out, nil
}

// hasPrefixIn reports whether an id of ids starts with prefix: the
// detector's AGPL-3.0-only makes the AGPL marker redundant.
func hasPrefixIn(ids []string, prefix string) bool {
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// listFiler shows go-license-detector only the given files of a directory,
// so that it neither reads source files whose names look like licences
// (syscall_bsd.go) nor guesses a licence from a README.
type listFiler struct {
	dir   string
	files []string
}

func (l *listFiler) ReadFile(p string) ([]byte, error) {
	for _, f := range l.files {
		if f == p {
			return os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(p)))
		}
	}
	return nil, os.ErrNotExist
}

func (l *listFiler) ReadDir(p string) ([]filer.File, error) {
	if p != "" {
		return nil, nil
	}
	out := make([]filer.File, 0, len(l.files))
	for _, f := range l.files {
		out = append(out, filer.File{Name: f})
	}
	return out, nil
}

func (l *listFiler) Close() {}

func (l *listFiler) PathsAreAlwaysSlash() bool { return true }
