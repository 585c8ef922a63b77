// Command chartgen writes each ShopMesh chart's values.yaml and
// values.schema.json from one source: the shared settings of the
// shopmesh.defaults block of charts/shopmesh-lib/templates/_values.tpl (the
// defaults the library's templates merge in at render time) and what is
// particular to the chart, in charts/<chart>/chartgen.yaml. README.md is then
// written from values.yaml by helm-docs. `go tool task deploy:charts:docs`
// runs both; deploy:charts:docs:check fails when the files are not current.
//
//	go run ./cmd/chartgen -charts ../charts
//
// The defaults block is plain YAML. A key's comment `# -- text` (helm-docs'
// syntax, continued by further `#` lines) is its description in the README
// and the schema; `# @schema {JSON}` lines add JSON Schema (draft 7) keywords
// to what the default implies (boolean, integer, number, string, array of
// strings, object). A map is closed (additionalProperties false) unless its
// @schema says otherwise; an "additionalProperties" schema given to a map with
// listed keys applies to those keys too (resources.requests: every key a
// quantity). The @schema lines are left out of values.yaml.
//
// chartgen.yaml of a chart:
//
//	header: |      comment lines at the top of values.yaml
//	settings: []   dotted paths of the shared settings values.yaml shows
//	               (omitted: all); the schema still accepts every shared setting
//	values: {}     the chart's own values (app id and port, overrides), with
//	               comments and @schema lines as above; an override keeps the
//	               shared key's description and says what it replaced
//
// services.<app id> (per-service overrides in the environment files) takes
// the shared settings but environment, components and services, for the app
// ids of the charts that set app.id.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	defaultsFile  = "shopmesh-lib/templates/_values.tpl"
	defaultsStart = `{{- define "shopmesh.defaults" -}}`
	defaultsEnd   = `{{- end -}}`
	chartFile     = "chartgen.yaml"
)

// Keys a services.<app id> entry may not set: they are the namespace's.
var notPerService = []string{"environment", "components", "services"}

func main() {
	dir := flag.String("charts", "charts", "the charts folder")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}

type chartSpec struct {
	Header   string    `yaml:"header"`
	Settings []string  `yaml:"settings"`
	Values   yaml.Node `yaml:"values"`
}

type chart struct {
	name string
	dir  string
	spec chartSpec
}

func run(dir string) error {
	shared, err := readDefaults(filepath.Join(dir, defaultsFile))
	if err != nil {
		return err
	}
	charts, err := readCharts(dir)
	if err != nil {
		return err
	}
	var appIDs []string
	for _, c := range charts {
		if id := scalarAt(&c.spec.Values, "app", "id"); id != "" {
			appIDs = append(appIDs, id)
		}
	}
	sort.Strings(appIDs)
	for _, c := range charts {
		values, schema, err := generate(shared, c, appIDs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, "values.yaml"), values, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(c.dir, "values.schema.json"), schema, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readDefaults returns the mapping node of the shopmesh.defaults block.
func readDefaults(path string) (*yaml.Node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, rest, ok := strings.Cut(string(data), defaultsStart+"\n")
	if !ok {
		return nil, fmt.Errorf("%s: no line %s", path, defaultsStart)
	}
	block, _, ok := strings.Cut(rest, "\n"+defaultsEnd)
	if !ok {
		return nil, fmt.Errorf("%s: shopmesh.defaults does not end with %s", path, defaultsEnd)
	}
	if strings.Contains(block, "{{") {
		return nil, fmt.Errorf("%s: shopmesh.defaults must be plain YAML, without template actions", path)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		return nil, fmt.Errorf("%s: shopmesh.defaults: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: shopmesh.defaults is not a YAML map", path)
	}
	return doc.Content[0], nil
}

func readCharts(dir string) ([]chart, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", chartFile))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no %s/*/%s", dir, chartFile)
	}
	var charts []chart
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c := chart{name: filepath.Base(filepath.Dir(p)), dir: filepath.Dir(p)}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c.spec); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if c.spec.Values.Kind == 0 {
			c.spec.Values = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		if c.spec.Values.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: values is not a map", p)
		}
		charts = append(charts, c)
	}
	return charts, nil
}

func generate(shared *yaml.Node, c chart, appIDs []string) (values, schema []byte, err error) {
	merged := clone(shared)
	if err := overlay(merged, &c.spec.Values, ""); err != nil {
		return nil, nil, err
	}
	s, err := rootSchema(c.name, merged, shared, appIDs)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, nil, err
	}
	schema = buf.Bytes()

	shown := merged
	if len(c.spec.Settings) > 0 {
		keep := slices.Clone(c.spec.Settings)
		for _, p := range leafPaths(&c.spec.Values, "") {
			keep = append(keep, p)
		}
		for _, p := range c.spec.Settings {
			if !hasPath(shared, p) {
				return nil, nil, fmt.Errorf("settings: %s is not a shared setting", p)
			}
		}
		shown = prune(merged, "", keep)
	}
	values, err = render(c.spec.Header, shown)
	return values, schema, err
}

// overlay merges the chart's own values into the shared tree: an existing
// key keeps its comments (the chart's are added), a new key comes first.
func overlay(dst, src *yaml.Node, prefix string) error {
	var added []*yaml.Node
	for i := 0; i < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		path := join(prefix, k.Value)
		j := indexOf(dst, k.Value)
		if j < 0 {
			added = append(added, clone(k), clone(v))
			continue
		}
		dk, dv := dst.Content[j], dst.Content[j+1]
		if v.Kind == yaml.MappingNode && dv.Kind == yaml.MappingNode && len(v.Content) > 0 {
			if k.HeadComment != "" {
				dk.HeadComment = joinComments(dk.HeadComment, k.HeadComment)
			}
			if err := overlay(dv, v, path); err != nil {
				return err
			}
			continue
		}
		if v.Kind != dv.Kind && !(v.Kind == yaml.ScalarNode && dv.Kind == yaml.ScalarNode) {
			return fmt.Errorf("values.%s: a %s replaces a %s", path, kindName(v), kindName(dv))
		}
		was, err := yaml.Marshal(dv)
		if err != nil {
			return err
		}
		note := fmt.Sprintf("# This chart's default; the shared one is %s.", strings.TrimSpace(string(was)))
		dk.HeadComment = joinComments(dk.HeadComment, joinComments(k.HeadComment, note))
		dst.Content[j+1] = clone(v)
	}
	dst.Content = append(added, dst.Content...)
	return nil
}

// rootSchema is the JSON Schema of a chart's values: every shared setting
// (whatever the chart shows: one environment file serves all charts), the
// chart's own, services.<app id> and the keys Helm adds.
func rootSchema(name string, merged, shared *yaml.Node, appIDs []string) (map[string]any, error) {
	root, err := schemaOf(nil, merged, "", true)
	if err != nil {
		return nil, err
	}
	perService := clone(shared)
	for _, k := range notPerService {
		if j := indexOf(perService, k); j >= 0 {
			perService.Content = slices.Delete(perService.Content, j, j+2)
		}
	}
	svc, err := schemaOf(nil, perService, "services.<app id>", false)
	if err != nil {
		return nil, err
	}
	svc["description"] = "Settings one service overrides (services.<app id>): any shared setting but " + strings.Join(notPerService, ", ") + "."
	props := root["properties"].(map[string]any)
	if s, ok := props["services"].(map[string]any); ok {
		apps := map[string]any{}
		for _, id := range appIDs {
			apps[id] = map[string]any{"$ref": "#/definitions/serviceSettings"}
		}
		s["type"] = "object"
		s["properties"] = apps
		s["additionalProperties"] = false
		delete(s, "default")
	}
	for _, k := range []string{"global", "shopmesh-lib"} {
		props[k] = map[string]any{"type": "object", "description": "Added by Helm (global values, the shopmesh-lib library's); not a setting."}
	}
	out := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       fmt.Sprintf("Values of the ShopMesh chart %s", name),
		"description": "Generated by tools/cmd/chartgen from charts/shopmesh-lib/templates/_values.tpl and charts/" + name + "/chartgen.yaml: edit those, then run `go tool task deploy:charts:docs`.",
		"definitions": map[string]any{
			"quantity": map[string]any{
				"description": "A Kubernetes quantity, e.g. 100m, 0.5, 128Mi.",
				"type":        []string{"string", "number"},
				"pattern":     `^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`,
			},
			"serviceSettings": svc,
		},
	}
	for k, v := range root {
		out[k] = v
	}
	return out, nil
}

// schemaOf infers a value's schema from its default and applies the key's
// @schema lines; inherited is the "additionalProperties" schema of the map it
// is listed in, if any.
func schemaOf(key *yaml.Node, val *yaml.Node, path string, withDefaults bool, inherited ...map[string]any) (map[string]any, error) {
	desc, annotations, err := parseComment(key, path)
	if err != nil {
		return nil, err
	}
	s := map[string]any{}
	switch {
	case len(inherited) > 0 && inherited[0] != nil:
		for k, v := range inherited[0] {
			s[k] = v
		}
	case val.Kind == yaml.ScalarNode:
		switch val.Tag {
		case "!!bool":
			s["type"] = "boolean"
		case "!!int":
			s["type"] = "integer"
		case "!!float":
			s["type"] = "number"
		case "!!str":
			s["type"] = "string"
		case "!!null":
		default:
			return nil, fmt.Errorf("%s: cannot infer a schema from %s", path, val.Tag)
		}
	case val.Kind == yaml.SequenceNode:
		items := map[string]any{"type": "string"}
		if len(val.Content) > 0 {
			if items, err = schemaOf(nil, val.Content[0], path+"[]", false); err != nil {
				return nil, err
			}
		}
		s["type"] = "array"
		s["items"] = items
	case val.Kind == yaml.MappingNode:
		s["type"] = "object"
		if len(val.Content) == 0 {
			s["additionalProperties"] = map[string]any{"type": "string"}
		} else {
			s["additionalProperties"] = false
		}
	default:
		return nil, fmt.Errorf("%s: unsupported YAML (anchors, aliases)", path)
	}
	for k, v := range annotations {
		s[k] = v
	}
	if ref, ok := s["$ref"]; ok {
		// Draft 7 ignores the keywords beside $ref: keep only what documents it.
		s = map[string]any{"$ref": ref}
	}
	if val.Kind == yaml.MappingNode && len(val.Content) > 0 {
		var childInherited map[string]any
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			childInherited = ap
		}
		props := map[string]any{}
		for i := 0; i < len(val.Content); i += 2 {
			k, v := val.Content[i], val.Content[i+1]
			ps, err := schemaOf(k, v, join(path, k.Value), withDefaults, childInherited)
			if err != nil {
				return nil, err
			}
			props[k.Value] = ps
		}
		s["properties"] = props
	} else if withDefaults {
		var def any
		if err := val.Decode(&def); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s["default"] = def
	}
	if desc != "" {
		s["description"] = desc
	}
	return s, nil
}

var (
	schemaLine = regexp.MustCompile(`^#\s*@schema\s+(.*)$`)
	// helm-docs' pattern of a description line (pkg/helm/chart_info.go): a
	// line of the form "# <key> -- text" would name a key.
	helmDocsLine = regexp.MustCompile(`^\s*#\s*(.*)\s+--\s*(.*)$`)
)

// parseComment returns a key's description (from its last "# --" line on,
// as helm-docs reads it, or the whole comment without one) and the keywords
// of its @schema lines.
func parseComment(key *yaml.Node, path string) (string, map[string]any, error) {
	if key == nil || key.HeadComment == "" {
		return "", nil, nil
	}
	lines := strings.Split(key.HeadComment, "\n")
	start := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "# --") {
			start = i
		}
	}
	if strings.HasPrefix(lines[start], "# --") {
		if m := helmDocsLine.FindStringSubmatch(lines[start]); m == nil || m[1] != "" {
			return "", nil, fmt.Errorf("%s: helm-docs would misread %q: keep \" --\" out of a description's first line", path, lines[start])
		}
	}
	annotations := map[string]any{}
	var words []string
	for i, l := range lines {
		if m := schemaLine.FindStringSubmatch(l); m != nil {
			var a map[string]any
			if err := json.Unmarshal([]byte(m[1]), &a); err != nil {
				return "", nil, fmt.Errorf("%s: @schema %s: %w", path, m[1], err)
			}
			for k, v := range a {
				annotations[k] = v
			}
			continue
		}
		if i < start {
			continue
		}
		l = strings.TrimPrefix(l, "# --")
		l = strings.TrimPrefix(l, "#")
		if l = strings.TrimSpace(l); l != "" {
			words = append(words, l)
		}
	}
	return strings.Join(words, " "), annotations, nil
}

// render writes values.yaml: the header, then the values with their
// comments but the @schema lines, a blank line between top-level keys.
func render(header string, values *yaml.Node) ([]byte, error) {
	v := clone(values)
	stripSchema(v)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		out.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	prevTop := false // the previous line is a top-level comment
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		top := l != "" && l[0] != ' ' && l[0] != '-'
		if top && !prevTop {
			out.WriteString("\n")
		}
		prevTop = top && strings.HasPrefix(l, "#")
		out.WriteString(l + "\n")
	}
	return []byte(out.String()), nil
}

func stripSchema(n *yaml.Node) {
	if n.HeadComment != "" {
		var keep []string
		for _, l := range strings.Split(n.HeadComment, "\n") {
			if !schemaLine.MatchString(l) {
				keep = append(keep, l)
			}
		}
		n.HeadComment = strings.Join(keep, "\n")
	}
	for _, c := range n.Content {
		stripSchema(c)
	}
}

// prune keeps the keys on the way to, or under, one of the paths.
func prune(n *yaml.Node, prefix string, paths []string) *yaml.Node {
	out := *n
	out.Content = nil
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(prefix, k.Value)
		var under, above bool
		for _, want := range paths {
			under = under || p == want || strings.HasPrefix(p, want+".")
			above = above || strings.HasPrefix(want, p+".")
		}
		switch {
		case under:
			out.Content = append(out.Content, k, v)
		case above && v.Kind == yaml.MappingNode:
			out.Content = append(out.Content, k, prune(v, p, paths))
		}
	}
	return &out
}

func leafPaths(n *yaml.Node, prefix string) []string {
	var out []string
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(prefix, k.Value)
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
			out = append(out, leafPaths(v, p)...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

func hasPath(n *yaml.Node, path string) bool {
	for _, part := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return false
		}
		j := indexOf(n, part)
		if j < 0 {
			return false
		}
		n = n.Content[j+1]
	}
	return true
}

func scalarAt(n *yaml.Node, path ...string) string {
	for _, p := range path {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		j := indexOf(n, p)
		if j < 0 {
			return ""
		}
		n = n.Content[j+1]
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func indexOf(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = clone(ch)
	}
	return &c
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func joinComments(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "node"
}
