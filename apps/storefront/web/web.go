// Package web serves the storefront's pages: server-rendered HTML from
// html/template (which escapes every value it prints), a little JavaScript
// that only enhances (search suggestions, an order's live status, no double
// submits), and every byte of data from the public API through package
// gateway.
//
// Every page goes out with a strict Content-Security-Policy (no inline
// script, style or event handler can run, so an injected tag is inert),
// nosniff, Referrer-Policy: same-origin, and no-store once a shopper is
// signed in. Every POST is refused unless it comes from this origin and
// carries the form's CSRF token (package session says why).
package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/apps/storefront/session"
	"github.com/shopmesh/shopmesh/apps/storefront/static"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Module serves the pages on the app's engine.
var Module = fx.Options(
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		static.NewAssets,
		static.NewImages,
		func(api *gateway.Client, keys *session.Keeper, assets *static.Assets, images *static.Images, cfg Config, log *slog.Logger) (*Handler, error) {
			return New(api, keys, assets, images, cfg, log, time.Now)
		},
	),
	fx.Invoke(func(e *gin.Engine, h *Handler) error { return h.Mount(e) }),
)

// Config tunes the pages.
type Config struct {
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For the
	// storefront believes (a load balancer in front of it); with none, the
	// shopper is the peer address. The shopper's address goes on to the
	// gateway, so believing anyone would let a client pick its own limits.
	TrustedProxies []string
	// EventsInterval is how often an order's live status asks the gateway.
	EventsInterval time.Duration
	// EventsLimit bounds how long one live status stream runs.
	EventsLimit time.Duration
	// PublicHosts are the hosts shoppers reach the shop at when a CDN in
	// front sends another Host (CloudFront names the ALB's origin host): a
	// form's Origin may name one of them as well as the request's Host.
	PublicHosts []string
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		EventsInterval: l.Duration("ORDER_EVENTS_INTERVAL", 500*time.Millisecond),
		EventsLimit:    l.Duration("ORDER_EVENTS_LIMIT", 60*time.Second),
	}
	cfg.TrustedProxies = l.List("STOREFRONT_TRUSTED_PROXIES")
	cfg.PublicHosts = l.List("STOREFRONT_PUBLIC_HOSTS")
	errs := []error{l.Err()}
	if cfg.EventsInterval <= 0 {
		errs = append(errs, errors.New("config ORDER_EVENTS_INTERVAL: must be positive"))
	}
	if cfg.EventsLimit < cfg.EventsInterval {
		errs = append(errs, errors.New("config ORDER_EVENTS_LIMIT: must be at least ORDER_EVENTS_INTERVAL"))
	}
	return cfg, errors.Join(errs...)
}

// Handler serves the pages.
type Handler struct {
	api    *gateway.Client
	keys   *session.Keeper
	assets *static.Assets
	images *static.Images
	pages  map[string]*template.Template
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
}

// New returns the Handler; it parses every template, so a broken one fails start-up.
func New(api *gateway.Client, keys *session.Keeper, assets *static.Assets, images *static.Images, cfg Config, log *slog.Logger, now func() time.Time) (*Handler, error) {
	h := &Handler{api: api, keys: keys, assets: assets, images: images, cfg: cfg, log: log, now: now}
	pages, err := parsePages(h.funcs())
	if err != nil {
		return nil, err
	}
	h.pages = pages
	return h, nil
}

// Mount registers the routes on e, and the HTML pages for unknown routes.
func (h *Handler) Mount(e *gin.Engine) error {
	if err := e.SetTrustedProxies(h.cfg.TrustedProxies); err != nil {
		return fmt.Errorf("config STOREFRONT_TRUSTED_PROXIES: %w", err)
	}
	files := e.Group("/", securityHeaders)
	files.GET(static.AssetPrefix+":name", func(c *gin.Context) { h.assets.ServeAsset(c.Writer, c.Request, c.Param("name")) })
	files.GET(static.ImagePrefix+":name", func(c *gin.Context) { h.images.Serve(c.Writer, c.Request, c.Param("name")) })

	pages := e.Group("/", securityHeaders, h.visit)
	post := pages.Group("/", h.checkForm)

	pages.GET("/", h.home)
	pages.GET("/c/:category", h.category)
	pages.GET("/p/:id", h.product)
	pages.GET("/search", h.search)
	pages.GET("/search/suggest", h.suggest)

	pages.GET("/signin", h.signInForm)
	post.POST("/signin", h.signIn)
	pages.GET("/signup", h.signUpForm)
	post.POST("/signup", h.signUp)
	post.POST("/signout", h.signOut)

	post.POST("/cart/items", h.addToCart) // signed out: to sign-in and back to the product
	pages.GET("/cart", h.signedIn, h.cart)
	post.POST("/cart/items/:product_id", h.signedIn, h.setQuantity)
	post.POST("/cart/items/:product_id/remove", h.signedIn, h.removeFromCart)
	pages.GET("/checkout", h.signedIn, h.checkoutForm)
	post.POST("/checkout", h.signedIn, h.checkout)
	pages.GET("/orders", h.signedIn, h.orders)
	pages.GET("/orders/:id", h.signedIn, h.order)
	pages.GET("/orders/:id/events", h.orderEvents)
	post.POST("/orders/:id/cancel", h.signedIn, h.cancelOrder)
	pages.GET("/notifications", h.signedIn, h.notifications)

	admin := pages.Group("/admin", h.adminOnly)
	adminPost := post.Group("/admin", h.adminOnly)
	admin.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/admin/products") })
	admin.GET("/products", h.adminProducts)
	admin.GET("/products/new", h.adminNewProduct)
	adminPost.POST("/products", h.adminCreateProduct)
	admin.GET("/products/:id", h.adminProduct)
	adminPost.POST("/products/:id", h.adminSaveProduct)
	adminPost.POST("/products/:id/stock", h.adminSetStock)

	e.NoRoute(securityHeaders, h.visit, func(c *gin.Context) { h.notFound(c) })
	e.NoMethod(securityHeaders, h.visit, func(c *gin.Context) {
		h.errorPage(c, http.StatusMethodNotAllowed, "This page cannot do that",
			"The page exists, but not for this kind of request. Follow a link instead.", 0)
	})
	return nil
}

// csp allows the page's own stylesheet, script, images and fetches and
// nothing else: no inline code, no framing, no form posting elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}

// visitor is who asks: a signed-in shopper's session, or nobody, with the
// cookies that say so.
type visitor struct {
	cookies session.Cookies
	sess    *session.Session
	pre     []byte // the pre-session's CSRF secret, once read or made
}

const visitorKey = "storefront.visitor"

func visitorOf(c *gin.Context) *visitor {
	v, _ := c.Get(visitorKey)
	vis, _ := v.(*visitor)
	return vis
}

// token returns the shopper's access token, "" when signed out.
func (v *visitor) token() string {
	if v == nil || v.sess == nil {
		return ""
	}
	return v.sess.AccessToken
}

// csrfToken is the token for the visitor's forms. A visitor without a
// session gets a pre-session the first time a page needs one; the page is
// rendered before it is written, so the cookie still goes out with it.
func (v *visitor) csrfToken(r *http.Request, w http.ResponseWriter) (string, error) {
	if v.sess != nil {
		return session.CSRFToken(v.sess.CSRFSecret), nil
	}
	if v.pre == nil {
		v.pre = v.cookies.PreSecret(r)
	}
	if v.pre == nil {
		secret, err := v.cookies.StartPre(w)
		if err != nil {
			return "", err
		}
		v.pre = secret
	}
	return session.CSRFToken(v.pre), nil
}

// visit reads the session. A cookie that does not open or has expired is
// cleared: the shopper is signed out. Pages of a signed-in shopper are never
// stored by any cache.
func (h *Handler) visit(c *gin.Context) {
	sealer := h.keys.Sealer()
	if sealer == nil {
		h.busy(c, http.StatusServiceUnavailable, time.Second)
		return
	}
	v := &visitor{cookies: session.NewCookies(sealer, h.now)}
	s, err := v.cookies.Read(c.Request)
	if err != nil {
		v.cookies.Clear(c.Writer)
	}
	v.sess = s
	c.Set(visitorKey, v)
	if s != nil {
		c.Header("Cache-Control", "no-store")
	} else {
		c.Header("Cache-Control", "private, no-cache")
	}
	c.Request = c.Request.WithContext(gateway.WithForwardedFor(c.Request.Context(), c.ClientIP()))
	c.Next()
}

// csrfField names the form field that carries the CSRF token.
const csrfField = "csrf_token"

// checkForm refuses a POST that another site sent (Sec-Fetch-Site or
// Origin, when the browser sends them) or that lacks the token of the
// visitor's session or pre-session.
func (h *Handler) checkForm(c *gin.Context) {
	v := visitorOf(c)
	tok := c.PostForm(csrfField)
	ok := sameOrigin(c.Request, h.cfg.PublicHosts) &&
		((v.sess != nil && session.ValidCSRF(v.sess.CSRFSecret, tok)) || session.ValidCSRF(v.cookies.PreSecret(c.Request), tok))
	if !ok {
		h.errorPage(c, http.StatusForbidden, "This form has expired",
			"For your safety we did not send it. Go back, reload the page and try again. (Forms work only with cookies on, and only from this site.)", 0)
		return
	}
	c.Next()
}

// sameOrigin reports whether a request's Sec-Fetch-Site and Origin, when
// present, say it comes from this origin: the request's Host or one of the
// public hosts.
func sameOrigin(r *http.Request, publicHosts []string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return false
		}
		if !strings.EqualFold(u.Host, r.Host) && !slices.ContainsFunc(publicHosts, func(h string) bool { return strings.EqualFold(u.Host, h) }) {
			return false
		}
	}
	return true
}

// signedIn sends a visitor without a session to sign in, and back here
// afterwards (for a POST, to the page the form was on).
func (h *Handler) signedIn(c *gin.Context) {
	if visitorOf(c).sess != nil {
		c.Next()
		return
	}
	h.toSignIn(c)
}

// toSignIn redirects to sign-in with next set to where to come back.
func (h *Handler) toSignIn(c *gin.Context) {
	next := c.Request.URL.RequestURI()
	if c.Request.Method != http.MethodGet {
		next = returnPath(c)
	}
	c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(next))
	c.Abort()
}

// returnPath is the page a POST's form was on, for coming back after
// sign-in: cart and checkout actions to their page, an order's to the order.
func returnPath(c *gin.Context) string {
	p := c.Request.URL.Path
	switch {
	case strings.HasPrefix(p, "/cart"):
		return "/cart"
	case strings.HasPrefix(p, "/orders/") && validID(c.Param("id")):
		return "/orders/" + c.Param("id")
	case strings.HasPrefix(p, "/admin"):
		return "/admin/products"
	case p == "/checkout":
		return "/checkout"
	}
	return "/"
}

// adminOnly lets administrators through. The gateway refuses others too;
// this refuses them before any call, and shows them a page, not an error.
func (h *Handler) adminOnly(c *gin.Context) {
	v := visitorOf(c)
	switch {
	case v.sess == nil:
		h.toSignIn(c)
	case !v.sess.IsAdmin():
		h.forbidden(c)
	default:
		c.Next()
	}
}

// safeNext returns next when it is a path on this site, "/" otherwise: the
// sign-in page must not become a way to send shoppers to another site.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}

// page is what the layout renders around a page's own content.
type page struct {
	Title   string
	User    *session.Session // nil when signed out
	Path    string           // this page, for sign-in's way back
	Query   string           // the search box's text
	Content any
	csrf    func() (string, error)
}

// CSRF returns the token the page's forms carry.
func (p *page) CSRF() (string, error) {
	if p.csrf == nil {
		return "", nil
	}
	return p.csrf()
}

// render executes the template name with content around the layout and
// writes it with status. Rendering goes to a buffer first, so a template
// error is a clean 500 and cookies made while rendering are still sent.
func (h *Handler) render(c *gin.Context, status int, name, title string, content any) {
	v := visitorOf(c)
	p := &page{Title: title, Path: c.Request.URL.RequestURI(), Query: c.Query("q"), Content: content}
	if v != nil {
		p.User = v.sess
		p.csrf = func() (string, error) { return v.csrfToken(c.Request, c.Writer) }
	}
	t, ok := h.pages[name]
	var buf bytes.Buffer
	if !ok {
		h.log.ErrorContext(c, "no such page template", "template", name)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.ErrorContext(c, "rendering a page failed", "template", name, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	body := buf.Bytes()
	c.Header("Vary", "Accept-Encoding")
	if len(body) > minGzip && strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		if gz, err := gzipBytes(body); err == nil {
			c.Header("Content-Encoding", "gzip")
			body = gz
		}
	}
	c.Data(status, "text/html; charset=utf-8", body)
}

// minGzip is the smallest page worth compressing: below it the gzip
// header and the work cost more than they save.
const minGzip = 1024

// gzipBytes compresses a page quickly; pages are small, so speed wins over ratio.
func gzipBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// errorContent is what the error page shows.
type errorContent struct{ Heading, Message string }

// errorPage renders the error page with status; a wait (say so in message)
// goes out as Retry-After.
func (h *Handler) errorPage(c *gin.Context, status int, heading, message string, wait time.Duration) {
	if wait > 0 {
		c.Header("Retry-After", fmt.Sprint(seconds(wait)))
	}
	h.render(c, status, "error", heading, errorContent{Heading: heading, Message: message})
	c.Abort()
}

func (h *Handler) notFound(c *gin.Context) {
	h.errorPage(c, http.StatusNotFound, "Page not found",
		"We could not find that page. It may have moved, or the product may no longer be sold.", 0)
}

func (h *Handler) forbidden(c *gin.Context) {
	h.errorPage(c, http.StatusForbidden, "You cannot open this page",
		"This page is for the shop's administrators. If you think you should see it, sign in with an administrator account.", 0)
}

// busy renders the busy page: the shop sheds load or limits requests and
// said when to come back.
func (h *Handler) busy(c *gin.Context, status int, wait time.Duration) {
	wait = max(wait, time.Second)
	h.errorPage(c, status, "The shop is busy",
		"Too many people are shopping right now. Please try again in "+waitText(seconds(wait))+".", wait)
}

// fail shows the page for a call that failed. A 401 means the token no
// longer works (revoked or expired early): the shopper signs in again.
func (h *Handler) fail(c *gin.Context, err error) {
	var ge *gateway.Error
	switch {
	case errors.Is(err, gateway.ErrUnreachable):
		h.log.WarnContext(c, "gateway unreachable", "err", err)
		h.errorPage(c, http.StatusBadGateway, "We cannot reach the shop",
			"The shop is not answering right now. Please try again in a moment.", 0)
	case errors.As(err, &ge):
		switch {
		case ge.Status == http.StatusUnauthorized:
			visitorOf(c).cookies.Clear(c.Writer)
			h.toSignIn(c)
		case ge.Status == http.StatusForbidden:
			h.forbidden(c)
		case ge.Status == http.StatusNotFound:
			h.notFound(c)
		case ge.Status == http.StatusTooManyRequests || ge.Status == http.StatusServiceUnavailable:
			h.busy(c, ge.Status, ge.RetryAfter)
		case ge.Status >= 500:
			h.log.ErrorContext(c, "gateway failed", "err", err)
			h.errorPage(c, http.StatusBadGateway, "Something went wrong",
				"The shop could not complete the request. Please try again in a moment.", 0)
		default:
			h.errorPage(c, http.StatusBadRequest, "We could not do that", sentence(ge.Problem.Detail), 0)
		}
	default:
		h.log.ErrorContext(c, "gateway call failed", "err", err)
		h.errorPage(c, http.StatusBadGateway, "Something went wrong",
			"The shop answered in a way we did not expect. Please try again in a moment.", 0)
	}
}

// sentence makes an API detail ("the cart is full") read as a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "The request was not accepted."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// parsePages parses each page with the layout into a template of its own,
// so every page can define "main" and "title".
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", file)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
