package static_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/storefront/static"
)

// An asset's URL carries the hash of its content, so new content is a new URL.
func TestAssetNamesFollowContent(t *testing.T) {
	a, err := static.AssetsFrom(fstest.MapFS{"app.css": {Data: []byte("body{}")}})
	require.NoError(t, err)
	b, err := static.AssetsFrom(fstest.MapFS{"app.css": {Data: []byte("body{color:red}")}})
	require.NoError(t, err)
	ua, err := a.URL("app.css")
	require.NoError(t, err)
	ub, _ := b.URL("app.css")
	assert.Regexp(t, regexp.MustCompile(`^/static/app\.[0-9a-f]{8}\.css$`), ua)
	assert.NotEqual(t, ua, ub)
	_, err = a.URL("missing.css")
	assert.Error(t, err)

	rec := httptest.NewRecorder()
	a.ServeAsset(rec, httptest.NewRequest(http.MethodGet, ua, nil), ua[len("/static/"):])
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "body{}", rec.Body.String())
	assert.Equal(t, static.ImmutableCache, rec.Header().Get("Cache-Control"))
	rec = httptest.NewRecorder()
	a.ServeAsset(rec, httptest.NewRequest(http.MethodGet, ub, nil), ub[len("/static/"):])
	assert.Equal(t, http.StatusNotFound, rec.Code, "another version's name")
}

// The embedded stylesheet and script are there and hashed.
func TestEmbeddedAssets(t *testing.T) {
	a, err := static.NewAssets()
	require.NoError(t, err)
	for _, name := range []string{"app.css", "app.js", "icon.svg", "placeholder.svg"} {
		_, err := a.URL(name)
		assert.NoError(t, err, name)
	}
}

// Product images are kept for a day; only plain image file names are served.
func TestImages(t *testing.T) {
	im := static.ImagesFrom(fstest.MapFS{
		"kit-0001.svg": {Data: []byte("<svg/>")},
		".gitkeep":     {Data: nil},
		"notes.txt":    {Data: []byte("secret")},
	})
	rec := httptest.NewRecorder()
	im.Serve(rec, httptest.NewRequest(http.MethodGet, "/images/products/kit-0001.svg", nil), "kit-0001.svg")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "public, max-age=86400", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "image/svg+xml", rec.Header().Get("Content-Type"))
	for _, name := range []string{".gitkeep", "notes.txt", "missing.svg", "../static.go", "a/b.svg"} {
		rec := httptest.NewRecorder()
		im.Serve(rec, httptest.NewRequest(http.MethodGet, "/images/products/x", nil), name)
		assert.Equal(t, http.StatusNotFound, rec.Code, name)
		assert.Empty(t, rec.Header().Get("Cache-Control"), name)
	}
}

// Clients that take gzip get the stylesheet compressed; others get it as it is.
func TestAssetsAreGzipped(t *testing.T) {
	a, err := static.NewAssets()
	require.NoError(t, err)
	u, err := a.URL("app.css")
	require.NoError(t, err)
	name := u[len("/static/"):]

	req := httptest.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	a.ServeAsset(rec, req, name)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
	assert.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
	zr, err := gzip.NewReader(rec.Body)
	require.NoError(t, err)
	css, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Contains(t, string(css), ":focus-visible")

	plain := httptest.NewRecorder()
	a.ServeAsset(plain, httptest.NewRequest(http.MethodGet, u, nil), name)
	assert.Empty(t, plain.Header().Get("Content-Encoding"))
	assert.Equal(t, string(css), plain.Body.String())
	assert.Equal(t, "text/css; charset=utf-8", plain.Header().Get("Content-Type"))
}

// Export writes each file at the path the storefront serves it under, with
// the bytes it serves, so a CDN in front of the bucket answers alike.
func TestExportWritesWhatIsServed(t *testing.T) {
	dir := t.TempDir()
	files, err := static.Export(dir)
	require.NoError(t, err)
	a, err := static.NewAssets()
	require.NoError(t, err)
	css, err := a.URL("app.css")
	require.NoError(t, err)
	assert.Contains(t, files, css[1:])
	assert.Contains(t, files, "images/products/kit-0001.svg")

	rec := httptest.NewRecorder()
	a.ServeAsset(rec, httptest.NewRequest(http.MethodGet, css, nil), css[len("/static/"):])
	written, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(css[1:])))
	require.NoError(t, err)
	assert.Equal(t, rec.Body.Bytes(), written)
	for _, f := range files {
		assert.FileExists(t, filepath.Join(dir, filepath.FromSlash(f)))
	}
}
