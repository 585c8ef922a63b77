package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"

	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// A 503 says when to come back: the chaos suite found the services' own
// 503s (a store down) without Retry-After.
func TestAbortGivesA503ItsRetryAfter(t *testing.T) {
	gin.SetMode(gin.TestMode)
	serve := func(h gin.HandlerFunc) *httptest.ResponseRecorder {
		r := gin.New()
		r.GET("/", h)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		return w
	}
	w := serve(func(c *gin.Context) { Abort(c, problem.Unavailable("store down")) })
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, DefaultRetryAfter, w.Header().Get("Retry-After"))

	w = serve(func(c *gin.Context) {
		c.Header("Retry-After", "7")
		Abort(c, problem.Unavailable("busy"))
	})
	assert.Equal(t, "7", w.Header().Get("Retry-After"), "the handler's own value stays")

	w = serve(func(c *gin.Context) { Abort(c, problem.NotFound("no such thing")) })
	assert.Empty(t, w.Header().Get("Retry-After"), "only a 503 gets one")
}

// http_url_or_path takes an absolute http(s) URL or a path on the same
// site, such as a product's image_url "/images/products/kit-0001.svg", and
// nothing a browser could follow elsewhere or run.
func TestHTTPURLOrPath(t *testing.T) {
	for _, ok := range []string{
		"https://img.example/k.jpg", "http://img.example:8080/a/b.png?w=200#top", "HTTPS://IMG.EXAMPLE/K.JPG",
		"/images/products/kit-0001.svg", "/", "/a%20b.svg", "/img?x=1&y=2",
	} {
		assert.True(t, isHTTPURLOrPath(ok), "%q is accepted", ok)
	}
	for _, bad := range []string{
		"", "javascript:alert(1)", "JavaScript:alert(1)", "data:image/svg+xml,<svg/>", "vbscript:x", "ftp://img.example/k.jpg",
		"file:///etc/passwd", "mailto:a@b.example", "https:img.example", "https://", "http:///path",
		"//evil.example/k.jpg", "/\\evil.example/k.jpg", "\\\\evil.example\\k.jpg", "/a\\b.svg",
		"images/products/kit-0001.svg", "kit-0001.svg", "./k.svg", "?x=1", "#top",
		" /k.svg", "/k.svg ", "/a b.svg", "https://img.example/a b.jpg", "/k.svg\n", "/k\x00.svg", "/k\x7f.svg",
		"https://img.example/\u2028k.jpg", "/k\u0085.svg", "/bad%zz.svg", "/k\xff.svg",
	} {
		assert.False(t, isHTTPURLOrPath(bad), "%q is rejected", bad)
	}

	type in struct {
		Link string `json:"link" validate:"omitempty,max=40,http_url_or_path"`
	}
	assert.Nil(t, Validate(in{}), "empty is left to omitempty")
	assert.Nil(t, Validate(in{"/images/products/kit-0001.svg"}))
	p := Validate(in{"javascript:alert(1)"})
	if assert.NotNil(t, p) && assert.Len(t, p.Errors, 1) {
		assert.Equal(t, "link", p.Errors[0].Field)
		assert.Equal(t, "must be an http or https URL, or a path on this site starting with a single '/'", p.Errors[0].Detail)
	}
	assert.NotNil(t, Validate(in{"/" + strings.Repeat("a", 40)}), "max still applies")
}
