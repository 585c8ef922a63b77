// Command kubecheck validates Kubernetes manifests against a real
// kube-apiserver: it starts etcd and kube-apiserver (built from the Go module
// proxy, see tools/build.sh) on free loopback ports, installs the given
// CustomResourceDefinitions, creates the target namespace with the
// "restricted" Pod Security Standard in warn mode, and submits every object of
// every manifest as a server-side dry-run create with strict field
// validation. An object fails on any error or warning: an unknown or
// misspelled field, a schema violation, a deprecated API, a pod template that
// breaks the restricted standard. Nothing is stored but the namespace and the
// CRDs, and the whole cluster is thrown away at the end.
//
//	kubecheck -bin .local/bin -crds DIR[,DIR...] [-namespace shopmesh] MANIFEST_OR_DIR...
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kubecheck:", err)
		os.Exit(1)
	}
}

type options struct {
	bin       string
	crdDirs   []string
	namespace string
	timeout   time.Duration
	paths     []string
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("kubecheck", flag.ContinueOnError)
	var o options
	var crds string
	fs.StringVar(&o.bin, "bin", ".local/bin", "folder with the etcd and kube-apiserver binaries")
	fs.StringVar(&crds, "crds", "", "comma-separated folders of CustomResourceDefinition YAMLs to install first")
	fs.StringVar(&o.namespace, "namespace", "shopmesh", "namespace created for, and given to, namespaced objects without one")
	fs.DurationVar(&o.timeout, "start-timeout", 2*time.Minute, "how long etcd and kube-apiserver may take to become ready")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, d := range strings.Split(crds, ",") {
		if d = strings.TrimSpace(d); d != "" {
			o.crdDirs = append(o.crdDirs, d)
		}
	}
	o.paths = fs.Args()
	if len(o.paths) == 0 {
		return o, errors.New("no manifests given")
	}
	return o, nil
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	manifests, err := collect(o.paths)
	if err != nil {
		return err
	}
	var crdFiles []string
	if len(o.crdDirs) > 0 {
		if crdFiles, err = collect(o.crdDirs); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	c, err := startCluster(ctx, o)
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "kube-apiserver %s ready in %s\n", c.version, time.Since(start).Round(100*time.Millisecond))

	if err := c.prepare(ctx, o.namespace, crdFiles); err != nil {
		return err
	}
	fmt.Fprintf(out, "installed %d CRDs from %d files; namespace %s (pod security: warn restricted)\n", c.crds, len(crdFiles), o.namespace)

	checked, failed := 0, 0
	for _, f := range manifests {
		objs, err := readObjects(f)
		if err != nil {
			fmt.Fprintf(out, "FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		for _, obj := range objs {
			checked++
			if problems := c.dryRun(ctx, obj, o.namespace); len(problems) > 0 {
				failed++
				for _, p := range problems {
					fmt.Fprintf(out, "FAIL %s: %s %s/%s: %s\n", f, obj.GetKind(), obj.GetNamespace(), obj.GetName(), p)
				}
			}
		}
	}
	fmt.Fprintf(out, "%d objects in %d files checked against kube-apiserver %s in %s: %d failed\n",
		checked, len(manifests), c.version, time.Since(start).Round(100*time.Millisecond), failed)
	if failed > 0 {
		return fmt.Errorf("%d objects failed server-side validation", failed)
	}
	if checked == 0 {
		return errors.New("no objects found in the manifests")
	}
	return nil
}

// collect expands folders into their *.yaml/*.yml/*.json files, sorted.
func collect(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// readObjects decodes every non-empty document of a YAML or JSON file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("document %d: %w", len(objs)+1, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, fmt.Errorf("document %d has no apiVersion or kind", len(objs)+1)
		}
		objs = append(objs, u)
	}
}

// cluster is one throw-away etcd + kube-apiserver.
type cluster struct {
	dir      string
	procs    []*exec.Cmd
	done     []chan error
	cfg      *rest.Config
	dyn      dynamic.Interface
	mapper   *restmapper.DeferredDiscoveryRESTMapper
	version  string
	crds     int
	warnings *warnings
}

// warnings collects the server's warnings (the Warning header) per request.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(code int, agent, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

// freePorts returns n distinct loopback ports. Every listener stays open
// until the last port is picked: a port closed before the next pick could
// be handed out twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func startCluster(ctx context.Context, o options) (*cluster, error) {
	dir, err := os.MkdirTemp("", "kubecheck-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, warnings: &warnings{}}
	ports, err := freePorts(3)
	if err != nil {
		return c, err
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := c.spawn(ctx, "etcd", filepath.Join(o.bin, "etcd"),
		"--name=kubecheck",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient, "--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer, "--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=kubecheck="+etcdPeer,
		"--unsafe-no-fsync", "--log-level=warn",
	); err != nil {
		return c, err
	}
	if err := c.waitHTTP(ctx, etcdClient+"/health", o.timeout, nil); err != nil {
		return c, fmt.Errorf("etcd: %w (log: %s)", err, c.tail("etcd"))
	}

	token, err := c.writeCredentials()
	if err != nil {
		return c, err
	}
	secure := ports[2]
	if err := c.spawn(ctx, "kube-apiserver", filepath.Join(o.bin, "kube-apiserver"),
		"--etcd-servers="+etcdClient,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", secure),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/24",
		"--allow-privileged=false",
		"--enable-priority-and-fairness=false",
		"--v=0",
	); err != nil {
		return c, err
	}
	c.cfg = &rest.Config{
		Host:            fmt.Sprintf("https://127.0.0.1:%d", secure),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		WarningHandler:  c.warnings,
		QPS:             200,
		Burst:           400,
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}, Timeout: 5 * time.Second}
	if err := c.waitHTTP(ctx, c.cfg.Host+"/readyz", o.timeout, client); err != nil {
		return c, fmt.Errorf("kube-apiserver: %w (log: %s)", err, c.tail("kube-apiserver"))
	}
	disc, err := discovery.NewDiscoveryClientForConfig(c.cfg)
	if err != nil {
		return c, err
	}
	v, err := disc.ServerVersion()
	if err != nil {
		return c, err
	}
	c.version = v.GitVersion
	if c.dyn, err = dynamic.NewForConfig(c.cfg); err != nil {
		return c, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return c, nil
}

// writeCredentials writes the service-account key pair and a static token
// of a system:masters user; it returns the token.
func (c *cluster) writeCredentials() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := hex.EncodeToString(raw)
	files["tokens.csv"] = []byte(token + ",kubecheck,kubecheck,system:masters\n")
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			return "", err
		}
	}
	return token, nil
}

func (c *cluster) spawn(ctx context.Context, name, bin string, args ...string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: %w (build it with tools/build.sh %s)", name, err, filepath.Base(bin))
	}
	logf, err := os.Create(filepath.Join(c.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	c.procs = append(c.procs, cmd)
	c.done = append(c.done, done)
	return nil
}

// stop ends kube-apiserver, then etcd, and removes the cluster's folder.
func (c *cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		_ = c.procs[i].Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done[i]:
		case <-time.After(10 * time.Second):
			_ = c.procs[i].Process.Kill()
			<-c.done[i]
		}
	}
	_ = os.RemoveAll(c.dir)
}

// tail returns the end of a process's log, for error messages.
func (c *cluster) tail(name string) string {
	data, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return strings.TrimSpace(string(data))
}

func (c *cluster) waitHTTP(ctx context.Context, url string, timeout time.Duration, client *http.Client) error {
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for i, d := range c.done {
			select {
			case err := <-d:
				c.done[i] = closedWith(err)
				return false, fmt.Errorf("process exited: %v", err)
			default:
			}
		}
		resp, err := client.Get(url)
		if err != nil {
			last = err
			return false, nil
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("%s: %s", url, resp.Status)
			return false, nil
		}
		return true, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return err
}

// closedWith returns a channel that yields err again, so stop() does not block.
func closedWith(err error) chan error {
	ch := make(chan error, 1)
	ch <- err
	return ch
}

// insecureTLS trusts any certificate: the apiserver is this process's own,
// on loopback, with the self-signed certificate it made at start-up.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } //nolint:gosec

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// prepare creates the namespace and installs the CRDs, waiting until each is
// established.
func (c *cluster) prepare(ctx context.Context, namespace string, crdFiles []string) error {
	cs, err := kubernetes.NewForConfig(c.cfg)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: namespace,
		Labels: map[string]string{
			"pod-security.kubernetes.io/warn":    "restricted",
			"pod-security.kubernetes.io/audit":   "restricted",
			"pod-security.kubernetes.io/enforce": "restricted",
		},
	}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	var names []string
	for _, f := range crdFiles {
		objs, err := readObjects(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, obj := range objs {
			if obj.GetKind() != "CustomResourceDefinition" {
				continue
			}
			_, err := c.dyn.Resource(crdGVR).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"})
			if err != nil {
				return fmt.Errorf("install CRD %s from %s: %w", obj.GetName(), f, err)
			}
			if w := c.warnings.take(); len(w) > 0 {
				return fmt.Errorf("install CRD %s from %s: warnings: %s", obj.GetName(), f, strings.Join(w, "; "))
			}
			names = append(names, obj.GetName())
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			crd, err := c.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, cond := range conds {
				m, _ := cond.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", name, err)
		}
	}
	c.crds = len(names)
	c.mapper.Reset()
	return nil
}

// dryRun submits obj as a dry-run create with strict field validation and
// returns its errors and warnings.
func (c *cluster) dryRun(ctx context.Context, obj *unstructured.Unstructured, namespace string) []string {
	gvk := obj.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return []string{fmt.Sprintf("the server knows no %s (a missing CRD?)", gvk)}
		}
		return []string{err.Error()}
	}
	var ri dynamic.ResourceInterface
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(namespace)
		}
		ri = c.dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	} else {
		if obj.GetNamespace() != "" {
			return []string{fmt.Sprintf("%s is cluster-scoped but has namespace %q", gvk.Kind, obj.GetNamespace())}
		}
		ri = c.dyn.Resource(mapping.Resource)
	}
	c.warnings.take()
	_, err = ri.Create(ctx, obj, metav1.CreateOptions{
		DryRun:          []string{metav1.DryRunAll},
		FieldValidation: "Strict",
		FieldManager:    "kubecheck",
	})
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, w := range c.warnings.take() {
		problems = append(problems, "warning: "+w)
	}
	return problems
}
