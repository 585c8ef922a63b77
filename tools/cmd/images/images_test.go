package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The images task writes the layouts; `go tool task test` then runs this
// test with SHOPMESH_IMAGES_DIR set. Without it the test skips (plain
// `go test ./cmd/...` builds no images).
func imagesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SHOPMESH_IMAGES_DIR")
	if dir == "" {
		t.Skip("SHOPMESH_IMAGES_DIR not set: run `go tool task images` and set it to .local/images")
	}
	return dir
}

const repoRoot = "../../.."

// forkMu keeps fork from running while a parallel subtest holds a file open
// for writing: the child would inherit that descriptor until its exec, and the
// other subtest's exec of the file it just wrote fails with "text file busy"
// (golang.org/issue/22315). Writers share the lock; starting a process takes
// it alone.
var forkMu sync.RWMutex

// TestImages checks every image the repository should have: config (user
// 65532, entrypoint /app, labels, app defaults), files (no shell, /app owned
// by root, passwd has nonroot), its SBOM, and runs each binary unpacked from
// the layers of the build machine's platform.
func TestImages(t *testing.T) {
	dir := imagesDir(t)
	targets, err := Targets(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 10 {
		t.Errorf("%d targets, want 10 (nine apps and migrate)", len(targets))
	}
	for _, tg := range targets {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			idx, err := ReadIndex(filepath.Join(dir, tg.Name))
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			for _, desc := range im.Manifests {
				img, err := idx.Image(desc.Digest)
				if err != nil {
					t.Fatal(err)
				}
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				checkConfig(t, tg, cf)
				if desc.Platform == nil || desc.Platform.OS != cf.OS || desc.Platform.Architecture != cf.Architecture {
					t.Errorf("%s: index platform %v, config %s/%s", desc.Digest, desc.Platform, cf.OS, cf.Architecture)
				}
				if cf.OS == "linux" && cf.Architecture == runtime.GOARCH {
					rootfs := t.TempDir()
					unpack(t, img, rootfs)
					checkFiles(t, rootfs)
					runBinary(t, tg, cf, rootfs)
					ran = true
				}
			}
			if !ran && runtime.GOOS == "linux" {
				t.Errorf("no linux/%s image to run", runtime.GOARCH)
			}
			checkSBOM(t, filepath.Join(dir, tg.Name+".cdx.json"))
		})
	}
}

func checkConfig(t *testing.T, tg Target, cf *v1.ConfigFile) {
	t.Helper()
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (numeric, non-root)", c.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/app" || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want [/app] and none", c.Entrypoint, c.Cmd)
	}
	for k, want := range map[string]string{LabelNonRoot: "true", LabelReadOnly: "true", LabelWritable: "/tmp"} {
		if c.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
		}
	}
	env := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if tg.Port != 0 {
		if env["APP_ID"] != tg.Name || env["APP_PORT"] != strconv.Itoa(tg.Port) || env["LISTEN_HOST"] != "0.0.0.0" {
			t.Errorf("env %v: want APP_ID=%s APP_PORT=%d LISTEN_HOST=0.0.0.0", c.Env, tg.Name, tg.Port)
		}
		if _, ok := c.ExposedPorts[strconv.Itoa(tg.Port)+"/tcp"]; !ok {
			t.Errorf("exposed ports %v, want %d/tcp", c.ExposedPorts, tg.Port)
		}
	}
	if cf.Created.Unix() != cf.History[0].Created.Unix() {
		t.Errorf("created %v, history %v: not one fixed time", cf.Created, cf.History[0].Created)
	}
}

// unpack extracts the layers in order (no whiteouts: the builder writes none)
// and checks owners and modes of what matters.
func unpack(t *testing.T, img v1.Image, dst string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := path.Clean("/" + h.Name)
			if strings.Contains(path.Base(name), ".wh.") {
				t.Errorf("whiteout %s", name)
				continue
			}
			if name == "/app" && (h.Uid != 0 || h.Mode&0o022 != 0) {
				t.Errorf("/app uid %d mode %o: want root-owned, not writable by others", h.Uid, h.Mode)
			}
			p := filepath.Join(dst, filepath.FromSlash(name))
			switch h.Typeflag {
			case tar.TypeDir:
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
			case tar.TypeReg:
				forkMu.RLock()
				f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm()|0o200)
				if err != nil {
					forkMu.RUnlock()
					t.Fatal(err)
				}
				_, err = io.Copy(f, tr)
				f.Close()
				forkMu.RUnlock()
				if err != nil {
					t.Fatal(err)
				}
			default:
				t.Errorf("%s: unexpected tar type %c (symlinks, devices: none expected)", name, h.Typeflag)
			}
		}
		rc.Close()
	}
}

func checkFiles(t *testing.T, rootfs string) {
	t.Helper()
	for _, sh := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/env"} {
		if _, err := os.Stat(filepath.Join(rootfs, sh)); err == nil {
			t.Errorf("/%s exists: the image must have no shell", sh)
		}
	}
	passwd, err := os.ReadFile(filepath.Join(rootfs, "etc/passwd"))
	if err != nil || !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd: no nonroot 65532 entry (%v)", err)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt")); err != nil || fi.Size() < 1000 {
		t.Errorf("CA bundle: %v", err)
	}
	f, err := elf.Open(filepath.Join(rootfs, "app"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("/app is dynamically linked: the base has no libc")
		}
	}
}

// runBinary runs /app of the unpacked image with the image's environment
// (paths into the base rewritten to the unpacked root). The apps are fx
// programs without flags that start serving; given APP_PORT=x they must stop
// at once with the config error and status 1, which proves the binary
// starts on this base without anything from the host. migrate has flags:
// -h prints its usage and exits 2.
func runBinary(t *testing.T, tg Target, cf *v1.ConfigFile, rootfs string) {
	t.Helper()
	var env []string
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "SSL_CERT_FILE" || k == "ZONEINFO" || k == "PATH" {
			v = filepath.Join(rootfs, v)
		}
		env = append(env, k+"="+v)
	}
	var args []string
	wantCode, wantOut := 2, "-admin-dsn"
	if tg.Port != 0 {
		env = append(env, "APP_PORT=x")
		wantCode, wantOut = 1, `config APP_PORT: strconv.Atoi: parsing "x"`
	} else {
		args = []string{"-h"}
	}
	cmd := exec.Command(filepath.Join(rootfs, "app"), args...)
	cmd.Dir = rootfs
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	forkMu.Lock()
	err := cmd.Start()
	forkMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != wantCode {
			t.Errorf("/app %v: %v, want exit status %d; output:\n%s", args, err, wantCode, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("/app %v still running after 30s; output:\n%s", args, out.String())
	}
	if !strings.Contains(out.String(), wantOut) {
		t.Errorf("/app %v output lacks %q:\n%s", args, wantOut, out.String())
	}
}

func checkSBOM(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name string `json:"name"`
			PURL string `json:"purl"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatal(err)
	}
	var std, ca bool
	for _, c := range bom.Components {
		std = std || strings.HasPrefix(c.PURL, "pkg:golang/stdlib@")
		ca = ca || c.Name == CACertsPath
	}
	if bom.BOMFormat != "CycloneDX" || !std || !ca {
		t.Errorf("%s: format %q, stdlib %v, CA bundle %v", file, bom.BOMFormat, std, ca)
	}
}

// TestReproducible builds one image twice, from scratch directories, and
// wants the same digest (and the same SBOM).
func TestReproducible(t *testing.T) {
	imagesDir(t)
	var digests []string
	var sboms [][]byte
	for range 2 {
		out := t.TempDir()
		rs, err := Build(Options{
			Root: repoRoot, Out: out, Tag: "repro", Revision: "test", Epoch: 1700000000,
			Platforms: []string{"linux/" + runtime.GOARCH}, CACerts: CACertsPath,
			Only: []string{"catalog"}, Log: io.Discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, rs[0].Digest.String())
		b, err := os.ReadFile(filepath.Join(out, "catalog.cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		sboms = append(sboms, b)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds, two digests: %v", digests)
	}
	if !bytes.Equal(sboms[0], sboms[1]) {
		t.Error("two builds, two different SBOMs")
	}
}

// TestPush pushes the built catalog layout to an in-memory registry
// (go-containerregistry's pkg/registry) as images:push does, and reads it back.
func TestPush(t *testing.T) {
	dir := imagesDir(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if err := Push(Options{Root: repoRoot, Out: dir, Tag: "pushed", Only: []string{"catalog"}, Log: io.Discard}, host); err != nil {
		t.Fatal(err)
	}
	local, err := ReadIndex(filepath.Join(dir, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := local.Digest()
	ref, err := name.NewTag(host+"/shopmesh/catalog:pushed", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("pushed %s, registry has %s", want, d)
	}
}
