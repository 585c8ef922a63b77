package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const testDefaults = `{{/* header */}}
{{- define "shopmesh.defaults" -}}
# -- Replicas.
# @schema {"minimum": 0}
replicas: 2
# The container's resources.
resources:
  # -- Requests.
  # @schema {"additionalProperties": {"$ref": "#/definitions/quantity"}}
  requests:
    cpu: 100m
mesh:
  # -- The mode.
  # @schema {"enum": ["none", "appmesh"]}
  mode: none
ingress:
  # -- Create the Ingress.
  enabled: false
# -- Extra environment.
env: {}
# -- Per-service overrides.
services: {}
{{- end -}}
`

func writeCharts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"shopmesh-lib/templates/_values.tpl": testDefaults,
		"web/chartgen.yaml": `header: |
  The web chart.
values:
  app:
    # -- App id.
    # @schema {"enum": ["web"]}
    id: web
  ingress:
    enabled: true
`,
		"platform/chartgen.yaml": `header: The platform.
settings: [mesh.mode]
values: {}
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGenerate(t *testing.T) {
	dir := writeCharts(t)
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	values, err := os.ReadFile(filepath.Join(dir, "web", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(values)
	for _, want := range []string{
		"# The web chart.\n",
		"app:\n  # -- App id.\n  id: web\n",
		"# -- Replicas.\nreplicas: 2\n",
		"  # -- Create the Ingress.\n  # This chart's default; the shared one is false.\n  enabled: true\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("values.yaml lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "@schema") {
		t.Errorf("values.yaml keeps @schema lines:\n%s", text)
	}

	var s map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "web", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	prop := func(path ...string) map[string]any {
		cur := s
		for _, p := range path {
			cur = cur["properties"].(map[string]any)[p].(map[string]any)
		}
		return cur
	}
	if r := prop("replicas"); r["type"] != "integer" || r["minimum"] != 0.0 || r["default"] != 2.0 || r["description"] != "Replicas." {
		t.Errorf("replicas: %v", r)
	}
	if m := prop("mesh", "mode"); len(m["enum"].([]any)) != 2 {
		t.Errorf("mesh.mode: %v", m)
	}
	if c := prop("resources", "requests", "cpu"); c["$ref"] != "#/definitions/quantity" || c["type"] != nil {
		t.Errorf("resources.requests.cpu inherits the map's additionalProperties: %v", c)
	}
	if s["additionalProperties"] != false || prop("resources")["additionalProperties"] != false {
		t.Error("maps with listed keys must be closed")
	}
	if e := prop("env"); e["additionalProperties"].(map[string]any)["type"] != "string" {
		t.Errorf("env: %v", e)
	}
	svc := prop("services")
	if svc["additionalProperties"] != false || svc["properties"].(map[string]any)["web"] == nil {
		t.Errorf("services: %v", svc)
	}
	if prop("ingress", "enabled")["default"] != true {
		t.Error("the chart's override is the schema's default")
	}

	// The platform shows only its settings but accepts every shared one.
	platform, err := os.ReadFile(filepath.Join(dir, "platform", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]any
	if err := yaml.Unmarshal(platform, &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 || shown["mesh"] == nil {
		t.Errorf("platform values.yaml shows %v, want mesh.mode only", shown)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "platform", "values.schema.json"))
	if !strings.Contains(string(data), `"replicas"`) {
		t.Error("the platform's schema must accept the services' settings")
	}
}

func TestGenerateRejects(t *testing.T) {
	cases := map[string]struct{ file, content string }{
		"template action": {"shopmesh-lib/templates/_values.tpl", strings.Replace(testDefaults, "replicas: 2", "replicas: {{ 2 }}", 1)},
		"bad @schema":     {"shopmesh-lib/templates/_values.tpl", strings.Replace(testDefaults, `{"minimum": 0}`, `{minimum: 0}`, 1)},
		"helm-docs key":   {"shopmesh-lib/templates/_values.tpl", strings.Replace(testDefaults, "# -- Replicas.", "# -- Replicas, see --set.", 1)},
		"unknown setting": {"platform/chartgen.yaml", "settings: [mesh.nope]\n"},
		"unknown field":   {"platform/chartgen.yaml", "setting: [mesh.mode]\n"},
		"map over scalar": {"web/chartgen.yaml", "values:\n  replicas:\n    a: 1\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writeCharts(t)
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := run(dir); err == nil {
				t.Error("no error")
			}
		})
	}
}
