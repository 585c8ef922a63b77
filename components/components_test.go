// Package components_test checks the component profiles without a running
// Dapr: components/aws maps the same names as components/local, every file is
// a well-formed Dapr Component, secrets only come through secretKeyRef, the
// metadata names exist in the component's own metadata.yaml of the
// components-contrib that local/daprd builds daprd with (v1.17.3; daprd
// ignores unknown names), no component uses Dapr's transactional outbox (the
// services publish through the kit's own outbox), and dapr/aws holds a sound
// Configuration and Resiliency. daprd_aws_test.go starts the real daprd on
// the profile.
package components_test

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ---- What the AWS profile must say ----

// appIDs are every ShopMesh app (docs: /work/shared/design.md).
var appIDs = []string{"gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search", "storefront"}

// owners maps each scoped component of the AWS profile to the app ids that
// load it; components not listed here are shared (no scopes).
var owners = map[string][]string{
	"users-store":         {"users"},
	"catalog-store":       {"catalog"},
	"inventory-store":     {"inventory"},
	"orders-store":        {"orders"},
	"cart-store":          {"orders"},
	"payments-store":      {"payments"},
	"notifications-store": {"notifications"},
	"email":               {"notifications"},
	"reservation-sweep":   {"inventory"},
	// Every app but the storefront, which publishes and consumes nothing.
	"pubsub": {"gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search"},
}

// shared are the components every app loads.
var shared = []string{"secretstore"}

// envPlaceholder is replaced by the Helm chart with the environment's name.
const envPlaceholder = "${SHOPMESH_ENV}"

// secretNameRE: shopmesh/${SHOPMESH_ENV}/<owner>/<what>.
var secretNameRE = regexp.MustCompile(`^shopmesh/\$\{SHOPMESH_ENV\}/([a-z]+)/[a-z0-9-]+$`)

// sensitiveNameRE matches metadata names whose value is a credential; their
// value must come from the secret store.
var sensitiveNameRE = regexp.MustCompile(`(?i)(password|secret|token|credential|accesskey|clientkey|privatekey|apikey|connectionstring|^url$|dsn)`)

// awsCredentialNames must not appear at all: daprd uses the pod's IAM role.
var awsCredentialNames = []string{"accessKey", "secretKey", "sessionToken", "awsAccessKey", "awsSecretKey", "awsSessionToken", "useAWSIAM"}

// ---- The Component schema (Dapr 1.17.5: pkg/apis/components/v1alpha1/types.go), decoded strictly ----

type component struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Type         string         `yaml:"type"`
		Version      string         `yaml:"version"`
		IgnoreErrors bool           `yaml:"ignoreErrors"`
		InitTimeout  string         `yaml:"initTimeout"`
		Metadata     []metadataItem `yaml:"metadata"`
	} `yaml:"spec"`
	Auth struct {
		SecretStore string `yaml:"secretStore"`
	} `yaml:"auth"`
	Scopes []string `yaml:"scopes"`

	file string // path relative to the repository root
}

type metadataItem struct {
	Name         string    `yaml:"name"`
	Value        yaml.Node `yaml:"value"` // Kind 0 when absent
	EnvRef       string    `yaml:"envRef"`
	SecretKeyRef *struct {
		Name string `yaml:"name"`
		Key  string `yaml:"key"`
	} `yaml:"secretKeyRef"`
}

// value returns the item's literal value ("" when it has none).
func (m metadataItem) value() string {
	return m.Value.Value
}

func (c component) item(name string) (metadataItem, bool) {
	for _, m := range c.Spec.Metadata {
		if m.Name == name {
			return m, true
		}
	}
	return metadataItem{}, false
}

func (c component) String() string {
	return fmt.Sprintf("%s (%s, %s/%s)", c.Metadata.Name, c.file, c.Spec.Type, c.Spec.Version)
}

// decodeComponent decodes one YAML document strictly: an unknown or
// misspelled field anywhere (initTimout, secretKeyref, …) is an error, while
// daprd would silently ignore it.
func decodeComponent(data []byte) (component, error) {
	var c component
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return c, errors.New("more than one YAML document: keep one component per file")
	}
	return c, nil
}

// ---- Loading ----

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "dapr", "dapr.yaml")) {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no repository root (go.mod + dapr/dapr.yaml) above %s", dir)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadDir decodes every *.yaml of root/dir (failing the test on a bad file).
func loadDir(t testing.TB, root, dir string) []component {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no YAML files in %s", dir)
	}
	var out []component
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := decodeComponent(data)
		rel, _ := filepath.Rel(root, p)
		c.file = filepath.ToSlash(rel)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		out = append(out, c)
	}
	return out
}

func byName(cs []component) map[string]component {
	m := make(map[string]component, len(cs))
	for _, c := range cs {
		m[c.Metadata.Name] = c
	}
	return m
}

// ---- (a) same names, well-formed ----

func TestAWSProfileHasEveryLocalName(t *testing.T) {
	root := repoRoot(t)
	aws := byName(loadDir(t, root, "components/aws"))
	for _, c := range loadDir(t, root, "components/local") {
		if _, ok := aws[c.Metadata.Name]; !ok {
			t.Errorf("%s: components/aws has no component named %q", c.file, c.Metadata.Name)
		}
	}
	for name := range owners {
		if _, ok := aws[name]; !ok {
			t.Errorf("components/aws has no %s", name)
		}
	}
	for _, name := range shared {
		if _, ok := aws[name]; !ok {
			t.Errorf("components/aws has no %s", name)
		}
	}
}

// componentCategories are the Dapr 1.17 component categories (type prefixes;
// dapr@v1.17.5 pkg/components/category.go).
var componentCategories = []string{"state", "pubsub", "secretstores", "bindings", "configuration", "lock", "middleware", "crypto", "nameresolution", "workflow", "workflowbackend", "conversation"}

func TestComponentsAreWellFormed(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range append([]string{"components/aws", "components/aws-alternatives"}, runnerProfileDirs...) {
		for _, c := range loadDir(t, root, dir) {
			if c.APIVersion != "dapr.io/v1alpha1" || c.Kind != "Component" {
				t.Errorf("%s: apiVersion %q kind %q, want dapr.io/v1alpha1 Component (daprd skips anything else without a word)", c.file, c.APIVersion, c.Kind)
			}
			if c.Metadata.Name == "" || c.Spec.Type == "" || c.Spec.Version == "" {
				t.Errorf("%s: metadata.name, spec.type and spec.version must all be set", c.file)
			}
			if cat, _, _ := strings.Cut(c.Spec.Type, "."); !slices.Contains(componentCategories, cat) {
				t.Errorf("%s: type %q has no known category prefix", c.file, c.Spec.Type)
			}
			if c.Metadata.Namespace != "" {
				t.Errorf("%s: no metadata.namespace; the chart applies the profile to its namespace", c.file)
			}
			if c.Spec.IgnoreErrors {
				t.Errorf("%s: ignoreErrors hides a broken component; the sidecar must fail instead", c.file)
			}
			if c.Spec.InitTimeout != "" {
				if _, err := time.ParseDuration(c.Spec.InitTimeout); err != nil {
					t.Errorf("%s: initTimeout %q: %v (daprd would fall back to 5s)", c.file, c.Spec.InitTimeout, err)
				}
			}
			if want := c.Metadata.Name + ".yaml"; dir == "components/aws" && filepath.Base(c.file) != want {
				t.Errorf("%s: name the file after the component: %s", c.file, want)
			}
			seen := map[string]bool{}
			for _, m := range c.Spec.Metadata {
				key := strings.ToLower(m.Name)
				if seen[key] {
					t.Errorf("%s: metadata %q appears twice (names are case-insensitive)", c.file, m.Name)
				}
				seen[key] = true
				sources := 0
				if m.Value.Kind != 0 {
					sources++
					if m.Value.Kind != yaml.ScalarNode {
						t.Errorf("%s: metadata %s: value must be a scalar", c.file, m.Name)
					}
				}
				if m.EnvRef != "" {
					sources++
				}
				if m.SecretKeyRef != nil {
					sources++
				}
				if sources != 1 {
					t.Errorf("%s: metadata %s needs exactly one of value, envRef, secretKeyRef", c.file, m.Name)
				}
			}
		}
	}
}

// ---- (b) PostgreSQL version ----

func TestPostgresVersionIsExplicitV2(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range append([]string{"components/aws", "components/aws-alternatives", "components/local"}, runnerProfileDirs...) {
		for _, c := range loadDir(t, root, dir) {
			if c.Spec.Type == "state.postgresql" || c.Spec.Type == "state.postgres" {
				if c.Spec.Version != "v2" {
					t.Errorf("%s: state.postgresql must say version: v2 (Dapr 1.17 defaults to v1, which cannot read v2 tables)", c.file)
				}
			}
		}
	}
}

// ---- (c) no literal secrets ----

func TestSecretsComeFromTheSecretStore(t *testing.T) {
	root := repoRoot(t)
	akid := regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)
	for _, dir := range []string{"components/aws", "components/aws-alternatives"} {
		for _, c := range loadDir(t, root, dir) {
			usesRef := false
			for _, m := range c.Spec.Metadata {
				if slices.ContainsFunc(awsCredentialNames, func(n string) bool { return strings.EqualFold(n, m.Name) }) {
					t.Errorf("%s: %s: no AWS credentials in components; daprd uses the pod's IAM role (IRSA)", c.file, m.Name)
				}
				if akid.MatchString(m.value()) {
					t.Errorf("%s: %s holds what looks like an AWS access key id", c.file, m.Name)
				}
				if sensitiveNameRE.MatchString(m.Name) && m.SecretKeyRef == nil {
					t.Errorf("%s: %s must come from the secret store (secretKeyRef), not value/envRef", c.file, m.Name)
				}
				if m.SecretKeyRef == nil {
					continue
				}
				usesRef = true
				ref := m.SecretKeyRef
				if ref.Key != ref.Name {
					t.Errorf("%s: %s: secretKeyRef key %q must equal name %q (the Secrets Manager store without multipleKeyValuesPerSecret returns {name: SecretString})", c.file, m.Name, ref.Key, ref.Name)
				}
				sm := secretNameRE.FindStringSubmatch(ref.Name)
				if sm == nil {
					t.Errorf("%s: %s: secret name %q, want shopmesh/%s/<owner>/<what>", c.file, m.Name, ref.Name, envPlaceholder)
					continue
				}
				if owner := sm[1]; owner != "shared" && !slices.Contains(c.Scopes, owner) {
					t.Errorf("%s: %s reads %s, a secret of %q, but is scoped to %v", c.file, m.Name, ref.Name, owner, c.Scopes)
				}
			}
			if usesRef && c.Auth.SecretStore != "secretstore" {
				t.Errorf("%s: secretKeyRef needs auth.secretStore: secretstore (on Kubernetes the default is the kubernetes store)", c.file)
			}
			if c.Spec.Type == "secretstores.aws.secretmanager" && usesRef {
				t.Errorf("%s: the secret store cannot resolve its own secretKeyRefs", c.file)
			}
		}
	}
}

// ---- (d) alternatives and emulation ----

// runnerProfileDirs are the profiles `task up PROFILE=…` runs besides local.
var runnerProfileDirs = []string{"components/redis-only", "components/aws-emulated", "components/aws-emulated-snssqs"}

// emulatedAs says where aws-emulated may not use the aws profile's
// component: the file it follows instead, and why.
var emulatedAs = map[string]string{
	// DocumentDB has no stand-in: its RDS alternative.
	"catalog-store":       "components/aws-alternatives/catalog-store.rds.yaml",
	"notifications-store": "components/aws-alternatives/notifications-store.rds.yaml",
	// SES has no `endpoint` setting (contrib v1.17.3 bindings/aws/ses); Secrets
	// Manager honours it in v1.17.3, but no local stand-in runs for it.
	"secretstore": "components/local/secretstore.yaml",
	"email":       "components/local/email.yaml",
}

// TestAWSEmulatedKeepsTheAWSTypes: aws-emulated runs the aws profile's
// component types and versions (pointed at local stand-ins), except where
// emulatedAs says otherwise; its SNS/SQS variant differs only in the pub/subs,
// which are components/aws-alternatives/pubsub.snssqs.yaml's type.
func TestAWSEmulatedKeepsTheAWSTypes(t *testing.T) {
	root := repoRoot(t)
	aws := byName(loadDir(t, root, "components/aws"))
	emulated := byName(loadDir(t, root, "components/aws-emulated"))
	load := func(file string) component {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		c, err := decodeComponent(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return c
	}
	for name, want := range aws {
		if f, ok := emulatedAs[name]; ok {
			want = load(f)
		}
		got, ok := emulated[name]
		if !ok {
			t.Errorf("components/aws-emulated has no %s", name)
			continue
		}
		if got.Spec.Type != want.Spec.Type || got.Spec.Version != want.Spec.Version {
			t.Errorf("%s: %s/%s, want %s/%s as in %s", got.file, got.Spec.Type, got.Spec.Version, want.Spec.Type, want.Spec.Version, want.file)
		}
		if !slices.Equal(got.Scopes, want.Scopes) {
			t.Errorf("%s: scopes %v, want %v", got.file, got.Scopes, want.Scopes)
		}
	}
	snssqs := load("components/aws-alternatives/pubsub.snssqs.yaml")
	for name, got := range byName(loadDir(t, root, "components/aws-emulated-snssqs")) {
		want := emulated[name]
		typ, version := want.Spec.Type, want.Spec.Version
		if name == "pubsub" {
			typ, version = snssqs.Spec.Type, snssqs.Spec.Version
		}
		if got.Spec.Type != typ || got.Spec.Version != version || !slices.Equal(got.Scopes, want.Scopes) {
			t.Errorf("%s: %s/%s scopes %v, want %s/%s scopes %v", got.file, got.Spec.Type, got.Spec.Version, got.Scopes, typ, version, want.Scopes)
		}
	}
}

// TestAlternativesReplaceDefaults: components/aws-alternatives/<name>.<variant>.yaml
// maps <name>, replaces components/aws/<name>.yaml and keeps what the code
// relies on (scopes, actorStateStore, keyPrefix).
func TestAlternativesReplaceDefaults(t *testing.T) {
	root := repoRoot(t)
	aws := byName(loadDir(t, root, "components/aws"))
	alts := loadDir(t, root, "components/aws-alternatives")
	readme, err := os.ReadFile(filepath.Join(root, "components/aws-alternatives/README.md"))
	if err != nil {
		t.Errorf("components/aws-alternatives needs a README.md: %v", err)
	}
	wantFiles := []string{"catalog-store.rds.yaml", "notifications-store.rds.yaml", "pubsub.snssqs.yaml"}
	for _, f := range wantFiles {
		if !fileExists(filepath.Join(root, "components/aws-alternatives", f)) {
			t.Errorf("components/aws-alternatives/%s is missing", f)
		}
	}
	for _, alt := range alts {
		base := filepath.Base(alt.file)
		name, _, _ := strings.Cut(base, ".")
		if alt.Metadata.Name != name {
			t.Errorf("%s: maps %q, but the file name says it replaces %q", alt.file, alt.Metadata.Name, name)
		}
		def, ok := aws[alt.Metadata.Name]
		if !ok {
			t.Errorf("%s: components/aws has no %s.yaml to replace", alt.file, alt.Metadata.Name)
			continue
		}
		if !slices.Equal(alt.Scopes, def.Scopes) {
			t.Errorf("%s: scopes %v differ from %s's %v", alt.file, alt.Scopes, def.file, def.Scopes)
		}
		if cat(alt) != cat(def) {
			t.Errorf("%s: %s replaces %s, another building block", alt.file, alt.Spec.Type, def.Spec.Type)
		}
		for _, key := range []string{"actorStateStore", "keyPrefix"} {
			a, _ := alt.item(key)
			d, _ := def.item(key)
			if a.value() != d.value() {
				t.Errorf("%s: %s=%q, but %s has %q", alt.file, key, a.value(), def.file, d.value())
			}
		}
		if readme != nil && !bytes.Contains(readme, []byte(base)) {
			t.Errorf("components/aws-alternatives/README.md does not mention %s", base)
		}
	}
}

func cat(c component) string {
	s, _, _ := strings.Cut(c.Spec.Type, ".")
	return s
}

// ---- Scopes, no Dapr outbox, environment ----

func TestScopes(t *testing.T) {
	root := repoRoot(t)
	local := byName(loadDir(t, root, "components/local"))
	for _, c := range loadDir(t, root, "components/aws") {
		name := c.Metadata.Name
		want := owners[name]
		if slices.Contains(shared, name) {
			want = nil
		} else if want == nil {
			t.Errorf("%s: unknown component; add it to owners or shared in this test", c.file)
		}
		if !slices.Equal(c.Scopes, want) {
			t.Errorf("%s: scopes %v, want %v", c.file, c.Scopes, want)
		}
		for _, s := range c.Scopes {
			if !slices.Contains(appIDs, s) {
				t.Errorf("%s: scope %q is not an app id", c.file, s)
			}
		}
		// A component of both profiles keeps the local scopes.
		if l, ok := local[name]; ok {
			if !slices.Equal(c.Scopes, l.Scopes) {
				t.Errorf("%s: scopes %v, but %s has %v", c.file, c.Scopes, l.file, l.Scopes)
			}
		}
		if strings.HasPrefix(c.Spec.Type, "state.") && c.Spec.Type != "state.postgresql" {
			if m, ok := c.item("actorStateStore"); ok && m.value() == "true" {
				t.Errorf("%s: actorStateStore belongs on a PostgreSQL store", c.file)
			}
		}
	}
}

// TestNoDaprOutbox: the services publish through the kit's own outbox
// (internal/platform/outbox: records in the app's state transaction, a
// plain publish on pubsub after commit, a recovery sweep), never Dapr's
// transactional outbox. So no component of any profile folder carries an
// outbox* metadata name (outboxPublishPubsub, outboxPubsub,
// outboxPublishTopic, outboxDiscardWhenMissingState, …), no pubsub-outbox
// component or file exists, and no Resiliency targets one.
func TestNoDaprOutbox(t *testing.T) {
	root := repoRoot(t)
	dirs, err := filepath.Glob(filepath.Join(root, "components", "*"))
	if err != nil {
		t.Fatal(err)
	}
	profiles := 0
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		rel, _ := filepath.Rel(root, d)
		rel = filepath.ToSlash(rel)
		files, err := filepath.Glob(filepath.Join(d, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			continue
		}
		profiles++
		for _, f := range files {
			if strings.HasPrefix(strings.ToLower(filepath.Base(f)), "pubsub-outbox") {
				t.Errorf("%s/%s: no pubsub-outbox any more (the services' own outbox publishes on pubsub)", rel, filepath.Base(f))
			}
		}
		for _, c := range loadDir(t, root, rel) {
			if strings.HasPrefix(strings.ToLower(c.Metadata.Name), "pubsub-outbox") {
				t.Errorf("%s: component %s: no pubsub-outbox any more", c.file, c.Metadata.Name)
			}
			for _, m := range c.Spec.Metadata {
				if strings.HasPrefix(strings.ToLower(m.Name), "outbox") {
					t.Errorf("%s: metadata %s: no Dapr outbox settings (the services publish through the kit's outbox)", c.file, m.Name)
				}
			}
		}
	}
	// components/local, aws, aws-alternatives and the runner profiles at least.
	if want := 3 + len(runnerProfileDirs); profiles < want {
		t.Errorf("found %d profile folders under components/, want at least %d", profiles, want)
	}
	for _, f := range []string{"dapr/resources/resiliency.yaml", "dapr/aws/resiliency.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("pubsub-outbox")) {
			t.Errorf("%s names pubsub-outbox, which no profile has any more", f)
		}
	}
}

// envRefs returns every envRef name used in components/aws and the alternatives.
func envRefs(t testing.TB, root string) []string {
	t.Helper()
	var refs []string
	for _, dir := range []string{"components/aws", "components/aws-alternatives"} {
		for _, c := range loadDir(t, root, dir) {
			for _, m := range c.Spec.Metadata {
				if m.EnvRef != "" && !slices.Contains(refs, m.EnvRef) {
					refs = append(refs, m.EnvRef)
				}
			}
		}
	}
	slices.Sort(refs)
	return refs
}

// TestEnvRefsAreReadableAndDocumented: daprd 1.17.5 refuses envRef names that
// start with DAPR_, equal APP_API_TOKEN or hold a space, and on Kubernetes
// reads only the variables passed with dapr.io/env (pkg/runtime/processor/
// secret/secret.go isEnvVarAllowed); the docs list them for the Helm chart.
func TestEnvRefsAreReadableAndDocumented(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs/aws-components.md"))
	if err != nil {
		t.Fatalf("docs/aws-components.md: %v", err)
	}
	for _, ref := range envRefs(t, root) {
		u := strings.ToUpper(ref)
		if strings.HasPrefix(u, "DAPR_") || u == "APP_API_TOKEN" || strings.Contains(ref, " ") {
			t.Errorf("envRef %s: daprd refuses to read it", ref)
		}
		if !bytes.Contains(doc, []byte("`"+ref+"`")) {
			t.Errorf("docs/aws-components.md does not document the variable `%s`", ref)
		}
	}
}

// TestDocsListEveryComponent: docs/aws-components.md has a row per component.
func TestDocsListEveryComponent(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs/aws-components.md"))
	if err != nil {
		t.Fatalf("docs/aws-components.md: %v", err)
	}
	for _, c := range loadDir(t, root, "components/aws") {
		if !regexp.MustCompile("(?m)^\\|[^\\n]*`" + regexp.QuoteMeta(c.Metadata.Name) + "`").Match(doc) {
			t.Errorf("docs/aws-components.md has no table row for `%s`", c.Metadata.Name)
		}
		if !bytes.Contains(doc, []byte(c.Spec.Type)) {
			t.Errorf("docs/aws-components.md does not mention %s's type %s", c.Metadata.Name, c.Spec.Type)
		}
	}
}

// ---- Metadata names against components-contrib ----

// builtinNames are metadata names the Dapr runtime itself reads, per category
// (dapr@v1.17.5: pkg/runtime/processor/state, pkg/runtime/processor/pubsub/pubsub.go,
// pkg/scopes, processor/binding). The runtime's transactional outbox names
// (outbox*, pkg/runtime/pubsub/outbox.go) are left out on purpose: no
// component may use them (TestNoDaprOutbox).
var builtinNames = map[string][]string{
	"state":    {"actorStateStore", "keyPrefix"},
	"pubsub":   {"consumerID", "allowedTopics", "publishingScopes", "subscriptionScopes", "protectedTopics"},
	"bindings": {"direction", "route"},
	"lock":     {"keyPrefix"},
}

// builtinProfiles are the names of contrib's built-in authentication profiles
// (defined outside the module, in .build-tools) that our components may meet.
// In components-contrib v1.17.3 the AWS components' metadata.yaml files do
// not list region themselves: it comes with the built-in "aws" profile.
var builtinProfiles = map[string][]string{
	"aws": {"region", "accessKey", "secretKey", "sessionToken"},
}

// contribDir locates components-contrib in the module cache through the
// local/daprd module, which requires it. Without it the test skips, except
// with SHOPMESH_INTEGRATION set, where it fails.
func contribDir(t testing.TB, root string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/dapr/components-contrib")
	cmd.Dir = filepath.Join(root, "local", "daprd")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err == nil && dir != "" && fileExists(filepath.Join(dir, "state")) {
		return dir
	}
	msg := fmt.Sprintf("components-contrib not found in the module cache (go list -m in local/daprd: %v, %q); run `bash local/build-daprd.sh` once", err, dir)
	if os.Getenv("SHOPMESH_INTEGRATION") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// knownNames is what a component type accepts.
type knownNames struct {
	source    string          // the file the names come from
	exact     map[string]bool // from metadata.yaml: spelled exactly
	fold      map[string]bool // from Go structs: mapstructure matches case-insensitively
	sensitive map[string]bool
}

func (k knownNames) has(name string) bool {
	return k.exact[name] || k.fold[strings.ToLower(name)]
}

type contribMetadataFile struct {
	Type     string          `yaml:"type"`
	Name     string          `yaml:"name"`
	Version  string          `yaml:"version"`
	Metadata []contribMDItem `yaml:"metadata"`
	Profiles []struct {
		Metadata []contribMDItem `yaml:"metadata"`
	} `yaml:"authenticationProfiles"`
	Builtin []struct {
		Name     string          `yaml:"name"`
		Metadata []contribMDItem `yaml:"metadata"`
	} `yaml:"builtinAuthenticationProfiles"`
}

type contribMDItem struct {
	Name      string `yaml:"name"`
	Sensitive bool   `yaml:"sensitive"`
}

// namesFor returns the metadata names component type/version accepts: its
// metadata.yaml in components-contrib (metadata, authenticationProfiles and
// builtinAuthenticationProfiles), or, for a component without one (in
// components-contrib v1.14 secretstores.aws.secretmanager and
// bindings.aws.ses; in v1.17.3 every type the profiles use has one), the
// fields of the metadata structs in its Go package; plus the runtime's
// built-in names.
func namesFor(contrib, typ, version string) (knownNames, error) {
	category, rest, _ := strings.Cut(typ, ".")
	dir := filepath.Join(contrib, category, filepath.FromSlash(strings.ReplaceAll(rest, ".", "/")))
	k := knownNames{exact: map[string]bool{}, fold: map[string]bool{}, sensitive: map[string]bool{}}
	for _, n := range builtinNames[category] {
		k.exact[n] = true
	}
	var mdFile string
	for _, p := range []string{filepath.Join(dir, version, "metadata.yaml"), filepath.Join(dir, "metadata.yaml")} {
		if fileExists(p) {
			mdFile = p
			break
		}
	}
	if mdFile != "" {
		k.source = mdFile
		data, err := os.ReadFile(mdFile)
		if err != nil {
			return k, err
		}
		var md contribMetadataFile
		if err := yaml.Unmarshal(data, &md); err != nil {
			return k, fmt.Errorf("%s: %w", mdFile, err)
		}
		if md.Version != version {
			return k, fmt.Errorf("%s describes version %s, not %s", mdFile, md.Version, version)
		}
		add := func(items []contribMDItem) {
			for _, it := range items {
				k.exact[it.Name] = true
				if it.Sensitive {
					k.sensitive[it.Name] = true
				}
			}
		}
		add(md.Metadata)
		for _, p := range md.Profiles {
			add(p.Metadata)
		}
		for _, b := range md.Builtin {
			add(b.Metadata)
			for _, n := range builtinProfiles[b.Name] {
				k.exact[n] = true
			}
		}
		return k, nil
	}
	if !fileExists(dir) {
		return k, fmt.Errorf("components-contrib has no %s (type %s)", dir, typ)
	}
	k.source = dir + " (Go metadata structs; no metadata.yaml)"
	fields, err := goMetadataFields(dir)
	if err != nil {
		return k, err
	}
	if len(fields) == 0 {
		return k, fmt.Errorf("%s: no metadata.yaml and no metadata struct", dir)
	}
	for _, f := range fields {
		k.fold[strings.ToLower(f)] = true
	}
	return k, nil
}

// goMetadataFields returns the decoded field names of the structs named
// *metadata* in the Go package in dir: the mapstructure tag, else the json
// tag, else the field name (mapstructure falls back to a case-insensitive
// match of the field name).
func goMetadataFields(dir string) ([]string, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || !strings.Contains(strings.ToLower(ts.Name.Name), "metadata") {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fld := range st.Fields.List {
					var tag reflect.StructTag
					if fld.Tag != nil {
						tag = reflect.StructTag(strings.Trim(fld.Tag.Value, "`"))
					}
					for _, id := range fld.Names {
						if !id.IsExported() {
							continue
						}
						name := id.Name
						if v, ok := tag.Lookup("mapstructure"); ok {
							if v, _, _ = strings.Cut(v, ","); v == "-" {
								continue
							} else if v != "" {
								name = v
							}
						} else if v, ok := tag.Lookup("json"); ok {
							if v, _, _ = strings.Cut(v, ","); v != "" && v != "-" {
								name = v
							}
						}
						names = append(names, name)
					}
				}
				return true
			})
		}
	}
	return names, nil
}

// metadataNameProblems lists the metadata names of c that its type does not
// know, and sensitive names (per metadata.yaml) given without secretKeyRef.
func metadataNameProblems(contrib string, c component) []string {
	k, err := namesFor(contrib, c.Spec.Type, c.Spec.Version)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, m := range c.Spec.Metadata {
		if !k.has(m.Name) {
			problems = append(problems, fmt.Sprintf("unknown metadata name %q for %s/%s (not in %s); daprd would silently ignore it", m.Name, c.Spec.Type, c.Spec.Version, k.source))
		}
		if k.sensitive[m.Name] && m.SecretKeyRef == nil {
			problems = append(problems, fmt.Sprintf("%s is marked sensitive in %s: use secretKeyRef", m.Name, k.source))
		}
	}
	return problems
}

// TestMetadataNamesExist catches misspelled metadata names, which daprd 1.17.5
// does not reject (components-contrib decodes metadata with mapstructure
// without ErrorUnused: dapr/kit v0.17.0 metadata/utils.go; no runtime
// validation against metadata.yaml).
func TestMetadataNamesExist(t *testing.T) {
	root := repoRoot(t)
	contrib := contribDir(t, root)
	for _, dir := range append([]string{"components/aws", "components/aws-alternatives", "components/local"}, runnerProfileDirs...) {
		for _, c := range loadDir(t, root, dir) {
			for _, p := range metadataNameProblems(contrib, c) {
				t.Errorf("%s: %s", c.file, p)
			}
		}
	}
}

// TestMetadataNameCheckCanFail: the check flags a misspelled optional name
// (which daprd would load without a word) and a misspelled name of a
// component without metadata.yaml.
func TestMetadataNameCheckCanFail(t *testing.T) {
	root := repoRoot(t)
	contrib := contribDir(t, root)
	for _, tc := range []struct{ typ, version, name string }{
		{"state.postgresql", "v2", "maxConn"},          // metadata.yaml has maxConns
		{"state.postgresql", "v2", "ConnectionString"}, // exact spelling required
		{"secretstores.aws.secretmanager", "v1", "regoin"},
		{"bindings.aws.ses", "v1", "emailFrm"},
		{"pubsub.kafka", "v1", "consumerGroupID"},
	} {
		c := component{}
		c.Spec.Type, c.Spec.Version = tc.typ, tc.version
		c.Spec.Metadata = []metadataItem{{Name: tc.name, Value: yaml.Node{Kind: yaml.ScalarNode, Value: "x"}}}
		if len(metadataNameProblems(contrib, c)) == 0 {
			t.Errorf("%s/%s: misspelled %q was not flagged", tc.typ, tc.version, tc.name)
		}
	}
	for _, tc := range []struct{ typ, version, name string }{
		{"secretstores.aws.secretmanager", "v1", "region"},
		{"bindings.aws.ses", "v1", "emailFrom"},
		{"state.mongodb", "v1", "keyPrefix"},
		{"state.aws.dynamodb", "v1", "region"},
	} {
		c := component{}
		c.Spec.Type, c.Spec.Version = tc.typ, tc.version
		c.Spec.Metadata = []metadataItem{{Name: tc.name, Value: yaml.Node{Kind: yaml.ScalarNode, Value: "x"}}}
		if p := metadataNameProblems(contrib, c); len(p) != 0 {
			t.Errorf("%s/%s: %q wrongly flagged: %v", tc.typ, tc.version, tc.name, p)
		}
	}
	c := component{}
	c.Spec.Type, c.Spec.Version = "state.postgresql", "v3"
	if len(metadataNameProblems(contrib, c)) == 0 {
		t.Error("state.postgresql/v3 (no such version) was not flagged")
	}
}

// ---- dapr/aws ----

type configuration struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		MTLS struct {
			Enabled bool `yaml:"enabled"`
			// Required by the Configuration CRD of Dapr 1.17.5.
			ControlPlaneTrustDomain string `yaml:"controlPlaneTrustDomain"`
			SentryAddress           string `yaml:"sentryAddress"`
		} `yaml:"mtls"`
		Tracing struct {
			SamplingRate string `yaml:"samplingRate"`
			Otel         struct {
				EndpointAddress string `yaml:"endpointAddress"`
				IsSecure        *bool  `yaml:"isSecure"`
				Protocol        string `yaml:"protocol"`
			} `yaml:"otel"`
		} `yaml:"tracing"`
		Metrics struct {
			Enabled bool `yaml:"enabled"`
			HTTP    struct {
				IncreasedCardinality *bool `yaml:"increasedCardinality"`
			} `yaml:"http"`
		} `yaml:"metrics"`
		Logging struct {
			APILogging struct {
				Enabled bool `yaml:"enabled"`
			} `yaml:"apiLogging"`
		} `yaml:"logging"`
		// The Configuration CRD of Dapr (1.14 and 1.17) requires all three fields.
		NameResolution struct {
			Component     string         `yaml:"component"`
			Version       string         `yaml:"version"`
			Configuration map[string]any `yaml:"configuration"`
		} `yaml:"nameResolution"`
		AccessControl accessControl `yaml:"accessControl"`
	} `yaml:"spec"`
}

type accessControl struct {
	DefaultAction string `yaml:"defaultAction"`
	TrustDomain   string `yaml:"trustDomain"`
	Policies      []struct {
		AppID         string `yaml:"appId"`
		DefaultAction string `yaml:"defaultAction"`
		TrustDomain   string `yaml:"trustDomain"`
		Namespace     string `yaml:"namespace"`
		Operations    []struct {
			Name     string   `yaml:"name"`
			HTTPVerb []string `yaml:"httpVerb"`
			Action   string   `yaml:"action"`
		} `yaml:"operations"`
	} `yaml:"policies"`
}

// awsConfigDocs splits dapr/aws/config.yaml into its documents, keyed by
// Configuration name, decoding each strictly.
func awsConfigDocs(t testing.TB, root string) (map[string]configuration, map[string][]byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "dapr/aws/config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	configs := map[string]configuration{}
	raw := map[string][]byte{}
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("dapr/aws/config.yaml: %v", err)
		}
		doc, err := yaml.Marshal(&node)
		if err != nil {
			t.Fatal(err)
		}
		var c configuration
		strict := yaml.NewDecoder(bytes.NewReader(doc))
		strict.KnownFields(true)
		if err := strict.Decode(&c); err != nil {
			t.Fatalf("dapr/aws/config.yaml: %v", err)
		}
		configs[c.Metadata.Name] = c
		raw[c.Metadata.Name] = doc
	}
	return configs, raw
}

func TestAWSConfiguration(t *testing.T) {
	root := repoRoot(t)
	configs, _ := awsConfigDocs(t, root)
	var first *configuration
	for _, app := range appIDs {
		name := "shopmesh-" + app
		c, ok := configs[name]
		if !ok {
			t.Errorf("dapr/aws/config.yaml has no Configuration %s", name)
			continue
		}
		if c.APIVersion != "dapr.io/v1alpha1" || c.Kind != "Configuration" {
			t.Errorf("%s: apiVersion/kind %s/%s", name, c.APIVersion, c.Kind)
		}
		s := c.Spec
		if !s.MTLS.Enabled {
			t.Errorf("%s: mtls.enabled must be true", name)
		}
		// The Dapr Helm chart's defaults for a release in dapr-system
		// (infra/terraform/modules/cluster-addons).
		if s.MTLS.ControlPlaneTrustDomain != "cluster.local" || s.MTLS.SentryAddress != "dapr-sentry.dapr-system.svc.cluster.local:443" {
			t.Errorf("%s: mtls controlPlaneTrustDomain %q sentryAddress %q, want the control plane's cluster.local and dapr-sentry.dapr-system.svc.cluster.local:443", name, s.MTLS.ControlPlaneTrustDomain, s.MTLS.SentryAddress)
		}
		if s.Tracing.Otel.EndpointAddress != "otel-collector.observability.svc.cluster.local:4317" ||
			s.Tracing.Otel.IsSecure == nil || *s.Tracing.Otel.IsSecure || s.Tracing.Otel.Protocol != "grpc" {
			t.Errorf("%s: tracing.otel = %+v, want the collector over plaintext gRPC", name, s.Tracing.Otel)
		}
		if s.NameResolution.Component != "kubernetes" || s.NameResolution.Version != "v1" || s.NameResolution.Configuration == nil {
			t.Errorf("%s: nameResolution.component %q, want kubernetes", name, s.NameResolution.Component)
		}
		if s.Tracing.SamplingRate == "" || !s.Metrics.Enabled {
			t.Errorf("%s: want a tracing samplingRate and metrics on", name)
		}
		ac := s.AccessControl
		if ac.DefaultAction != "deny" || ac.TrustDomain != "public" {
			t.Errorf("%s: accessControl defaultAction %q trustDomain %q, want deny/public", name, ac.DefaultAction, ac.TrustDomain)
		}
		for _, p := range ac.Policies {
			// daprd 1.17.5 refuses to start when a policy lacks any of these
			// (pkg/acl/acl.go ParseAccessControlSpec).
			if p.TrustDomain != "public" || p.Namespace != "shopmesh" || !slices.Contains(appIDs, p.AppID) {
				t.Errorf("%s: policy %+v needs appId (an app), trustDomain public, namespace shopmesh", name, p)
			}
			if p.DefaultAction != "allow" && p.DefaultAction != "deny" {
				t.Errorf("%s: policy for %s: defaultAction %q", name, p.AppID, p.DefaultAction)
			}
			for _, op := range p.Operations {
				if !strings.HasPrefix(op.Name, "/") || op.Action != "allow" && op.Action != "deny" || len(op.HTTPVerb) == 0 {
					t.Errorf("%s: policy for %s: operation %+v", name, p.AppID, op)
				}
			}
		}
		// All documents share everything but name and access control.
		c.Metadata.Name, c.Spec.AccessControl = "", accessControl{}
		if first == nil {
			first = &c
		} else if !reflect.DeepEqual(*first, c) {
			t.Errorf("%s differs from shopmesh-%s outside accessControl", name, appIDs[0])
		}
	}
	if len(configs) != len(appIDs) {
		t.Errorf("dapr/aws/config.yaml has %d Configurations, want one per app (%d)", len(configs), len(appIDs))
	}

	// Who may call whom.
	callers := func(target string) map[string]string {
		out := map[string]string{}
		for _, p := range configs["shopmesh-"+target].Spec.AccessControl.Policies {
			var ops []string
			for _, op := range p.Operations {
				ops = append(ops, strings.Join(op.HTTPVerb, ",")+" "+op.Name)
			}
			out[p.AppID] = p.DefaultAction + ": " + strings.Join(ops, "; ")
		}
		return out
	}
	want := map[string]map[string]string{
		"catalog": {
			"gateway":   "deny: GET,POST,PUT,DELETE /products/*; GET /categories/*",
			"orders":    "deny: GET /products/*",
			"inventory": "deny: GET /products/*",
			"search":    "deny: GET /products/*",
		},
		"users":         {"gateway": "allow: "},
		"orders":        {"gateway": "deny: POST,DELETE /cart/items/*; GET /cart/*; POST /checkout/*; GET /orders/*; POST /orders/**"},
		"inventory":     {"gateway": "deny: GET,PUT /inventory/*"},
		"payments":      {"gateway": "deny: GET /payments/*"},
		"notifications": {"gateway": "deny: GET /notifications/*"},
		"search":        {"gateway": "deny: GET /search/*; POST /reindex/*"},
		"gateway":       {},
	}
	for target, w := range want {
		if got := callers(target); !reflect.DeepEqual(got, w) {
			t.Errorf("callers of %s = %v, want %v", target, got, w)
		}
	}
}

type resiliency struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Policies struct {
			Timeouts        map[string]string         `yaml:"timeouts"`
			Retries         map[string]map[string]any `yaml:"retries"`
			CircuitBreakers map[string]map[string]any `yaml:"circuitBreakers"`
		} `yaml:"policies"`
		Targets struct {
			Apps       map[string]policyRef `yaml:"apps"`
			Components map[string]struct {
				Outbound *policyRef `yaml:"outbound"`
				Inbound  *policyRef `yaml:"inbound"`
			} `yaml:"components"`
		} `yaml:"targets"`
	} `yaml:"spec"`
}

type policyRef struct {
	Timeout        string `yaml:"timeout"`
	Retry          string `yaml:"retry"`
	CircuitBreaker string `yaml:"circuitBreaker"`
}

func TestAWSResiliency(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "dapr/aws/resiliency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var r resiliency
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("dapr/aws/resiliency.yaml: %v", err)
	}
	if r.APIVersion != "dapr.io/v1alpha1" || r.Kind != "Resiliency" {
		t.Errorf("apiVersion/kind %s/%s", r.APIVersion, r.Kind)
	}
	p := r.Spec.Policies
	for name, d := range p.Timeouts {
		if _, err := time.ParseDuration(d); err != nil {
			t.Errorf("timeout %s: %v", name, err)
		}
	}
	check := func(where string, ref policyRef) {
		if _, ok := p.Timeouts[ref.Timeout]; ref.Timeout != "" && !ok {
			t.Errorf("%s: no timeout policy %q", where, ref.Timeout)
		}
		if _, ok := p.Retries[ref.Retry]; ref.Retry != "" && !ok {
			t.Errorf("%s: no retry policy %q", where, ref.Retry)
		}
		if _, ok := p.CircuitBreakers[ref.CircuitBreaker]; ref.CircuitBreaker != "" && !ok {
			t.Errorf("%s: no circuit breaker %q", where, ref.CircuitBreaker)
		}
	}
	for app, ref := range r.Spec.Targets.Apps {
		if !slices.Contains(appIDs, app) {
			t.Errorf("targets.apps.%s: not an app id", app)
		}
		check("targets.apps."+app, ref)
	}
	aws := byName(loadDir(t, root, "components/aws"))
	for name, tgt := range r.Spec.Targets.Components {
		c, ok := aws[name]
		if !ok {
			t.Errorf("targets.components.%s: no such component in components/aws", name)
			continue
		}
		if tgt.Outbound != nil {
			check("targets.components."+name+".outbound", *tgt.Outbound)
			// Retries replay state transactions (Multi) and, with the outbox, publishes.
			if (strings.HasPrefix(c.Spec.Type, "state.") || strings.HasPrefix(c.Spec.Type, "bindings.")) && tgt.Outbound.Retry != "" {
				t.Errorf("targets.components.%s: no outbound retry on a state store or output binding", name)
			}
		}
		if tgt.Inbound != nil {
			check("targets.components."+name+".inbound", *tgt.Inbound)
		}
	}
	for name, c := range aws {
		if strings.HasPrefix(c.Spec.Type, "secretstores.") {
			continue
		}
		tgt, ok := r.Spec.Targets.Components[name]
		if c.Spec.Type == "bindings.cron" {
			// An input binding only delivers to the app.
			if !ok || tgt.Inbound == nil || tgt.Inbound.Timeout == "" {
				t.Errorf("%s has no inbound timeout in dapr/aws/resiliency.yaml", name)
			}
			continue
		}
		if !ok || tgt.Outbound == nil || tgt.Outbound.Timeout == "" {
			t.Errorf("%s has no outbound timeout in dapr/aws/resiliency.yaml", name)
		}
		if strings.HasPrefix(c.Spec.Type, "pubsub.") && (!ok || tgt.Inbound == nil || tgt.Inbound.Retry == "") {
			t.Errorf("%s: pub/sub needs an inbound retry before dead-lettering", name)
		}
	}
}
