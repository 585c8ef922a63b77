package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/api"
	"github.com/shopmesh/shopmesh/apps/users/users"
	"github.com/shopmesh/shopmesh/apps/users/userstest"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

func newServer(t *testing.T) (http.Handler, *userstest.Env) {
	t.Helper()
	env := userstest.New(t)
	cfg := config.App{ID: "users", MaxBodyBytes: 1 << 20}
	e := httpserver.NewEngine(cfg, env.Log, metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, e), env.Service, env.Keys, env.Log)
	return e, env
}

func call(h http.Handler, method, path, body string, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	assert.Equal(t, w.Code, p.Status)
	return p
}

const ann = `{"email":"Ann@Example.com","password":"correct horse battery","name":"Ann"}`

func register(t *testing.T, h http.Handler) api.User {
	t.Helper()
	w := call(h, http.MethodPost, "/auth/register", ann, nil)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var u api.User
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &u))
	return u
}

func login(t *testing.T, h http.Handler, email, pw string) *httptest.ResponseRecorder {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	return call(h, http.MethodPost, "/auth/login", string(body), nil)
}

func TestRegister(t *testing.T) {
	h, env := newServer(t)
	w := call(h, http.MethodPost, "/auth/register", ann, nil)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, []string{"email", "id", "name"}, keys(body), "exactly the contract's fields")
	assert.Equal(t, "ann@example.com", body["email"])
	assert.Equal(t, "Ann", body["name"])
	assert.Equal(t, "/api/v1/me", w.Header().Get("Location"))

	for _, again := range []string{ann, strings.Replace(ann, "Ann@Example.com", " ANN@EXAMPLE.COM ", 1)} {
		w = call(h, http.MethodPost, "/auth/register", again, nil)
		require.Equal(t, http.StatusConflict, w.Code)
		assert.Equal(t, problem.TypeConflict, decodeProblem(t, w).Type)
	}
	assert.Len(t, env.KV.Events(), 1)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRegisterRejectsBadInput(t *testing.T) {
	h, env := newServer(t)
	cases := map[string]struct {
		body   string
		status int
		field  string
	}{
		"bad email":         {`{"email":"ann","password":"correct horse battery","name":"Ann"}`, 400, "email"},
		"email with space":  {`{"email":"ann @example.com","password":"correct horse battery","name":"Ann"}`, 400, "email"},
		"missing email":     {`{"password":"correct horse battery","name":"Ann"}`, 400, "email"},
		"short password":    {`{"email":"ann@example.com","password":"short","name":"Ann"}`, 400, "password"},
		"9 characters":      {`{"email":"ann@example.com","password":"123456789","name":"Ann"}`, 400, "password"},
		"common password":   {`{"email":"ann@example.com","password":"Password123","name":"Ann"}`, 400, "password"},
		"long password":     {`{"email":"ann@example.com","password":"` + strings.Repeat("p", 129) + `","name":"Ann"}`, 400, "password"},
		"email as password": {`{"email":"ann@example.com","password":"ann@example.com","name":"Ann"}`, 400, "password"},
		"missing name":      {`{"email":"ann@example.com","password":"correct horse battery"}`, 400, "name"},
		"blank name":        {`{"email":"ann@example.com","password":"correct horse battery","name":"   "}`, 400, "name"},
		"long name":         {`{"email":"ann@example.com","password":"correct horse battery","name":"` + strings.Repeat("n", 101) + `"}`, 400, "name"},
		"wrong type":        {`{"email":"ann@example.com","password":1234567890123,"name":"Ann"}`, 400, "password"},
		"unknown field":     {`{"email":"ann@example.com","password":"correct horse battery","name":"Ann","roles":["admin"]}`, 400, "roles"},
		"malformed":         {`{"email":`, 400, ""},
		"empty":             {``, 400, ""},
		"array":             {`[]`, 400, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := call(h, http.MethodPost, "/auth/register", tc.body, http.Header{"Content-Type": {"application/json"}})
			require.Equal(t, tc.status, w.Code, w.Body.String())
			p := decodeProblem(t, w)
			if tc.field != "" {
				assert.Equal(t, problem.TypeValidation, p.Type)
				require.NotEmpty(t, p.Errors, w.Body.String())
				assert.Equal(t, tc.field, p.Errors[0].Field)
				assert.NotEmpty(t, p.Errors[0].Detail)
			}
			assert.NotContains(t, w.Body.String(), "correct horse battery", "the password is never echoed")
		})
	}
	assert.Empty(t, env.KV.Dump(), "nothing was stored")
}

func TestLogin(t *testing.T) {
	h, env := newServer(t)
	u := register(t, h)
	w := login(t, h, " ANN@example.com", "correct horse battery")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, []string{"access_token", "expires_in", "refresh_token", "token_type"}, keys(body))
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, float64(900), body["expires_in"])
	c, err := env.Verify(body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, u.ID, c.Subject)
	assert.Equal(t, []string{"customer"}, c.Roles)
}

// Wrong password and unknown e-mail get the same answer, and both lock out.
func TestLoginFailuresAndLockout(t *testing.T) {
	h, _ := newServer(t)
	register(t, h)
	wrong := login(t, h, "ann@example.com", "wrong password!")
	unknown := login(t, h, "bob@example.com", "wrong password!")
	require.Equal(t, http.StatusUnauthorized, wrong.Code)
	require.Equal(t, http.StatusUnauthorized, unknown.Code)
	assert.Equal(t, wrong.Body.String(), unknown.Body.String())
	assert.Equal(t, problem.TypeUnauthorized, decodeProblem(t, wrong).Type)

	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		for range 4 {
			require.Equal(t, http.StatusUnauthorized, login(t, h, email, "wrong password!").Code)
		}
		w := login(t, h, email, "correct horse battery")
		require.Equal(t, http.StatusTooManyRequests, w.Code, email)
		assert.Equal(t, problem.TypeRateLimited, decodeProblem(t, w).Type)
		secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.Equal(t, 900, secs)
	}
	// The two lock-out answers are alike too.
	a, b := login(t, h, "ann@example.com", "x"), login(t, h, "bob@example.com", "x")
	assert.Equal(t, a.Body.String(), b.Body.String())
	assert.Equal(t, a.Header().Get("Retry-After"), b.Header().Get("Retry-After"))
}

func TestLoginRejectsBadInput(t *testing.T) {
	h, _ := newServer(t)
	for _, body := range []string{`{}`, `{"email":"a@b.c"}`, `{"password":"x"}`, `{"email":"a@b.c","password":"` + strings.Repeat("x", 1025) + `"}`, `{"email":1,"password":"x"}`} {
		w := call(h, http.MethodPost, "/auth/login", body, nil)
		assert.Equal(t, http.StatusBadRequest, w.Code, body)
		assert.Equal(t, problem.TypeValidation, decodeProblem(t, w).Type)
	}
}

func tokensOf(t *testing.T, w *httptest.ResponseRecorder) api.TokenResponse {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var tr api.TokenResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
	return tr
}

func TestRefreshAndLogout(t *testing.T) {
	h, _ := newServer(t)
	register(t, h)
	first := tokensOf(t, login(t, h, "ann@example.com", "correct horse battery"))

	refresh := func(tok string) *httptest.ResponseRecorder {
		return call(h, http.MethodPost, "/auth/refresh", `{"refresh_token":"`+tok+`"}`, nil)
	}
	second := tokensOf(t, refresh(first.RefreshToken))
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	assert.Equal(t, "Bearer", second.TokenType)

	// Reuse: 401, and the family is gone.
	w := refresh(first.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, problem.TypeUnauthorized, decodeProblem(t, w).Type)
	assert.Equal(t, http.StatusUnauthorized, refresh(second.RefreshToken).Code)

	third := tokensOf(t, login(t, h, "ann@example.com", "correct horse battery"))
	logout := func(tok string) int {
		return call(h, http.MethodPost, "/auth/logout", `{"refresh_token":"`+tok+`"}`, nil).Code
	}
	assert.Equal(t, http.StatusNoContent, logout(third.RefreshToken))
	assert.Equal(t, http.StatusNoContent, logout(third.RefreshToken), "idempotent")
	assert.Equal(t, http.StatusNoContent, logout("never-issued"))
	assert.Equal(t, http.StatusUnauthorized, refresh(third.RefreshToken).Code)

	assert.Equal(t, http.StatusUnauthorized, refresh("garbage").Code)
	assert.Equal(t, http.StatusBadRequest, call(h, http.MethodPost, "/auth/refresh", `{}`, nil).Code)
	assert.Equal(t, http.StatusBadRequest, call(h, http.MethodPost, "/auth/logout", `{"token":"x"}`, nil).Code)
}

func TestJWKS(t *testing.T) {
	h, _ := newServer(t)
	w := call(h, http.MethodGet, "/.well-known/jwks.json", "", nil)
	require.Equal(t, http.StatusOK, w.Code)
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	require.Len(t, doc.Keys, 1)
	assert.Equal(t, "kid-1", doc.Keys[0]["kid"])
	assert.Equal(t, "ES256", doc.Keys[0]["alg"])
	assert.Equal(t, "sig", doc.Keys[0]["use"])
	assert.NotContains(t, doc.Keys[0], "d")
}

func gateway(id auth.Identity) http.Header {
	hdr := id.Header()
	hdr.Set("dapr-caller-app-id", "gateway")
	return hdr
}

// The domain's role names are the ones the gateway puts in identities.
func TestRoleNamesMatchTheKit(t *testing.T) {
	assert.Equal(t, auth.RoleCustomer, users.RoleCustomer)
	assert.Equal(t, auth.RoleAdmin, users.RoleAdmin)
}

func TestMeNeedsTheGatewaysIdentity(t *testing.T) {
	h, _ := newServer(t)
	u := register(t, h)
	who := auth.Identity{UserID: u.ID, Email: u.Email, Roles: []string{"customer"}}
	for name, hdr := range map[string]http.Header{
		"no identity":          nil,
		"identity, no gateway": who.Header(),
		"gateway, no identity": {"Dapr-Caller-App-Id": {"gateway"}},
	} {
		w := call(h, http.MethodGet, "/me", "", hdr)
		assert.Equal(t, http.StatusUnauthorized, w.Code, name)
		decodeProblem(t, w)
	}

	w := call(h, http.MethodGet, "/me", "", gateway(who))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, []string{"addresses", "email", "id", "name", "roles"}, keys(body))
	assert.Equal(t, u.ID, body["id"])
	assert.Equal(t, []any{"customer"}, body["roles"])
	assert.Equal(t, []any{}, body["addresses"])
}

const home = `{"name":"Ann Example","line1":"1 Main St","city":"Springfield","postal_code":"12345","country":"us"}`

func TestAddresses(t *testing.T) {
	h, _ := newServer(t)
	u := register(t, h)
	hdr := gateway(auth.Identity{UserID: u.ID, Email: u.Email, Roles: []string{"customer"}})

	w := call(h, http.MethodPost, "/me/addresses", home, hdr)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var a map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a))
	assert.Equal(t, []string{"city", "country", "id", "line1", "name", "postal_code"}, keys(a), "line2 is optional")
	assert.Equal(t, "US", a["country"], "upper-cased")
	id := a["id"].(string)
	assert.Equal(t, "/api/v1/me/addresses/"+id, w.Header().Get("Location"))

	w = call(h, http.MethodPost, "/me/addresses", strings.Replace(home, `"city"`, `"line2":"Apt 4","city"`, 1), hdr)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"line2":"Apt 4"`)

	w = call(h, http.MethodGet, "/me/addresses", "", hdr)
	require.Equal(t, http.StatusOK, w.Code)
	var list struct {
		Items []api.Address `json:"items"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	require.Len(t, list.Items, 2)
	assert.Equal(t, id, list.Items[0].ID)

	w = call(h, http.MethodGet, "/me", "", hdr)
	assert.Contains(t, w.Body.String(), id)

	assert.Equal(t, http.StatusNoContent, call(h, http.MethodDelete, "/me/addresses/"+id, "", hdr).Code)
	w = call(h, http.MethodDelete, "/me/addresses/"+id, "", hdr)
	assert.Equal(t, http.StatusNotFound, w.Code)
	decodeProblem(t, w)
	assert.Equal(t, http.StatusNotFound, call(h, http.MethodDelete, "/me/addresses/not-a-uuid", "", hdr).Code)

	for i := 1; i < 20; i++ {
		require.Equal(t, http.StatusCreated, call(h, http.MethodPost, "/me/addresses", home, hdr).Code)
	}
	w = call(h, http.MethodPost, "/me/addresses", home, hdr)
	assert.Equal(t, http.StatusConflict, w.Code, "20 at most")
	decodeProblem(t, w)

	// Another user sees none of them, and cannot delete them.
	other := gateway(auth.Identity{UserID: "0193a000-0000-7000-8000-000000000001", Email: "eve@example.com", Roles: []string{"customer"}})
	w = call(h, http.MethodGet, "/me/addresses", "", other)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"items":[]}`, w.Body.String())
	assert.Equal(t, http.StatusNotFound, call(h, http.MethodDelete, "/me/addresses/"+list.Items[1].ID, "", other).Code)
}

func TestAddressRejectsBadInput(t *testing.T) {
	h, _ := newServer(t)
	u := register(t, h)
	hdr := gateway(auth.Identity{UserID: u.ID, Email: u.Email, Roles: []string{"customer"}})
	for field, body := range map[string]string{
		"country":     strings.Replace(home, `"us"`, `"XX"`, 1),
		"country ":    strings.Replace(home, `"us"`, `"USA"`, 1),
		"name":        strings.Replace(home, `"Ann Example"`, `"  "`, 1),
		"line1":       strings.Replace(home, `"line1":"1 Main St",`, ``, 1),
		"city":        strings.Replace(home, `"Springfield"`, `"`+strings.Repeat("c", 101)+`"`, 1),
		"postal_code": strings.Replace(home, `"12345"`, `12345`, 1),
		"id":          strings.Replace(home, `{`, `{"id":"x",`, 1),
	} {
		w := call(h, http.MethodPost, "/me/addresses", body, hdr)
		require.Equal(t, http.StatusBadRequest, w.Code, body)
		p := decodeProblem(t, w)
		require.NotEmpty(t, p.Errors, w.Body.String())
		assert.Equal(t, strings.TrimSpace(field), p.Errors[0].Field)
	}
	w := call(h, http.MethodGet, "/me/addresses", "", hdr)
	assert.JSONEq(t, `{"items":[]}`, w.Body.String())
}

// Whatever the body, no route answers 5xx.
func TestNoServerErrorsForBadInput(t *testing.T) {
	h, _ := newServer(t)
	u := register(t, h)
	hdr := gateway(auth.Identity{UserID: u.ID, Email: u.Email, Roles: []string{"customer"}})
	bodies := []string{``, `null`, `{}`, `[]`, `"x"`, `1`, `{"email":null}`, `{"email":{},"password":[]}`,
		`{"refresh_token":null}`, `{"name":1}`, "\x00\xff", `{"email":"` + strings.Repeat("a", 5000) + `@x.com","password":"x","name":"x"}`,
		`{"email":"a@b.c","password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000","name":"\u0000"}`}
	for _, path := range []string{"/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/me/addresses"} {
		for _, b := range bodies {
			w := call(h, http.MethodPost, path, b, hdr)
			assert.Less(t, w.Code, 500, "%s %q: %s", path, b, w.Body.String())
		}
	}
	w := call(h, http.MethodPost, "/auth/register", ann, http.Header{"Content-Type": {"text/plain"}})
	assert.Equal(t, http.StatusUnsupportedMediaType, w.Code)
}
