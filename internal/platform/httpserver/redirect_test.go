package httpserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// No answer sends the client elsewhere with a URL built from its own
// request: Gin's trailing-slash redirect echoed the whole query (10 KiB in,
// 10 KiB of Location out), and X-Forwarded-Prefix into the path, before
// any middleware ran (no request id, log line or metric), and it re-sent
// POST bodies with a 307. A path that does not exist is a 404 problem.
func TestNoRedirectEchoesTheRequest(t *testing.T) {
	e, r := newTestEngine(t, "")
	r.Public.GET("/some/path", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.Public.GET("/slashed/", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	long := "q=" + strings.Repeat("a", 10<<10)

	for _, tc := range []struct {
		method, target string
		hdr            []string
	}{
		{http.MethodGet, "/some/path/?" + long, nil},
		{http.MethodGet, "/slashed?" + long, nil},
		{http.MethodPost, "/things/?" + long, nil},
		{http.MethodGet, "/some/path/", []string{"X-Forwarded-Prefix", "/evil.example"}},
		{http.MethodGet, "/SOME/PATH?" + long, nil},
	} {
		t.Run(tc.method+" "+tc.target[:min(len(tc.target), 20)], func(t *testing.T) {
			w := do(e, tc.method, tc.target, `{"name":"a","count":1}`, tc.hdr...)
			assert.Zero(t, len(w.Header().Get("Location")), "bytes of Location")
			require.Equal(t, http.StatusNotFound, w.Code)
			assert.Equal(t, problem.TypeNotFound, decodeProblem(t, w).Type)
			assert.NotEmpty(t, w.Header().Get(RequestIDHeader), "the platform's middleware ran")
			assert.NotContains(t, w.Body.String(), strings.Repeat("a", 100), "the query is not echoed")
		})
	}

	// The exact paths still answer.
	assert.Equal(t, http.StatusNoContent, do(e, http.MethodGet, "/some/path?"+long, "").Code)
	assert.Equal(t, http.StatusNoContent, do(e, http.MethodGet, "/slashed/", "").Code)
}
