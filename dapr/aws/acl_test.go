package aws_test

// TestAccessControlMatrix checks the access-control policies of
// dapr/aws/config.yaml with real sidecars: Dapr Sentry (.local/bin/sentry)
// issues each daprd (.local/bin/daprd) its mTLS identity
// spiffe://public/ns/<namespace>/<app id>, as in the cluster, and every daprd
// runs its app's Configuration from the file (its accessControl verbatim;
// name resolution swapped for a SQLite file, the cluster-only rest dropped).
// Each app id, an unknown app id ("intruder") and a "gateway" from another
// namespace call every other app on every probed route with every verb; a
// call must reach the app exactly when the matrix below (or the few extras
// Dapr 1.14 cannot tell apart from it, daprAlso) allows it, and be refused by
// the callee's sidecar with 403 naming the caller's identity otherwise.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/local/stack"
)

// Rules are "VERB /path": VERB "*" is any verb; in the path "*" is one
// segment and a final "**" any number of segments.
type rules map[string]map[string][]string // caller -> callee -> rules

// matrix is every service invocation the design has (README.md, "Service-to-
// service trust"). Nobody else calls anybody.
var matrix = rules{
	contracts.AppGateway: {
		contracts.AppUsers:         {"* /**"},
		contracts.AppCatalog:       {"GET /products", "GET /products/*", "POST /products", "PUT /products/*", "DELETE /products/*", "GET /categories"},
		contracts.AppOrders:        {"GET /cart", "POST /cart/items", "DELETE /cart/items/*", "POST /checkout", "GET /orders", "GET /orders/*", "POST /orders/*/cancel"},
		contracts.AppInventory:     {"GET /inventory/*", "PUT /inventory/*"},
		contracts.AppPayments:      {"GET /payments/*"},
		contracts.AppNotifications: {"GET /notifications"},
		contracts.AppSearch:        {"GET /search", "POST /reindex"},
	},
	contracts.AppOrders:    {contracts.AppCatalog: {"GET /products/*"}},
	contracts.AppInventory: {contracts.AppCatalog: {"GET /products/*"}},
	contracts.AppSearch:    {contracts.AppCatalog: {"GET /products", "GET /products/*"}},
}

// daprAlso is what the policies let through beyond the matrix because Dapr
// 1.14 cannot express it exactly (config.yaml's header: "/a/*" is "/a" plus
// one segment with one verb list, a middle "*" never matches, so
// /orders/{id}/cancel needs "/orders/**"). Apart from the product list for
// orders and inventory, none of it is among the routes the design gives the
// callee.
var daprAlso = rules{
	contracts.AppGateway: {
		contracts.AppCatalog: {"PUT /products", "DELETE /products", "POST /products/*", "GET /categories/*"},
		// GET /cart/<any segment but items>, probed as /cart/x.
		contracts.AppOrders:        {"DELETE /cart/items", "POST /cart/items/*", "GET /cart/x", "POST /checkout/*", "POST /orders/*/*/**"},
		contracts.AppInventory:     {"GET /inventory", "PUT /inventory"},
		contracts.AppPayments:      {"GET /payments"},
		contracts.AppNotifications: {"GET /notifications/*"},
		contracts.AppSearch:        {"GET /search/*", "POST /reindex/*"},
	},
	contracts.AppOrders:    {contracts.AppCatalog: {"GET /products"}},
	contracts.AppInventory: {contracts.AppCatalog: {"GET /products"}},
}

var (
	// Every app id calls and is called by every other. The storefront has
	// no entry in matrix: it may invoke nobody and nobody may invoke it (it
	// reaches the gateway over plain HTTP, outside Dapr).
	appIDs = []string{
		contracts.AppGateway, contracts.AppUsers, contracts.AppCatalog, contracts.AppInventory,
		contracts.AppOrders, contracts.AppPayments, contracts.AppNotifications, contracts.AppSearch,
		contracts.AppStorefront,
	}
	verbs = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
)

const (
	// The cluster's namespace and trust domain (config.yaml's policies).
	namespace   = "shopmesh"
	trustDomain = "public"
	// The control plane's own identity: spiffe://localhost/ns/dapr-system/dapr-sentry.
	controlPlaneTrustDomain = "localhost"
	controlPlaneNamespace   = "dapr-system"
	// probeID stands for an id segment ("*" in a rule).
	probeID = "0190b3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"
	// startTimeout bounds each process's start.
	startTimeout = 60 * time.Second
)

// caller is a daprd that calls the apps: the app id and namespace of its
// identity, and its key in matrix.
type caller struct {
	name, appID, namespace string
}

func TestAccessControlMatrix(t *testing.T) {
	daprxtest.RequireIntegration(t)
	root := daprxtest.RepoRoot(t)
	daprd := filepath.Join(root, ".local", "bin", "daprd")
	sentry := filepath.Join(root, ".local", "bin", "sentry")
	require.FileExists(t, daprd, "run bash local/build-daprd.sh")
	if _, err := os.Stat(sentry); err != nil {
		t.Skipf("needs Dapr Sentry at %s (access control needs its mTLS identities): run bash local/build-daprd.sh", sentry)
	}

	work := t.TempDir()
	procs := &processes{}
	t.Cleanup(func() { procs.stopAll(t) })

	trustAnchors, sentryAddr := startSentry(t, procs, sentry, work)

	// Every daprd gets its app's accessControl from config.yaml, and they
	// all resolve names through one SQLite file, with the local stack's
	// settings for it.
	acls := accessControls(t, filepath.Join(root, "dapr", "aws", "config.yaml"))
	resources := filepath.Join(work, "resources")
	require.NoError(t, os.Mkdir(resources, 0o700))
	nr := daprxtest.LocalNameResolution(t, filepath.Join(work, "nameresolution.db"))

	// sidecar starts c's echo app and daprd and returns the daprd's HTTP port.
	sidecar := func(t *testing.T, c caller, accessControl any) int {
		t.Helper()
		cfg := writeConfig(t, work, c.name, accessControl, nr)
		app := echoApp(t, c.name)
		env := append(cleanEnv(), "NAMESPACE="+c.namespace, "DAPR_TRUST_ANCHORS="+trustAnchors)
		var port int
		procs.startHealthy(t, "daprd-"+c.name, func(name string) (*process, string, int) {
			ports := daprxtest.FreePorts(t, 4)
			spec := stack.AppSpec{
				ID: c.appID,
				Ports: stack.Ports{
					App: app, DaprHTTP: ports[0], DaprGRPC: ports[1], DaprInternalGRPC: ports[2], Metrics: ports[3],
				},
				AppProtocol: "http", LogLevel: "info", Config: cfg, ResourcesPaths: []string{resources},
			}
			args := append(stack.DaprdArgs(spec),
				"--enable-mtls=true", "--sentry-address", sentryAddr,
				"--control-plane-trust-domain", controlPlaneTrustDomain, "--control-plane-namespace", controlPlaneNamespace)
			port = spec.DaprHTTP
			return procs.start(t, work, name, env, daprd, args...),
				fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", spec.DaprHTTP), http.StatusNoContent
		})
		return port
	}

	callers := []caller{{name: "intruder", appID: "intruder", namespace: namespace}}
	for _, id := range appIDs {
		callers = append(callers, caller{name: id, appID: id, namespace: namespace})
	}
	ports := map[string]int{}
	for _, c := range callers {
		ports[c.name] = sidecar(t, c, acls[c.appID])
	}
	if procs.retried {
		// A daprd that failed to bind had registered in name resolution
		// first; its entry expires after the resolver's update interval (5 s).
		time.Sleep(6 * time.Second)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	invoke := func(port int, verb, target, path string) (int, string, error) {
		url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/invoke/%s/method%s", port, target, path)
		req, err := http.NewRequest(verb, url, nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}

	// The first allowed call proves Sentry, mTLS and name resolution work.
	deadline := time.Now().Add(startTimeout)
	for {
		code, body, err := invoke(ports[contracts.AppGateway], http.MethodGet, contracts.AppUsers, "/x")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway -> users GET /x never succeeded: %d %q %v", code, body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	var mu sync.Mutex
	var allowed, denied int
	// check makes c call every probe of callee, addressed as target, with
	// every verb: an allowed call must reach the callee's app, any other be
	// refused by the callee's sidecar, naming c's identity.
	check := func(t *testing.T, c caller, port int, callee, target string) {
		t.Helper()
		denial := fmt.Sprintf("access control policy has denied access to id: spiffe://%s/ns/%s/%s ", trustDomain, c.namespace, c.appID)
		for _, path := range probes(callee) {
			for _, verb := range verbs {
				want, why := expected(c.name, callee, verb, path)
				code, body, err := invoke(port, verb, target, path)
				switch {
				case err != nil:
					t.Errorf("%s -> %s %s %s: %v", c.name, callee, verb, path, err)
				case want:
					if echo := callee + " " + verb + " " + path; code != http.StatusOK || body != echo {
						t.Errorf("%s -> %s %s %s (allowed by %s): got %d %q, want 200 %q", c.name, callee, verb, path, why, code, body, echo)
					}
				case code != http.StatusForbidden || !strings.Contains(body, denial):
					t.Errorf("%s -> %s %s %s (not allowed): got %d %q, want 403 from the callee's sidecar", c.name, callee, verb, path, code, body)
				}
				mu.Lock()
				if want {
					allowed++
				} else {
					denied++
				}
				mu.Unlock()
			}
		}
	}

	// Every caller calls every other app. (A call to its own app id never
	// leaves the sidecar, so no policy applies to it.)
	t.Run("matrix", func(t *testing.T) {
		for _, c := range callers {
			t.Run("from "+c.name, func(t *testing.T) {
				t.Parallel()
				for _, callee := range appIDs {
					if callee != c.appID {
						check(t, c, ports[c.name], callee, callee)
					}
				}
			})
		}
	})

	// A "gateway" from another namespace has another identity and none of the
	// gateway's rights. It calls <app>.shopmesh: a daprd expects its callee
	// in its own namespace otherwise and refuses the callee's certificate.
	// Started last because it registers as "gateway" in name resolution too,
	// and other sidecars calling "gateway" would refuse its certificate.
	t.Run("from gateway in namespace elsewhere", func(t *testing.T) {
		c := caller{name: "gateway-elsewhere", appID: contracts.AppGateway, namespace: "elsewhere"}
		port := sidecar(t, c, acls[contracts.AppGateway])
		for _, callee := range appIDs {
			if callee != contracts.AppGateway {
				check(t, c, port, callee, callee+"."+namespace)
			}
		}
	})
	t.Logf("%d calls reached the app, %d were refused by Dapr access control", allowed, denied)
}

// expected says whether caller may call verb path on callee, and by which list.
func expected(caller, callee, verb, path string) (bool, string) {
	for _, list := range []struct {
		name  string
		rules rules
	}{{"the matrix", matrix}, {"daprAlso", daprAlso}} {
		for _, r := range list.rules[caller][callee] {
			if covers(r, verb, path) {
				return true, list.name + " (" + r + ")"
			}
		}
	}
	return false, ""
}

// covers reports whether rule r ("VERB /path") covers verb on path.
func covers(r, verb, path string) bool {
	rv, rp, _ := strings.Cut(r, " ")
	if rv != "*" && rv != verb {
		return false
	}
	want := strings.Split(strings.TrimPrefix(rp, "/"), "/")
	got := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, seg := range want {
		if seg == "**" {
			return true
		}
		if i >= len(got) || seg != "*" && seg != got[i] {
			return false
		}
	}
	return len(want) == len(got)
}

// probes are the paths tried on callee: every path of a rule for it (ids
// filled in) with its parents, each of them with one more segment, and /x.
func probes(callee string) []string {
	seen := map[string]bool{"/x": true}
	out := []string{"/x"}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, list := range []rules{matrix, daprAlso} {
		for _, callees := range list {
			for _, r := range callees[callee] {
				_, rp, _ := strings.Cut(r, " ")
				var path string
				for _, seg := range strings.Split(strings.TrimPrefix(rp, "/"), "/") {
					if seg == "**" {
						break
					}
					if seg == "*" {
						seg = probeID
					}
					path += "/" + seg
					add(path)
					add(path + "/x")
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// accessControls returns spec.accessControl of every app's Configuration
// (shopmesh-<app id>) in config.yaml, as parsed YAML.
func accessControls(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	out := map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				AccessControl any `yaml:"accessControl"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err, file)
		}
		app, ok := strings.CutPrefix(doc.Metadata.Name, "shopmesh-")
		if doc.Kind == "Configuration" && ok {
			out[app] = doc.Spec.AccessControl
		}
	}
	for _, id := range appIDs {
		require.NotNil(t, out[id], "%s has no accessControl for shopmesh-%s", file, id)
	}
	return out
}

// writeConfig writes a daprd Configuration with the given accessControl (none
// when nil) and name resolution, and returns its path.
func writeConfig(t *testing.T, dir, name string, accessControl any, nameResolution map[string]any) string {
	t.Helper()
	spec := map[string]any{"nameResolution": nameResolution}
	if accessControl != nil {
		spec["accessControl"] = accessControl
	}
	data, err := yaml.Marshal(map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Configuration",
		"metadata":   map[string]any{"name": "shopmesh-" + name},
		"spec":       spec,
	})
	require.NoError(t, err)
	path := filepath.Join(dir, "config-"+name+".yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// echoApp serves "<name> <method> <path>" with 200 on any request and
// returns its port.
func echoApp(t *testing.T, name string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.Method+" "+r.URL.Path)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// startSentry runs Sentry self-hosted and returns its root certificate (PEM),
// the trust anchors for the sidecars, and its address. Its first start generates the root and
// issuer into the credentials folder; Sentry watches that folder and restarts
// its server for a few seconds after those writes, so it is stopped then and
// started again on the files it made.
func startSentry(t *testing.T, procs *processes, bin, work string) (string, string) {
	t.Helper()
	creds := filepath.Join(work, "sentry-credentials")
	require.NoError(t, os.Mkdir(creds, 0o700))
	// Self-hosted Sentry reads its Configuration from a file; without one
	// it does not start.
	cfg := filepath.Join(work, "sentry.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: 1h
    allowedClockSkew: 1m
`), 0o600))
	env := append(cleanEnv(), "NAMESPACE="+controlPlaneNamespace)
	run := func(name string) (*process, string) {
		var addr string
		p := procs.startHealthy(t, name, func(name string) (*process, string, int) {
			ports := daprxtest.FreePorts(t, 3)
			port, healthz, metrics := ports[0], ports[1], ports[2]
			addr = "127.0.0.1:" + strconv.Itoa(port)
			return procs.start(t, work, name, env, bin,
					"--config", cfg, "--issuer-credentials", creds, "--trust-domain", controlPlaneTrustDomain,
					"--port", strconv.Itoa(port), "--listen-address", "127.0.0.1",
					"--healthz-port", strconv.Itoa(healthz), "--metrics-port", strconv.Itoa(metrics),
					"--log-level", "info"),
				fmt.Sprintf("http://127.0.0.1:%d/healthz", healthz), http.StatusOK
		})
		return p, addr
	}

	first, _ := run("sentry-init")
	for _, f := range []string{"ca.crt", "issuer.crt", "issuer.key"} {
		_, err := os.Stat(filepath.Join(creds, f))
		require.NoError(t, err, "Sentry did not write its credentials")
	}
	first.stop()
	_, addr := run("sentry")

	ca, err := os.ReadFile(filepath.Join(creds, "ca.crt"))
	require.NoError(t, err)
	return string(ca), addr
}

// cleanEnv is the test's environment without what would change how Dapr
// runs: API tokens, a namespace, trust anchors, Kubernetes mode.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DAPR_") || strings.HasPrefix(k, "APP_") || strings.HasPrefix(k, "SENTRY_") ||
			k == "NAMESPACE" || k == "KUBERNETES_SERVICE_HOST" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// processes are the test's Sentry and daprd processes.
type processes struct {
	mu  sync.Mutex
	all []*process
	// retried is set when a start had to be retried (see startHealthy).
	retried bool
}

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

// start runs bin with its output in <dir>/<name>.log.
func (ps *processes) start(t *testing.T, dir, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, f, f
	require.NoError(t, cmd.Start(), name)
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p
}

// stop interrupts the process and kills it if it has not exited in 10 s.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stopAll stops every process at once and, if the test failed, shows the end
// of each log.
func (ps *processes) stopAll(t *testing.T) {
	var wg sync.WaitGroup
	for _, p := range ps.all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
	if !t.Failed() {
		return
	}
	for _, p := range ps.all {
		data, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		t.Logf("--- %s (%s), last %d lines:\n%s", p.name, p.log, len(lines), strings.Join(lines, "\n"))
	}
}

// startHealthy runs launch, which starts a process named name on ports from
// FreePorts and says which URL answers which status once it is up, and waits
// for that. A port picked by FreePorts can be taken by another process before
// ours binds it, so a start that failed on a port in use is retried (the
// logs of the retries are named name-2, name-3).
func (ps *processes) startHealthy(t *testing.T, name string, launch func(name string) (*process, string, int)) *process {
	t.Helper()
	const attempts = 3
	for i := 1; ; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s-%d", name, i)
		}
		p, url, status := launch(n)
		err := p.waitHTTP(url, status)
		if err == nil {
			return p
		}
		// daprd logs "could not listen on any endpoint" for a loopback-only
		// listener it cannot bind, "address already in use" for the others.
		if i == attempts || !errors.Is(err, errExited) ||
			!p.logContains("address already in use") && !p.logContains("could not listen on any endpoint") {
			t.Fatalf("%s: %v (its log is shown below)", n, err)
		}
		ps.retried = true
	}
}

var errExited = errors.New("exited during start")

// waitHTTP waits until url answers status, or the process exits.
func (p *process) waitHTTP(url string, status int) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v)", errExited, p.cmd.ProcessState)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %d within %s", url, status, startTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *process) logContains(s string) bool {
	data, _ := os.ReadFile(p.log)
	return bytes.Contains(data, []byte(s))
}
