package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
)

func serve(t *testing.T, mw gin.HandlerFunc, header http.Header) (int, Identity) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	e := gin.New()
	var got Identity
	e.GET("/x", mw, func(c *gin.Context) {
		got, _ = FromContext(c.Request.Context())
		c.Status(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header = header
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w.Code, got
}

func TestRequire(t *testing.T) {
	alice := Identity{UserID: "u1", Email: "a@example.com", Roles: []string{RoleCustomer}}
	fromGW := alice.Header()
	fromGW.Set("dapr-caller-app-id", "gateway")

	code, got := serve(t, Require(), fromGW)
	assert.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, alice, got)

	code, _ = serve(t, Require(RoleAdmin), fromGW)
	assert.Equal(t, http.StatusForbidden, code)

	// The same headers from another caller, or without a caller, are not trusted.
	other := alice.Header()
	other.Set("dapr-caller-app-id", "catalog")
	code, _ = serve(t, Require(), other)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = serve(t, Require(), alice.Header())
	assert.Equal(t, http.StatusUnauthorized, code)

	anonymous := http.Header{}
	anonymous.Set("dapr-caller-app-id", "gateway")
	code, _ = serve(t, Require(), anonymous)
	assert.Equal(t, http.StatusUnauthorized, code)
}
