package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// shopper is one client of the shop with an address of its own: the
// gateway limits sign-ins per client address, so each test signs in from
// its own loopback address (127.x.y.z) and the tests do not share budgets.
type shopper struct {
	c  *http.Client
	ip string
}

// newShopper returns a client that connects from a random 127/8 address
// when the gateway is on the loopback interface, else the shared client.
func newShopper(t *testing.T) shopper {
	t.Helper()
	u, err := url.Parse(gateway)
	require.NoError(t, err)
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return shopper{c: client}
	}
	addr := net.IPv4(127, byte(1+mrand.IntN(254)), byte(mrand.IntN(256)), byte(1+mrand.IntN(254)))
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: addr}, Timeout: 5 * time.Second}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return shopper{c: &http.Client{Timeout: 15 * time.Second, Transport: tr}, ip: addr.String()}
}

// call is the package's call from this shopper's address.
func (s shopper) call(t *testing.T, method, path string, body any, header ...string) response {
	t.Helper()
	return callWith(t, s.c, method, gateway+path, body, header...)
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

type account struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type meBody struct {
	account
	Roles     []string         `json:"roles"`
	Addresses []map[string]any `json:"addresses"`
}

const goodPassword = "e2e-correct-horse-7"

func freshEmail(prefix string) string {
	return fmt.Sprintf("%s-%d-%d@e2e.shopmesh.dev", prefix, time.Now().UnixNano(), mrand.IntN(1000))
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// signUp registers and signs in a new customer.
func (s shopper) signUp(t *testing.T, prefix string) (account, tokenPair) {
	t.Helper()
	email := freshEmail(prefix)
	r := s.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": goodPassword, "name": "E2E " + prefix})
	require.Equal(t, http.StatusCreated, r.Status, "register: %s", r.Body)
	var a account
	r.decode(t, &a)
	return a, s.login(t, email, goodPassword)
}

func (s shopper) login(t *testing.T, email, password string) tokenPair {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusOK, r.Status, "login: %s", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var tok tokenPair
	r.decode(t, &tok)
	require.Equal(t, "Bearer", tok.TokenType)
	require.Positive(t, tok.ExpiresIn)
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken)
	return tok
}

// requireUnauthorized checks a 401 problem with a Bearer challenge.
func requireUnauthorized(t *testing.T, r response) {
	t.Helper()
	p := requireProblem(t, r, http.StatusUnauthorized)
	assert.Equal(t, "https://shopmesh.dev/problems/unauthorized", p.Type)
	assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
}

func TestSignUpSignInAndMe(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	email := freshEmail("ann")
	r := s.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": goodPassword, "name": "Ann"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var a account
	r.decode(t, &a)
	assert.NotEmpty(t, a.ID)
	assert.Equal(t, email, a.Email)
	assert.Equal(t, "Ann", a.Name)

	for name, body := range map[string]map[string]string{
		"same e-mail":          {"email": email, "password": goodPassword, "name": "Ann again"},
		"same e-mail in upper": {"email": strings.ToUpper(email), "password": goodPassword, "name": "ANN"},
		"same e-mail, mixed":   {"email": strings.ToUpper(email[:1]) + email[1:], "password": "another-long-pw-9", "name": "Ann"},
	} {
		p := requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/register", body), http.StatusConflict)
		assert.Equal(t, "https://shopmesh.dev/problems/conflict", p.Type, name)
	}
	p := requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/register",
		map[string]string{"email": freshEmail("weak"), "password": "short1", "name": "Weak"}), http.StatusBadRequest)
	require.NotEmpty(t, p.Errors)
	assert.Equal(t, "password", p.Errors[0].Field)
	p = requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/register",
		map[string]string{"email": "not-an-email", "password": goodPassword, "name": "Bad"}), http.StatusBadRequest)
	require.NotEmpty(t, p.Errors)
	assert.Equal(t, "email", p.Errors[0].Field)

	tok := s.login(t, email, goodPassword)
	wrong := requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": "wrong-password-1"}), http.StatusUnauthorized)
	unknown := requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": freshEmail("nobody"), "password": goodPassword}), http.StatusUnauthorized)
	assert.Equal(t, wrong, unknown, "an unknown e-mail gets the same answer as a wrong password")
	tok2 := s.login(t, strings.ToUpper(email), goodPassword)
	assert.NotEqual(t, tok.AccessToken, tok2.AccessToken)

	r = s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(tok.AccessToken)...)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var me meBody
	r.decode(t, &me)
	assert.Equal(t, a, me.account)
	assert.Equal(t, []string{"customer"}, me.Roles)
	assert.NotNil(t, me.Addresses)
	assert.Empty(t, me.Addresses)
	requireUnauthorized(t, s.call(t, http.MethodGet, "/api/v1/me", nil))

	// The address book.
	addr := map[string]string{"name": "Ann", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "de"}
	r = s.call(t, http.MethodPost, "/api/v1/me/addresses", addr, bearer(tok.AccessToken)...)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var added map[string]any
	r.decode(t, &added)
	assert.Equal(t, "DE", added["country"])
	assert.Equal(t, "/api/v1/me/addresses/"+added["id"].(string), r.Header.Get("Location"))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	s.call(t, http.MethodGet, "/api/v1/me/addresses", nil, bearer(tok.AccessToken)...).decode(t, &list)
	require.Len(t, list.Items, 1)
	requireUnauthorized(t, s.call(t, http.MethodDelete, "/api/v1/me/addresses/"+added["id"].(string), nil))
	require.Equal(t, http.StatusNoContent, s.call(t, http.MethodDelete, "/api/v1/me/addresses/"+added["id"].(string), nil, bearer(tok.AccessToken)...).Status)
	requireProblem(t, s.call(t, http.MethodDelete, "/api/v1/me/addresses/"+added["id"].(string), nil, bearer(tok.AccessToken)...), http.StatusNotFound)

	// The same account through GraphQL; without a token, UNAUTHENTICATED.
	q := map[string]any{"query": `{ me { id email name roles addresses { id } } categories { id } }`}
	r = s.call(t, http.MethodPost, "/graphql", q, bearer(tok.AccessToken)...)
	require.Equal(t, http.StatusOK, r.Status)
	var gql struct {
		Data struct {
			Me *struct {
				ID    string   `json:"id"`
				Email string   `json:"email"`
				Roles []string `json:"roles"`
			} `json:"me"`
			Categories []any `json:"categories"`
		} `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	r.decode(t, &gql)
	require.Empty(t, gql.Errors)
	require.NotNil(t, gql.Data.Me)
	assert.Equal(t, a.ID, gql.Data.Me.ID)
	r = s.call(t, http.MethodPost, "/graphql", q)
	require.Equal(t, http.StatusOK, r.Status)
	gql.Data.Me, gql.Errors = nil, nil
	r.decode(t, &gql)
	assert.Nil(t, gql.Data.Me)
	assert.NotEmpty(t, gql.Data.Categories, "public fields are still answered")
	require.Len(t, gql.Errors, 1)
	assert.Equal(t, "UNAUTHENTICATED", gql.Errors[0].Extensions["code"])
}

func TestLockOutAfterRepeatedWrongPasswords(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	email := freshEmail("locked")
	r := s.call(t, http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": goodPassword, "name": "Locked"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var last response
	for i := range 6 {
		last = s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": fmt.Sprintf("wrong-password-%d", i)})
		if i < 5 {
			requireProblem(t, last, http.StatusUnauthorized)
		}
	}
	p := requireProblem(t, last, http.StatusTooManyRequests)
	assert.NotContains(t, p.Detail, "from this client", "the account's lock-out, not the gateway's rate limit")
	assert.NotEmpty(t, last.Header.Get("Retry-After"))
	// Locked: even the right password is refused for now.
	r = s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": goodPassword})
	requireProblem(t, r, http.StatusTooManyRequests)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
}

// jwtParts splits a JWT into its decoded header and claims.
func jwtParts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, dst))
	}
	return header, claims
}

func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signES256 signs header.claims with key, as a forger with their own key would.
func signES256(t *testing.T, key *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := b64JSON(header) + "." + b64JSON(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestForgedAndAlteredTokensAreRefused(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	_, tok := s.signUp(t, "forger")
	header, claims := jwtParts(t, tok.AccessToken)
	require.Equal(t, "ES256", header["alg"])
	kid, _ := header["kid"].(string)
	require.NotEmpty(t, kid)
	parts := strings.Split(tok.AccessToken, ".")

	with := func(changes map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		for k, v := range changes {
			c[k] = v
		}
		return c
	}
	own, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()

	// The public key of the token's kid, as an HMAC secret (HS/RS confusion).
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	r := s.call(t, http.MethodGet, "/.well-known/jwks.json", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &jwks)
	var pubJWK []byte
	for _, k := range jwks.Keys {
		if k["kid"] == kid {
			pubJWK, _ = json.Marshal(k)
		}
	}
	require.NotEmpty(t, pubJWK, "the token's kid is in the JWKS")
	hsInput := b64JSON(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64JSON(with(map[string]any{"roles": []string{"customer", "admin"}}))
	mac := hmac.New(sha256.New, pubJWK)
	mac.Write([]byte(hsInput))

	forged := map[string]string{
		"payload edited to admin": parts[0] + "." + b64JSON(with(map[string]any{"roles": []string{"customer", "admin"}})) + "." + parts[2],
		"audience edited":         parts[0] + "." + b64JSON(with(map[string]any{"aud": []string{"another-api"}})) + "." + parts[2],
		"expiry edited":           parts[0] + "." + b64JSON(with(map[string]any{"exp": now.Add(24 * time.Hour).Unix()})) + "." + parts[2],
		"signature of another token": parts[0] + "." + parts[1] + "." +
			strings.Split(s.login(t, claims["email"].(string), goodPassword).AccessToken, ".")[2],
		"alg none": b64JSON(map[string]any{"alg": "none", "typ": "JWT"}) + "." + b64JSON(with(map[string]any{"roles": []string{"admin"}})) + ".",
		"alg none with kid": b64JSON(map[string]any{"alg": "none", "kid": kid}) + "." +
			b64JSON(with(map[string]any{"roles": []string{"admin"}})) + "." + base64.RawURLEncoding.EncodeToString([]byte("x")),
		"HS256 keyed with the public key": hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)),
		"own key, the real kid":           signES256(t, own, map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}, with(nil)),
		"own key, unknown kid":            signES256(t, own, map[string]any{"alg": "ES256", "typ": "JWT", "kid": "forged-" + fmt.Sprint(now.UnixNano())}, with(nil)),
		"own key, expired": signES256(t, own, map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid},
			with(map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()})),
		"own key, wrong audience": signES256(t, own, map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid},
			with(map[string]any{"aud": []string{"another-api"}})),
		"not a JWT": "definitely-not-a-token",
	}
	for name, f := range forged {
		t.Run(name, func(t *testing.T) {
			requireUnauthorized(t, s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(f)...))
			// A token that is sent must be valid, even where none is needed.
			requireUnauthorized(t, s.call(t, http.MethodGet, "/api/v1/categories", nil, bearer(f)...))
			r := s.call(t, http.MethodPost, "/api/v1/products", newProductBody(uniqueSKU("FORGED")), bearer(f)...)
			requireUnauthorized(t, r)
		})
	}
	// The real token still works.
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(tok.AccessToken)...).Status)
}

func TestOnlyAdminsWriteTheCatalog(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	_, tok := s.signUp(t, "customer")
	body := newProductBody(uniqueSKU("AUTHZ"))
	p := requireProblem(t, s.call(t, http.MethodPost, "/api/v1/products", body, bearer(tok.AccessToken)...), http.StatusForbidden)
	assert.Equal(t, "https://shopmesh.dev/problems/forbidden", p.Type)
	requireUnauthorized(t, s.call(t, http.MethodPost, "/api/v1/products", body))

	admin := asAdmin(t)
	r := call(t, http.MethodPost, gateway+"/api/v1/products", body, admin...)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var created product
	r.decode(t, &created)
	path := "/api/v1/products/" + created.ID
	t.Cleanup(func() { call(t, http.MethodDelete, gateway+path, nil, admin...) })

	requireProblem(t, s.call(t, http.MethodPut, path, body, bearer(tok.AccessToken)...), http.StatusForbidden)
	requireProblem(t, s.call(t, http.MethodDelete, path, nil, bearer(tok.AccessToken)...), http.StatusForbidden)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, path, nil, bearer(tok.AccessToken)...).Status, "customers read")

	var me meBody
	call(t, http.MethodGet, gateway+"/api/v1/me", nil, admin...).decode(t, &me)
	assert.Contains(t, me.Roles, "admin")
	require.Equal(t, http.StatusNoContent, call(t, http.MethodDelete, gateway+path, nil, admin...).Status)
}

// X-Shopmesh-User-* headers from a client count for nothing.
func TestSpoofedIdentityHeadersAreIgnored(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	victim, tok := s.signUp(t, "spoof")
	spoof := []string{"X-Shopmesh-User-Id", victim.ID, "X-Shopmesh-User-Roles", "admin,customer", "X-Shopmesh-User-Email", "admin@shopmesh.local"}
	body := newProductBody(uniqueSKU("SPOOF"))

	requireUnauthorized(t, s.call(t, http.MethodPost, "/api/v1/products", body, spoof...))
	requireUnauthorized(t, s.call(t, http.MethodGet, "/api/v1/me", nil, spoof...))
	requireProblem(t, s.call(t, http.MethodPost, "/api/v1/products", body, append(bearer(tok.AccessToken), spoof...)...), http.StatusForbidden)

	// With another customer's token and the victim's id in the headers, /me
	// is the token's owner.
	_, other := s.signUp(t, "spoof-other")
	var me meBody
	r := s.call(t, http.MethodGet, "/api/v1/me", nil, append(bearer(other.AccessToken), spoof...)...)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &me)
	assert.NotEqual(t, victim.ID, me.ID)
	assert.Equal(t, []string{"customer"}, me.Roles)
}

func TestRefreshTokensAreSingleUse(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	_, first := s.signUp(t, "refresh")

	r := s.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var second tokenPair
	r.decode(t, &second)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "the refresh token rotates")
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(second.AccessToken)...).Status)

	requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}), http.StatusUnauthorized)
	// Reuse of a spent token revokes the whole sign-in.
	requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": second.RefreshToken}), http.StatusUnauthorized)

	// Sign-out revokes the refresh token.
	_, third := s.signUp(t, "logout")
	require.Equal(t, http.StatusNoContent, s.call(t, http.MethodPost, "/api/v1/auth/logout", map[string]string{"refresh_token": third.RefreshToken}).Status)
	requireProblem(t, s.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": third.RefreshToken}), http.StatusUnauthorized)
}

// A key rotation keeps tokens issued before it valid, and new tokens carry
// the new key's kid.
func TestKeyRotationKeepsEarlierTokensValid(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	acct, before := s.signUp(t, "rotation")
	hdr, _ := jwtParts(t, before.AccessToken)
	oldKid := hdr["kid"].(string)

	cmd := exec.Command("bash", "local/secrets.sh", "rotate-jwt-key")
	cmd.Dir = repoRoot()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "rotate-jwt-key: %s", out)
	// The local file secret store reads the file when its daprd starts, as
	// rotate-jwt-key says: restart the users sidecar.
	restartUsersSidecar(t)

	// The users service reloads its keys every 30 s: wait for a token with
	// a new kid, signing in from a fresh address each time (the gateway
	// limits sign-ins per address).
	var after tokenPair
	eventually(t, 60*time.Second, "a token signed with the new key", func() bool {
		time.Sleep(2 * time.Second)
		after = newShopper(t).login(t, acct.Email, goodPassword)
		h, _ := jwtParts(t, after.AccessToken)
		return h["kid"] != oldKid
	})
	hdr, _ = jwtParts(t, after.AccessToken)
	newKid := hdr["kid"].(string)

	// The gateway fetches the keys again on the new kid (at most once per
	// 10 s), so the new token is accepted within that.
	eventually(t, 15*time.Second, "the gateway accepts the new key", func() bool {
		return s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(after.AccessToken)...).Status == http.StatusOK
	})
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, "/api/v1/me", nil, bearer(before.AccessToken)...).Status,
		"a token issued before the rotation stays valid")

	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	r := s.call(t, http.MethodGet, "/.well-known/jwks.json", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "public, max-age=300", r.Header.Get("Cache-Control"))
	r.decode(t, &jwks)
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	assert.Contains(t, kids, oldKid)
	assert.Contains(t, kids, newKid)
}

// restartUsersSidecar stops the users app's daprd (the stack's own, by its
// pid file) and lets the runner start the pair again, as the README says.
func restartUsersSidecar(t *testing.T) {
	t.Helper()
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	pf, err := stack.ReadPidFile(l.PidFile("users", stack.RoleDaprd))
	require.NoError(t, err)
	require.True(t, stack.IsOurs(pf.Pid, pf.Binary), "pid %d is the stack's users daprd", pf.Pid)
	require.NoError(t, syscall.Kill(pf.Pid, syscall.SIGTERM))
	eventually(t, 30*time.Second, "the users daprd stops", func() bool { return !stack.IsOurs(pf.Pid, pf.Binary) })
	up := exec.Command(filepath.Join(root, ".local", "bin", "runner"), "up")
	up.Dir = root
	out, err := up.CombinedOutput()
	require.NoError(t, err, "runner up: %s", out)
	// The gateway's sidecar redials the restarted one with gRPC's backoff;
	// until then the gateway answers 503, as it should. Wait for it, as a
	// client told to retry later would.
	eventually(t, 30*time.Second, "the gateway reaches users again", func() bool {
		return call(t, http.MethodGet, gateway+"/.well-known/jwks.json", nil).Status == http.StatusOK
	})
}

// Twenty clients race to register one e-mail: exactly one account.
func TestConcurrentRegistrationOfOneEmail(t *testing.T) {
	requireStack(t)
	email := freshEmail("race")
	statuses := make([]int, 20)
	shoppers := make([]shopper, len(statuses))
	for i := range shoppers {
		shoppers[i] = newShopper(t)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Go(func() {
			<-start
			addr := email
			if i%2 == 1 {
				addr = strings.ToUpper(email)
			}
			statuses[i] = shoppers[i].call(t, http.MethodPost, "/api/v1/auth/register",
				map[string]string{"email": addr, "password": goodPassword, "name": fmt.Sprintf("Racer %d", i)}).Status
		})
	}
	close(start)
	wg.Wait()
	created, conflicts := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			conflicts++
		}
	}
	assert.Equal(t, 1, created, "statuses: %v", statuses)
	assert.Equal(t, len(statuses)-1, conflicts, "every other attempt is a conflict: %v", statuses)
	newShopper(t).login(t, email, goodPassword)
}

// The credential endpoints have a stricter limit per client address than
// the rest of the API.
func TestSignInsAreRateLimitedPerClient(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	if s.ip == "" {
		t.Skip("needs a gateway on the loopback interface to sign in from an address of its own")
	}
	attempt := func() response {
		return s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": freshEmail("limit"), "password": "wrong-password-0"})
	}
	first := attempt()
	requireProblem(t, first, http.StatusUnauthorized)
	var burst int
	_, err := fmt.Sscan(first.Header.Get("RateLimit-Limit"), &burst)
	require.NoError(t, err, "RateLimit-Limit: %q", first.Header.Get("RateLimit-Limit"))
	if burst > 100 {
		t.Skipf("the sign-in burst is %d here; too many requests to exhaust", burst)
	}
	var limited response
	for range burst + 2 {
		if r := attempt(); r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
	}
	p := requireProblem(t, limited, http.StatusTooManyRequests)
	assert.Contains(t, p.Detail, "from this client")
	assert.NotEmpty(t, limited.Header.Get("Retry-After"))
	// Other clients, and other routes of this one, are not affected.
	requireProblem(t, newShopper(t).call(t, http.MethodPost, "/api/v1/auth/login",
		map[string]string{"email": freshEmail("limit"), "password": "wrong-password-0"}), http.StatusUnauthorized)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, "/api/v1/categories", nil).Status)
}
