package charts_test

// What an operator meets before and after an install: `helm show values`
// with every setting, its default and its meaning; values.schema.json that
// rejects a wrong value before anything renders; NOTES.txt with the
// release's real names; a README per chart; a `helm test` pod per chart.
// The files are generated (tools/cmd/chartgen, helm-docs: `go tool task
// deploy:charts:docs`); deploy:charts:docs:check proves them current, these
// tests what they say.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// installable are the charts an operator installs: the services and the platform.
var installable = append([]string{"shopmesh-platform"}, apps...)

func helmRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.String(), nil
}

// sharedDefaults is the shopmesh.defaults block of the library, the one
// source of every chart's values.yaml.
func sharedDefaults(t *testing.T) obj {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", "shopmesh-lib", "templates", "_values.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "{{- define \"shopmesh.defaults\" -}}\n")
	block, _, ok2 := strings.Cut(rest, "\n{{- end -}}")
	if !ok || !ok2 {
		t.Fatal("_values.tpl: no shopmesh.defaults block")
	}
	var out obj
	if err := yaml.Unmarshal([]byte(block), &out); err != nil {
		t.Fatalf("shopmesh.defaults: %v", err)
	}
	return out
}

// chartOwn is what a chart sets itself (charts/<chart>/chartgen.yaml).
func chartOwn(t *testing.T, chart string) (values obj, settings []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", chart, "chartgen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Settings []string `yaml:"settings"`
		Values   obj      `yaml:"values"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	return spec.Values, spec.Settings
}

// leaves flattens a values tree into dotted paths (an empty map or a list is a leaf).
func leaves(prefix string, v any, out map[string]any) {
	if m, ok := v.(obj); ok && len(m) > 0 {
		for k, c := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, c, out)
		}
		return
	}
	out[prefix] = v
}

// fills reports whether the chart's own values set keys under path.
func fills(own map[string]any, path string) bool {
	for p := range own {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

func shown(settings []string, path string) bool {
	if len(settings) == 0 {
		return true
	}
	for _, s := range settings {
		if path == s || strings.HasPrefix(path, s+".") {
			return true
		}
	}
	return false
}

func TestShowValuesHasTheDefaults(t *testing.T) {
	defaults := map[string]any{}
	leaves("", sharedDefaults(t), defaults)
	for _, w := range []string{"replicas", "autoscaling.enabled", "autoscaling.maxReplicas", "tracing.otlpEndpoint", "tracing.samplerRatio", "mesh.mode", "test.image.repository"} {
		if _, ok := defaults[w]; !ok {
			t.Fatalf("shopmesh.defaults has no %s", w)
		}
	}
	for _, chart := range installable {
		t.Run(chart, func(t *testing.T) {
			out, err := helmRun(t, "show", "values", filepath.Join(repoRoot(t), "charts", chart))
			if err != nil {
				t.Fatal(err)
			}
			var got obj
			if err := yaml.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			gotLeaves := map[string]any{}
			leaves("", got, gotLeaves)
			ownValues, settings := chartOwn(t, chart)
			own := map[string]any{}
			leaves("", ownValues, own)
			for path, want := range defaults {
				if !shown(settings, path) {
					continue
				}
				if o, ok := own[path]; ok {
					want = o
				} else if fills(own, path) {
					// An empty map by default that the chart fills (the storefront's env):
					// its entries are checked below.
					continue
				}
				g, ok := gotLeaves[path]
				if !ok {
					t.Errorf("helm show values lacks %s (default %v)", path, want)
				} else if !reflect.DeepEqual(g, want) {
					t.Errorf("helm show values: %s = %v, but the shared default is %v and the chart's chartgen.yaml does not set it", path, g, want)
				}
			}
			for path, want := range own {
				if g := gotLeaves[path]; !reflect.DeepEqual(g, want) {
					t.Errorf("helm show values: %s = %v, chartgen.yaml sets %v", path, g, want)
				}
			}
			if chart != "shopmesh-platform" {
				for _, w := range []string{"replicas", "autoscaling.enabled", "tracing.otlpEndpoint", "app.id", "app.port"} {
					if _, ok := gotLeaves[w]; !ok {
						t.Errorf("helm show values lacks %s", w)
					}
				}
				if gotLeaves["app.id"] != chart {
					t.Errorf("app.id %v", gotLeaves["app.id"])
				}
			}
			// Every setting shown carries its meaning: a "# --" comment (helm-docs).
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			for _, path := range undocumented(doc.Content[0], "") {
				t.Errorf("helm show values: %s has no `# --` comment saying what it means", path)
			}
		})
	}
}

// undocumented lists the leaves without a "# --" comment, unless a map above
// them has one (helm-docs then documents the map as a whole).
func undocumented(n *yaml.Node, prefix string) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if prefix != "" {
			p = prefix + "." + k.Value
		}
		documented := strings.Contains(k.HeadComment, "# --")
		switch {
		case documented:
		case v.Kind == yaml.MappingNode && len(v.Content) > 0:
			out = append(out, undocumented(v, p)...)
		default:
			out = append(out, p)
		}
	}
	return out
}

func TestSchemaRejectsWrongValues(t *testing.T) {
	const prefix = "values don't meet the specifications of the schema(s)"
	cases := []struct {
		set, want string
	}{
		{"replicas=two", "at '/replicas': got string, want integer"},
		{"autoscaling.enabled=yes", "at '/autoscaling/enabled': got string, want boolean"},
		{"mesh.mode=bogus", "at '/mesh/mode': value must be one of 'none', 'appmesh', 'lattice'"},
		{"replicaz=3", "additional properties 'replicaz' not allowed"},
		{"autoscaling.maxReplica=3", "at '/autoscaling': additional properties 'maxReplica' not allowed"},
		{"resources.requests.memory=128MB", "at '/resources/requests/memory': '128MB' does not match pattern"},
		{"services.catlog.replicas=1", "at '/services': additional properties 'catlog' not allowed"},
		{"services.orders.replicas=two", "at '/services/orders/replicas': got string, want integer"},
	}
	for _, chart := range installable {
		for _, tc := range cases {
			t.Run(chart+"/"+tc.set, func(t *testing.T) {
				_, err := renderErr(t, chart, "prod", "--set", tc.set)
				if err == nil || !strings.Contains(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("helm template --set %s: got %v, want the schema's %q", tc.set, err, tc.want)
				}
			})
		}
	}
	// helm lint reports the same, and the environment files themselves pass
	// (charts:lint runs every environment and mesh mode).
	out, err := helmRun(t, "lint", "--strict", "-n", "shopmesh", filepath.Join(repoRoot(t), "charts", "catalog"),
		"-f", filepath.Join(repoRoot(t), "charts", "values-dev.yaml"), "-f", filepath.Join(repoRoot(t), "charts", "infra-example.yaml"),
		"--set", "replicas=two")
	if err == nil || !strings.Contains(out+err.Error(), "at '/replicas': got string, want integer") {
		t.Errorf("helm lint --set replicas=two: %v\n%s", err, out)
	}
}

func TestSchemaFiles(t *testing.T) {
	for _, chart := range installable {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", chart, "values.schema.json"))
		if err != nil {
			t.Errorf("%s: %v", chart, err)
			continue
		}
		var s obj
		if err := json.Unmarshal(data, &s); err != nil {
			t.Errorf("%s/values.schema.json: %v", chart, err)
			continue
		}
		if s["$schema"] != "http://json-schema.org/draft-07/schema#" || s["additionalProperties"] != false {
			t.Errorf("%s/values.schema.json: $schema %v, additionalProperties %v: want draft 7, closed", chart, s["$schema"], s["additionalProperties"])
		}
		for _, k := range []string{"replicas", "autoscaling", "mesh", "services", "test"} {
			if get(s, "properties", k) == nil {
				t.Errorf("%s/values.schema.json has no property %s", chart, k)
			}
		}
	}
}

func TestChartFiles(t *testing.T) {
	root := repoRoot(t)
	for _, chart := range append(slices.Clone(installable), "shopmesh-lib") {
		readme, err := os.ReadFile(filepath.Join(root, "charts", chart, "README.md"))
		if err != nil {
			t.Errorf("%s: %v (run `go tool task deploy:charts:docs`)", chart, err)
			continue
		}
		if !bytes.HasPrefix(readme, []byte("# "+chart+"\n")) || !bytes.Contains(readme, []byte("helm-docs")) {
			t.Errorf("charts/%s/README.md is not helm-docs' output", chart)
		}
		if chart == "shopmesh-lib" {
			continue
		}
		for _, want := range []string{"## Values", "| environment | string |", "| mesh.mode | string | `\"none\"` |", "helm test " + chart} {
			if !bytes.Contains(readme, []byte(want)) {
				t.Errorf("charts/%s/README.md lacks %q", chart, want)
			}
		}
		if chart != "shopmesh-platform" && !bytes.Contains(readme, []byte("| replicas | int | `2` |")) {
			t.Errorf("charts/%s/README.md does not document replicas", chart)
		}
		// The packaged chart keeps it (.helmignore drops only the linked folders' *.md).
		if out, err := helmRun(t, "show", "readme", filepath.Join(root, "charts", chart)); err != nil || !strings.HasPrefix(out, "# "+chart) {
			t.Errorf("helm show readme charts/%s: %v %.40q", chart, err, out)
		}
		notes, err := os.ReadFile(filepath.Join(root, "charts", chart, "templates", "NOTES.txt"))
		if err != nil || len(bytes.TrimSpace(notes)) == 0 {
			t.Errorf("charts/%s/templates/NOTES.txt: %v", chart, err)
		}
		tests, _ := filepath.Glob(filepath.Join(root, "charts", chart, "templates", "tests", "*.yaml"))
		if len(tests) == 0 {
			t.Errorf("charts/%s/templates/tests/ has no test hook", chart)
		}
	}
}

// testPod returns the chart's rendered `helm test` pod.
func testPod(t *testing.T, docs []obj) obj {
	t.Helper()
	var pods []obj
	for _, d := range kinds(docs, "Pod") {
		if str(d, "metadata", "annotations", "helm.sh/hook") == "test" {
			pods = append(pods, d)
		}
	}
	if len(pods) != 1 {
		t.Fatalf("%d Pods with helm.sh/hook: test, want 1", len(pods))
	}
	return pods[0]
}

func TestHelmTestPods(t *testing.T) {
	ports := appPorts(t)
	defaults := sharedDefaults(t)
	wantImage := str(defaults, "test", "image", "repository") + ":" + str(defaults, "test", "image", "tag")
	for _, chart := range installable {
		for _, mode := range []string{"none", "appmesh"} {
			t.Run(chart+"/"+mode, func(t *testing.T) {
				docs := render(t, chart, "prod", "--set", "mesh.mode="+mode)
				pod := testPod(t, docs)
				ann := get(pod, "metadata", "annotations").(obj)
				if ann["dapr.io/enabled"] != "false" || ann["appmesh.k8s.aws/sidecarInjectorWebhook"] != "disabled" {
					t.Errorf("the test pod must get no sidecar: %v", ann)
				}
				spec := get(pod, "spec").(obj)
				if spec["restartPolicy"] != "Never" || spec["automountServiceAccountToken"] != false {
					t.Errorf("restartPolicy %v, automountServiceAccountToken %v", spec["restartPolicy"], spec["automountServiceAccountToken"])
				}
				if get(spec, "securityContext", "runAsNonRoot") != true || str(spec, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
					t.Errorf("pod securityContext %v", spec["securityContext"])
				}
				cs := list(spec, "containers")
				if len(cs) != 1 {
					t.Fatalf("%d containers", len(cs))
				}
				c := cs[0]
				sc := get(c, "securityContext")
				if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false || !reflect.DeepEqual(list(sc, "capabilities", "drop"), []any{"ALL"}) {
					t.Errorf("container securityContext %v", sc)
				}
				if str(c, "image") != wantImage {
					t.Errorf("image %s, want test.image %s", str(c, "image"), wantImage)
				}
				if get(c, "resources", "limits", "memory") == nil {
					t.Errorf("resources %v", get(c, "resources"))
				}
				if chart == "shopmesh-platform" {
					if vols := list(spec, "volumes"); len(vols) != 1 || str(vols[0], "configMap", "name") != "aws-rds-ca" {
						t.Errorf("the platform's test pod does not mount the CA bundle: %v", spec["volumes"])
					}
					return
				}
				url := fmt.Sprintf("http://%s.shopmesh.svc.cluster.local:%d/readyz", chart, ports[chart])
				args := list(c, "args")
				if len(args) == 0 || args[len(args)-1] != url || !slices.Contains(args, any("--fail")) {
					t.Errorf("args %v, want curl --fail ... %s", args, url)
				}
				// Not an endpoint of the app's Service, and admitted by the app's NetworkPolicy.
				labels := get(pod, "metadata", "labels").(obj)
				if labels["app.kubernetes.io/name"] == chart {
					t.Errorf("the test pod carries the app's selector labels: %v", labels)
				}
				var admitted bool
				for _, rule := range list(one(t, docs, "NetworkPolicy", chart), "spec", "ingress") {
					for _, from := range list(rule, "from") {
						sel, _ := get(from, "podSelector", "matchLabels").(obj)
						if len(sel) == 0 {
							continue
						}
						match := true
						for k, v := range sel {
							match = match && labels[k] == v
						}
						if match && slices.ContainsFunc(list(rule, "ports"), func(p any) bool { return get(p, "port") == "http" }) {
							admitted = true
						}
					}
				}
				if !admitted {
					t.Error("the app's NetworkPolicy does not admit the test pod on the port http")
				}
				if mode != "none" {
					return
				}
				if disabled := render(t, chart, "prod", "--set", "test.enabled=false"); len(kinds(disabled, "Pod")) != 0 {
					t.Error("test.enabled=false still renders a test pod")
				}
			})
		}
	}
}

// renderNotes renders a chart's NOTES.txt with the release's values: helm
// template leaves NOTES.txt out, so a copy of the chart (links to the
// original's files) renders it through tpl into a ConfigMap.
func renderNotes(t *testing.T, chart, env string, extra ...string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "charts", chart)
	notes, err := os.ReadFile(filepath.Join(src, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), chart)
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "templates" && e.Name() != ".helmignore" {
			if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	probe := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl " + strconv.Quote(string(notes)) + " . | toJson }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes.yaml"), []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	root := repoRoot(t)
	args := []string{"template", chart, dir, "-n", "shopmesh", "--kube-version", "1.34.0",
		"-f", filepath.Join(root, "charts", "values-"+env+".yaml"), "-f", filepath.Join(root, "charts", "infra-example.yaml")}
	out, err := helmRun(t, append(args, extra...)...)
	if err != nil {
		t.Fatalf("rendering NOTES.txt of %s: %v", chart, err)
	}
	return str(one(t, decodeAll(t, []byte(out)), "ConfigMap", "notes"), "data", "notes")
}

func TestNotes(t *testing.T) {
	ports := appPorts(t)
	for _, chart := range installable {
		t.Run(chart, func(t *testing.T) {
			notes := renderNotes(t, chart, "prod")
			want := []string{"helm test " + chart + " -n shopmesh", "prod", "helm show values charts/" + chart}
			if chart == "shopmesh-platform" {
				want = append(want, "kubectl -n shopmesh get components.dapr.io", "configmap aws-rds-ca")
			} else {
				want = append(want,
					"kubectl -n shopmesh get pods -l app.kubernetes.io/name="+chart+",app.kubernetes.io/part-of=shopmesh",
					"kubectl -n shopmesh rollout status deployment/"+chart,
					"daprd",
					fmt.Sprintf("http://%s.shopmesh.svc.cluster.local:%d/readyz", chart, ports[chart]),
					"kubectl -n shopmesh logs deploy/"+chart+" -c app",
					"/aws/containerinsights/",
					"http://otel-collector.observability.svc.cluster.local:4318",
					"X-Ray",
					"111122223333.dkr.ecr.eu-west-1.amazonaws.com/shopmesh/"+chart+":0.1.0",
				)
			}
			if slices.Contains(withIngress, chart) {
				want = append(want, "kubectl -n shopmesh get ingress "+chart, "https://api.shop.example/", "Ingress group", "shopmesh-prod")
			}
			for _, w := range want {
				if !strings.Contains(notes, w) {
					t.Errorf("NOTES.txt lacks %q:\n%s", w, notes)
				}
			}
			if strings.Contains(notes, "<no value>") || strings.Contains(notes, "%!") {
				t.Errorf("NOTES.txt has an unfilled value:\n%s", notes)
			}
			if !slices.Contains(withIngress, chart) && strings.Contains(notes, "get ingress") {
				t.Errorf("NOTES.txt of %s mentions an Ingress it does not have", chart)
			}
		})
	}
	if notes := renderNotes(t, "catalog", "dev", "--set", "mesh.mode=appmesh"); !strings.Contains(notes, "virtualnodes") {
		t.Errorf("appmesh: NOTES.txt lacks the mesh objects:\n%s", notes)
	}
	if notes := renderNotes(t, "orders", "dev"); !strings.Contains(notes, "kubectl -n shopmesh logs job/orders-migrate") {
		t.Errorf("orders (PostgreSQL): NOTES.txt lacks the migration Job:\n%s", notes)
	}
	if notes := renderNotes(t, "catalog", "dev"); strings.Contains(notes, "migrate") {
		t.Errorf("catalog has no PostgreSQL store: NOTES.txt mentions a migration:\n%s", notes)
	}
}
