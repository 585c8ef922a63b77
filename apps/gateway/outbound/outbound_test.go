package outbound_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
)

type recorder struct{ header http.Header }

func (r *recorder) Call(_ context.Context, _, _, _ string, _ url.Values, _ io.Reader, h http.Header) (*http.Response, error) {
	r.header = h
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody}, nil
}

func TestIdentityIsForwardedAndNeverSpoofed(t *testing.T) {
	rec := &recorder{}
	inv := outbound.New(rec)
	spoofed := http.Header{"Accept": {"application/json"}}
	spoofed.Set(auth.HeaderUserID, "admin-1")
	spoofed.Set(auth.HeaderUserRoles, "admin")
	spoofed["x-shopmesh-user-email"] = []string{"not-canonical@example.com"}

	_, err := inv.Call(t.Context(), "catalog", http.MethodGet, "products", nil, nil, spoofed)
	require.NoError(t, err)
	assert.Equal(t, http.Header{"Accept": {"application/json"}}, rec.header, "anonymous: no identity header at all")

	alice := auth.Identity{UserID: "u-1", Email: "alice@example.com", Roles: []string{auth.RoleCustomer}}
	_, err = inv.Call(auth.WithIdentity(t.Context(), alice), "users", http.MethodGet, "me", nil, nil, spoofed)
	require.NoError(t, err)
	assert.Equal(t, "u-1", rec.header.Get(auth.HeaderUserID))
	assert.Equal(t, "alice@example.com", rec.header.Get(auth.HeaderUserEmail))
	assert.Equal(t, []string{"customer"}, rec.header.Values(auth.HeaderUserRoles))
	assert.Equal(t, "application/json", rec.header.Get("Accept"))
	assert.Len(t, rec.header, 4)
	assert.Equal(t, "admin", spoofed.Get(auth.HeaderUserRoles), "the caller's header is not modified")
}
