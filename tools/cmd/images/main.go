// Command images builds the OCI images of the ShopMesh apps and of migrate
// without Docker, reproducibly, with go-containerregistry, and pushes them.
//
//	go run -C tools ./cmd/images -root .. -out ../.local/images            # build
//	go run -C tools ./cmd/images -root .. -out ../.local/images -push REG  # push the built layouts
//
// Each image is two layers on no base image at all (nothing is pulled):
//
//   - the base layer, built here: /etc/passwd and /etc/group with root and
//     nonroot (65532), /etc/nsswitch.conf, /tmp (1777), /home/nonroot, the CA
//     certificates of the build machine's Debian ca-certificates package
//     (/etc/ssl/certs/ca-certificates.crt) and the Go release's time zone
//     database (/usr/share/zoneinfo.zip, read through ZONEINFO);
//   - the app layer: the static binary at /app (CGO_ENABLED=0, -trimpath,
//     -buildvcs=false, -ldflags "-s -w -buildid=").
//
// No shell, no package manager. The config runs /app as 65532:65532 with the
// app's APP_ID, APP_PORT and LISTEN_HOST defaults (ports from
// dapr/dapr.yaml) and says in labels that the image expects a read-only root
// filesystem (the charts set readOnlyRootFilesystem and mount /tmp).
//
// Every timestamp (layer files, config created, history) is -epoch
// (SOURCE_DATE_EPOCH: the commit time in the Taskfile, 0 by default), so two
// builds of the same tree with the same Go give the same digests.
//
// The output directory gets, per image, an OCI image layout <name>/ (an
// image index with one manifest per -platforms entry, tagged -tag) and a
// CycloneDX 1.5 SBOM <name>.cdx.json (the Go modules linked into each
// platform's binary, read from its build info, and the base layer's files).
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image-level facts the test and the charts rely on.
const (
	User            = "65532:65532"
	Entrypoint      = "/app"
	LabelReadOnly   = "io.shopmesh.read-only-root-filesystem"
	LabelNonRoot    = "io.shopmesh.run-as-non-root"
	LabelWritable   = "io.shopmesh.writable-paths"
	CACertsPath     = "/etc/ssl/certs/ca-certificates.crt"
	ZoneinfoPath    = "/usr/share/zoneinfo.zip"
	RepositoryGroup = "shopmesh"
)

// Target is one image: its name (the app id, or migrate), the Go package of
// its main, and the config defaults.
type Target struct {
	Name string
	Pkg  string // relative to the repository root, e.g. ./apps/catalog
	Port int    // 0: no port (migrate)
}

// Options of a build.
type Options struct {
	Root      string   // repository root
	Out       string   // output directory
	Tag       string   // tag recorded in each layout's index.json
	Revision  string   // org.opencontainers.image.revision label
	Epoch     int64    // SOURCE_DATE_EPOCH
	Platforms []string // linux/amd64,...
	CACerts   string   // the CA bundle copied into the base
	Only      []string // build only these names (empty: all)
	Log       io.Writer
}

func main() {
	var (
		o         Options
		platforms string
		only      string
		push      string
	)
	flag.StringVar(&o.Root, "root", ".", "repository root")
	flag.StringVar(&o.Out, "out", ".local/images", "output directory (OCI layouts and SBOMs)")
	flag.StringVar(&o.Tag, "tag", "dev", "image tag")
	flag.StringVar(&o.Revision, "revision", "", "source revision (label org.opencontainers.image.revision)")
	flag.Int64Var(&o.Epoch, "epoch", envEpoch(), "timestamp of every file and of the config (default $SOURCE_DATE_EPOCH or 0)")
	flag.StringVar(&platforms, "platforms", "linux/"+runtime.GOARCH, "comma-separated platforms")
	flag.StringVar(&o.CACerts, "ca-certs", CACertsPath, "CA bundle to copy into the base layer (Debian's ca-certificates)")
	flag.StringVar(&only, "only", "", "comma-separated names to build or push (default: all)")
	flag.StringVar(&push, "push", "", "push the layouts in -out to REGISTRY/shopmesh/<name>:<tag> instead of building")
	flag.Parse()
	o.Platforms = splitList(platforms)
	o.Only = splitList(only)
	o.Log = os.Stderr
	var err error
	if push != "" {
		err = Push(o, push)
	} else {
		_, err = Build(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func envEpoch() int64 {
	n, _ := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64)
	return n
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

var portRE = regexp.MustCompile(`(?m)^\s*-\s*appID:\s*(\S+)\s*$(?:\n\s+[^-\n][^\n]*)*?\n\s+appPort:\s*(\d+)`)

// Targets lists the images: every apps/<app> with a main.go (port from
// dapr/dapr.yaml), then migrate.
func Targets(root string) ([]Target, error) {
	dapr, err := os.ReadFile(filepath.Join(root, "dapr", "dapr.yaml"))
	if err != nil {
		return nil, err
	}
	ports := map[string]int{}
	for _, m := range portRE.FindAllStringSubmatch(string(dapr), -1) {
		p, _ := strconv.Atoi(m[2])
		ports[m[1]] = p
	}
	mains, err := filepath.Glob(filepath.Join(root, "apps", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	var ts []Target
	for _, m := range mains {
		app := filepath.Base(filepath.Dir(m))
		p, ok := ports[app]
		if !ok {
			return nil, fmt.Errorf("apps/%s: no appPort in dapr/dapr.yaml", app)
		}
		ts = append(ts, Target{Name: app, Pkg: "./apps/" + app, Port: p})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return append(ts, Target{Name: "migrate", Pkg: "./migrate"}), nil
}

func selected(o Options, name string) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, n := range o.Only {
		if n == name {
			return true
		}
	}
	return false
}

// Result of one image.
type Result struct {
	Name   string
	Digest v1.Hash // of the image index
}

// Build builds every selected target into o.Out.
func Build(o Options) ([]Result, error) {
	started := time.Now()
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	o.Root = root
	targets, err := Targets(root)
	if err != nil {
		return nil, err
	}
	if len(o.Platforms) == 0 {
		return nil, errors.New("no platforms")
	}
	base, baseFiles, err := baseLayer(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	bindir, err := os.MkdirTemp("", "shopmesh-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bindir)

	// One go build per platform for all mains (the build cache does the rest).
	var sel []Target
	for _, t := range targets {
		if selected(o, t.Name) {
			sel = append(sel, t)
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("nothing matches -only %v", o.Only)
	}
	for _, p := range o.Platforms {
		if err := goBuild(o, p, sel, filepath.Join(bindir, strings.ReplaceAll(p, "/", "-"))); err != nil {
			return nil, err
		}
	}

	results := make([]Result, len(sel))
	errs := make([]error, len(sel))
	var wg sync.WaitGroup
	for i, t := range sel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := buildImage(o, t, base, baseFiles, bindir)
			results[i], errs[i] = Result{Name: t.Name, Digest: d}, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, r := range results {
		fmt.Fprintf(o.Log, "images: %s/%s:%s %s\n", RepositoryGroup, r.Name, o.Tag, r.Digest)
	}
	fmt.Fprintf(o.Log, "images: %d images in %s (%s) in %.1fs\n", len(results), o.Out, strings.Join(o.Platforms, ","), time.Since(started).Seconds())
	return results, nil
}

func goBuild(o Options, platform string, ts []Target, outDir string) error {
	goos, goarch, ok := strings.Cut(platform, "/")
	if !ok || goos != "linux" {
		return fmt.Errorf("platform %q: want linux/<arch>", platform)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", outDir + "/"}
	for _, t := range ts {
		args = append(args, t.Pkg)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s: %w", platform, err)
	}
	return nil
}

// tarFile is one entry of a layer.
type tarFile struct {
	Name string // without leading slash; a trailing slash is a directory
	Mode int64
	Uid  int
	Data []byte
}

func layerOf(files []tarFile, epoch int64) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(epoch, 0).UTC()
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Uid: f.Uid, Gid: f.Uid, ModTime: mtime}
		if strings.HasSuffix(f.Name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.Data))
		}
		// USTAR: no access/change times, only the fixed mtime.
		h.Format = tar.FormatUSTAR
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// baseFile is a base-layer file recorded in the SBOM.
type baseFile struct {
	Path, SHA256, Origin string
}

func baseLayer(o Options) (v1.Layer, []baseFile, error) {
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificates (apt-get install ca-certificates): %w", err)
	}
	goroot := strings.TrimSpace(runOut(o.Root, "go", "env", "GOROOT"))
	zoneinfo, err := os.ReadFile(filepath.Join(goroot, "lib", "time", "zoneinfo.zip"))
	if err != nil {
		return nil, nil, fmt.Errorf("time zone database of the Go release: %w", err)
	}
	caOrigin := "file " + o.CACerts
	if v := strings.TrimSpace(runOut(o.Root, "dpkg-query", "-W", "-f=${Version}", "ca-certificates")); v != "" {
		caOrigin = "Debian package ca-certificates " + v
	}
	goVersion := strings.TrimSpace(runOut(o.Root, "go", "env", "GOVERSION"))
	files := []tarFile{
		{Name: "etc/", Mode: 0o755},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Name: "etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Name: "etc/ssl/", Mode: 0o755},
		{Name: "etc/ssl/certs/", Mode: 0o755},
		{Name: "etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Data: certs},
		{Name: "home/", Mode: 0o755},
		{Name: "home/nonroot/", Mode: 0o700, Uid: 65532},
		{Name: "root/", Mode: 0o700},
		{Name: "tmp/", Mode: 0o1777},
		{Name: "usr/", Mode: 0o755},
		{Name: "usr/share/", Mode: 0o755},
		{Name: "usr/share/zoneinfo.zip", Mode: 0o644, Data: zoneinfo},
	}
	l, err := layerOf(files, o.Epoch)
	if err != nil {
		return nil, nil, err
	}
	bf := []baseFile{
		{Path: "/etc/ssl/certs/ca-certificates.crt", SHA256: sha(certs), Origin: caOrigin},
		{Path: ZoneinfoPath, SHA256: sha(zoneinfo), Origin: "Go " + goVersion + " lib/time/zoneinfo.zip"},
	}
	return l, bf, nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func runOut(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, _ := cmd.Output()
	return string(out)
}

func buildImage(o Options, t Target, base v1.Layer, baseFiles []baseFile, bindir string) (v1.Hash, error) {
	created := v1.Time{Time: time.Unix(o.Epoch, 0).UTC()}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var sboms []sbomPart
	for _, p := range o.Platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		binPath := filepath.Join(bindir, goos+"-"+goarch, filepath.Base(t.Pkg))
		bin, err := os.ReadFile(binPath)
		if err != nil {
			return v1.Hash{}, err
		}
		app, err := layerOf([]tarFile{{Name: "app", Mode: 0o755, Data: bin}}, o.Epoch)
		if err != nil {
			return v1.Hash{}, err
		}
		env := []string{
			"PATH=/",
			"SSL_CERT_FILE=" + CACertsPath,
			"ZONEINFO=" + ZoneinfoPath,
		}
		exposed := map[string]struct{}{}
		if t.Port != 0 {
			env = append(env, "APP_ID="+t.Name, "APP_PORT="+strconv.Itoa(t.Port), "LISTEN_HOST=0.0.0.0")
			exposed[strconv.Itoa(t.Port)+"/tcp"] = struct{}{}
		}
		cfg := v1.Config{
			User:         User,
			Entrypoint:   []string{Entrypoint},
			Env:          env,
			WorkingDir:   "/",
			ExposedPorts: exposed,
			Labels: map[string]string{
				"org.opencontainers.image.title":    RepositoryGroup + "/" + t.Name,
				"org.opencontainers.image.source":   "https://github.com/shopmesh/shopmesh",
				"org.opencontainers.image.revision": o.Revision,
				"org.opencontainers.image.created":  created.Format(time.RFC3339),
				LabelNonRoot:                        "true",
				LabelReadOnly:                       "true",
				LabelWritable:                       "/tmp",
			},
		}
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		img, err = mutate.Append(img,
			mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "shopmesh base: passwd, group, CA certificates, tzdata", Comment: "tools/cmd/images"}},
			mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "go build -trimpath " + t.Pkg, Comment: "tools/cmd/images"}},
		)
		if err != nil {
			return v1.Hash{}, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return v1.Hash{}, err
		}
		cf = cf.DeepCopy()
		cf.Config = cfg
		cf.Created = created
		cf.OS, cf.Architecture = goos, goarch
		cf.Author = "tools/cmd/images"
		img, err = mutate.ConfigFile(img, cf)
		if err != nil {
			return v1.Hash{}, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: goos, Architecture: goarch}},
		})
		bi, err := buildinfo.Read(bytes.NewReader(bin))
		if err != nil {
			return v1.Hash{}, fmt.Errorf("%s: build info: %w", binPath, err)
		}
		sboms = append(sboms, sbomPart{Platform: p, Info: bi})
	}
	dir := filepath.Join(o.Out, t.Name)
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": o.Tag,
		"io.shopmesh.image":                 RepositoryGroup + "/" + t.Name,
	})); err != nil {
		return v1.Hash{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	sbom, err := cycloneDX(t, o, d, sboms, baseFiles)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, t.Name+".cdx.json"), sbom, 0o644); err != nil {
		return v1.Hash{}, err
	}
	return d, nil
}

type sbomPart struct {
	Platform string
	Info     *buildinfo.BuildInfo
}

// cycloneDX writes a CycloneDX 1.5 JSON SBOM: the image, per platform the
// binary's main module, Go and every linked module (from its build info),
// and the base layer's files.
func cycloneDX(t Target, o Options, digest v1.Hash, parts []sbomPart, base []baseFile) ([]byte, error) {
	type hash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	type prop struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type comp struct {
		Type       string `json:"type"`
		BOMRef     string `json:"bom-ref,omitempty"`
		Name       string `json:"name"`
		Version    string `json:"version,omitempty"`
		PURL       string `json:"purl,omitempty"`
		Hashes     []hash `json:"hashes,omitempty"`
		Properties []prop `json:"properties,omitempty"`
	}
	type dep struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}
	image := comp{
		Type: "container", BOMRef: "image", Name: RepositoryGroup + "/" + t.Name, Version: digest.String(),
		PURL: fmt.Sprintf("pkg:oci/%s@%s", t.Name, strings.ReplaceAll(digest.String(), ":", "%3A")),
	}
	var comps []comp
	seen := map[string]bool{}
	var imageDeps []string
	for _, f := range base {
		ref := "file:" + f.Path
		comps = append(comps, comp{Type: "file", BOMRef: ref, Name: f.Path, Hashes: []hash{{"SHA-256", f.SHA256}}, Properties: []prop{{"origin", f.Origin}}})
		imageDeps = append(imageDeps, ref)
	}
	var deps []dep
	for _, p := range parts {
		binRef := "binary:" + p.Platform
		var binDeps []string
		goRef := "pkg:golang/stdlib@" + strings.TrimPrefix(p.Info.GoVersion, "go")
		add := func(c comp) string {
			if !seen[c.BOMRef] {
				seen[c.BOMRef] = true
				comps = append(comps, c)
			}
			return c.BOMRef
		}
		binDeps = append(binDeps, add(comp{Type: "library", BOMRef: goRef, Name: "stdlib", Version: p.Info.GoVersion, PURL: goRef}))
		for _, m := range p.Info.Deps {
			if m.Replace != nil {
				m = m.Replace
			}
			purl := fmt.Sprintf("pkg:golang/%s@%s", m.Path, m.Version)
			c := comp{Type: "library", BOMRef: purl, Name: m.Path, Version: m.Version, PURL: purl}
			if m.Sum != "" {
				c.Properties = []prop{{"go.sum", m.Sum}}
			}
			binDeps = append(binDeps, add(c))
		}
		var settings []prop
		for _, s := range p.Info.Settings {
			settings = append(settings, prop{"build:" + s.Key, s.Value})
		}
		comps = append(comps, comp{Type: "application", BOMRef: binRef, Name: p.Info.Path, Version: "(" + p.Platform + ")", Properties: append([]prop{{"path", Entrypoint}}, settings...)})
		imageDeps = append(imageDeps, binRef)
		deps = append(deps, dep{Ref: binRef, DependsOn: binDeps})
	}
	deps = append([]dep{{Ref: "image", DependsOn: imageDeps}}, deps...)
	bom := map[string]any{
		"bomFormat":   "CycloneDX",
		"specVersion": "1.5",
		"version":     1,
		"metadata": map[string]any{
			"timestamp": time.Unix(o.Epoch, 0).UTC().Format(time.RFC3339),
			"tools":     map[string]any{"components": []comp{{Type: "application", Name: "shopmesh tools/cmd/images"}}},
			"component": image,
		},
		"components":   comps,
		"dependencies": deps,
	}
	return json.MarshalIndent(bom, "", "  ")
}

// Push pushes each layout in o.Out to <registry>/shopmesh/<name>:<tag>.
// Credentials: REGISTRY_USERNAME and REGISTRY_PASSWORD when set (for ECR:
// AWS and `aws ecr get-login-password`), else the Docker config keychain.
func Push(o Options, registry string) error {
	targets, err := Targets(o.Root)
	if err != nil {
		return err
	}
	var auth remote.Option = remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if u, p := os.Getenv("REGISTRY_USERNAME"), os.Getenv("REGISTRY_PASSWORD"); u != "" || p != "" {
		auth = remote.WithAuth(&authn.Basic{Username: u, Password: p})
	}
	for _, t := range targets {
		if !selected(o, t.Name) {
			continue
		}
		idx, err := ReadIndex(filepath.Join(o.Out, t.Name))
		if err != nil {
			return fmt.Errorf("%s (run the images task first): %w", t.Name, err)
		}
		ref, err := name.NewTag(fmt.Sprintf("%s/%s/%s:%s", strings.TrimSuffix(registry, "/"), RepositoryGroup, t.Name, o.Tag))
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, idx, auth); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		d, _ := idx.Digest()
		fmt.Fprintf(o.Log, "images: pushed %s@%s\n", ref, d)
	}
	return nil
}

// ReadIndex returns the image index of a layout written by Build.
func ReadIndex(dir string) (v1.ImageIndex, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s: %d entries in index.json, want 1", dir, len(m.Manifests))
	}
	return top.ImageIndex(m.Manifests[0].Digest)
}
