// Package charts_test renders the Helm charts with the real helm binary
// (built by tools/build.sh; `go tool task deploy:charts:test`) and checks what
// they produce against the repository's single sources: the Dapr resources
// equal components/aws and dapr/aws, app ids and ports equal dapr/dapr.yaml,
// each sidecar gets exactly the variables and CA bundles its components need,
// and the NetworkPolicy admits exactly the callers of the app's access-control
// policy. Without helm (SHOPMESH_HELM unset and no .local/bin/helm) the tests
// skip; with SHOPMESH_HELM set they must run.
package charts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var apps = []string{"gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search", "storefront"}

// withIngress are the apps the ALB reaches: the gateway's public API and the storefront's pages.
var withIngress = []string{"gateway", "storefront"}

// nonCritical may run on spot nodes (scheduling.critical: false in their charts).
var nonCritical = []string{"notifications", "search"}

type obj = map[string]any

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(dir)
}

func helmBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SHOPMESH_HELM"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("SHOPMESH_HELM=%s: %v", bin, err)
		}
		return bin
	}
	bin := filepath.Join(repoRoot(t), ".local", "bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("helm not built: run `bash tools/build.sh helm` or `go tool task deploy:charts:test`")
	}
	return bin
}

// render runs helm template for a chart with the environment file, the
// example infrastructure values and extra arguments.
func render(t *testing.T, chart, env string, extra ...string) []obj {
	t.Helper()
	out, err := renderErr(t, chart, env, extra...)
	if err != nil {
		t.Fatalf("helm template %s (%s %v): %v", chart, env, extra, err)
	}
	return out
}

func renderErr(t *testing.T, chart, env string, extra ...string) ([]obj, error) {
	t.Helper()
	root := repoRoot(t)
	args := []string{"template", chart, filepath.Join(root, "charts", chart), "-n", "shopmesh", "--kube-version", "1.34.0"}
	if env != "" {
		args = append(args, "-f", filepath.Join(root, "charts", "values-"+env+".yaml"), "-f", filepath.Join(root, "charts", "infra-example.yaml"))
	}
	args = append(args, extra...)
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return decodeAll(t, stdout.Bytes()), nil
}

func decodeAll(t *testing.T, data []byte) []obj {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func readDocs(t *testing.T, path, env string) []obj {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, bytes.ReplaceAll(data, []byte("${SHOPMESH_ENV}"), []byte(env)))
}

// get walks a path of map keys.
func get(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(obj)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func str(o any, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

func list(o any, path ...string) []any {
	l, _ := get(o, path...).([]any)
	return l
}

func kinds(docs []obj, kind string) []obj {
	var out []obj
	for _, d := range docs {
		if d["kind"] == kind {
			out = append(out, d)
		}
	}
	return out
}

func one(t *testing.T, docs []obj, kind, name string) obj {
	t.Helper()
	for _, d := range kinds(docs, kind) {
		if str(d, "metadata", "name") == name {
			return d
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// withoutChartMeta drops what the chart adds to a Dapr document (namespace,
// labels), leaving what must equal the source file.
func withoutChartMeta(d obj) obj {
	c := obj{}
	for k, v := range d {
		c[k] = v
	}
	meta := obj{}
	for k, v := range d["metadata"].(obj) {
		if k != "namespace" && k != "labels" {
			meta[k] = v
		}
	}
	c["metadata"] = meta
	return c
}

// appPorts reads app ids and ports from dapr/dapr.yaml.
func appPorts(t *testing.T) map[string]int {
	t.Helper()
	var run struct {
		Apps []struct {
			AppID   string `yaml:"appID"`
			AppPort int    `yaml:"appPort"`
		} `yaml:"apps"`
	}
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "dapr", "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	ports := map[string]int{}
	for _, a := range run.Apps {
		ports[a.AppID] = a.AppPort
	}
	return ports
}

// sourceComponents loads components/aws with the given alternatives applied.
func sourceComponents(t *testing.T, env string, alternatives ...string) map[string]obj {
	t.Helper()
	root := repoRoot(t)
	paths, _ := filepath.Glob(filepath.Join(root, "components", "aws", "*.yaml"))
	out := map[string]obj{}
	for _, p := range paths {
		for _, d := range readDocs(t, p, env) {
			out[str(d, "metadata", "name")] = d
		}
	}
	for _, a := range alternatives {
		for _, d := range readDocs(t, filepath.Join(root, "components", "aws-alternatives", a+".yaml"), env) {
			out[str(d, "metadata", "name")] = d
		}
	}
	return out
}

// appNeeds derives from an app's components the dapr.io/env names, CA
// mounts and whether it has a PostgreSQL store.
func appNeeds(comps map[string]obj, app string) (envs []string, mounts []string, postgres bool) {
	seen := map[string]bool{}
	var pg, mongo bool
	for _, c := range comps {
		scopes := list(c, "scopes")
		if len(scopes) > 0 && !slices.Contains(scopes, any(app)) {
			continue
		}
		for _, m := range list(c, "spec", "metadata") {
			if ref := str(m, "envRef"); ref != "" && !seen[ref] {
				seen[ref] = true
				envs = append(envs, ref)
			}
		}
		switch str(c, "spec", "type") {
		case "state.postgresql":
			pg = true
		case "state.mongodb":
			mongo = true
		}
	}
	sort.Strings(envs)
	if pg {
		mounts = append(mounts, "rds-ca:/etc/rds")
	}
	if mongo {
		mounts = append(mounts, "docdb-ca:/etc/docdb")
	}
	return envs, mounts, pg
}

// callers are the app ids allowed by the app's Configuration in dapr/aws/config.yaml.
func callers(t *testing.T, app string) (obj, []string) {
	t.Helper()
	for _, d := range readDocs(t, filepath.Join(repoRoot(t), "dapr", "aws", "config.yaml"), "") {
		if str(d, "metadata", "name") == "shopmesh-"+app {
			var out []string
			for _, p := range list(d, "spec", "accessControl", "policies") {
				out = append(out, str(p, "appId"))
			}
			return d, out
		}
	}
	t.Fatalf("dapr/aws/config.yaml has no shopmesh-%s", app)
	return nil, nil
}

func TestPlatformRendersTheSourceFiles(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		docs := render(t, "shopmesh-platform", env)
		src := sourceComponents(t, env)
		got := kinds(docs, "Component")
		if len(got) != len(src) {
			t.Errorf("%s: %d Components rendered, components/aws has %d", env, len(got), len(src))
		}
		for _, c := range got {
			name := str(c, "metadata", "name")
			if str(c, "metadata", "namespace") != "shopmesh" {
				t.Errorf("%s: Component %s not in namespace shopmesh", env, name)
			}
			if !reflect.DeepEqual(withoutChartMeta(c), src[name]) {
				t.Errorf("%s: Component %s differs from components/aws/%s.yaml with ${SHOPMESH_ENV}=%s:\n got %v\nwant %v", env, name, name, env, withoutChartMeta(c), src[name])
			}
			if bytes.Contains([]byte(fmt.Sprint(c)), []byte("${SHOPMESH_ENV}")) {
				t.Errorf("%s: Component %s still holds ${SHOPMESH_ENV}", env, name)
			}
		}
		res := readDocs(t, filepath.Join(repoRoot(t), "dapr", "aws", "resiliency.yaml"), env)
		if !reflect.DeepEqual(withoutChartMeta(one(t, docs, "Resiliency", "shopmesh")), res[0]) {
			t.Errorf("%s: the Resiliency differs from dapr/aws/resiliency.yaml", env)
		}
		one(t, docs, "NetworkPolicy", "default-deny-ingress")
		if len(kinds(docs, "Configuration")) != 0 {
			t.Errorf("%s: Configurations belong to the service charts", env)
		}
	}
}

func TestServices(t *testing.T) {
	ports := appPorts(t)
	for _, env := range []string{"dev", "staging", "prod"} {
		comps := sourceComponents(t, env)
		for _, app := range apps {
			t.Run(env+"/"+app, func(t *testing.T) {
				docs := render(t, app, env)
				checkService(t, docs, env, app, ports[app], comps)
			})
		}
	}
}

func checkService(t *testing.T, docs []obj, env, app string, port int, comps map[string]obj) {
	t.Helper()
	if port == 0 {
		t.Fatalf("dapr/dapr.yaml has no app %s", app)
	}
	dep := one(t, docs, "Deployment", app)
	pod := get(dep, "spec", "template").(obj)
	ann := get(pod, "metadata", "annotations").(obj)
	want := map[string]string{
		"dapr.io/enabled":          "true",
		"dapr.io/app-id":           app,
		"dapr.io/app-port":         fmt.Sprint(port),
		"dapr.io/config":           "shopmesh-" + app,
		"dapr.io/log-as-json":      "true",
		"dapr.io/api-token-secret": app + "-dapr-api-token",
		"dapr.io/app-token-secret": app + "-dapr-app-token",
	}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("annotation %s = %v, want %q", k, ann[k], v)
		}
	}
	for _, k := range []string{"dapr.io/sidecar-cpu-request", "dapr.io/sidecar-cpu-limit", "dapr.io/sidecar-memory-request", "dapr.io/sidecar-memory-limit"} {
		if ann[k] == nil || ann[k] == "" {
			t.Errorf("annotation %s missing", k)
		}
	}

	envs, mounts, postgres := appNeeds(comps, app)
	var gotEnv []string
	if s, _ := ann["dapr.io/env"].(string); s != "" {
		for _, kv := range strings.Split(s, ",") {
			if name, _, ok := strings.Cut(kv, "="); ok && regexp.MustCompile(`^[A-Z_]+$`).MatchString(name) {
				gotEnv = append(gotEnv, name)
			}
		}
	}
	sort.Strings(gotEnv)
	if !slices.Equal(gotEnv, envs) {
		t.Errorf("dapr.io/env names %v, want the envRefs of the app's components %v", gotEnv, envs)
	}
	gotMounts, _ := ann["dapr.io/volume-mounts"].(string)
	if gotMounts != strings.Join(mounts, ",") {
		t.Errorf("dapr.io/volume-mounts %q, want %q", gotMounts, strings.Join(mounts, ","))
	}
	volumes := map[string]bool{}
	for _, v := range list(pod, "spec", "volumes") {
		volumes[str(v, "name")] = true
	}
	for _, m := range mounts {
		if vol, _, _ := strings.Cut(m, ":"); !volumes[vol] {
			t.Errorf("volume %s of dapr.io/volume-mounts is not in the pod", vol)
		}
	}

	// Non-root, read-only root filesystem, no capabilities, probes, resources.
	spec := get(pod, "spec").(obj)
	if get(spec, "securityContext", "runAsNonRoot") != true || str(spec, "securityContext", "seccompProfile", "type") != "RuntimeDefault" {
		t.Errorf("pod securityContext %v", spec["securityContext"])
	}
	c := list(spec, "containers")[0]
	sc := get(c, "securityContext")
	if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false || !reflect.DeepEqual(list(sc, "capabilities", "drop"), []any{"ALL"}) {
		t.Errorf("container securityContext %v", sc)
	}
	if str(c, "readinessProbe", "httpGet", "path") != "/readyz" || str(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Errorf("probes: readiness %v, liveness %v", get(c, "readinessProbe"), get(c, "livenessProbe"))
	}
	if get(c, "resources", "requests", "cpu") == nil || get(c, "resources", "limits", "memory") == nil {
		t.Errorf("resources %v", get(c, "resources"))
	}
	image := str(c, "image")
	if image != "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shopmesh/"+app+":0.1.0" {
		t.Errorf("image %s", image)
	}
	var envNames []string
	for _, e := range list(c, "env") {
		envNames = append(envNames, str(e, "name"))
	}
	for _, n := range []string{"APP_ID", "APP_PORT", "LISTEN_HOST", "SHOPMESH_ENV", "DAPR_API_TOKEN", "APP_API_TOKEN"} {
		if !slices.Contains(envNames, n) {
			t.Errorf("app container lacks %s", n)
		}
	}

	// Spread over zones; spot only for the non-critical apps in prod.
	zone := list(spec, "topologySpreadConstraints")[0]
	wantZone := "ScheduleAnyway"
	if env == "prod" {
		wantZone = "DoNotSchedule"
	}
	if str(zone, "topologyKey") != "topology.kubernetes.io/zone" || str(zone, "whenUnsatisfiable") != wantZone {
		t.Errorf("zone spread %v, want whenUnsatisfiable %s", zone, wantZone)
	}
	spot := len(list(spec, "tolerations")) > 0
	if wantSpot := env == "prod" && slices.Contains(nonCritical, app); spot != wantSpot {
		t.Errorf("tolerates spot: %v, want %v", spot, wantSpot)
	}

	sa := one(t, docs, "ServiceAccount", app)
	if role := str(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn"); role != "arn:aws:iam::111122223333:role/shopmesh-"+env+"-"+app {
		t.Errorf("IRSA role %q", role)
	}
	svc := one(t, docs, "Service", app)
	if p := list(svc, "spec", "ports")[0]; get(p, "port") != port {
		t.Errorf("Service port %v, want %d", get(p, "port"), port)
	}
	if hpa := kinds(docs, "HorizontalPodAutoscaler"); (len(hpa) == 1) != (env != "dev") {
		t.Errorf("%d HPAs, want one outside dev", len(hpa))
	}
	if (get(dep, "spec", "replicas") == nil) != (env != "dev") {
		t.Errorf("replicas %v: set only without autoscaling", get(dep, "spec", "replicas"))
	}
	one(t, docs, "PodDisruptionBudget", app)
	for _, name := range []string{app + "-dapr-api-token", app + "-dapr-app-token"} {
		one(t, docs, "Secret", name)
	}

	// Dapr Configuration from dapr/aws/config.yaml; NetworkPolicy admits its callers.
	srcConfig, wantCallers := callers(t, app)
	if !reflect.DeepEqual(withoutChartMeta(one(t, docs, "Configuration", "shopmesh-"+app)), srcConfig) {
		t.Errorf("Configuration shopmesh-%s differs from dapr/aws/config.yaml", app)
	}
	np := one(t, docs, "NetworkPolicy", app)
	var gotCallers []string
	for _, rule := range list(np, "spec", "ingress") {
		for _, p := range list(rule, "ports") {
			if get(p, "port") == 50002 {
				for _, from := range list(rule, "from") {
					for _, e := range list(from, "podSelector", "matchExpressions") {
						if str(e, "key") == "app.kubernetes.io/name" {
							for _, v := range list(e, "values") {
								gotCallers = append(gotCallers, v.(string))
							}
						}
					}
				}
			}
		}
	}
	if !slices.Equal(gotCallers, wantCallers) {
		t.Errorf("NetworkPolicy admits callers %v on :50002, want %v (access control)", gotCallers, wantCallers)
	}

	jobs := kinds(docs, "Job")
	if (len(jobs) == 1) != postgres {
		t.Fatalf("%d migration Jobs; the app has a PostgreSQL store: %v", len(jobs), postgres)
	}
	if postgres {
		job := jobs[0]
		if str(job, "metadata", "annotations", "helm.sh/hook") != "pre-install,pre-upgrade" {
			t.Errorf("migration Job is not a pre-install/pre-upgrade hook")
		}
		jc := list(job, "spec", "template", "spec", "containers")[0]
		if !reflect.DeepEqual(list(jc, "args"), []any{"-services", app, "-secrets-file", "/var/run/secrets/shopmesh/secrets.json"}) {
			t.Errorf("migration args %v", list(jc, "args"))
		}
		if str(jc, "image") != "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shopmesh/migrate:0.1.0" {
			t.Errorf("migration image %s", str(jc, "image"))
		}
	}

	ing := kinds(docs, "Ingress")
	if (len(ing) == 1) != slices.Contains(withIngress, app) {
		t.Errorf("%d Ingresses; only %v have one", len(ing), withIngress)
	}
}

func TestGatewayIngress(t *testing.T) {
	docs := render(t, "gateway", "prod")
	ing := one(t, docs, "Ingress", "gateway")
	ann := get(ing, "metadata", "annotations").(obj)
	for k, v := range map[string]string{
		"alb.ingress.kubernetes.io/scheme":           "internet-facing",
		"alb.ingress.kubernetes.io/target-type":      "ip",
		"alb.ingress.kubernetes.io/healthcheck-path": "/readyz",
		"alb.ingress.kubernetes.io/certificate-arn":  "arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000",
		"alb.ingress.kubernetes.io/security-groups":  "sg-0123456789abcdef0",
	} {
		if ann[k] != v {
			t.Errorf("annotation %s = %v, want %s", k, ann[k], v)
		}
	}
	if !strings.Contains(fmt.Sprint(ann["alb.ingress.kubernetes.io/load-balancer-attributes"]), "deletion_protection.enabled=true") {
		t.Errorf("prod ALB without deletion protection: %v", ann["alb.ingress.kubernetes.io/load-balancer-attributes"])
	}
	if str(ing, "spec", "ingressClassName") != "alb" {
		t.Errorf("ingressClassName %q", str(ing, "spec", "ingressClassName"))
	}
	np := one(t, docs, "NetworkPolicy", "gateway")
	if !strings.Contains(fmt.Sprint(get(np, "spec", "ingress")), "10.20.0.0/20") {
		t.Errorf("the gateway's NetworkPolicy does not admit the ALB's subnets")
	}
	dep := one(t, docs, "Deployment", "gateway")
	var secretEnv bool
	for _, e := range list(get(dep, "spec", "template", "spec", "containers").([]any)[0], "env") {
		if str(e, "name") == "REDIS_PASSWORD" && str(e, "valueFrom", "secretKeyRef", "name") == "gateway-env" {
			secretEnv = true
		}
	}
	if !secretEnv {
		t.Error("REDIS_PASSWORD does not come from the synced Secret gateway-env")
	}
	spc := one(t, docs, "SecretProviderClass", "gateway-env")
	if !strings.Contains(str(spc, "spec", "parameters", "objects"), "shopmesh/prod/gateway/redis-auth-token") {
		t.Errorf("SecretProviderClass objects %q", str(spc, "spec", "parameters", "objects"))
	}
}

// ingressRoutes lists an Ingress's paths as "<pathType> <path> -> <backend service>".
func ingressRoutes(ing obj) []string {
	var out []string
	for _, r := range list(ing, "spec", "rules") {
		for _, p := range list(r, "http", "paths") {
			out = append(out, str(p, "pathType")+" "+str(p, "path")+" -> "+str(p, "backend", "service", "name"))
		}
	}
	return out
}

// envOf returns the value of the app container's variable name.
func envOf(dep obj, name string) string {
	for _, e := range list(get(dep, "spec", "template", "spec", "containers").([]any)[0], "env") {
		if str(e, "name") == name {
			return str(e, "value")
		}
	}
	return ""
}

// TestOneALB: the gateway's and the storefront's Ingresses make one ALB (an
// Ingress group). The gateway takes the paths of its public API, the
// storefront every other path, its rules tried after the gateway's; the
// settings that belong to the ALB rather than to one Ingress agree; /metrics
// is not public. The storefront reaches the gateway through its Service, which
// the gateway's NetworkPolicy lets it.
func TestOneALB(t *testing.T) {
	ports := appPorts(t)
	// The annotations whose MergeBehavior is Exclusive in the AWS Load Balancer
	// Controller's documentation: one value for every Ingress of a group.
	exclusive := []string{"group.name", "scheme", "listen-ports", "ssl-redirect", "ssl-policy", "load-balancer-attributes", "security-groups", "manage-backend-security-group-rules", "wafv2-acl-arn"}
	for _, env := range []string{"dev", "staging", "prod"} {
		gwDocs, sfDocs := render(t, "gateway", env), render(t, "storefront", env)
		gw, sf := one(t, gwDocs, "Ingress", "gateway"), one(t, sfDocs, "Ingress", "storefront")
		for _, k := range exclusive {
			k = "alb.ingress.kubernetes.io/" + k
			if g, s := get(gw, "metadata", "annotations", k), get(sf, "metadata", "annotations", k); !reflect.DeepEqual(g, s) {
				t.Errorf("%s: %s is %v on the gateway's Ingress and %v on the storefront's: one ALB, one value", env, k, g, s)
			}
		}
		if got := str(sf, "metadata", "annotations", "alb.ingress.kubernetes.io/group.name"); got != "shopmesh-"+env {
			t.Errorf("%s: group.name %q", env, got)
		}
		if g, s := list(gw, "spec", "rules")[0].(obj)["host"], list(sf, "spec", "rules")[0].(obj)["host"]; g != "api.shop.example" || s != g {
			t.Errorf("%s: hosts %v (gateway) and %v (storefront), want both api.shop.example", env, g, s)
		}
		if got, want := ingressRoutes(gw), []string{"Prefix /api -> gateway", "Prefix /graphql -> gateway", "Prefix /.well-known -> gateway", "Prefix /openapi.json -> gateway"}; !slices.Equal(got, want) {
			t.Errorf("%s: the gateway's Ingress routes %v, want %v", env, got, want)
		}
		if got, want := ingressRoutes(sf), []string{"Exact /metrics -> metrics-not-found", "Prefix / -> storefront"}; !slices.Equal(got, want) {
			t.Errorf("%s: the storefront's Ingress routes %v, want %v", env, got, want)
		}
		var action struct {
			Type                string
			FixedResponseConfig struct{ StatusCode string }
		}
		if err := json.Unmarshal([]byte(str(sf, "metadata", "annotations", "alb.ingress.kubernetes.io/actions.metrics-not-found")), &action); err != nil ||
			action.Type != "fixed-response" || action.FixedResponseConfig.StatusCode != "404" {
			t.Errorf("%s: /metrics is not answered 404 by the ALB: %+v %v", env, action, err)
		}
		if _, ok := get(gw, "metadata", "annotations").(obj)["alb.ingress.kubernetes.io/actions.metrics-not-found"]; ok {
			t.Errorf("%s: the gateway's Ingress routes no /metrics, yet carries the action", env)
		}
		gwOrder, err1 := strconv.Atoi(str(gw, "metadata", "annotations", "alb.ingress.kubernetes.io/group.order"))
		sfOrder, err2 := strconv.Atoi(str(sf, "metadata", "annotations", "alb.ingress.kubernetes.io/group.order"))
		if err1 != nil || err2 != nil || sfOrder <= gwOrder {
			t.Errorf("%s: group.order gateway %d, storefront %d (%v %v): the storefront's catch-all must come last", env, gwOrder, sfOrder, err1, err2)
		}
		if str(sf, "metadata", "annotations", "alb.ingress.kubernetes.io/healthcheck-path") != "/readyz" {
			t.Errorf("%s: the storefront's target group is not checked on /readyz", env)
		}

		// The storefront calls the gateway's Service, as the gateway chart names it.
		svc := one(t, gwDocs, "Service", "gateway")
		want := fmt.Sprintf("http://%s.shopmesh.svc.cluster.local:%v", str(svc, "metadata", "name"), get(list(svc, "spec", "ports")[0], "port"))
		if got := envOf(one(t, sfDocs, "Deployment", "storefront"), "GATEWAY_URL"); got != want || !strings.HasSuffix(got, fmt.Sprint(ports["gateway"])) {
			t.Errorf("%s: GATEWAY_URL %q, want %q", env, got, want)
		}
		// It believes X-Forwarded-For from the ALB only.
		if got := envOf(one(t, sfDocs, "Deployment", "storefront"), "STOREFRONT_TRUSTED_PROXIES"); got != "10.20.0.0/20,10.20.16.0/20,10.20.32.0/20" {
			t.Errorf("%s: STOREFRONT_TRUSTED_PROXIES %q, want the ALB's subnets", env, got)
		}
		var admitted bool
		for _, rule := range list(one(t, gwDocs, "NetworkPolicy", "gateway"), "spec", "ingress") {
			if !slices.ContainsFunc(list(rule, "ports"), func(p any) bool { return get(p, "port") == "http" }) {
				continue
			}
			for _, from := range list(rule, "from") {
				for _, e := range list(from, "podSelector", "matchExpressions") {
					if str(e, "key") == "app.kubernetes.io/name" && reflect.DeepEqual(list(e, "values"), []any{"storefront"}) {
						admitted = true
					}
				}
			}
		}
		if !admitted {
			t.Errorf("%s: the gateway's NetworkPolicy keeps the storefront's pods off its port", env)
		}
	}
}

func TestAlternatives(t *testing.T) {
	alts := []string{"catalog-store.rds", "notifications-store.rds", "pubsub.snssqs"}
	set := "components.alternatives={" + strings.Join(alts, ",") + "}"
	docs := render(t, "shopmesh-platform", "prod", "--set", set)
	src := sourceComponents(t, "prod", alts...)
	for _, c := range kinds(docs, "Component") {
		name := str(c, "metadata", "name")
		if !reflect.DeepEqual(withoutChartMeta(c), src[name]) {
			t.Errorf("Component %s is not the alternative's file", name)
		}
	}
	if typ := str(one(t, docs, "Component", "pubsub"), "spec", "type"); typ != "pubsub.aws.snssqs" {
		t.Errorf("pubsub type %s with the SNS/SQS alternative", typ)
	}
	if len(kinds(docs, "Component")) == 0 {
		t.Error("no Component rendered")
	}
	for _, c := range kinds(docs, "Component") {
		if name := str(c, "metadata", "name"); strings.HasPrefix(name, "pubsub-outbox") {
			t.Errorf("Component %s rendered: no profile has a pubsub-outbox any more", name)
		}
	}
	ports := appPorts(t)
	for _, app := range []string{"catalog", "notifications"} {
		checkService(t, render(t, app, "prod", "--set", set), "prod", app, ports[app], src)
	}
	if _, err := renderErr(t, "shopmesh-platform", "prod", "--set", "components.alternatives={catalog-store.dynamodb}"); err == nil || !strings.Contains(err.Error(), "not a file of components/aws-alternatives") {
		t.Errorf("an unknown alternative: %v", err)
	}
}

func TestMeshModes(t *testing.T) {
	meshKinds := []string{"VirtualNode", "VirtualRouter", "VirtualService", "HTTPRoute", "Mesh", "Gateway"}
	count := func(docs []obj) map[string]int {
		n := map[string]int{}
		for _, k := range meshKinds {
			n[k] = len(kinds(docs, k))
		}
		return n
	}
	for _, mode := range []string{"none", "appmesh", "lattice"} {
		platform := count(render(t, "shopmesh-platform", "staging", "--set", "mesh.mode="+mode))
		wantPlatform := map[string]int{"VirtualNode": 0, "VirtualRouter": 0, "VirtualService": 0, "HTTPRoute": 0, "Mesh": 0, "Gateway": 0}
		switch mode {
		case "appmesh":
			wantPlatform["Mesh"] = 1
		case "lattice":
			wantPlatform["Gateway"] = 1
		}
		if !reflect.DeepEqual(platform, wantPlatform) {
			t.Errorf("%s: platform renders %v, want %v", mode, platform, wantPlatform)
		}
		for _, app := range apps {
			docs := render(t, app, "staging", "--set", "mesh.mode="+mode)
			got := count(docs)
			want := map[string]int{"VirtualNode": 0, "VirtualRouter": 0, "VirtualService": 0, "HTTPRoute": 0, "Mesh": 0, "Gateway": 0}
			switch {
			case mode == "appmesh":
				want["VirtualNode"], want["VirtualRouter"], want["VirtualService"] = 1, 1, 1
			case mode == "lattice" && app == "gateway":
				want["HTTPRoute"] = 1
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s/%s: renders %v, want %v", mode, app, got, want)
			}
			ann := get(one(t, docs, "Deployment", app), "spec", "template", "metadata", "annotations").(obj)
			_, hasEgress := ann["appmesh.k8s.aws/egressIgnoredPorts"]
			if hasEgress != (mode == "appmesh") {
				t.Errorf("%s/%s: appmesh.k8s.aws/egressIgnoredPorts present: %v", mode, app, hasEgress)
			}
			if mode == "appmesh" {
				ignored := strings.Split(fmt.Sprint(ann["appmesh.k8s.aws/egressIgnoredPorts"]), ",")
				for _, p := range []string{"443", "50001", "50002", "50005", "50006", "9096", "5432"} {
					if !slices.Contains(ignored, p) {
						t.Errorf("%s: Envoy would intercept daprd's port %s", app, p)
					}
				}
			}
		}
	}
}

func TestRenderFailures(t *testing.T) {
	cases := []struct {
		name  string
		chart string
		env   string
		args  []string
		want  string
	}{
		{"wrong namespace", "users", "dev", []string{"-n", "default"}, "install into namespace shopmesh"},
		{"no environment file", "users", "", nil, "environment must be dev, staging or prod"},
		// values.schema.json rejects it before the templates' own check runs.
		{"unknown mesh", "users", "dev", []string{"--set", "mesh.mode=istio"}, "at '/mesh/mode': value must be one of 'none', 'appmesh', 'lattice'"},
		{"no registry", "users", "dev", []string{"--set", "image.registry="}, "image.registry must be set"},
		{"dapr.io/env value with =", "users", "dev", []string{"--set", "daprEnv.AWS_REGION=a=b"}, "cannot contain '='"},
		{"missing envRef value", "inventory", "dev", []string{"--set", "daprEnv.AWS_REGION="}, "daprEnv.AWS_REGION must be set"},
		{"gateway without ALB subnets", "gateway", "dev", []string{"--set", "networkPolicy.albSourceCIDRs=null"}, "albSourceCIDRs must list the public subnets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderErr(t, tc.chart, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
