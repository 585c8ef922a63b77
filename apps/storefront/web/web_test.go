package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/gatewaytest"
	"github.com/shopmesh/shopmesh/apps/storefront/session"
	"github.com/shopmesh/shopmesh/apps/storefront/web"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// A product name that is markup is shown as text on every page that shows it.
func TestUserTextIsEscaped(t *testing.T) {
	s := newShop(t, web.Config{})
	evil := s.gw.AddProduct(gateway.Product{SKU: "EVIL-1", Name: "<script>alert(1)</script>", Description: `"><img src=x onerror=alert(2)>`,
		Category: "kitchen", Price: gateway.Money{Amount: 100, Currency: "USD"}, InStock: true})
	b := s.browser()
	for _, path := range []string{"/p/" + evil.ID, "/c/kitchen", "/search?q=alert", "/search?q=" + url.QueryEscape("<script>alert(1)</script>")} {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.Status, path)
		assert.NotContains(t, p.Body, "<script>alert(1)</script>", path)
		assert.NotContains(t, p.Body, "<img src=x", path)
		assert.Contains(t, p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;", path)
	}
}

// Every page carries the security headers; a signed-in shopper's pages are never stored.
func TestSecurityHeaders(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	kettle := s.gw.Product("Stainless Steel Kettle")
	for _, path := range []string{"/", "/p/" + kettle.ID, "/signin", "/no-such-page", "/search?q=kettle"} {
		p := b.get(path)
		assert.Equal(t, wantCSP, p.Header.Get("Content-Security-Policy"), path)
		assert.Equal(t, "nosniff", p.Header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "same-origin", p.Header.Get("Referrer-Policy"), path)
		assert.NotEqual(t, "no-store", p.Header.Get("Cache-Control"), path)
	}
	b.signIn(gatewaytest.CustomerEmail)
	for _, path := range []string{"/", "/cart", "/orders", "/notifications", "/checkout"} {
		p := b.get(path)
		assert.Equal(t, "no-store", p.Header.Get("Cache-Control"), path)
		assert.Equal(t, wantCSP, p.Header.Get("Content-Security-Policy"), path)
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?i)<script[^>]*>`)
	inlineBits = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
)

// No page has inline script, style or event handlers, which the CSP would
// block anyway: everything the pages do must work under it.
func TestNoInlineCode(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	kettle := s.gw.Product("Stainless Steel Kettle")
	check := func(paths ...string) {
		for _, path := range paths {
			p := b.get(path)
			require.True(t, p.Status == http.StatusOK || path == "/missing", "%s: %d", path, p.Status)
			for _, tag := range scriptTag.FindAllString(p.Body, -1) {
				assert.Contains(t, tag, " src=", "%s: inline script %s", path, tag)
				assert.Contains(t, tag, " defer", "%s: blocking script %s", path, tag)
			}
			assert.Empty(t, inlineBits.FindAllString(p.Body, -1), path)
			assert.Equal(t, 1, strings.Count(p.Body, "<h1"), "%s: one h1", path)
			assert.Contains(t, p.Body, `<html lang="en">`, path)
			assert.Contains(t, p.Body, `href="#main"`, path)
		}
	}
	check("/", "/c/kitchen", "/p/"+kettle.ID, "/search?q=kettel", "/signin", "/signup", "/missing")
	b.signIn(gatewaytest.AdminEmail)
	b.post("/cart/items", url.Values{"csrf_token": {b.token("/")}, "product_id": {kettle.ID}, "quantity": {"1"}})
	check("/", "/cart", "/checkout", "/orders", "/notifications", "/admin/products", "/admin/products/new", "/admin/products/"+kettle.ID)
}

var assetURL = regexp.MustCompile(`/static/(app)\.([0-9a-f]{8})\.(css|js)`)

// The stylesheet and script are served under hashed names for a year; a
// name with another hash is not found.
func TestHashedAssets(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	home := b.get("/")
	found := assetURL.FindAllStringSubmatch(home.Body, -1)
	require.Len(t, found, 2)
	types := map[string]string{"css": "text/css", "js": "text/javascript"}
	for _, m := range found {
		p := b.get(m[0])
		require.Equal(t, http.StatusOK, p.Status, m[0])
		assert.Equal(t, "public, max-age=31536000, immutable", p.Header.Get("Cache-Control"))
		assert.Contains(t, p.Header.Get("Content-Type"), types[m[3]])
		assert.Equal(t, "nosniff", p.Header.Get("X-Content-Type-Options"))
		stale := b.get("/static/app.00000000." + m[3])
		assert.Equal(t, http.StatusNotFound, stale.Status)
		assert.Empty(t, stale.Header.Get("Cache-Control"))
	}
	assert.Equal(t, http.StatusNotFound, b.get("/static/app.css").Status)
}

// A tampered or expired session is no session, and its cookie is cleared.
func TestTamperedSessionSignsOut(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	require.Contains(t, b.get("/").Body, "Sign out")

	value := b.cookie(session.CookieName)
	require.NotEmpty(t, value)
	flipped := []byte(value)
	flipped[len(flipped)/2] ^= 1
	u, _ := url.Parse(s.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName, Value: string(flipped), Path: "/", Secure: true}})

	p := b.get("/")
	assert.NotContains(t, p.Body, "Sign out")
	assert.Contains(t, p.Body, "Sign in")
	cleared := false
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		cleared = cleared || (c.Name == session.CookieName && c.MaxAge < 0)
	}
	assert.True(t, cleared, "the tampered cookie is cleared")
	assert.Equal(t, http.StatusSeeOther, b.get("/cart").Status)
}

// The session cookie has the attributes that keep it from scripts and other sites.
func TestSessionCookieAttributes(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	p := b.post("/signin", url.Values{"csrf_token": {b.token("/signin")}, "email": {gatewaytest.CustomerEmail}, "password": {gatewaytest.Password}})
	require.Equal(t, http.StatusSeeOther, p.Status)
	var got *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == session.CookieName {
			got = c
		}
	}
	require.NotNil(t, got)
	assert.True(t, got.HttpOnly)
	assert.True(t, got.Secure)
	assert.Equal(t, http.SameSiteLaxMode, got.SameSite)
	assert.Equal(t, "/", got.Path)
	assert.Empty(t, got.Domain)
	assert.InDelta(t, 900, got.MaxAge, 5, "expires with the access token")
	assert.NotContains(t, got.Value, "token-", "the access token is sealed")
}

// A POST without the form's token, with another token, or from another
// site is refused and does nothing.
func TestCSRF(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	kettle := s.gw.Product("Stainless Steel Kettle")
	good := b.token("/")
	add := func(token string, h http.Header) int {
		form := url.Values{"product_id": {kettle.ID}, "quantity": {"1"}}
		if token != "" {
			form.Set("csrf_token", token)
		}
		return b.postWith("/cart/items", form, h).Status
	}
	same := http.Header{"Origin": {s.URL}, "Sec-Fetch-Site": {"same-origin"}}
	assert.Equal(t, http.StatusForbidden, add("", same), "no token")
	assert.Equal(t, http.StatusForbidden, add("bm90LXRoZS10b2tlbg", same), "a wrong token")
	other := s.browser()
	other.signIn(gatewaytest.AdminEmail)
	assert.Equal(t, http.StatusForbidden, add(other.token("/"), same), "another session's token")
	assert.Equal(t, http.StatusForbidden, add(good, http.Header{"Sec-Fetch-Site": {"cross-site"}}), "cross-site")
	assert.Equal(t, http.StatusForbidden, add(good, http.Header{"Origin": {"https://evil.example"}}), "another origin")
	assert.Equal(t, http.StatusForbidden, add(good, http.Header{"Origin": {"null"}}), "an opaque origin")
	assert.Equal(t, 0, s.gw.Calls("POST /api/v1/cart/items"))

	assert.Equal(t, http.StatusSeeOther, add(good, same))
	assert.Equal(t, http.StatusSeeOther, add(good, nil), "browsers that send neither header")
	assert.Equal(t, 2, s.gw.Calls("POST /api/v1/cart/items"))

	// Sign-in has no session yet: its form is guarded by the pre-session.
	fresh := s.browser()
	p := fresh.post("/signin", url.Values{"email": {gatewaytest.CustomerEmail}, "password": {gatewaytest.Password}})
	assert.Equal(t, http.StatusForbidden, p.Status)
	p = fresh.post("/signup", url.Values{"csrf_token": {good}, "name": {"Eve"}, "email": {"eve@example.com"}, "password": {"long enough password"}})
	assert.Equal(t, http.StatusForbidden, p.Status, "a token of another visitor")
	assert.Equal(t, 0, s.gw.Calls("POST /api/v1/auth/register"))
}

// Admin pages: an administrator sees the link and the pages; a customer
// neither, and gets 403 even with a valid form; a visitor is sent to sign in.
func TestAdminOnly(t *testing.T) {
	s := newShop(t, web.Config{})
	const link = `href="/admin/products"`

	anon := s.browser()
	assert.NotContains(t, anon.get("/").Body, link)
	p := anon.get("/admin/products")
	assert.Equal(t, http.StatusSeeOther, p.Status)
	assert.Equal(t, "/signin?next=%2Fadmin%2Fproducts", p.Header.Get("Location"))

	customer := s.browser()
	customer.signIn(gatewaytest.CustomerEmail)
	assert.NotContains(t, customer.get("/").Body, link)
	for _, path := range []string{"/admin", "/admin/products", "/admin/products/new"} {
		p := customer.get(path)
		assert.Equal(t, http.StatusForbidden, p.Status, path)
		assert.Contains(t, p.Body, "administrators", path)
		assert.NotContains(t, p.Body, link, path)
	}
	p = customer.post("/admin/products", url.Values{"csrf_token": {customer.token("/")}, "sku": {"X-1"}, "name": {"X"}, "category": {"kitchen"}, "price": {"1.00"}, "currency": {"USD"}})
	assert.Equal(t, http.StatusForbidden, p.Status)
	assert.Equal(t, 0, s.gw.Calls("POST /api/v1/products"))

	admin := s.browser()
	admin.signIn(gatewaytest.AdminEmail)
	assert.Contains(t, admin.get("/").Body, link)
	list := admin.get("/admin/products")
	require.Equal(t, http.StatusOK, list.Status)
	assert.Contains(t, list.Body, "Stainless Steel Kettle")

	p = admin.post("/admin/products", url.Values{"csrf_token": {admin.token("/")}, "sku": {"kit-9"}, "name": {"Tea Pot"}, "category": {"kitchen"}, "price": {"24.50"}, "currency": {"usd"}})
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	edit := p.Header.Get("Location")
	assert.Regexp(t, `^/admin/products/[0-9a-f-]{36}\?notice=created$`, edit)
	created := s.gw.Product("Tea Pot")
	assert.Equal(t, gateway.Money{Amount: 2450, Currency: "USD"}, created.Price)

	p = admin.post("/admin/products/"+created.ID+"/stock", url.Values{"csrf_token": {admin.token("/")}, "available": {"7"}})
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	assert.Contains(t, admin.get("/admin/products/"+created.ID).Body, "7 available, 0 reserved")
}

// Adding to the cart signed out goes to sign-in and back to the product;
// next only ever leads to this site.
func TestAddToCartSignedOut(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	kettle := s.gw.Product("Stainless Steel Kettle")
	p := b.post("/cart/items", url.Values{"csrf_token": {b.token("/p/" + kettle.ID)}, "product_id": {kettle.ID}, "quantity": {"2"}})
	require.Equal(t, http.StatusSeeOther, p.Status)
	loc := p.Header.Get("Location")
	assert.Equal(t, "/signin?next="+url.QueryEscape("/p/"+kettle.ID), loc)

	form := b.get(loc)
	assert.Contains(t, form.Body, `name="next" value="/p/`+kettle.ID+`"`)
	p = b.post("/signin", url.Values{"csrf_token": {csrfPattern.FindStringSubmatch(form.Body)[1]}, "email": {gatewaytest.CustomerEmail},
		"password": {gatewaytest.Password}, "next": {"/p/" + kettle.ID}})
	require.Equal(t, http.StatusSeeOther, p.Status)
	assert.Equal(t, "/p/"+kettle.ID, p.Header.Get("Location"))

	for _, evil := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"} {
		anon := s.browser()
		form := anon.get("/signin?next=" + url.QueryEscape(evil))
		assert.Contains(t, form.Body, `name="next" value="/"`, evil)
		p := anon.post("/signin", url.Values{"csrf_token": {anon.token("/signin")}, "email": {gatewaytest.CustomerEmail},
			"password": {gatewaytest.Password}, "next": {evil}})
		require.Equal(t, http.StatusSeeOther, p.Status, evil)
		assert.Equal(t, "/", p.Header.Get("Location"), evil)
	}
}

func addToCart(t *testing.T, b *browser, id string, n int) {
	t.Helper()
	p := b.post("/cart/items", url.Values{"csrf_token": {b.token("/")}, "product_id": {id}, "quantity": {strconv.Itoa(n)}})
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	require.Equal(t, "/cart?notice=added", p.Header.Get("Location"))
}

func checkoutForm(t *testing.T, b *browser, card string) url.Values {
	t.Helper()
	p := b.get("/checkout")
	require.Equal(t, http.StatusOK, p.Status)
	key := keyPattern.FindStringSubmatch(p.Body)
	require.NotNil(t, key, "the form carries an Idempotency-Key")
	return url.Values{
		"csrf_token": {csrfPattern.FindStringSubmatch(p.Body)[1]}, "idempotency_key": {key[1]},
		"name": {"Ada Lovelace"}, "line1": {"12 Example Street"}, "city": {"London"}, "postal_code": {"W1 1AA"}, "country": {"gb"},
		"payment_token": {card},
	}
}

// Checkout sends the form's Idempotency-Key; sending the form twice places one order.
func TestCheckoutIsIdempotent(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	addToCart(t, b, s.gw.Product("Stainless Steel Kettle").ID, 2)
	form := checkoutForm(t, b, "tok_visa")

	first := b.post("/checkout", form)
	require.Equal(t, http.StatusSeeOther, first.Status, first.Body)
	assert.Regexp(t, `^/orders/[0-9a-f-]{36}$`, first.Header.Get("Location"))
	second := b.post("/checkout", form)
	assert.Equal(t, first.Header.Get("Location"), second.Header.Get("Location"))
	assert.Equal(t, []string{form.Get("idempotency_key"), form.Get("idempotency_key")}, s.gw.IdempotencyKeys())
	assert.Equal(t, 1, s.gw.Orders())

	order := b.get(first.Header.Get("Location"))
	require.Equal(t, http.StatusOK, order.Status)
	assert.Contains(t, order.Body, `aria-live="polite"`)
	assert.Contains(t, order.Body, "Stainless Steel Kettle")
}

// A shop that sheds load shows "busy" with its Retry-After, keeps the cart,
// and retrying sends the same key.
func TestCheckoutBusy(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	addToCart(t, b, s.gw.Product("Enamel Mug").ID, 1)
	form := checkoutForm(t, b, "tok_visa")

	s.gw.Fail("POST /api/v1/checkout", gatewaytest.Failure{Status: http.StatusServiceUnavailable, RetryAfter: 7, Detail: "orders are settling slower than they arrive"})
	p := b.post("/checkout", form)
	assert.Equal(t, http.StatusServiceUnavailable, p.Status)
	assert.Equal(t, "7", p.Header.Get("Retry-After"))
	assert.Contains(t, p.Body, "try again in 7 seconds")
	assert.Contains(t, p.Body, "Your cart is kept")
	assert.Equal(t, form.Get("idempotency_key"), keyPattern.FindStringSubmatch(p.Body)[1], "the retry keeps the key")
	assert.Len(t, s.gw.Cart(gatewaytest.CustomerEmail).Items, 1)
	assert.Equal(t, 0, s.gw.Orders())

	retry := b.post("/checkout", form)
	assert.Equal(t, http.StatusSeeOther, retry.Status)
	assert.Equal(t, 1, s.gw.Orders())
}

// The live status stream reports the change and ends once the order settles.
func TestOrderEventsEndWhenSettled(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	addToCart(t, b, s.gw.Product("Enamel Mug").ID, 1)
	placed := b.post("/checkout", checkoutForm(t, b, "tok_chargeDeclined"))
	require.Equal(t, http.StatusSeeOther, placed.Status)
	order := placed.Header.Get("Location")
	s.gw.SettleAfter(3)

	start := time.Now()
	p := b.get(order + "/events")
	require.Equal(t, http.StatusOK, p.Status)
	assert.Less(t, time.Since(start), 3*time.Second, "ends when settled, well before the limit")
	assert.Equal(t, "text/event-stream", p.Header.Get("Content-Type"))
	events := regexp.MustCompile(`event: (\w+)`).FindAllStringSubmatch(p.Body, -1)
	require.GreaterOrEqual(t, len(events), 3)
	assert.Equal(t, "status", events[0][1])
	assert.Equal(t, "end", events[len(events)-1][1])
	assert.Contains(t, p.Body, `"status":"pending"`)
	assert.Contains(t, p.Body, `"status":"cancelled"`)
	assert.Contains(t, p.Body, "The payment was declined")

	settled := b.get(order)
	assert.NotContains(t, settled.Body, "data-events", "a settled order is not followed")
	assert.NotContains(t, settled.Body, "Cancel order")
	assert.Equal(t, http.StatusUnauthorized, s.browser().get(order+"/events").Status)
}

// A saga that does not settle costs a bounded stream.
func TestOrderEventsStopAtTheLimit(t *testing.T) {
	s := newShop(t, web.Config{EventsInterval: 10 * time.Millisecond, EventsLimit: 150 * time.Millisecond})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	addToCart(t, b, s.gw.Product("Enamel Mug").ID, 1)
	s.gw.SettleAfter(1 << 30)
	placed := b.post("/checkout", checkoutForm(t, b, "tok_visa"))
	p := b.get(placed.Header.Get("Location") + "/events")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(p.Body), "event: timeout\ndata: {}"), p.Body)
	assert.Equal(t, 1, strings.Count(p.Body, "event: status"), "no change, one status")
}

// Cancelling a pending order; a settled one says so.
func TestCancelOrder(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	addToCart(t, b, s.gw.Product("Enamel Mug").ID, 1)
	s.gw.SettleAfter(1 << 30)
	order := b.post("/checkout", checkoutForm(t, b, "tok_visa")).Header.Get("Location")
	page := b.get(order)
	require.Contains(t, page.Body, "Cancel order")
	tok := csrfPattern.FindStringSubmatch(page.Body)[1]
	p := b.post(order+"/cancel", url.Values{"csrf_token": {tok}})
	require.Equal(t, http.StatusSeeOther, p.Status)
	assert.Equal(t, order+"?notice=cancelled", p.Header.Get("Location"))
	assert.Contains(t, b.get(order).Body, "You cancelled the order.")
	p = b.post(order+"/cancel", url.Values{"csrf_token": {tok}})
	assert.Equal(t, order+"?notice=settled", p.Header.Get("Location"))
}

// Sign-in and sign-up errors are specific and kind.
func TestAccountErrors(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	signIn := func(password string) page {
		return b.post("/signin", url.Values{"csrf_token": {b.token("/signin")}, "email": {gatewaytest.CustomerEmail}, "password": {password}})
	}
	p := signIn("wrong password")
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, p.Body, "The e-mail address or the password is wrong.")
	assert.Contains(t, p.Body, `value="`+gatewaytest.CustomerEmail+`"`)
	assert.NotContains(t, p.Body, "wrong password", "the password is never sent back")

	s.gw.Fail("POST /api/v1/auth/login", gatewaytest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 900, Detail: "too many failed sign-ins; try again later"})
	p = signIn(gatewaytest.Password)
	assert.Equal(t, http.StatusTooManyRequests, p.Status)
	assert.Equal(t, "900", p.Header.Get("Retry-After"))
	assert.Contains(t, p.Body, "locked for now. Try again in 15 minutes")

	s.gw.Fail("POST /api/v1/auth/login", gatewaytest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 12, Detail: "too many sign-in and sign-up requests from this client; retry in 12 s"})
	assert.Contains(t, signIn(gatewaytest.Password).Body, "Too many attempts from your network. Please try again in 12 seconds.")

	signUp := func(name, email, password string) page {
		return b.post("/signup", url.Values{"csrf_token": {b.token("/signup")}, "name": {name}, "email": {email}, "password": {password}})
	}
	p = signUp("Ada", strings.ToUpper(gatewaytest.CustomerEmail), "long enough password")
	assert.Equal(t, http.StatusConflict, p.Status)
	assert.Contains(t, p.Body, "An account with this e-mail address already exists.")
	calls := s.gw.Calls("POST /api/v1/auth/register")
	p = signUp("Bob", "bob@example.com", "short")
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, p.Body, "Choose a password of at least 10 characters.")
	assert.Equal(t, calls, s.gw.Calls("POST /api/v1/auth/register"), "a short password costs no call")
	s.gw.Fail("POST /api/v1/auth/register", gatewaytest.Failure{Status: http.StatusBadRequest, Detail: "the request has invalid fields",
		Errors: []problem.FieldError{{Field: "password", Detail: "is too common; choose one that is harder to guess"}}})
	p = signUp("Bob", "bob@example.com", "password123")
	assert.Contains(t, p.Body, "The password is too common; choose one that is harder to guess.")
	assert.Contains(t, p.Body, `aria-invalid="true"`)

	p = signUp("Bob", "bob@example.com", "a long enough password")
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	assert.Contains(t, b.get("/").Body, "Signed in as Bob")
}

// Search shows close matches, facets that add and remove filters, price
// bands in minor units and the API's sorts.
func TestSearch(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	p := b.get("/search?q=kettel")
	require.Equal(t, http.StatusOK, p.Status)
	assert.Contains(t, p.Body, "Showing close matches for “kettel”")
	assert.Contains(t, p.Body, "Stainless Steel Kettle")
	assert.NotContains(t, b.get("/search?q=kettle").Body, "close matches")

	all := b.get("/search?q=")
	assert.Contains(t, all.Body, `href="/search?category=kitchen"`)
	assert.Contains(t, all.Body, `href="/search?max_price=4999&amp;min_price=2500"`)
	assert.Contains(t, all.Body, "$25 to $50 (1)")
	for _, sort := range []string{"relevance", "price_asc", "price_desc", "newest"} {
		assert.Contains(t, all.Body, `<option value="`+sort+`"`)
	}
	filtered := b.get("/search?category=kitchen")
	assert.Contains(t, filtered.Body, `<a href="/search" aria-current="true">Kitchen (2)`)
	assert.NotContains(t, filtered.Body, "Studio Headphones")
}

// Changing a quantity: up adds the difference, down removes and adds, 0 removes.
func TestCartQuantity(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	mug := s.gw.Product("Enamel Mug")
	addToCart(t, b, mug.ID, 3)
	cart := b.get("/cart")
	assert.Contains(t, cart.Body, "Enamel Mug")
	assert.Contains(t, cart.Body, "$37.50")
	set := func(n string) {
		p := b.post("/cart/items/"+mug.ID, url.Values{"csrf_token": {b.token("/cart")}, "quantity": {n}})
		require.Equal(t, http.StatusSeeOther, p.Status)
	}
	set("5")
	assert.Equal(t, int64(5), s.gw.Cart(gatewaytest.CustomerEmail).Items[0].Quantity)
	set("2")
	assert.Equal(t, int64(2), s.gw.Cart(gatewaytest.CustomerEmail).Items[0].Quantity)
	set("0")
	assert.Empty(t, s.gw.Cart(gatewaytest.CustomerEmail).Items)
}

// Error pages keep the layout: 404, a busy gateway's 503 with its
// Retry-After, and 502 when the gateway cannot be reached.
func TestErrorPages(t *testing.T) {
	s := newShop(t, web.Config{})
	b := s.browser()
	for _, path := range []string{"/nope", "/p/not-a-uuid", "/p/01936f2e-8b1c-7d4e-9a0b-3c5d7e9f1a2b", "/c/nope"} {
		p := b.get(path)
		assert.Equal(t, http.StatusNotFound, p.Status, path)
		assert.Contains(t, p.Body, "Page not found", path)
		assert.Contains(t, p.Body, "Skip to main content", path)
	}
	s.gw.Fail("GET /api/v1/categories", gatewaytest.Failure{Status: http.StatusServiceUnavailable, RetryAfter: 4})
	p := b.get("/")
	assert.Equal(t, http.StatusServiceUnavailable, p.Status)
	assert.Equal(t, "4", p.Header.Get("Retry-After"))
	assert.Contains(t, p.Body, "try again in 4 seconds")

	down := newShopOn(t, s.gw, "http://127.0.0.1:1", web.Config{})
	p = down.browser().get("/")
	assert.Equal(t, http.StatusBadGateway, p.Status)
	assert.Contains(t, p.Body, "We cannot reach the shop")
}

// Behind a CDN the request's Host is the origin's, not the shop's: a form
// from one of the public hosts is accepted, one from elsewhere still not.
func TestFormsFromThePublicHostBehindACDN(t *testing.T) {
	s := newShop(t, web.Config{PublicHosts: []string{"shop.example", "www.shop.example"}})
	b := s.browser()
	b.signIn(gatewaytest.CustomerEmail)
	kettle := s.gw.Product("Stainless Steel Kettle")
	good := b.token("/")
	add := func(origin string) int {
		form := url.Values{"product_id": {kettle.ID}, "quantity": {"1"}, "csrf_token": {good}}
		return b.postWith("/cart/items", form, http.Header{"Origin": {origin}, "Sec-Fetch-Site": {"same-origin"}}).Status
	}
	assert.Equal(t, http.StatusSeeOther, add("https://shop.example"))
	assert.Equal(t, http.StatusSeeOther, add("https://WWW.shop.example"))
	assert.Equal(t, http.StatusForbidden, add("https://evil.example"))
	assert.Equal(t, 2, s.gw.Calls("POST /api/v1/cart/items"))
}

func TestLoadConfigReadsPublicHosts(t *testing.T) {
	env := map[string]string{"STOREFRONT_PUBLIC_HOSTS": " shop.example, ,www.shop.example "}
	cfg, err := web.LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	assert.Equal(t, []string{"shop.example", "www.shop.example"}, cfg.PublicHosts)
}
