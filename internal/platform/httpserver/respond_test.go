package httpserver

import (
	"net/http"
	"net/http/httptest"
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
