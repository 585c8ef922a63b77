package main

// The licence policy and the allow-list file.

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// allowedIDs are the licences accepted without a word: permissive ones, and
// MPL-2.0, whose copyleft stays within the files it covers.
var allowedIDs = map[string]bool{
	"0BSD": true, "Apache-2.0": true, "BlueOak-1.0.0": true, "BSD-2-Clause": true,
	"BSD-2-Clause-FreeBSD": true, "BSD-2-Clause-Views": true, "BSD-3-Clause": true,
	"BSL-1.0": true, "CC0-1.0": true, "ISC": true, "MIT": true, "MIT-0": true,
	"MPL-2.0": true, "MPL-2.0-no-copyleft-exception": true, "NCSA": true,
	"PostgreSQL": true, "Unlicense": true, "X11": true, "Zlib": true,
}

// refusedPrefixes are the licences the check refuses, and why. Network
// copyleft and the source-available licences first (what the issue names,
// and the company's no to Terraform's BUSL), then GPL and LGPL: our binaries
// link every dependency statically and ship in container images.
var refusedPrefixes = []struct{ prefix, why string }{
	{"AGPL-", "network copyleft"},
	{"SSPL-", "not open source (Server Side Public License)"},
	{"BUSL-", "not open source (Business Source License)"},
	{"Commons-Clause", "not open source (Commons Clause restricts selling)"},
	{"Elastic-", "not open source (Elastic License)"},
	{"PolyForm", "not open source (PolyForm licences)"},
	{"FSL", "not open source (Functional Source License)"},
	{"Confluent-Community", "not open source (Confluent Community License)"},
	{"CC-BY-NC", "non-commercial"},
	{"GPL-", "strong copyleft, and Go links statically"},
	{"LGPL-", "copyleft that static linking triggers in full"},
	{"JSON", "not open source (\"shall be used for Good, not Evil\")"},
}

// refusal returns why id is refused, or "".
func refusal(id string) string {
	for _, r := range refusedPrefixes {
		if strings.HasPrefix(id, r.prefix) {
			return r.why
		}
	}
	return ""
}

// allowFile is tools/licenses-allow.yaml.
type allowFile struct {
	Modules []allowEntry `yaml:"modules"`
}

// allowEntry accepts one module (at one version, or any) whose licence the
// check cannot classify or refuses: a person read its licence files, named
// the licence, and said why it is acceptable.
type allowEntry struct {
	Module  string `yaml:"module"`
	Version string `yaml:"version"` // optional: only this version
	Licence string `yaml:"licence"`
	Reason  string `yaml:"reason"`

	used   bool // it matched a module checked
	needed bool // and that module needed it
}

func readAllowFile(path string) (*allowFile, error) {
	var a allowFile
	if path == "" {
		return &a, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, e := range a.Modules {
		switch {
		case e.Module == "":
			return nil, fmt.Errorf("%s: entry %d has no module", path, i+1)
		case strings.TrimSpace(e.Licence) == "":
			return nil, fmt.Errorf("%s: %s: say which licence a person found (licence:)", path, e.Module)
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf("%s: %s: every entry needs a reason", path, e.Module)
		}
		key := e.Module + "@" + e.Version
		if seen[key] {
			return nil, fmt.Errorf("%s: %s is listed twice", path, key)
		}
		seen[key] = true
	}
	return &a, nil
}

// find returns the entry for module@version: one for that version first,
// else one for any version.
func (a *allowFile) find(module, version string) *allowEntry {
	var any *allowEntry
	for i := range a.Modules {
		e := &a.Modules[i]
		if e.Module != module {
			continue
		}
		if e.Version == version {
			return e
		}
		if e.Version == "" {
			any = e
		}
	}
	return any
}
