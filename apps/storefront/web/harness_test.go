package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/gatewaytest"
	"github.com/shopmesh/shopmesh/apps/storefront/session"
	"github.com/shopmesh/shopmesh/apps/storefront/static"
	"github.com/shopmesh/shopmesh/apps/storefront/web"
)

// testKey seals the sessions of the tests; the secret store is not involved.
const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// shop is the storefront in front of a fake gateway, served over TLS so
// that a cookie jar sends its Secure cookies, as a browser would.
type shop struct {
	t   *testing.T
	gw  *gatewaytest.Gateway
	srv *httptest.Server
	// URL is the storefront's origin.
	URL string
}

func newShop(t *testing.T, cfg web.Config) *shop {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	gw := gatewaytest.New(t)
	return newShopOn(t, gw, gw.URL, cfg)
}

func newShopOn(t *testing.T, gw *gatewaytest.Gateway, gatewayURL string, cfg web.Config) *shop {
	t.Helper()
	key, err := session.ParseKey(testKey)
	require.NoError(t, err)
	keys, err := session.KeeperWith(key)
	require.NoError(t, err)
	assets, err := static.NewAssets()
	require.NoError(t, err)
	images, err := static.NewImages()
	require.NoError(t, err)
	if cfg.EventsInterval == 0 {
		cfg.EventsInterval, cfg.EventsLimit = 10*time.Millisecond, 5*time.Second
	}
	api := gateway.New(gateway.Config{BaseURL: gatewayURL, Timeout: 5 * time.Second}, http.DefaultTransport)
	h, err := web.New(api, keys, assets, images, cfg, slog.New(slog.DiscardHandler), time.Now)
	require.NoError(t, err)
	e := gin.New()
	e.ContextWithFallback = true // as the kit's engine
	require.NoError(t, h.Mount(e))
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	return &shop{t: t, gw: gw, srv: srv, URL: srv.URL}
}

// browser is one visitor: its own cookies, no automatic redirects.
type browser struct {
	t    *testing.T
	shop *shop
	c    *http.Client
}

func (s *shop) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(s.t, err)
	c := &http.Client{
		Jar:           jar,
		Transport:     s.srv.Client().Transport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	return &browser{t: s.t, shop: s, c: c}
}

// page is an answer as a test reads it.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.shop.URL+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// post sends form as a browser sends a same-origin form.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.postWith(path, form, http.Header{"Origin": {b.shop.URL}, "Sec-Fetch-Site": {"same-origin"}})
}

func (b *browser) postWith(path string, form url.Values, h http.Header) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.shop.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range h {
		req.Header[k] = vs
	}
	return b.do(req)
}

var (
	csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	keyPattern  = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
)

// token returns the CSRF token of the forms of the page at path.
func (b *browser) token(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfPattern.FindStringSubmatch(p.Body)
	require.NotNil(b.t, m, "no csrf token on %s", path)
	return m[1]
}

// signIn signs in as email with the fake's password.
func (b *browser) signIn(email string) {
	b.t.Helper()
	p := b.post("/signin", url.Values{"csrf_token": {b.token("/signin")}, "email": {email}, "password": {gatewaytest.Password}, "next": {"/"}})
	require.Equal(b.t, http.StatusSeeOther, p.Status, p.Body)
}

// cookie returns the value of the jar's cookie name, "" when it has none.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.shop.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
