// Package infracheck has no command, only these tests: they check that the
// observability Terraform (infra/terraform/modules/observability) agrees
// with the files it must match, which neither tflint nor a plan can see:
//
//   - every Prometheus alert of observability/prometheus/rules has a
//     CloudWatch alarm counterpart (the convention of alarms.tf: resource
//     aws_cloudwatch_metric_alarm.<alert in snake_case>, named
//     "...-<alert in kebab-case>...", tagged PrometheusAlert = "<alert>",
//     notifying the alarm topic), with the rule's threshold;
//   - the collector's OTLP service (local.collector) is the address that
//     dapr/aws/config.yaml and the charts' tracing.otlpEndpoint name;
//   - the histogram buckets the dashboard and the CheckoutSlow alarm read
//     are the apps' buckets, and the outbox alarms cover the apps with an
//     outbox.
//
// It lives under tools/cmd because the tools module is the one with the HCL
// parser, and `go test -C tools ./cmd/...` (part of `go tool task test`)
// runs it.
package infracheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// root is the repository's root (this package is tools/cmd/infracheck).
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "infra", "terraform")); err != nil {
		t.Fatalf("repository root not found from %s: %v", dir, err)
	}
	return dir
}

// module is the parsed Terraform of one folder.
type module struct {
	dir       string
	resources map[string]map[string]*hclsyntax.Block // type -> name -> block
	locals    map[string]*hclsyntax.Attribute
	files     []*hclsyntax.Body
}

func parseModule(t *testing.T, dir string) *module {
	t.Helper()
	m := &module{dir: dir, resources: map[string]map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{}}
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", p, diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		m.files = append(m.files, body)
		for _, b := range body.Blocks {
			switch {
			case b.Type == "resource" && len(b.Labels) == 2:
				if m.resources[b.Labels[0]] == nil {
					m.resources[b.Labels[0]] = map[string]*hclsyntax.Block{}
				}
				m.resources[b.Labels[0]][b.Labels[1]] = b
			case b.Type == "locals":
				for name, a := range b.Body.Attributes {
					if _, dup := m.locals[name]; dup {
						t.Fatalf("%s: local.%s defined twice", dir, name)
					}
					m.locals[name] = a
				}
			}
		}
	}
	return m
}

// literal evaluates local.<name>, which must be made of literals only.
func (m *module) literal(t *testing.T, name string) cty.Value {
	t.Helper()
	a, ok := m.locals[name]
	if !ok {
		t.Fatalf("%s: no local.%s", m.dir, name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s: local.%s is not a literal: %s", m.dir, name, diags.Error())
	}
	return v
}

// refersTo reports whether expr references target (e.g.
// "aws_sns_topic.alarms"), directly or through locals of the module.
func (m *module) refersTo(expr hclsyntax.Expression, target string, seen map[string]bool) bool {
	for _, tr := range expr.Variables() {
		s := traversalString(tr)
		if s == target || strings.HasPrefix(s, target+".") || strings.HasPrefix(s, target+"[") {
			return true
		}
		if tr.RootName() == "local" && len(tr) > 1 {
			name := tr[1].(hcl.TraverseAttr).Name
			if a, ok := m.locals[name]; ok && !seen[name] {
				seen[name] = true
				if m.refersTo(a.Expr, target, seen) {
					return true
				}
			}
		}
	}
	return false
}

func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case hcl.TraverseIndex, hcl.TraverseSplat:
			b.WriteString("[]")
		}
	}
	return b.String()
}

// uses reports whether any expression of the module (outside the locals
// block defining it) reads the traversal, e.g. "local.collector.name".
func (m *module) uses(want string) bool {
	found := false
	for _, body := range m.files {
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if e, ok := n.(hclsyntax.Expression); ok {
				for _, tr := range e.Variables() {
					if traversalString(tr) == want {
						found = true
					}
				}
			}
			return nil
		})
	}
	return found
}

// objectItem returns the value expression of key in an object constructor.
func objectItem(t *testing.T, expr hclsyntax.Expression, key string) hclsyntax.Expression {
	t.Helper()
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(nil)
		if !diags.HasErrors() && k.Type() == cty.String && k.AsString() == key {
			return item.ValueExpr
		}
	}
	return nil
}

// tagValue finds `key = "literal"` in an attribute's object constructors
// (tags = merge(var.tags, { PrometheusAlert = "X" })).
func tagValue(a *hclsyntax.Attribute, key string) (string, bool) {
	var val string
	var found bool
	_ = hclsyntax.VisitAll(a.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
		obj, ok := n.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String || k.AsString() != key {
				continue
			}
			if v, diags := item.ValueExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String {
				val, found = v.AsString(), true
			}
		}
		return nil
	})
	return val, found
}

// literalParts concatenates the literal parts of a string template.
func literalParts(expr hclsyntax.Expression) string {
	var b strings.Builder
	_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		if l, ok := n.(*hclsyntax.LiteralValueExpr); ok && l.Val.Type() == cty.String {
			b.WriteString(l.Val.AsString())
		}
		return nil
	})
	return b.String()
}

func words(name string) []string {
	var ws []string
	start := 0
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			ws = append(ws, strings.ToLower(name[start:i]))
			start = i
		}
	}
	return append(ws, strings.ToLower(name[start:]))
}

func snake(name string) string { return strings.Join(words(name), "_") }
func kebab(name string) string { return strings.Join(words(name), "-") }

type rule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

// alerts reads every alert rule of observability/prometheus/rules.
func alerts(t *testing.T) map[string]rule {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root(t), "observability", "prometheus", "rules", "*.rules.yml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no rule files (%v)", err)
	}
	out := map[string]rule{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Groups []struct {
				Rules []rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(src, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out[r.Alert] = r
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no alert rules found")
	}
	return out
}

func observability(t *testing.T) *module {
	return parseModule(t, filepath.Join(root(t), "infra", "terraform", "modules", "observability"))
}

func TestEveryPrometheusAlertHasACloudWatchAlarm(t *testing.T) {
	m := observability(t)
	rules := alerts(t)
	alarms := m.resources["aws_cloudwatch_metric_alarm"]
	tagged := map[string]bool{}
	for name, b := range alarms {
		if a, ok := b.Body.Attributes["tags"]; ok {
			if alert, ok := tagValue(a, "PrometheusAlert"); ok {
				tagged[alert] = true
				if _, known := rules[alert]; !known {
					t.Errorf("aws_cloudwatch_metric_alarm.%s is tagged PrometheusAlert = %q, which is no alert of observability/prometheus/rules", name, alert)
				}
			}
		}
	}
	for _, alert := range slices.Sorted(maps.Keys(rules)) {
		label := snake(alert)
		b, ok := alarms[label]
		if !ok {
			t.Errorf("alert %s has no CloudWatch alarm: want resource aws_cloudwatch_metric_alarm.%s in infra/terraform/modules/observability", alert, label)
			continue
		}
		if a := b.Body.Attributes["tags"]; a == nil || !tagged[alert] {
			t.Errorf("aws_cloudwatch_metric_alarm.%s: want tags with PrometheusAlert = %q", label, alert)
		} else if v, _ := tagValue(a, "PrometheusAlert"); v != alert {
			t.Errorf("aws_cloudwatch_metric_alarm.%s: tagged PrometheusAlert = %q, want %q", label, v, alert)
		}
		if a := b.Body.Attributes["alarm_name"]; a == nil || !strings.Contains(literalParts(a.Expr)+"-", "-"+kebab(alert)+"-") {
			t.Errorf("aws_cloudwatch_metric_alarm.%s: alarm_name must contain %q", label, "-"+kebab(alert))
		}
		for _, attr := range []string{"alarm_actions", "ok_actions"} {
			if a := b.Body.Attributes[attr]; a == nil || !m.refersTo(a.Expr, "aws_sns_topic.alarms", map[string]bool{}) {
				t.Errorf("aws_cloudwatch_metric_alarm.%s: %s must notify aws_sns_topic.alarms", label, attr)
			}
		}
	}
}

func TestAlarmThresholdsAreTheRules(t *testing.T) {
	m := observability(t)
	rules := alerts(t)
	thresholds := m.literal(t, "prometheus_thresholds")
	// local.prometheus_thresholds key -> the alert whose expression ends in
	// "<op> <value>".
	cases := []struct{ key, alert, op string }{
		{"checkout_success_ratio", "CheckoutSuccessRatioLow", "<"},
		{"checkout_p99_seconds", "CheckoutSlow", ">"},
		{"outbox_oldest_age_seconds", "OutboxEventsWaitingTooLong", ">"},
		{"server_error_ratio", "HighServerErrorRatio", ">"},
	}
	tail := regexp.MustCompile(`([<>]=?)\s*([0-9.]+)\s*$`)
	for _, c := range cases {
		if !thresholds.Type().HasAttribute(c.key) {
			t.Errorf("local.prometheus_thresholds has no %s", c.key)
			continue
		}
		want, _ := thresholds.GetAttr(c.key).AsBigFloat().Float64()
		r, ok := rules[c.alert]
		if !ok {
			t.Errorf("alert %s is gone: update local.prometheus_thresholds.%s and this test", c.alert, c.key)
			continue
		}
		match := tail.FindStringSubmatch(strings.TrimSpace(r.Expr))
		if match == nil {
			t.Errorf("%s: expression does not end in a comparison with a number: %q", c.alert, r.Expr)
			continue
		}
		got, err := strconv.ParseFloat(match[2], 64)
		if err != nil || match[1] != c.op || got != want {
			t.Errorf("%s fires on %s %s, local.prometheus_thresholds.%s is %v with %s", c.alert, match[1], match[2], c.key, want, c.op)
		}
	}
	// CheckoutSlow is about the 99th percentile, which its alarm reads as
	// "fewer than 99% within the bucket".
	if r := rules["CheckoutSlow"]; !strings.Contains(r.Expr, "histogram_quantile(0.99") {
		t.Errorf("CheckoutSlow is no longer a p99 (%q): update aws_cloudwatch_metric_alarm.checkout_slow", r.Expr)
	}
	// ... and that bucket must exist in the app and on the dashboard.
	p99, _ := thresholds.GetAttr("checkout_p99_seconds").AsBigFloat().Float64()
	settle := histogramBuckets(t, filepath.Join(root(t), "apps", "orders", "outcomes", "outcomes.go"), "shopmesh_order_settle_duration_seconds")
	if !slices.Contains(settle, strconv.FormatFloat(p99, 'g', -1, 64)) {
		t.Errorf("CheckoutSlow's %vs is no bucket bound of shopmesh_order_settle_duration_seconds %v: the alarm cannot read it", p99, settle)
	}
}

// histogramBuckets reads the Buckets of the HistogramOpts named name in a Go
// file, formatted as the collector writes them in `le`.
func histogramBuckets(t *testing.T, path, name string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		var isIt bool
		var buckets *ast.CompositeLit
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			switch {
			case key != nil && key.Name == "Name":
				if s, ok := kv.Value.(*ast.BasicLit); ok && s.Value == strconv.Quote(name) {
					isIt = true
				}
			case key != nil && key.Name == "Buckets":
				buckets, _ = kv.Value.(*ast.CompositeLit)
			}
		}
		if !isIt || buckets == nil {
			return true
		}
		found = true
		for _, e := range buckets.Elts {
			b, ok := e.(*ast.BasicLit)
			if !ok {
				t.Fatalf("%s: %s: a bucket is not a literal", path, name)
			}
			v, err := strconv.ParseFloat(b.Value, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return false
	})
	if !found {
		t.Fatalf("%s: no HistogramOpts named %s with literal Buckets", path, name)
	}
	return out
}

func stringList(t *testing.T, v cty.Value) []string {
	t.Helper()
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String {
			t.Fatalf("not a list of strings: %#v", v)
		}
		out = append(out, e.AsString())
	}
	return out
}

func TestDashboardBucketsAreTheApps(t *testing.T) {
	m := observability(t)
	r := root(t)
	for _, c := range []struct{ local, file, histogram string }{
		{"http_buckets", filepath.Join(r, "internal", "platform", "metrics", "metrics.go"), "http_request_duration_seconds"},
		{"settle_buckets", filepath.Join(r, "apps", "orders", "outcomes", "outcomes.go"), "shopmesh_order_settle_duration_seconds"},
	} {
		got := stringList(t, m.literal(t, c.local))
		want := histogramBuckets(t, c.file, c.histogram)
		if !slices.Equal(got, want) {
			t.Errorf("local.%s = %v, but %s has buckets %v", c.local, got, c.histogram, want)
		}
	}
	// The histograms shipped as buckets are the ones the dashboard reads.
	if got := stringList(t, m.literal(t, "bucket_histograms")); !slices.Equal(got, []string{"http_request_duration_seconds", "shopmesh_order_settle_duration_seconds"}) {
		t.Errorf("local.bucket_histograms = %v: the dashboard's p99 panels and the CheckoutSlow alarm need both histograms' buckets", got)
	}
}

func TestAlarmsReadMetricsTheCollectorShips(t *testing.T) {
	m := observability(t)
	shipped := map[string]bool{"up": true}
	for _, n := range stringList(t, m.literal(t, "kept_metrics")) {
		shipped[n] = true
	}
	for _, h := range stringList(t, m.literal(t, "bucket_histograms")) {
		shipped[h+"_bucket"] = true
	}
	for name, b := range m.resources["aws_cloudwatch_metric_alarm"] {
		_ = hclsyntax.VisitAll(b.Body, func(n hclsyntax.Node) hcl.Diagnostics {
			a, ok := n.(*hclsyntax.Attribute)
			if !ok || a.Name != "metric_name" {
				return nil
			}
			ns := b.Body.Attributes["namespace"]
			if parent := enclosingNamespace(b.Body, a); parent != nil {
				ns = parent
			}
			if ns == nil || !m.refersTo(ns.Expr, "local.metric_namespace", map[string]bool{}) {
				return nil // AWS/ApplicationELB, AWS/Kafka, AWS/RDS
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.Type() != cty.String {
				t.Errorf("aws_cloudwatch_metric_alarm.%s: metric_name is not a literal", name)
				return nil
			}
			if !shipped[v.AsString()] {
				t.Errorf("aws_cloudwatch_metric_alarm.%s reads %s, which the metrics collector does not ship (local.kept_metrics, local.bucket_histograms)", name, v.AsString())
			}
			return nil
		})
	}
}

// enclosingNamespace finds the namespace attribute beside a metric_name in
// a nested metric block.
func enclosingNamespace(body *hclsyntax.Body, target *hclsyntax.Attribute) *hclsyntax.Attribute {
	var found *hclsyntax.Attribute
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if b, ok := n.(*hclsyntax.Body); ok && b.Attributes["metric_name"] == target {
			found = b.Attributes["namespace"]
		}
		return nil
	})
	return found
}

func TestCollectorAddressIsTheOneDaprAndTheChartsName(t *testing.T) {
	m := observability(t)
	r := root(t)
	c := m.literal(t, "collector")
	get := func(k string) cty.Value {
		if !c.Type().HasAttribute(k) {
			t.Fatalf("local.collector has no %s", k)
		}
		return c.GetAttr(k)
	}
	name, ns := get("name").AsString(), get("namespace").AsString()
	grpc, _ := get("grpc_port").AsBigFloat().Int64()
	http, _ := get("http_port").AsBigFloat().Int64()
	host := fmt.Sprintf("%s.%s.svc.cluster.local", name, ns)

	// The sidecars: every Configuration of dapr/aws/config.yaml.
	src, err := os.ReadFile(filepath.Join(r, "dapr", "aws", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	configs := 0
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				Tracing struct {
					Otel struct {
						EndpointAddress string `yaml:"endpointAddress"`
						Protocol        string `yaml:"protocol"`
					} `yaml:"otel"`
				} `yaml:"tracing"`
			}
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind != "Configuration" {
			continue
		}
		configs++
		want := fmt.Sprintf("%s:%d", host, grpc)
		if o := doc.Spec.Tracing.Otel; o.EndpointAddress != want || o.Protocol != "grpc" {
			t.Errorf("dapr/aws/config.yaml %s: tracing.otel %s over %s, but Terraform's collector (local.collector) serves OTLP/gRPC at %s", doc.Metadata.Name, o.EndpointAddress, o.Protocol, want)
		}
	}
	if configs == 0 {
		t.Error("dapr/aws/config.yaml: no Configuration")
	}

	// The apps: the charts' default tracing.otlpEndpoint.
	tpl, err := os.ReadFile(filepath.Join(r, "charts", "shopmesh-lib", "templates", "_values.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := ""
	if match := regexp.MustCompile(`(?m)^\s*otlpEndpoint:\s*(\S+)\s*$`).FindSubmatch(tpl); match != nil {
		endpoint = string(match[1])
	}
	if want := fmt.Sprintf("http://%s:%d", host, http); endpoint != want {
		t.Errorf("charts/shopmesh-lib/templates/_values.tpl: tracing.otlpEndpoint %q, but Terraform's collector (local.collector) serves OTLP/HTTP at %s", endpoint, want)
	}

	// And the module deploys what local.collector says: the gateway release
	// is named after it, in its namespace, with its ports.
	if tiers := m.locals["tiers"]; tiers == nil {
		t.Error("no local.tiers")
	} else if rel := objectItem(t, objectItem(t, tiers.Expr, "gateway"), "release"); rel == nil || len(rel.Variables()) != 1 || traversalString(rel.Variables()[0]) != "local.collector.name" {
		t.Error("local.tiers.gateway.release must be local.collector.name: the gateway's Service is the address every span is sent to")
	}
	ns1 := m.resources["kubernetes_namespace_v1"]["observability"]
	if ns1 == nil || !m.uses("local.collector.namespace") {
		t.Error("want kubernetes_namespace_v1.observability named local.collector.namespace")
	}
	for _, want := range []string{"local.collector.grpc_port", "local.collector.http_port"} {
		if !m.uses(want) {
			t.Errorf("%s is not used: the collector's ports must come from local.collector", want)
		}
	}
}

func TestOutboxAlarmsCoverTheAppsWithAnOutbox(t *testing.T) {
	r := root(t)
	stack := parseModule(t, filepath.Join(r, "infra", "terraform", "stack"))
	got := stringList(t, stack.literal(t, "outbox_apps"))
	var want []string
	stores, err := filepath.Glob(filepath.Join(r, "apps", "*", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stores {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "outbox.Module(") {
			app := filepath.Base(filepath.Dir(filepath.Dir(p)))
			if !slices.Contains(want, app) {
				want = append(want, app)
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) == 0 {
		t.Fatal("no app uses outbox.Module: the search is wrong")
	}
	if !slices.Equal(got, want) {
		t.Errorf("infra/terraform/stack local.outbox_apps = %v, but the apps with an outbox are %v", got, want)
	}
}
