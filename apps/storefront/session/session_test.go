package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/storefront/session"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func sealer(t *testing.T, hex string) *session.Sealer {
	t.Helper()
	k, err := session.ParseKey(hex)
	require.NoError(t, err)
	s, err := session.NewSealer(k)
	require.NoError(t, err)
	return s
}

// clock is a settable now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// roundTrip writes s with cookies and reads it back as the next request would.
func roundTrip(t *testing.T, write, read session.Cookies, s *session.Session) (*session.Session, error) {
	t.Helper()
	rec := httptest.NewRecorder()
	require.NoError(t, write.Write(rec, s))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	return read.Read(req)
}

func TestSealOpenRoundTrip(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := session.NewCookies(sealer(t, hexKey), clk.now)
	s, err := session.New("the-access-token", clk.t.Add(15*time.Minute), "u1", "Ada", "ada@example.com", []string{"customer", "admin"})
	require.NoError(t, err)
	got, err := roundTrip(t, c, c, s)
	require.NoError(t, err)
	assert.Equal(t, s.AccessToken, got.AccessToken)
	assert.True(t, s.Expires.Equal(got.Expires))
	assert.Equal(t, s.CSRFSecret, got.CSRFSecret)
	assert.Len(t, got.CSRFSecret, 32)
	assert.True(t, got.IsAdmin())
	assert.Equal(t, "Ada", got.Name)

	other, err := session.New("t", clk.t.Add(time.Hour), "u2", "Bob", "bob@example.com", []string{"customer"})
	require.NoError(t, err)
	assert.NotEqual(t, s.CSRFSecret, other.CSRFSecret, "every session gets its own CSRF secret")
	assert.False(t, other.IsAdmin())
}

func TestCookieAttributes(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := session.NewCookies(sealer(t, hexKey), clk.now)
	s, _ := session.New("tok", clk.t.Add(900*time.Second), "u1", "Ada", "a@example.com", nil)
	rec := httptest.NewRecorder()
	require.NoError(t, c.Write(rec, s))
	ck := rec.Result().Cookies()[0]
	assert.Equal(t, "__Host-shopmesh_session", ck.Name)
	assert.True(t, ck.HttpOnly)
	assert.True(t, ck.Secure)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.Equal(t, "/", ck.Path)
	assert.Empty(t, ck.Domain)
	assert.Equal(t, 900, ck.MaxAge)
	assert.NotContains(t, ck.Value, "tok")
	assert.NotContains(t, ck.Value, "Ada")
}

func TestTamperedOrForeignCookiesDoNotOpen(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := session.NewCookies(sealer(t, hexKey), clk.now)
	s, _ := session.New("tok", clk.t.Add(time.Hour), "u1", "Ada", "a@example.com", []string{"customer"})
	rec := httptest.NewRecorder()
	require.NoError(t, c.Write(rec, s))
	value := rec.Result().Cookies()[0].Value

	read := func(v string) error {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: v})
		got, err := c.Read(req)
		assert.Nil(t, got)
		return err
	}
	for i := range value {
		b := []byte(value)
		b[i] ^= 0x01
		if string(b) == value {
			continue
		}
		assert.ErrorIs(t, read(string(b)), session.ErrInvalid, "byte %d flipped", i)
	}
	assert.ErrorIs(t, read(value[:len(value)-4]), session.ErrInvalid, "truncated")
	assert.ErrorIs(t, read("not base64 !"), session.ErrInvalid)
	assert.ErrorIs(t, read(""), session.ErrInvalid)

	otherKey := session.NewCookies(sealer(t, strings.Repeat("ab", 32)), clk.now)
	_, err := roundTrip(t, c, otherKey, s)
	assert.ErrorIs(t, err, session.ErrInvalid, "sealed under another key")

	// A pre-session cookie does not open as a session: the cookie's name is sealed in.
	rec = httptest.NewRecorder()
	_, err = c.StartPre(rec)
	require.NoError(t, err)
	assert.ErrorIs(t, read(rec.Result().Cookies()[0].Value), session.ErrInvalid)

	none, err := c.Read(httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Nil(t, none)
	assert.NoError(t, err, "no cookie is no session, not an error")
}

func TestExpiredSessionDoesNotOpen(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := session.NewCookies(sealer(t, hexKey), clk.now)
	s, _ := session.New("tok", clk.t.Add(time.Minute), "u1", "Ada", "a@example.com", nil)
	got, err := roundTrip(t, c, c, s)
	require.NoError(t, err)
	require.NotNil(t, got)

	later := session.NewCookies(sealer(t, hexKey), func() time.Time { return clk.t.Add(time.Minute - 5*time.Second) })
	_, err = roundTrip(t, c, later, s)
	assert.ErrorIs(t, err, session.ErrInvalid, "a token about to expire ends the session")
}

func TestPreSession(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := session.NewCookies(sealer(t, hexKey), clk.now)
	rec := httptest.NewRecorder()
	secret, err := c.StartPre(rec)
	require.NoError(t, err)
	ck := rec.Result().Cookies()[0]
	assert.Equal(t, "__Host-shopmesh_presession", ck.Name)
	assert.True(t, ck.HttpOnly && ck.Secure)
	req := httptest.NewRequest(http.MethodPost, "/signin", nil)
	req.AddCookie(ck)
	assert.Equal(t, secret, c.PreSecret(req))

	clk.t = clk.t.Add(session.PreSessionTTL + time.Second)
	assert.Nil(t, c.PreSecret(req), "expired")
}

func TestCSRFTokens(t *testing.T) {
	a, _ := session.New("t", time.Now().Add(time.Hour), "u", "n", "e", nil)
	b, _ := session.New("t", time.Now().Add(time.Hour), "u", "n", "e", nil)
	tok := session.CSRFToken(a.CSRFSecret)
	assert.True(t, session.ValidCSRF(a.CSRFSecret, tok))
	assert.False(t, session.ValidCSRF(b.CSRFSecret, tok), "another session's token")
	assert.False(t, session.ValidCSRF(a.CSRFSecret, ""))
	assert.False(t, session.ValidCSRF(nil, session.CSRFToken(nil)), "no secret, no valid token")
	assert.False(t, session.ValidCSRF(a.CSRFSecret, tok[:len(tok)-1]))
	assert.NotContains(t, tok, string(a.CSRFSecret))
}

func TestParseKey(t *testing.T) {
	_, err := session.ParseKey(hexKey)
	assert.NoError(t, err)
	_, err = session.ParseKey(" " + hexKey + "\n")
	assert.NoError(t, err, "a trailing newline from a file store is fine")
	for _, bad := range []string{"", hexKey[:62], hexKey + "00", strings.Repeat("zz", 32)} {
		_, err := session.ParseKey(bad)
		assert.Error(t, err, bad)
		if err != nil {
			assert.NotContains(t, err.Error(), "0001020304", "errors never quote the key")
		}
	}
}

type source map[string]string

func (s source) Secret(_ context.Context, name string) (string, error) {
	v, ok := s[name]
	if !ok {
		return "", errors.New("not found")
	}
	return v, nil
}

// The keeper loads the key once the sidecar answers, retrying until the secret is there.
func TestKeeperLoadsTheKey(t *testing.T) {
	src := source{}
	k := session.NewKeeper(src, slog.New(slog.DiscardHandler))
	assert.ErrorIs(t, k.Ready(context.Background()), session.ErrNoKey)
	assert.Nil(t, k.Sealer())

	src[contracts.StorefrontSessionKey] = "too short"
	assert.Error(t, k.Load(context.Background()))
	assert.Nil(t, k.Sealer())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waits := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(ctx, func(context.Context) error {
			if waits++; waits < 3 {
				return errors.New("sidecar not up yet")
			}
			src[contracts.StorefrontSessionKey] = hexKey
			return nil
		}, time.Millisecond)
	}()
	<-done
	assert.NoError(t, k.Ready(ctx))
	assert.NotNil(t, k.Sealer())
	assert.Equal(t, 3, waits)
}
