// Package static holds the storefront's stylesheet, script and images,
// embedded in the binary, and serves them. The stylesheet and script are
// served under names that carry a hash of their content (app.3f9a1c2b.css),
// so browsers may keep them for a year: a changed file is a new name. The
// product images, named by the catalog's image_url, are kept for a day.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:embed app.css app.js icon.svg placeholder.svg
var assetFiles embed.FS

//go:embed all:images/products
var imageFiles embed.FS

// Cache lifetimes.
const (
	ImmutableCache = "public, max-age=31536000, immutable"
	ImageCache     = "public, max-age=86400"
)

// Paths they are served under.
const (
	AssetPrefix = "/static/"
	ImagePrefix = "/images/products/"
)

// Assets are the hashed files, each kept as it is and gzipped.
type Assets struct {
	urls  map[string]string // logical name (app.css) -> URL with the hash
	files map[string]asset  // hashed name -> content
}

type asset struct {
	contentType string
	plain, gz   []byte // gz is nil when gzip would not make it smaller
}

// hashLen is how many hex digits of the SHA-256 a name carries.
const hashLen = 8

// NewAssets hashes the embedded assets.
func NewAssets() (*Assets, error) { return AssetsFrom(assetFiles) }

// AssetsFrom hashes the files at the top of fsys (tests).
func AssetsFrom(fsys fs.FS) (*Assets, error) {
	a := &Assets{urls: map[string]string{}, files: map[string]asset{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("static assets: %w", err)
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:])[:hashLen] + ext
		a.urls[e.Name()] = AssetPrefix + hashed
		gz, err := gzipped(data)
		if err != nil {
			return nil, fmt.Errorf("static assets: %s: %w", e.Name(), err)
		}
		a.files[hashed] = asset{contentType: contentType(ext), plain: data, gz: gz}
	}
	return a, nil
}

// contentTypes fixes the types of the assets' kinds: the system's MIME
// table, which mime.TypeByExtension also reads, may name them otherwise.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func contentType(ext string) string {
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

// gzipped compresses data once, at start, so serving costs nothing; it
// returns nil when that saves nothing.
func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(data) {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// URL returns the hashed URL of the asset named name (e.g. "app.css"). An
// unknown name is a programming error, caught when templates first run.
func (a *Assets) URL(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return u, nil
}

// ServeAsset serves the asset whose hashed name is name; a stale or unknown
// hash is a 404, never another version under a long-lived name.
func (a *Assets) ServeAsset(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", ImmutableCache)
	h.Set("Content-Type", f.contentType)
	h.Set("Vary", "Accept-Encoding")
	body := f.plain
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Images serves product images from a folder.
type Images struct{ fsys fs.FS }

// NewImages serves the embedded images/products.
func NewImages() (*Images, error) {
	sub, err := fs.Sub(imageFiles, "images/products")
	if err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	return ImagesFrom(sub), nil
}

// ImagesFrom serves the images of fsys (tests).
func ImagesFrom(fsys fs.FS) *Images { return &Images{fsys: fsys} }

// Serve serves the image named name, cached for a day.
func (im *Images) Serve(w http.ResponseWriter, r *http.Request, name string) {
	if !validImageName(name) {
		http.NotFound(w, r)
		return
	}
	if st, err := fs.Stat(im.fsys, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", ImageCache)
	http.ServeFileFS(w, r, im.fsys, name)
}

// validImageName accepts a plain file name with an image extension: no
// path, no hidden file.
func validImageName(name string) bool {
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/\\") {
		return false
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".svg", ".png", ".jpg", ".jpeg", ".webp", ".avif", ".gif":
		return true
	}
	return false
}

// Export writes what a CDN serves in the storefront's stead into dir, each
// file at its URL path: static/<hashed name> and images/products/<name>. It
// returns the paths written, relative to dir.
func Export(dir string) ([]string, error) {
	a, err := NewAssets()
	if err != nil {
		return nil, err
	}
	images, err := fs.Sub(imageFiles, "images/products")
	if err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	files := map[string][]byte{}
	for hashed, f := range a.files {
		files[strings.TrimPrefix(AssetPrefix, "/")+hashed] = f.plain
	}
	err = fs.WalkDir(images, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !validImageName(name) {
			return err
		}
		data, err := fs.ReadFile(images, name)
		files[strings.TrimPrefix(ImagePrefix, "/")+name] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	written := make([]string, 0, len(files))
	for rel, data := range files {
		out := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, fmt.Errorf("export assets: %w", err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return nil, fmt.Errorf("export assets: %w", err)
		}
		written = append(written, rel)
	}
	slices.Sort(written)
	return written, nil
}
