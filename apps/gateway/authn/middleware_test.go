package authn_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/authn"
	"github.com/shopmesh/shopmesh/apps/gateway/authtest"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

type seen struct {
	id      auth.Identity
	ok      bool
	spoofed []string
}

func middlewareServer(t *testing.T, v *authn.Verifier) (http.Handler, *seen) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s := &seen{}
	e.GET("/x", authn.Authenticate(v, authtest.Discard()), func(c *gin.Context) {
		s.id, s.ok = auth.FromContext(c.Request.Context())
		s.spoofed = nil
		for _, h := range []string{auth.HeaderUserID, auth.HeaderUserEmail, auth.HeaderUserRoles} {
			if c.GetHeader(h) != "" {
				s.spoofed = append(s.spoofed, h)
			}
		}
		c.Status(http.StatusNoContent)
	})
	return e, s
}

func get(h http.Handler, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAuthenticate(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v, _ := authtest.Verifier(t, iss)
	h, s := middlewareServer(t, v)

	w := get(h)
	require.Equal(t, http.StatusNoContent, w.Code, "no token: anonymous, the route decides")
	assert.False(t, s.ok)

	w = get(h, "Authorization", "Bearer "+iss.Customer(t))
	require.Equal(t, http.StatusNoContent, w.Code)
	require.True(t, s.ok)
	assert.Equal(t, "customer-1", s.id.UserID)

	w = get(h, "Authorization", "bearer "+iss.Admin(t))
	require.Equal(t, http.StatusNoContent, w.Code, "the scheme is case-insensitive")
	assert.True(t, s.id.HasRole(auth.RoleAdmin))

	// Identity headers from the client never reach a handler.
	w = get(h, auth.HeaderUserID, "admin-1", auth.HeaderUserRoles, "admin", auth.HeaderUserEmail, "a@b.c")
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.False(t, s.ok)
	assert.Empty(t, s.spoofed)
	w = get(h, "Authorization", "Bearer "+iss.Customer(t), auth.HeaderUserRoles, "admin")
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, s.spoofed)
	assert.False(t, s.id.HasRole(auth.RoleAdmin))

	for name, hdr := range map[string][]string{
		"invalid token": {"Authorization", "Bearer not.a.token"},
		"basic auth":    {"Authorization", "Basic YWxpY2U6c2VjcmV0"},
		"no token":      {"Authorization", "Bearer "},
		"two headers":   {"Authorization", "Bearer " + iss.Customer(t), "Authorization", "Bearer " + iss.Customer(t)},
		"expired":       {"Authorization", "Bearer " + iss.Token(t, authtest.Claims{"exp": int64(1700000000), "iat": int64(1699999000)})},
	} {
		t.Run(name, func(t *testing.T) {
			w := get(h, hdr...)
			require.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Contains(t, w.Header().Get("WWW-Authenticate"), `Bearer realm="shopmesh"`)
			assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="invalid_`)
			assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
			var p problem.Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, problem.TypeUnauthorized, p.Type)
			if name == "expired" {
				assert.Contains(t, p.Detail, "expired")
			}
		})
	}

	// Keys that cannot be had: 503, not a 401 that would send clients to
	// log in again for nothing.
	iss2 := authtest.NewIssuer(t)
	v2, src2 := authtest.Verifier(t, iss2)
	src2.Fail.Store(true)
	h2, _ := middlewareServer(t, v2)
	w = get(h2, "Authorization", "Bearer "+iss2.Customer(t))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
}
