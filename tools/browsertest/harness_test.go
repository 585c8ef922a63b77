package browsertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shopmesh/shopmesh/tools/chromium"
)

// storefrontURL is the storefront of the local stack: its port is the
// appPort of appID storefront in dapr/dapr.yaml (8088).
var storefrontURL = strings.TrimRight(envOr("SHOPMESH_STOREFRONT_URL", "http://127.0.0.1:8088"), "/")

// gatewayURL is the public API, used only to find the seed products whose
// stock a test tops up; the tests themselves go through the storefront. Its
// port is the appPort of appID gateway in dapr/dapr.yaml.
var gatewayURL = strings.TrimRight(envOr("SHOPMESH_GATEWAY_URL", "http://127.0.0.1:8080"), "/")

const (
	// stepTimeout bounds one browser step: a page load, a click, a query.
	stepTimeout = 20 * time.Second
	// desktop is the viewport of every test but the phone's.
	desktopWidth, desktopHeight = 1280, 900
	// password is every new shopper's (the API wants 10 characters or more).
	password = "correct horse battery staple"
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireStack skips the test unless SHOPMESH_INTEGRATION=1.
func requireStack(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOPMESH_INTEGRATION") != "1" {
		t.Skip("browser tests: set SHOPMESH_INTEGRATION=1 with the stack running (go tool task up)")
	}
}

// unique returns a word no other run makes: the time in milliseconds and
// a random suffix, in base 36, starting with a letter ("t").
func unique() string {
	n, err := rand.Int(rand.Reader, big.NewInt(36*36*36*36))
	if err != nil {
		panic(err)
	}
	suffix := strconv.FormatInt(n.Int64(), 36)
	return "t" + strconv.FormatInt(time.Now().UnixMilli(), 36) + strings.Repeat("0", 4-len(suffix)) + suffix
}

// newEmail is a fresh shopper's address.
func newEmail(who string) string {
	return fmt.Sprintf("browser-%s-%s@example.com", who, unique())
}

// repoRoot is the folder holding dapr/dapr.yaml, above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "dapr", "dapr.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no folder above the test holds dapr/dapr.yaml: where is the repository?")
		}
		dir = parent
	}
}

// adminCredentials are the admin's e-mail and password from the local
// secret store (.local/secrets.json, made by go tool task up).
func adminCredentials(t *testing.T) (email, pass string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), ".local", "secrets.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the admin's credentials: %v (go tool task up makes the file)", err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	email, _ = s["admin-email"].(string)
	pass, _ = s["admin-password"].(string)
	if email == "" || pass == "" {
		t.Fatalf("%s has no admin-email or admin-password", path)
	}
	return email, pass
}

// browser is one headless Chromium with one tab, for one test. It collects
// the tab's console errors and uncaught exceptions, which fail the test.
type browser struct {
	t   *testing.T
	ctx context.Context // the browser's; no deadline (each step has its own)

	mu       sync.Mutex
	where    string // the page the tab is on, to say where a complaint came from
	problems []problem
	allowed  []allowedStatus
	synced   map[string]chan struct{}
}

// problem is a console error or uncaught exception, and where it came.
type problem struct {
	where string
	msg   chromedp.ConsoleMessage
}

// allowedStatus is an error answer a test expects: Chromium logs the load
// of such a page as a console error ("Failed to load resource: the server
// responded with a status of 403"), which is then no problem.
type allowedStatus struct {
	url    string // without the query
	status int
}

func (a allowedStatus) covers(m chromedp.ConsoleMessage) bool {
	u, _, _ := strings.Cut(m.URL, "?")
	return m.Source == "network" && u == a.url && strings.Contains(m.Text, fmt.Sprintf("status of %d ", a.status))
}

const syncPrefix = "browsertest-sync "

// newBrowser starts Chromium with a viewport of width×height and closes it
// when the test ends, after failing the test for every console error the
// pages logged. emulate adds options (chromedp.EmulateMobile).
func newBrowser(t *testing.T, width, height int64, emulate ...chromedp.EmulateViewportOption) *browser {
	t.Helper()
	requireStack(t)
	exe, err := chromium.Find(os.Getenv(chromium.EnvBrowser))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromium.New(context.Background(), exe, int(width), int(height))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts it, with no deadline
		t.Fatalf("starting %s: %v", exe, err)
	}
	b := &browser{t: t, ctx: ctx, where: "about:blank", synced: map[string]chan struct{}{}}

	cctx, stop := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.consoleMessage(m)
		}
	})
	t.Cleanup(func() {
		b.checkConsole()
		stop()
		wg.Wait()
	})
	b.do("set the viewport", chromedp.EmulateViewport(width, height, emulate...))
	return b
}

func (b *browser) consoleMessage(m chromedp.ConsoleMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.Type == chromedp.ConsoleDebug && strings.HasPrefix(m.Text, syncPrefix) {
		if ch, ok := b.synced[m.Text]; ok {
			close(ch)
			delete(b.synced, m.Text)
		}
		return
	}
	if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
		b.problems = append(b.problems, problem{where: b.where, msg: m})
	}
}

// allow expects an error answer of status from the storefront's path (no
// query): its console error is no problem.
func (b *browser) allow(path string, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, allowedStatus{url: storefrontURL + path, status: status})
}

// checkConsole fails the test for each console error and exception so far
// that no allow expected. It first logs a marker and waits for it, so every
// message the pages logged before has been read.
func (b *browser) checkConsole() {
	b.t.Helper()
	marker := syncPrefix + unique()
	ch := make(chan struct{})
	b.mu.Lock()
	b.synced[marker] = ch
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", marker))); err == nil {
		select {
		case <-ch:
		case <-ctx.Done():
			b.t.Log("the console's last messages did not arrive in 5 s; checking those that did")
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, p := range b.problems {
		for _, a := range b.allowed {
			if a.covers(p.msg) {
				continue next
			}
		}
		m := p.msg
		line := fmt.Sprintf("%s: %s", m.Type, m.Text)
		if m.Source != "" {
			line += " [" + m.Source + "]"
		}
		if m.URL != "" {
			line += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
		}
		b.t.Errorf("console on %s: %s", p.where, line)
	}
	b.problems = nil
}

// step returns a context for one step.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs steps that return nothing, failing the test with what the page
// shows when one fails.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.describe())
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v\n%s", js, err, b.describe())
	}
	return v
}

// describe says what the page shows, for failure messages.
func (b *browser) describe() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const main = document.querySelector("main") || document.body;
		const text = main ? main.innerText.replace(/\n{2,}/g, "\n").trim() : "";
		return "the page " + location.href + " (" + document.title + ") shows:\n" + text.slice(0, 800);
	})()`))
	if err != nil {
		return "(what the page shows is unknown: " + err.Error() + ")"
	}
	return indent(s)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// setWhere records the tab's page for the console's complaints.
func (b *browser) setWhere() {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return
	}
	b.mu.Lock()
	b.where = strings.TrimPrefix(loc, storefrontURL)
	b.mu.Unlock()
}

// open loads a page of the storefront (a path) and returns its HTTP status.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	u := storefrontURL + path
	b.mu.Lock()
	b.where = path
	b.mu.Unlock()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("opening %s: %v\n%s", u, err, b.describe())
	}
	b.setWhere()
	return resp.Status
}

// mustOpen loads a page that must answer 200.
func (b *browser) mustOpen(path string) {
	b.t.Helper()
	if status := b.open(path); status != http.StatusOK {
		b.t.Fatalf("%s answered %d, want 200\n%s", path, status, b.describe())
	}
}

// openExpecting loads a page that must answer status, which the console
// then reports as an error of its own that is expected.
func (b *browser) openExpecting(path string, status int64) {
	b.t.Helper()
	b.allow(strings.SplitN(path, "?", 2)[0], int(status))
	if got := b.open(path); got != status {
		b.t.Fatalf("%s answered %d, want %d\n%s", path, got, status, b.describe())
	}
}

// clickAndLoad clicks the first element matching sel (CSS) and waits for
// the page that follows to load.
func (b *browser) clickAndLoad(what, sel string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("%s (click %s, wait for the next page): %v\n%s", what, sel, err, b.describe())
	}
	b.setWhere()
}

// keyAndLoad presses keys (an action) and waits for the page that follows
// to load.
func (b *browser) keyAndLoad(what string, keys chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, keys)); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.describe())
	}
	b.setWhere()
}

// pressEnter presses Enter as a keyboard does: a keydown that carries the
// text "\r", from which Chromium makes the keypress (and a form's implicit
// submission) only when the page did not cancel the keydown, then a keyup.
// chromedp.KeyEvent(kb.Enter) sends that keypress as an event of its own,
// which submits the search form even though the page cancelled the keydown
// to open the chosen suggestion instead.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
			p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
			if typ == input.DispatchKeyEventTypeKeyDown {
				p.Text, p.UnmodifiedText = "\r", "\r"
			}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// fill sets form fields by CSS selector.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	for sel, v := range fields {
		b.do("fill "+sel, chromedp.SetValue(chromedp.CSS(sel), v))
	}
}

// waitFor polls a JavaScript condition until it holds, for at most
// timeout; it fails the test saying what was awaited and what the page
// shows. The condition may run across page loads.
func (b *browser) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("waited %s for %s", timeout, what)
			if lastErr != nil {
				msg += fmt.Sprintf(" (last error: %v)", lastErr)
			}
			b.t.Fatalf("%s\n%s", msg, b.describe())
		}
		select {
		case <-b.ctx.Done():
			b.t.Fatalf("%s: the browser ended: %v", what, b.ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// text is the visible text of the first element matching sel, "" when none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText`, jsString(sel))))
}

// heading is the page's h1.
func (b *browser) heading() string {
	b.t.Helper()
	return b.text("main h1")
}

// wantHeading fails the test unless the page's h1 is want.
func (b *browser) wantHeading(want string) {
	b.t.Helper()
	if got := b.heading(); got != want {
		b.t.Fatalf("the page's heading is %q, want %q\n%s", got, want, b.describe())
	}
}

// wantSignedIn fails the test unless the footer names the shopper.
func (b *browser) wantSignedIn(name string) {
	b.t.Helper()
	if got := b.text("footer"); !strings.Contains(got, "Signed in as "+name+".") {
		b.t.Fatalf("not signed in as %s: the footer says %q\n%s", name, got, b.describe())
	}
}

// shot saves a PNG of the viewport as name in SHOPMESH_STOREFRONT_SHOTS,
// when that names a folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("SHOPMESH_STOREFRONT_SHOTS")
	if dir == "" {
		return
	}
	// Every image drawn, no element focused or hovered by the last click.
	b.waitFor("the page's images to load", `document.readyState === "complete" && [...document.images].every(i => i.complete)`, stepTimeout)
	b.do("move the pointer away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, desktopWidth-1, desktopHeight-1),
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	ctx, cancel := b.step()
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		b.t.Fatalf("screenshot %s: not a PNG: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, ".storefront-*.png")
	if err != nil {
		b.t.Fatal(err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(img)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.t.Logf("screenshot %s (%dx%d)", filepath.Join(dir, name), cfg.Width, cfg.Height)
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// retryAfterPattern reads the wait out of the storefront's "Too many
// attempts from your network. Please try again in 12 seconds." notice.
var retryAfterPattern = regexp.MustCompile(`(?i)too many attempts[^.]*\. please try again in (\d+) second`)

// maxAuthWait bounds how long one sign-up or sign-in waits out the
// gateway's limit on sign-ins per client address (10 a minute, burst 20),
// which every test's shoppers share.
const maxAuthWait = 30 * time.Second

// submitAuth submits a sign-in or sign-up form whose fields are filled,
// and when the gateway's sign-in limit refuses it, waits as the page says
// (within maxAuthWait) and sends it again.
func (b *browser) submitAuth(what string, fields map[string]string) {
	b.t.Helper()
	deadline := time.Now().Add(maxAuthWait)
	for {
		b.fill(fields)
		b.clickAndLoad(what, `main form.stack button[type=submit]`)
		m := retryAfterPattern.FindStringSubmatch(b.text(".notice.error"))
		if m == nil {
			return
		}
		// The refused form answered 429, which the console reports.
		b.allow("/signin", http.StatusTooManyRequests)
		b.allow("/signup", http.StatusTooManyRequests)
		wait, _ := strconv.Atoi(m[1])
		d := time.Duration(max(wait, 1)) * time.Second
		if time.Now().Add(d).After(deadline) {
			b.t.Fatalf("%s: the gateway's sign-in limit (10 a minute per address) still refuses after %s\n%s", what, maxAuthWait, b.describe())
		}
		b.t.Logf("%s: the sign-in limit asks to wait %s; waiting", what, d)
		time.Sleep(d) // the page says how long; there is nothing to poll
	}
}

// signUp creates a shopper through the sign-up form, which signs them in.
func (b *browser) signUp(name, email string) {
	b.t.Helper()
	b.mustOpen("/signup")
	b.wantHeading("Create an account")
	b.submitAuth("sign up as "+email, map[string]string{"#name": name, "#email": email, "#password": password})
	if strings.HasPrefix(b.where, "/signin") {
		// The account was made but signing in was limited: sign in.
		b.t.Logf("sign up as %s: made the account, signing in by hand: %s", email, b.text("main .notice"))
		b.submitAuth("sign in as "+email, map[string]string{"#email": email, "#password": password})
	}
	b.wantSignedIn(name)
}

// signIn signs in through the sign-in form, which goes on to next.
func (b *browser) signIn(email, pass, next string) {
	b.t.Helper()
	b.mustOpen("/signin?next=" + url.QueryEscape(next))
	b.wantHeading("Sign in")
	b.submitAuth("sign in as "+email, map[string]string{"#email": email, "#password": pass})
	if strings.HasPrefix(b.where, "/signin") {
		b.t.Fatalf("signing in as %s stayed on %s\n%s", email, b.where, b.describe())
	}
}

// shopClient is a visitor of the storefront over plain HTTP, for
// preparing data through the admin corner. It keeps the storefront's
// cookies itself: they are Secure (__Host-), which net/http/cookiejar never
// sends over http, though browsers do to 127.0.0.1.
type shopClient struct {
	http    http.Client
	cookies map[string]*http.Cookie
}

// send sends a request (a form when form is not nil) without following
// redirects, and returns the answer with its body read.
func (c *shopClient) send(method, path string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, storefrontURL+path, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return resp, string(raw), err
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken is the CSRF token of the page's forms.
func formToken(page string) (string, error) {
	m := csrfPattern.FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("the page has no form with a csrf_token")
	}
	return html.UnescapeString(m[1]), nil
}

// The admin signed in to the storefront once per test run and shared (the
// gateway limits sign-ins per client address, and every test shares one).
var adminShared struct {
	once   sync.Once
	client *shopClient
	err    error
}

// adminClient returns the admin's storefront session.
func adminClient(t *testing.T) *shopClient {
	t.Helper()
	requireStack(t)
	adminShared.once.Do(func() {
		email, pass := adminCredentials(t)
		adminShared.client, adminShared.err = signInOverHTTP(email, pass)
	})
	if adminShared.err != nil {
		t.Fatalf("the admin's sign-in to the storefront: %v", adminShared.err)
	}
	return adminShared.client
}

func signInOverHTTP(email, pass string) (*shopClient, error) {
	c := &shopClient{
		http:    http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cookies: map[string]*http.Cookie{},
	}
	deadline := time.Now().Add(maxAuthWait)
	for {
		_, page, err := c.send(http.MethodGet, "/signin", nil)
		if err != nil {
			return nil, err
		}
		token, err := formToken(page)
		if err != nil {
			return nil, fmt.Errorf("GET /signin: %w", err)
		}
		resp, _, err := c.send(http.MethodPost, "/signin", url.Values{
			"csrf_token": {token}, "email": {email}, "password": {pass}, "next": {"/admin/products"},
		})
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/admin/products":
			return c, nil
		case resp.StatusCode == http.StatusTooManyRequests:
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			d := time.Duration(max(wait, 1)) * time.Second
			if time.Now().Add(d).After(deadline) {
				return nil, fmt.Errorf("the gateway's sign-in limit still refuses after %s", maxAuthWait)
			}
			time.Sleep(d) // as Retry-After says
		default:
			return nil, fmt.Errorf("POST /signin answered %s, Location %q", resp.Status, resp.Header.Get("Location"))
		}
	}
}

// useSession gives the browser the storefront cookies of c: it is then
// signed in as c is.
func (b *browser) useSession(c *shopClient) {
	b.t.Helper()
	for _, ck := range c.cookies {
		b.do("set the cookie "+ck.Name, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
				Name: ck.Name, Value: ck.Value, URL: storefrontURL + "/", Path: "/",
				Secure: new(true), HTTPOnly: new(true), SameSite: network.CookieSameSiteLax,
			})
			return err
		}))
	}
}

// availablePattern reads the admin product page's "7 available, 0 reserved".
var availablePattern = regexp.MustCompile(`(\d+) available, \d+ reserved`)

// stockUp makes sure every product a search (q, category) finds has at
// least 20 units, through the admin corner: the seed products the tests
// buy must not run out, however often the tests run. It changes stock only
// when it is short.
func stockUp(t *testing.T, q, category string) {
	t.Helper()
	var res struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	if err := getJSON(gatewayURL+"/api/v1/search?q="+url.QueryEscape(q)+"&category="+url.QueryEscape(category), &res); err != nil {
		t.Fatalf("stock up: %v", err)
	}
	if len(res.Items) == 0 {
		t.Fatalf("stock up: a search for %q in %s finds nothing", q, category)
	}
	admin := adminClient(t)
	for _, p := range res.Items {
		path := "/admin/products/" + url.PathEscape(p.ID)
		resp, page, err := admin.send(http.MethodGet, path, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stock up %s: GET %s: %v %v", p.Name, path, err, statusOf(resp))
		}
		m := availablePattern.FindStringSubmatch(page)
		if m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 20 {
				continue
			}
		}
		token, err := formToken(page)
		if err != nil {
			t.Fatalf("stock up %s: %s: %v", p.Name, path, err)
		}
		resp, _, err = admin.send(http.MethodPost, path+"/stock", url.Values{"csrf_token": {token}, "available": {"100"}})
		if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "notice=stock") {
			t.Fatalf("stock up %s: POST %s/stock: %v %v", p.Name, path, err, statusOf(resp))
		}
		t.Logf("stock up: %s had %v units, now 100", p.Name, m)
	}
}

func statusOf(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	return resp.Status
}

// getJSON reads a JSON answer of the public API.
func getJSON(u string, out any) error {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
