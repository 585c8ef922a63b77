package components_test

// TestDaprdLoadsAWSProfile starts the project's daprd 1.17.5
// (.local/bin/daprd, built by `bash local/build-daprd.sh`) on components/aws
// with AWS unreachable and checks, from daprd's own log, that every component
// got past everything daprd checks before it touches the network: the type and
// version exist in this daprd, the metadata decodes into the component's
// settings, required settings are present, secretKeyRefs and envRefs resolve.
// The only failures allowed are "cannot reach AWS / the backing service".
//
// How: daprd loads secret stores first, then the other components one at a
// time in file-name order, and exits at the first component that fails; a
// component whose secretKeyRef names an unloaded store is never even created,
// and a secretKeyRef whose fetch fails is only logged ("Error getting secret",
// without the component's name) and the component is initialised without
// that value (pkg/runtime/runtime.go loadComponents,
// pkg/runtime/processor/components.go, pkg/runtime/processor/secret/secret.go).
// So the check runs daprd several times, in parallel:
//
//   - "as-is": components/aws unmodified, app id catalog. The Secrets Manager
//     store must load: since components-contrib 1.17 its Init only builds the
//     client and makes no AWS call (secretstores/aws/secretmanager), so only
//     a mistake in its YAML can fail it. daprd then takes the first component
//     in scope (catalog-store), fetches its secretKeyRef from that store and
//     must fail only because AWS is unreachable. catalog-store is then
//     initialised without the secret and with the profile's pod-only paths
//     (the DocumentDB CA bundle is mounted in the pod, not here), fails, and
//     daprd exits: the Init of a component whose secret could not be fetched
//     is not judged here (only a type, version or category that this daprd
//     lacks still counts) — the rendered runs below judge every component.
//   - one run per app id ("app-<id>"), and per app id of a swapped-in
//     alternative ("alternatives-<id>"), on a rendered copy:
//     ${SHOPMESH_ENV} replaced (as the Helm chart does), the store
//     "secretstore" replaced by a local file store holding a fake value for
//     every referenced secret, ignoreErrors: true and initTimeout: 8s on every
//     other component (so daprd logs each failure and carries on), the
//     DocumentDB CA path pointed at a generated CA file. envRefs get fake
//     endpoints on a closed local port; AWS API calls go to a closed local
//     proxy with fake static credentials. daprd runs with that app's
//     Configuration from dapr/aws/config.yaml and dapr/aws/resiliency.yaml.
//   - "typo": deliberate mistakes, to show what the check catches and what it
//     cannot (see TestDaprdCheckerCatchesTypos).
//
// What it cannot catch: a misspelled OPTIONAL metadata name (Dapr decodes
// metadata without rejecting unknown keys; TestMetadataNamesExist covers
// that), wrong values that only the real service rejects (table names,
// endpoints, credentials, IAM policies, a DocumentDB that refuses Dapr's
// update pipelines), and anything that happens after Init (publishing,
// subscribing, transactions).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

const (
	// daprdRunTimeout bounds one daprd run; components time out after
	// testInitTimeout, so a run normally ends in ~10 s.
	daprdRunTimeout = 45 * time.Second
	testInitTimeout = "8s"
	testEnvName     = "ci"
)

// requireDaprd returns the daprd binary: the test is skipped without
// SHOPMESH_INTEGRATION and fails with it when the binary is missing.
func requireDaprd(t *testing.T, root string) string {
	t.Helper()
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("starts the real daprd: set SHOPMESH_INTEGRATION=1 (needs .local/bin/daprd from `bash local/build-daprd.sh`)")
	}
	bin := filepath.Join(root, ".local", "bin", "daprd")
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("SHOPMESH_INTEGRATION is set but %s is missing or not executable: run `bash local/build-daprd.sh`", bin)
	}
	return bin
}

// ---- The fake environment ----

// fakeAWS is what the rendered runs point at: nothing listens.
type fakeAWS struct {
	closed string // 127.0.0.1:<port> where nothing listens
	caFile string // a CA certificate (PEM) for tlsCAFile
	dir    string
}

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{dir: t.TempDir()}
	f.closed = closedAddr(t)
	f.caFile = filepath.Join(f.dir, "ca.pem")
	writeCA(t, f.caFile)
	return f
}

// closedAddr returns a loopback address where nothing listens (connections
// are refused at once).
func closedAddr(t *testing.T) string {
	t.Helper()
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			continue
		}
		return addr
	}
	t.Fatal("no closed loopback port found")
	return ""
}

func writeCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shopmesh test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// envRefValue is the fake value of each envRef the AWS profile uses; a new
// envRef needs an entry here (the test fails otherwise).
func (f *fakeAWS) envRefValue(name string) (string, bool) {
	v, ok := map[string]string{
		"AWS_REGION":               "eu-west-1",
		"AWS_ACCOUNT_ID":           "123456789012",
		"SHOPMESH_MSK_BROKERS":     f.closed,
		"SHOPMESH_DOCDB_HOST":      f.closed,
		"SHOPMESH_CART_REDIS_HOST": f.closed,
		"SHOPMESH_EMAIL_FROM":      "ShopMesh CI <ci@example.com>",
	}[name]
	return v, ok
}

// secretValue is the fake value of a Secrets Manager secret.
func (f *fakeAWS) secretValue(name string) string {
	if strings.HasSuffix(name, "-dsn") {
		host, port, _ := net.SplitHostPort(f.closed)
		return fmt.Sprintf("host=%s port=%s user=ci password=ci dbname=ci sslmode=disable connect_timeout=3", host, port)
	}
	return "ci-secret"
}

// daprdEnv is daprd's whole environment: nothing of the host's AWS setup
// leaks in, AWS API calls go to a closed proxy, envRefs are allow-listed as
// the Dapr injector does on Kubernetes (DAPR_ENV_KEYS).
func (f *fakeAWS) daprdEnv(t *testing.T, refs []string) []string {
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + f.dir,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=ci-not-a-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(f.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(f.dir, "no-aws-credentials"),
		"HTTPS_PROXY=http://" + f.closed,
		"HTTP_PROXY=http://" + f.closed,
		"NO_PROXY=",
		"DAPR_ENV_KEYS=" + strings.Join(refs, " "),
	}
	for _, ref := range refs {
		v, ok := f.envRefValue(ref)
		if !ok {
			t.Fatalf("envRef %s has no fake value: add it to fakeAWS.envRefValue", ref)
		}
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, ref+"=") }) {
			env = append(env, ref+"="+v)
		}
	}
	return env
}

// ---- Scenarios ----

// scenario is one daprd run.
type scenario struct {
	name       string
	appID      string
	files      map[string][]byte // resources folder content
	config     []byte            // Configuration document, or nil
	sampling   string            // its tracing samplingRate, seen in the log once loaded
	resiliency bool              // files include the Resiliency
	expect     map[string]string // component name -> "type/version" of every component in scope
	// awsSecrets: the secretKeyRefs go to the real Secrets Manager store,
	// which cannot be reached (as-is; see the top comment).
	awsSecrets bool
	env        []string
}

// rawComponent is a component as a generic YAML map, for rendering.
type rawComponent struct {
	file string
	m    map[string]any
	c    component
}

func loadRaw(t *testing.T, root, dir string) []rawComponent {
	t.Helper()
	var out []rawComponent
	for _, c := range loadDir(t, root, dir) {
		data, err := os.ReadFile(filepath.Join(root, c.file))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, rawComponent{file: filepath.Base(c.file), m: m, c: c})
	}
	return out
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// render turns a profile into what a checking run loads (see the top comment).
func render(t *testing.T, f *fakeAWS, comps []rawComponent) (files map[string][]byte, refs []string) {
	t.Helper()
	files = map[string][]byte{}
	secrets := map[string]string{}
	for _, rc := range comps {
		// Render ${SHOPMESH_ENV} the way the Helm chart does: in the text.
		b := bytes.ReplaceAll(marshal(t, rc.m), []byte(envPlaceholder), []byte(testEnvName))
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		c, err := decodeComponent(b)
		if err != nil {
			t.Fatalf("%s: %v", rc.file, err)
		}
		for _, item := range c.Spec.Metadata {
			if item.SecretKeyRef != nil {
				secrets[item.SecretKeyRef.Name] = f.secretValue(item.SecretKeyRef.Name)
			}
			if item.EnvRef != "" && !slices.Contains(refs, item.EnvRef) {
				refs = append(refs, item.EnvRef)
			}
		}
		if c.Metadata.Name == "secretstore" {
			continue // replaced below
		}
		spec := m["spec"].(map[string]any)
		spec["ignoreErrors"] = true
		spec["initTimeout"] = testInitTimeout
		if md, ok := spec["metadata"].([]any); ok {
			for _, it := range md {
				item := it.(map[string]any)
				if v, ok := item["value"].(string); ok && strings.Contains(v, "tlsCAFile=") {
					item["value"] = regexp.MustCompile(`tlsCAFile=[^&]*`).ReplaceAllString(v, "tlsCAFile="+f.caFile)
				}
			}
		}
		files[rc.file] = marshal(t, m)
	}
	data, err := json.Marshal(secrets)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := os.CreateTemp(f.dir, "secrets-*.json")
	if err != nil {
		t.Fatal(err)
	}
	secretsFile := sf.Name()
	if _, err := sf.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	files["secretstore.yaml"] = marshal(t, map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Component",
		"metadata":   map[string]any{"name": "secretstore"},
		"spec": map[string]any{
			"type":     "secretstores.local.file",
			"version":  "v1",
			"metadata": []any{map[string]any{"name": "secretsFile", "value": secretsFile}},
		},
	})
	slices.Sort(refs)
	return files, refs
}

// expected returns the components that an app id loads (by scope), with
// "type/version" as daprd writes it, read back from the rendered files.
func expected(t *testing.T, files map[string][]byte, appID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, data := range files {
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			t.Fatal(err)
		}
		if head.Kind != "Component" {
			continue
		}
		c, err := decodeComponent(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.Scopes) == 0 || slices.Contains(c.Scopes, appID) {
			out[c.Metadata.Name] = c.Spec.Type + "/" + c.Spec.Version
		}
	}
	return out
}

// appConfig returns the Configuration document shopmesh-<appID> of
// dapr/aws/config.yaml (daprd's --config takes one document).
func appConfig(t *testing.T, root, appID string) (doc []byte, samplingRate string) {
	t.Helper()
	configs, raw := awsConfigDocs(t, root)
	doc, ok := raw["shopmesh-"+appID]
	if !ok {
		t.Fatalf("dapr/aws/config.yaml has no shopmesh-%s", appID)
	}
	return doc, configs["shopmesh-"+appID].Spec.Tracing.SamplingRate
}

func scenarios(t *testing.T, root string, f *fakeAWS) []scenario {
	t.Helper()
	resiliency, err := os.ReadFile(filepath.Join(root, "dapr/aws/resiliency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defaults := loadRaw(t, root, "components/aws")
	alternatives := loadRaw(t, root, "components/aws-alternatives")

	withResiliency := func(files map[string][]byte) map[string][]byte {
		files["zz-resiliency.yaml"] = resiliency
		return files
	}
	var out []scenario

	// As-is: the unmodified profile.
	asIs := map[string][]byte{}
	var asIsRefs []string
	for _, rc := range defaults {
		data, err := os.ReadFile(filepath.Join(root, "components/aws", rc.file))
		if err != nil {
			t.Fatal(err)
		}
		asIs[rc.file] = data
		for _, m := range rc.c.Spec.Metadata {
			if m.EnvRef != "" && !slices.Contains(asIsRefs, m.EnvRef) {
				asIsRefs = append(asIsRefs, m.EnvRef)
			}
		}
	}
	slices.Sort(asIsRefs)
	cfg, rate := appConfig(t, root, "catalog")
	out = append(out, scenario{
		name: "as-is", appID: "catalog", files: withResiliency(asIs), resiliency: true,
		config: cfg, sampling: rate, expect: expected(t, asIs, "catalog"), awsSecrets: true,
		env: f.daprdEnv(t, asIsRefs),
	})

	// One run per app id that any component is scoped to, plus the gateway
	// (shared components only).
	apps := []string{"gateway"}
	for _, rc := range defaults {
		for _, s := range rc.c.Scopes {
			if !slices.Contains(apps, s) {
				apps = append(apps, s)
			}
		}
	}
	files, refs := render(t, f, defaults)
	for _, app := range apps {
		cfg, rate := appConfig(t, root, app)
		out = append(out, scenario{
			name: "app-" + app, appID: app, files: withResiliency(maps(files)), resiliency: true,
			config: cfg, sampling: rate, expect: expected(t, files, app), env: f.daprdEnv(t, refs),
		})
	}

	// The alternatives swapped in (copied over the defaults of the same name).
	swapped := map[string]rawComponent{}
	for _, rc := range defaults {
		swapped[rc.c.Metadata.Name] = rc
	}
	altApps := []string{}
	for _, rc := range alternatives {
		rc.file = rc.c.Metadata.Name + ".yaml"
		swapped[rc.c.Metadata.Name] = rc
		if len(rc.c.Scopes) == 0 {
			rc.c.Scopes = []string{"catalog"}
		}
		for _, s := range rc.c.Scopes {
			if !slices.Contains(altApps, s) {
				altApps = append(altApps, s)
			}
		}
	}
	var swappedList []rawComponent
	for _, rc := range swapped {
		swappedList = append(swappedList, rc)
	}
	altFiles, altRefs := render(t, f, swappedList)
	for _, app := range altApps {
		cfg, rate := appConfig(t, root, app)
		out = append(out, scenario{
			name: "alternatives-" + app, appID: app, files: withResiliency(maps(altFiles)), resiliency: true,
			config: cfg, sampling: rate, expect: expected(t, altFiles, app), env: f.daprdEnv(t, altRefs),
		})
	}
	return out
}

func maps(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---- Running daprd ----

// runDaprd runs daprd for sc until every expected component has reported
// (and daprd has finished starting) or it exits, then stops it. It returns
// the log.
// runDaprd runs daprd on sc with ports (HTTP, gRPC, internal gRPC,
// metrics) and returns its log. Parallel runs take their ports from one
// pick: daprd binds them only after its components are up, seconds later, so
// ports picked separately could be handed out twice meanwhile.
func runDaprd(t *testing.T, daprd string, sc scenario, ports []string) []byte {
	t.Helper()
	dir := t.TempDir()
	res := filepath.Join(dir, "resources")
	if err := os.Mkdir(res, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range sc.files {
		if err := os.WriteFile(filepath.Join(res, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{
		"--app-id", sc.appID,
		"--resources-path", res,
		"--dapr-http-port", ports[0],
		"--dapr-grpc-port", ports[1],
		"--dapr-internal-grpc-port", ports[2],
		"--metrics-port", ports[3],
		"--dapr-listen-addresses", "127.0.0.1",
		"--log-as-json=true",
		"--log-level", "info",
	}
	if sc.config != nil {
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, sc.config, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", cfg)
	}
	logPath := filepath.Join(dir, "daprd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()

	cmd := exec.Command(daprd, args...)
	cmd.Dir = dir
	cmd.Env = sc.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start daprd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), daprdRunTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		data, _ := os.ReadFile(logPath)
		r := parseDaprdLog(data)
		if r.initialized && r.reportedAll(sc.expect) {
			stop()
			break
		}
		select {
		case <-exited:
		case <-ctx.Done():
			t.Errorf("daprd did not report every component within %s", daprdRunTimeout)
		case <-tick.C:
			continue
		}
		break
	}
	stop()
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for _, p := range daprxtest.FreePorts(t, n) {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

// ---- Reading daprd's log ----

// compStatus is what daprd said about one component.
type compStatus struct {
	typeVersion string
	loaded      bool
	err         string
	secretErrs  []string // "Error getting secret" while daprd prepared it
}

type daprdLog struct {
	components  map[string]*compStatus
	order       []string // components in the order daprd reported them
	problems    []string // log lines that are wrong whatever the components
	secretErrs  []string // "Error getting secret" followed by no component
	initialized bool     // "dapr initialized. Status: Running"
	resiliency  bool     // "Loading Resiliency configuration: shopmesh"
	sampler     string   // "Dapr trace sampler initialized: …"
	fatal       []string
}

func (r daprdLog) reportedAll(expect map[string]string) bool {
	for name := range expect {
		if _, ok := r.components[name]; !ok {
			return false
		}
	}
	return true
}

// Messages of daprd (the same texts in 1.14.0 and 1.17.5:
// pkg/runtime/processor/components.go, pkg/runtime/runtime.go,
// pkg/runtime/processor/secret/secret.go, pkg/internal/loader/disk/manifest.go,
// pkg/resiliency/resiliency.go).
var (
	loadedRE  = regexp.MustCompile(`^Component loaded: (\S+) \((\S+)\)$`)
	failedRE  = regexp.MustCompile(`(?s)^Failed to init component (\S+) \((\S+)\): (.*)$`)
	processRE = regexp.MustCompile(`(?s)process component (\S+) error: (.*)$`)
	// secret.ProcessResource logs a failed secretKeyRef fetch without naming
	// the component and goes on: the component it belongs to is the next one
	// daprd reports (components are processed one at a time).
	secretErrPrefix = "Error getting secret: "
	// Lines that mean the YAML or its references are wrong.
	badLineMarkers = []string{
		"references an env variable that isn't allowed",
		"references a secret store that isn't loaded",
		"error when parsing manifests yaml",
		"error when opening file",
		"A non-YAML",
		"Could not parse resiliency",
		"Could not read resiliency",
		"Could not determine resource type",
		"invalid access control spec",
	}
)

func parseDaprdLog(data []byte) daprdLog {
	r := daprdLog{components: map[string]*compStatus{}}
	// report records the first thing daprd said about a component, with the
	// secret fetches that failed just before it.
	report := func(name string, st compStatus) {
		if _, seen := r.components[name]; seen {
			return
		}
		st.secretErrs, r.secretErrs = r.secretErrs, nil
		r.components[name] = &st
		r.order = append(r.order, name)
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			r.problems = append(r.problems, "non-JSON output from daprd: "+line)
			continue
		}
		msg := e.Msg
		if m := loadedRE.FindStringSubmatch(msg); m != nil {
			report(m[1], compStatus{typeVersion: m[2], loaded: true})
			continue
		}
		if m := failedRE.FindStringSubmatch(msg); m != nil {
			report(m[1], compStatus{typeVersion: m[2], err: m[3]})
			continue
		}
		if m := processRE.FindStringSubmatch(msg); m != nil {
			// Errors before Init (e.g. "incorrect type"), and daprd's exit.
			report(m[1], compStatus{err: m[2]})
			if e.Level == "fatal" {
				r.fatal = append(r.fatal, msg)
			}
			continue
		}
		if after, ok := strings.CutPrefix(msg, secretErrPrefix); ok {
			r.secretErrs = append(r.secretErrs, after)
			continue
		}
		if strings.HasPrefix(msg, "dapr initialized. Status: Running") {
			r.initialized = true
		}
		if msg == "Loading Resiliency configuration: shopmesh" {
			r.resiliency = true
		}
		if strings.Contains(msg, "Initialized name resolution to mdns") {
			r.problems = append(r.problems, "daprd announces itself on mDNS: use the cluster's name resolution")
		}
		if strings.HasPrefix(msg, "Dapr trace sampler initialized: ") {
			r.sampler = msg
		}
		for _, marker := range badLineMarkers {
			if strings.Contains(msg, marker) {
				r.problems = append(r.problems, e.Level+": "+msg)
				break
			}
		}
		if e.Level == "fatal" {
			r.fatal = append(r.fatal, msg)
		}
	}
	return r
}

// Errors that can only happen once a component has decoded its metadata and
// gone to the network (or waited on it until its init timeout; daprd 1.17
// joins "init timeout for component …" to the component's own error).
var unreachableMarkers = []string{
	"connection refused",
	"proxyconnect",
	"no such host",
	"i/o timeout",
	"network is unreachable",
	"init timeout for component",
	"context deadline exceeded",
	"server selection error",
	"run out of available brokers",
	"send request failed",
	// AWS itself reached with the fake credentials (a machine with internet
	// and no proxy honouring): still not a YAML problem.
	"UnrecognizedClientException",
	"InvalidClientTokenId",
	"InvalidSignatureException",
	"security token included in the request is invalid",
}

// errorHint names a configuration error by a text of daprd 1.17.5 or
// components-contrib v1.17.3.
type errorHint struct{ marker, hint string }

var (
	// The type, version or category does not exist in this daprd: found
	// before the metadata is even read.
	unknownComponentHints = []errorHint{
		{"couldn't find", "unknown component type or version in this daprd"},
		{"incorrect type", "unknown component category (type prefix)"},
	}
	// The metadata is wrong. Found before any network access, so these win
	// over an unreachable marker in the same text (an init timeout).
	metadataHints = []errorHint{
		{"decoding", "a metadata value cannot be decoded"},
		{"cannot parse", "a metadata value cannot be decoded"},
		{"expected type", "a metadata value cannot be decoded"},
		{"is duplicate in the metadata", "a metadata name appears twice"},
		{"failed to resolve aliases", "metadata aliases clash"},
		// state.postgresql/v2 without connectionString (and no host etc.).
		{"failed to build connection string", "a required setting is missing (misspelled name?)"},
	}
	// Generic words that a network error may contain too: checked after the
	// unreachable markers.
	missingHints = []errorHint{
		{"missing", "a required setting is missing (misspelled name?)"},
		{"required", "a required setting is missing (misspelled name?)"},
		{"must be set", "a required setting is missing (misspelled name?)"},
		// state.mongodb: "must set 'host' or 'server' fields in metadata".
		{"must set", "a required setting is missing (misspelled name?)"},
	}
)

// classify says whether the init error of component name only means "cannot
// reach the service"; otherwise it names what is wrong. daprd repeats the
// component's name in its errors ("initialization error occurred for
// <name> (<type>)"), so the name is left out of the search: a component
// called typo-required-name must not read as "required".
func classify(name, err string) (unreachable bool, why string) {
	if name != "" {
		err = strings.ReplaceAll(err, name, "<component>")
	}
	for _, hints := range [][]errorHint{unknownComponentHints, metadataHints} {
		for _, h := range hints {
			if strings.Contains(err, h.marker) {
				return false, h.hint
			}
		}
	}
	for _, m := range unreachableMarkers {
		if strings.Contains(err, m) {
			return true, m
		}
	}
	for _, h := range missingHints {
		if strings.Contains(err, h.marker) {
			return false, h.hint
		}
	}
	return false, "failed before reaching the network"
}

// unknownComponent says whether why (from classify) means the type, version
// or category does not exist: a mistake whatever the metadata values.
func unknownComponent(why string) bool {
	return slices.ContainsFunc(unknownComponentHints, func(h errorHint) bool { return h.hint == why })
}

// checkDaprdLog returns the problems of a run, and a one-line summary per
// component. With awsSecrets (as-is), a secretKeyRef fetch may fail only
// because AWS is unreachable; the component is then initialised without the
// secret, so its own failure is not judged unless its type does not exist,
// and daprd exits at that failure, so the components after it are never
// reached.
func checkDaprdLog(r daprdLog, expect map[string]string, wantResiliency, awsSecrets bool) (problems, summary []string) {
	problems = append(problems, r.problems...)
	names := make([]string, 0, len(expect))
	for n := range expect {
		names = append(names, n)
	}
	slices.Sort(names)
	anyFailed := slices.ContainsFunc(r.order, func(n string) bool { return !r.components[n].loaded })
	for _, name := range names {
		st, ok := r.components[name]
		if !ok {
			if awsSecrets && anyFailed {
				summary = append(summary, fmt.Sprintf("%s (%s): not reached (daprd exited at an earlier failure)", name, expect[name]))
			} else {
				problems = append(problems, fmt.Sprintf("%s (%s): daprd never reported it (not loaded, not failed)", name, expect[name]))
			}
			continue
		}
		if st.typeVersion != "" && st.typeVersion != expect[name] {
			problems = append(problems, fmt.Sprintf("%s: daprd saw %s, the YAML says %s", name, st.typeVersion, expect[name]))
			continue
		}
		// Secrets that could not be fetched for this component.
		secretsUnreachable := len(st.secretErrs) > 0
		for _, se := range st.secretErrs {
			ok, why := classify("", se)
			switch {
			case !awsSecrets:
				// The local store holds every referenced secret.
				problems = append(problems, fmt.Sprintf("%s (%s): a secretKeyRef could not be fetched: %s", name, expect[name], firstLine(se)))
			case !ok:
				problems = append(problems, fmt.Sprintf("%s (%s): a secretKeyRef could not be fetched (%s): %s", name, expect[name], why, firstLine(se)))
			default:
				summary = append(summary, fmt.Sprintf("%s (%s): secretKeyRef not fetched: AWS unreachable as expected (%s)", name, expect[name], why))
				continue
			}
			secretsUnreachable = false
		}
		switch ok, why := classify(name, st.err); {
		case st.loaded:
			summary = append(summary, fmt.Sprintf("%s (%s): loaded", name, expect[name]))
		case ok:
			summary = append(summary, fmt.Sprintf("%s (%s): unreachable as expected (%s)", name, expect[name], why))
		case secretsUnreachable && !unknownComponent(why):
			summary = append(summary, fmt.Sprintf("%s (%s): failed without its secret, not judged here (%s): %s", name, expect[name], why, firstLine(st.err)))
		default:
			problems = append(problems, fmt.Sprintf("%s (%s): %s: %s", name, expect[name], why, firstLine(st.err)))
		}
	}
	for _, name := range r.order {
		if _, ok := expect[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s: loaded for this app id but its scopes say otherwise", name))
		}
	}
	for _, se := range r.secretErrs {
		problems = append(problems, "a secretKeyRef could not be fetched, for no component daprd reported: "+firstLine(se))
	}
	for _, f := range r.fatal {
		m := processRE.FindStringSubmatch(f)
		if m != nil {
			if _, ok := expect[m[1]]; ok {
				continue // a component's failure, judged above
			}
		}
		problems = append(problems, "fatal: "+firstLine(f))
	}
	if wantResiliency && !r.resiliency {
		problems = append(problems, "daprd did not load the Resiliency shopmesh")
	}
	return problems, summary
}

func firstLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// ---- The tests ----

func TestDaprdLoadsAWSProfile(t *testing.T) {
	root := repoRoot(t)
	daprd := requireDaprd(t, root)
	f := newFakeAWS(t)
	scs := scenarios(t, root, f)
	ports := freePorts(t, 4*len(scs))
	for i, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			log := runDaprd(t, daprd, sc, ports[4*i:4*i+4])
			r := parseDaprdLog(log)
			problems, summary := checkDaprdLog(r, sc.expect, sc.resiliency, sc.awsSecrets)
			for _, s := range summary {
				t.Log(s)
			}
			// The Configuration was read: its sampling rate is in use.
			if sc.sampling != "" && !strings.Contains(r.sampler, "TraceIDRatioBased{"+sc.sampling+"}") {
				problems = append(problems, fmt.Sprintf("daprd did not apply the Configuration (sampler %q, want rate %s)", r.sampler, sc.sampling))
			}
			if sc.awsSecrets {
				// The Secrets Manager store loads (its Init makes no AWS
				// call), and the next component's secretKeyRefs reach it and
				// fail for want of AWS (judged by checkDaprdLog).
				if st := r.components["secretstore"]; st == nil || !st.loaded {
					problems = append(problems, "secretstore did not load: its Init makes no AWS call, so its YAML is wrong")
				}
				fetched := false
				for _, st := range r.components {
					fetched = fetched || len(st.secretErrs) > 0
				}
				if !fetched {
					problems = append(problems, "no secretKeyRef was fetched from the Secrets Manager store (want its fetch to fail: AWS unreachable)")
				}
			} else if !r.initialized {
				problems = append(problems, "daprd did not finish starting (no \"dapr initialized\")")
			}
			for _, p := range problems {
				t.Error(p)
			}
			if t.Failed() {
				t.Logf("daprd log:\n%s", log)
			}
		})
	}
}

// TestDaprdCheckerCatchesTypos runs daprd on deliberately broken copies of a
// component and shows what the daprd check flags — and that it cannot see a
// misspelled optional metadata name, which TestMetadataNamesExist catches.
func TestDaprdCheckerCatchesTypos(t *testing.T) {
	root := repoRoot(t)
	daprd := requireDaprd(t, root)
	f := newFakeAWS(t)
	var base rawComponent
	for _, rc := range loadRaw(t, root, "components/aws") {
		if rc.c.Metadata.Name == "users-store" {
			base = rc
		}
	}
	if base.m == nil {
		t.Fatal("components/aws/users-store.yaml is missing")
	}
	type typo struct {
		name   string
		change func(spec map[string]any)
		daprd  string // hint checkDaprdLog must report; "" = daprd cannot tell
	}
	renameItem := func(from, to string) func(map[string]any) {
		return func(spec map[string]any) {
			for _, it := range spec["metadata"].([]any) {
				if item := it.(map[string]any); item["name"] == from {
					item["name"] = to
				}
			}
		}
	}
	typos := []typo{
		{"typo-type", func(s map[string]any) { s["type"] = "state.postgress" }, "unknown component type or version"},
		{"typo-version", func(s map[string]any) { s["version"] = "v3" }, "unknown component type or version"},
		{"typo-category", func(s map[string]any) { s["type"] = "stat.postgresql" }, "unknown component category"},
		{"typo-required-name", renameItem("connectionString", "connectionStrng"), "required setting is missing"},
		{"typo-value", func(s map[string]any) {
			for _, it := range s["metadata"].([]any) {
				if item := it.(map[string]any); item["name"] == "maxConns" {
					item["value"] = "ten"
				}
			}
		}, "cannot be decoded"},
		{"typo-optional-name", renameItem("maxConns", "maxConn"), ""},
	}
	var comps []rawComponent
	for _, ty := range typos {
		m := deepCopy(t, base.m)
		m["metadata"] = map[string]any{"name": ty.name}
		m["scopes"] = []any{"typo"}
		ty.change(m["spec"].(map[string]any))
		comps = append(comps, rawComponent{file: ty.name + ".yaml", m: m})
	}
	files, refs := render(t, f, comps)
	cfg, _ := appConfig(t, root, "catalog")
	sc := scenario{name: "typo", appID: "typo", files: files, config: cfg, expect: expected(t, files, "typo"), env: f.daprdEnv(t, refs)}
	log := runDaprd(t, daprd, sc, freePorts(t, 4))
	problems, _ := checkDaprdLog(parseDaprdLog(log), sc.expect, false, false)
	for _, ty := range typos {
		var hit []string
		for _, p := range problems {
			if strings.HasPrefix(p, ty.name+" ") {
				hit = append(hit, p)
			}
		}
		switch {
		case ty.daprd == "" && len(hit) > 0:
			t.Errorf("%s: expected daprd to be blind to it, but the check says %v", ty.name, hit)
		case ty.daprd != "" && (len(hit) != 1 || !strings.Contains(hit[0], ty.daprd)):
			t.Errorf("%s: want one problem mentioning %q, got %v", ty.name, ty.daprd, hit)
		default:
			t.Logf("%s: daprd check: %v", ty.name, hit)
		}
	}
	for _, p := range problems {
		if !strings.HasPrefix(p, "typo-") {
			t.Errorf("unexpected problem: %s", p)
		}
	}
	// The optional-name typo is caught statically.
	contrib := contribDir(t, root)
	for _, rc := range comps {
		if rc.file != "typo-optional-name.yaml" {
			continue
		}
		c, err := decodeComponent(marshal(t, rc.m))
		if err != nil {
			t.Fatal(err)
		}
		if p := metadataNameProblems(contrib, c); len(p) == 0 {
			t.Error("typo-optional-name: the static metadata check did not flag maxConn")
		} else {
			t.Logf("typo-optional-name: static check: %v", p)
		}
	}
	if t.Failed() {
		t.Logf("daprd log:\n%s", log)
	}
}

func deepCopy(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := yaml.Unmarshal(marshal(t, m), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClassify pins the classification on error texts copied from daprd
// 1.17.5 runs (components-contrib v1.17.3), so it can fail without a daprd.
func TestClassify(t *testing.T) {
	const (
		refused = `proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused`
		reqSent = `exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "https://%s.eu-west-1.amazonaws.com/": ` + refused
		missing = "a required setting is missing"
	)
	for _, tc := range []struct {
		name, err   string
		unreachable bool
		why         string // part of the reason, or ""
	}{
		// The as-is run's secret fetch ("Error getting secret: " cut off).
		{"", "couldn't get secret: operation error Secrets Manager: GetSecretValue, " + fmt.Sprintf(reqSent, "secretsmanager"), true, ""},
		{"inventory-store", "[INIT_COMPONENT_FAILURE]: initialization error occurred for inventory-store (state.aws.dynamodb/v1): error validating DynamoDB table 'shopmesh-ci-inventory' access: operation error DynamoDB: GetItem, " + fmt.Sprintf(reqSent, "dynamodb"), true, ""},
		{"pubsub", "[INIT_COMPONENT_FAILURE]: initialization error occurred for pubsub (pubsub.kafka/v1): failed to get latest Kafka clients for initialization: kafka: client has run out of available brokers to talk to: dial tcp 127.0.0.1:1: connect: connection refused", true, ""},
		{"users-store", "[INIT_COMPONENT_FAILURE]: initialization error occurred for users-store (state.postgresql/v2): failed to ping the database: failed to connect to `user=ci database=ci`: 127.0.0.1:1 (127.0.0.1): dial error: dial tcp 127.0.0.1:1: connect: connection refused", true, ""},
		{"cart-store", "[INIT_COMPONENT_FAILURE]: initialization error occurred for cart-store (state.redis/v1): redis store: error connecting to redis at 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused", true, ""},
		// 1.17 joins the init timeout to the component's error.
		{"catalog-store", "[INIT_COMPONENT_FAILURE]: initialization error occurred for catalog-store (state.mongodb/v1): error in connecting to mongodb, host: 127.0.0.1:1 error: server selection error: context deadline exceeded, current topology: { Type: ReplicaSetNoPrimary, Servers: [{ Addr: 127.0.0.1:1, Type: Unknown, Last error: dial tcp 127.0.0.1:1: connect: connection refused }, ] }\ninit timeout for component catalog-store (state.mongodb/v1)", true, ""},
		{"typo-type", "[CREATE_COMPONENT_FAILURE]: initialization error occurred for typo-type (state.postgress/v2): couldn't find state store state.postgress/v2", false, "unknown component type or version"},
		{"typo-category", "incorrect type stat.postgresql", false, "unknown component category"},
		{"typo-required-name", "[INIT_COMPONENT_FAILURE]: initialization error occurred for typo-required-name (state.postgresql/v2): failed to build connection string", false, missing},
		{"x", "[INIT_COMPONENT_FAILURE]: initialization error occurred for x (state.mongodb/v1): must set 'host' or 'server' fields in metadata", false, missing},
		{"typo-value", "[INIT_COMPONENT_FAILURE]: initialization error occurred for typo-value (state.postgresql/v2): 1 error(s) decoding:\n\n* cannot parse 'maxConns' as int: strconv.ParseInt: parsing \"ten\": invalid syntax", false, "cannot be decoded"},
		// A metadata error wins over the init timeout joined to it.
		{"x", "[INIT_COMPONENT_FAILURE]: initialization error occurred for x (state.postgresql/v2): 1 error(s) decoding:\n\n* cannot parse 'maxConns' as int\ninit timeout for component x (state.postgresql/v2)", false, "cannot be decoded"},
		// The component's name is not read as a reason: this is the as-is
		// catalog-store error under a name containing "required".
		{"required-store", "[INIT_COMPONENT_FAILURE]: initialization error occurred for required-store (state.mongodb/v1): error in creating mongodb client: open /etc/docdb/global-bundle.pem: no such file or directory", false, "failed before reaching the network"},
		{"x", "something nobody expected", false, "failed before reaching the network"},
	} {
		got, why := classify(tc.name, tc.err)
		if got != tc.unreachable || !strings.Contains(why, tc.why) {
			t.Errorf("classify(%q, %q) = %v (%s), want %v (%s)", tc.name, firstLine(tc.err), got, why, tc.unreachable, tc.why)
		}
	}
}

// TestCheckAsIsLog pins how the as-is run's log of daprd 1.17.5 is read
// (lines copied from a run, trimmed), so it can fail without a daprd: the
// secret fetch belongs to catalog-store, which may then fail without its
// secret; pubsub is never reached; a config mistake still shows.
func TestCheckAsIsLog(t *testing.T) {
	const (
		secretErr = `couldn't get secret: operation error Secrets Manager: GetSecretValue, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://secretsmanager.eu-west-1.amazonaws.com/\": proxyconnect tcp: dial tcp 127.0.0.1:1: connect: connection refused`
		caErr     = `[INIT_COMPONENT_FAILURE]: initialization error occurred for catalog-store (state.mongodb/v1): error in creating mongodb client: open /etc/docdb/global-bundle.pem: no such file or directory`
	)
	line := func(level, msg string) string {
		return `{"app_id":"catalog","level":"` + level + `","msg":"` + msg + `","scope":"dapr.runtime","type":"log","ver":"1.17.5"}` + "\n"
	}
	asIs := func(secret, failure string) []byte {
		return []byte(line("info", "Loading Resiliency configuration: shopmesh") +
			line("info", "Component loaded: secretstore (secretstores.aws.secretmanager/v1)") +
			line("error", "Error getting secret: "+secret) +
			line("error", "Failed to init component catalog-store (state.mongodb/v1): "+failure) +
			line("warning", "Error processing component, daprd will exit gracefully: process component catalog-store error: "+failure) +
			line("info", "dapr initialized. Status: Running. Init Elapsed 2595ms") +
			line("fatal", "Fatal error from runtime: process component catalog-store error: "+failure))
	}
	expect := map[string]string{
		"secretstore":   "secretstores.aws.secretmanager/v1",
		"catalog-store": "state.mongodb/v1",
		"pubsub":        "pubsub.kafka/v1",
	}
	r := parseDaprdLog(asIs(secretErr, caErr))
	if st := r.components["catalog-store"]; st == nil || len(st.secretErrs) != 1 || len(r.secretErrs) != 0 {
		t.Fatalf("the secret fetch is not attributed to catalog-store: %+v", r)
	}
	if problems, summary := checkDaprdLog(r, expect, true, true); len(problems) > 0 {
		t.Errorf("as-is log of daprd 1.17.5: problems %v (summary %v)", problems, summary)
	}
	// The same log is wrong for a rendered run: its local store has every secret.
	if problems, _ := checkDaprdLog(r, expect, true, false); len(problems) == 0 {
		t.Error("a failed secret fetch is accepted in a rendered run")
	}
	for what, log := range map[string][]byte{
		"a secret fetch failing for another reason": asIs(`couldn't get secret: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, api error ValidationException: Invalid name`, caErr),
		"an unknown type after the failed fetch":    asIs(secretErr, `[CREATE_COMPONENT_FAILURE]: initialization error occurred for catalog-store (state.mongodb/v1): couldn't find state store state.mongodb/v1`),
	} {
		if problems, _ := checkDaprdLog(parseDaprdLog(log), expect, true, true); len(problems) == 0 {
			t.Errorf("%s is not caught", what)
		}
	}
	// A component reported although it is out of scope.
	delete(expect, "catalog-store")
	if problems, _ := checkDaprdLog(r, expect, true, true); !slices.ContainsFunc(problems, func(p string) bool {
		return strings.HasPrefix(p, "catalog-store: loaded for this app id but its scopes say otherwise")
	}) {
		t.Errorf("an out-of-scope component is not caught: %v", problems)
	}
}
