package browsertest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// typo is a search for the seed's "Wooden …" products with one letter
// missing (apps/catalog/seed/products.json): the search tolerates one typo
// per word, and it finds products of two categories (Toys & Games, Home
// Office), so a category facet narrows it.
const (
	typo          = "woodn"
	typoCategory  = "toys"
	typoFacetName = "Toys & Games"
)

// The main flow: a new shopper signs up, searches with a typo, filters by
// category, buys two products (one twice) with the card that pays, and
// follows the order on its page until it is confirmed; the order is then in
// the history and in the notification log.
func TestShopperSignsUpSearchesBuysAndFollowsTheOrder(t *testing.T) {
	b := newBrowser(t, desktopWidth, desktopHeight)
	stockUp(t, typo, typoCategory)
	name := "Ada Lovelace"

	b.mustOpen("/")
	b.wantHeading("Find something good")
	b.clickAndLoad("open the sign-up form from the header", `header a[href^="/signup"]`)
	b.signUp(name, newEmail("buyer"))
	b.wantHeading("Find something good") // back home, signed in
	b.shot("storefront-home.png")

	// Search with a typo: close matches, and the facets.
	b.search(typo)
	b.wantHeading("Search results for “" + typo + "”")
	if got := b.text("main .notice"); got != "Showing close matches for “"+typo+"”" {
		t.Fatalf("the close-matches notice says %q\n%s", got, b.describe())
	}
	b.shot("storefront-search.png")
	facet := b.mark(`[...document.querySelectorAll(".filters .facets a")].find(a => a.textContent.startsWith(` + jsString(typoFacetName+" (") + `))`)
	if facet == "" {
		t.Fatalf("no category facet %q\n%s", typoFacetName, b.describe())
	}
	want := facetCount(t, b.text(facet))
	b.clickAndLoad("filter by "+typoFacetName, facet)
	if got := eval[string](b, `new URLSearchParams(location.search).get("category")`); got != typoCategory {
		t.Fatalf("the facet's page filters by category %q, want %q\n%s", got, typoCategory, b.describe())
	}
	if got := b.text(`.filters .facets a[aria-current="true"]`); !strings.HasPrefix(got, typoFacetName) {
		t.Errorf("the active facet is %q, want %s", got, typoFacetName)
	}
	cards := eval[[]string](b, `[...document.querySelectorAll(".results .cards .card .name")].map(e => e.textContent)`)
	if len(cards) != want || want < 2 {
		t.Fatalf("%d products under %s, the facet said %d (want 2 or more)\n%s", len(cards), typoFacetName, want, b.describe())
	}
	resultsPath := b.where

	// The first product, twice; the second once.
	first := b.addToCart(".results .cards .card:nth-child(1) a", 2, "storefront-product.png")
	b.mustOpen(resultsPath)
	second := b.addToCart(".results .cards .card:nth-child(2) a", 1, "")
	if first.name == second.name {
		t.Fatalf("both products are %q", first.name)
	}

	// The cart: both lines and the total.
	b.wantHeading("Your cart")
	lines := eval[[][]string](b, `[...document.querySelectorAll("table.lines tbody tr")].map(tr =>
		[tr.querySelector('[data-label="Product"]').innerText.trim(), tr.querySelector('[data-label="Quantity"] input[name=quantity]').value,
		 tr.querySelector('[data-label="Price"]').innerText.trim(), tr.querySelector('[data-label="Total"]').innerText.trim()])`)
	wantLines := map[string]product{first.name: first, second.name: second}
	if len(lines) != 2 {
		t.Fatalf("the cart has %d lines, want 2 (%s ×2, %s ×1)\n%s", len(lines), first.name, second.name, b.describe())
	}
	var sum int64
	for _, l := range lines {
		p, ok := wantLines[l[0]]
		if !ok {
			t.Fatalf("the cart has a line %q, want %s and %s\n%s", l[0], first.name, second.name, b.describe())
		}
		qty, _ := strconv.ParseInt(l[1], 10, 64)
		if qty != p.quantity || l[2] != p.price || cents(t, l[3]) != qty*cents(t, p.price) {
			t.Errorf("cart line %q: quantity %s, price %s, total %s; want %d × %s", l[0], l[1], l[2], l[3], p.quantity, p.price)
		}
		sum += cents(t, l[3])
	}
	total := b.text("table.lines tfoot td")
	if cents(t, total) != sum {
		t.Errorf("the cart's total is %s, want the lines' sum %s", total, formatCents(sum))
	}
	b.shot("storefront-cart.png")

	// Checkout with the card that pays, offered by name.
	b.clickAndLoad("go to checkout", `main a.button[href="/checkout"]`)
	b.wantHeading("Checkout")
	if got := eval[string](b, `document.querySelector("#name").value`); got != name {
		t.Errorf("the address' name is %q, want the shopper's, %q", got, name)
	}
	if got := b.text(".summary-total"); !strings.Contains(got, total) {
		t.Errorf("the order summary's total says %q, want %s", got, total)
	}
	b.fillAddress()
	b.chooseCard("Visa that pays", "tok_visa")
	b.clickAndLoad("place the order", `main form.stack button[type=submit]`)
	orderID := b.orderID()

	// The order page follows the order until it is confirmed, by itself.
	live := b.followUntil("Confirmed")
	if got := b.text(`#order-status [data-field="message"]`); !strings.Contains(got, "Your order is confirmed") {
		t.Errorf("the confirmed order's message is %q", got)
	}
	items := eval[[]string](b, `[...document.querySelectorAll("table.lines tbody tr td:first-child")].map(e => e.textContent)`)
	if len(items) != 2 || !contains(items, first.name) || !contains(items, second.name) {
		t.Errorf("the order's items are %q, want %s and %s", items, first.name, second.name)
	}
	if got := b.text("table.lines tfoot td"); got != total {
		t.Errorf("the order's total is %s, want the cart's %s", got, total)
	}
	b.shot("storefront-order.png")

	// The order settled before its page was served (rarely: the saga and
	// the page race): buy the first product again, at most twice, to watch
	// an order page change by itself.
	for try := 1; !live; try++ {
		if try > 2 {
			t.Fatal("3 orders settled before their pages were served: the page's live update could not be watched")
		}
		b.mustOpen(first.path)
		b.clickAndLoad("add "+first.name+" to the cart again", `form.add button[type=submit]`)
		b.placeOrder("Visa that pays", "tok_visa")
		live = b.followUntil("Confirmed")
	}

	// Order history, then the notification log (e-mails go out a moment later).
	b.clickAndLoad("open the order history", `header nav a[href="/orders"]`)
	b.wantHeading("Your orders")
	row := fmt.Sprintf(`[...document.querySelectorAll("table.lines tbody tr")].find(tr => tr.querySelector('a[href="/orders/%s"]'))`, orderID)
	if got := eval[string](b, `((`+row+`) || {querySelector: () => ({innerText: "(no row)"})}).querySelector('[data-label="Status"]').innerText`); got != "Confirmed" {
		t.Errorf("the order history shows order %s as %q, want Confirmed\n%s", orderID, got, b.describe())
	}
	b.clickAndLoad("open the notifications", `header nav a[href="/notifications"]`)
	b.waitForOnReload("the order's e-mail in the notification log", "/notifications",
		fmt.Sprintf(`document.querySelector('table.lines tbody a[href="/orders/%s"]')`, orderID), 20*time.Second)
}

// A declined card cancels the order, and the page says why.
func TestDeclinedCardCancelsTheOrderWithItsReason(t *testing.T) {
	b := newBrowser(t, desktopWidth, desktopHeight)
	b.signUp("Bob Baker", newEmail("declined"))
	b.search("kettel")
	b.addToCart(".results .cards .card:nth-child(1) a", 1, "")
	b.placeOrder("Declined card", "tok_chargeDeclined")
	b.followUntil("Cancelled")
	const reason = "The payment was declined by the card issuer"
	if got := b.text(`#order-status [data-field="message"]`); !strings.Contains(got, reason) {
		t.Errorf("the cancelled order's message is %q, want the reason %q\n%s", got, reason, b.describe())
	}
	if got := b.text(`[data-field="timeline"] li:last-child`); !strings.HasPrefix(got, "Cancelled") || !strings.Contains(got, reason) {
		t.Errorf("the timeline's last entry is %q, want Cancelled with the reason", got)
	}
}

// The admin creates a product in the admin corner and sets its stock; a
// shopper finds it by search as soon as the index has it, and opens it.
func TestAdminCreatesAProductThatShoppersFind(t *testing.T) {
	admin := newBrowser(t, desktopWidth, desktopHeight)
	email, pass := adminCredentials(t)
	admin.signIn(email, pass, "/admin")
	if admin.where != "/admin/products" {
		t.Fatalf("the admin signed in to /admin is on %s, want the product list\n%s", admin.where, admin.describe())
	}
	if n := eval[int](admin, `document.querySelectorAll('header nav a[href="/admin/products"]').length`); n != 1 {
		t.Errorf("the admin's header has %d links to the admin corner, want 1", n)
	}
	word := unique()
	name := "Lantern " + word
	id := admin.createProduct(name, "outdoor", "24.50")
	admin.setStock(id, 7)

	shopper := newBrowser(t, desktopWidth, desktopHeight)
	card := fmt.Sprintf(`.results .cards a[href="/p/%s"]`, id)
	// The search index is eventually consistent (the API promises 2 s).
	shopper.waitForOnReload("the new product in the search results", "/search?q="+url.QueryEscape(word),
		fmt.Sprintf(`document.querySelector(%s)`, jsString(card)), 15*time.Second)
	if got := shopper.text(card + " .name"); got != name {
		t.Errorf("the search result is named %q, want %q", got, name)
	}
	shopper.clickAndLoad("open the new product", card)
	shopper.wantHeading(name)
	if got := shopper.text(".product .price"); got != "$24.50" {
		t.Errorf("the product's price is %q, want $24.50", got)
	}
	if got := shopper.text(".product .stock"); got != "In stock" {
		t.Errorf("the product's stock says %q, want In stock", got)
	}
}

// Only the admin sees and opens the admin corner: a customer gets no link
// to it and a 403 page at its addresses; a visitor is sent to sign in.
func TestAdminCornerIsForAdminsOnly(t *testing.T) {
	adminPaths := []string{"/admin", "/admin/products", "/admin/products/new"}

	customer := newBrowser(t, desktopWidth, desktopHeight)
	customer.signUp("Cy Customer", newEmail("customer"))
	for _, path := range []string{"/", "/search?q=" + typo, "/cart", "/orders"} {
		customer.mustOpen(path)
		if n := eval[int](customer, `document.querySelectorAll('a[href^="/admin"]').length`); n != 0 {
			t.Errorf("%s shows a customer %d links to the admin corner", path, n)
		}
	}
	for _, path := range adminPaths {
		customer.openExpecting(path, 403)
		customer.wantHeading("You cannot open this page")
	}

	visitor := newBrowser(t, desktopWidth, desktopHeight)
	for _, path := range adminPaths {
		visitor.mustOpen(path) // 303 to sign-in, which answers 200
		if want := "/signin?next=" + url.QueryEscape(path); visitor.where != want {
			t.Errorf("a visitor opening %s is on %s, want %s", path, visitor.where, want)
		}
		visitor.wantHeading("Sign in")
	}
	if n := eval[int](visitor, `document.querySelectorAll('a[href^="/admin"]').length`); n != 0 {
		t.Errorf("the sign-in page shows a visitor %d links to the admin corner", n)
	}
}

// A product name with markup is text everywhere it shows: the product page,
// the search results and suggestions, the cart; its script never runs.
func TestProductNameWithMarkupIsShownAsText(t *testing.T) {
	word := unique()
	name := "<script>window.__pwned=1</script> Gadget " + word
	admin := newBrowser(t, desktopWidth, desktopHeight)
	admin.useSession(adminClient(t)) // signed in as the admin (TestAdminCreatesAProductThatShoppersFind uses the form)
	admin.mustOpen("/admin/products")
	id := admin.createProduct(name, "toys", "9.99")
	admin.wantText("the admin's product page", "main h1", "Edit "+name)

	b := newBrowser(t, desktopWidth, desktopHeight)
	b.signUp("Eve Tester", newEmail("markup"))
	card := fmt.Sprintf(`.results .cards a[href="/p/%s"]`, id)
	b.waitForOnReload("the product in the search results", "/search?q="+url.QueryEscape(word),
		fmt.Sprintf(`document.querySelector(%s)`, jsString(card)), 15*time.Second)
	b.wantText("the search results", card+" .name", name)
	b.notRun("the search results")

	// The suggestions build their list in the page's script.
	b.do("type into the search box", chromedp.Clear(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), word))
	b.waitFor("the suggestions", `document.querySelectorAll("#q-suggestions [role=option]").length > 0 && !document.getElementById("q-suggestions").hidden`, stepTimeout)
	option := b.mark(`[...document.querySelectorAll("#q-suggestions [role=option] span:first-child")].find(s => s.textContent.includes(` + jsString(word) + `))`)
	if option == "" {
		t.Fatalf("no suggestion names the product's word %s\n%s", word, b.describe())
	}
	b.wantText("the suggestions", option, name)
	b.notRun("the suggestions")

	b.clickAndLoad("open the product", card)
	b.wantText("the product page", "main h1", name)
	if got := eval[string](b, `document.querySelector(".product img.hero").alt`); got != name {
		t.Errorf("the product image's alt text is %q, want the name as text", got)
	}
	if got := eval[string](b, `document.title`); !strings.HasPrefix(got, name) {
		t.Errorf("the product page's title is %q, want it to start with the name as text", got)
	}
	b.notRun("the product page")

	b.clickAndLoad("add it to the cart", `form.add button[type=submit]`)
	b.wantText("the cart", "table.lines tbody td[data-label=Product] a", name)
	b.notRun("the cart")
}

// Keyboard only: the search box's suggestions open as one types, the
// arrow keys move through them, Enter opens the chosen product.
func TestSearchSuggestionsByKeyboard(t *testing.T) {
	b := newBrowser(t, desktopWidth, desktopHeight)
	b.mustOpen("/")
	b.do("type into the search box", chromedp.SendKeys(chromedp.CSS("#q"), "wood"))
	b.waitFor("the suggestions to open", `document.getElementById("q").getAttribute("aria-expanded") === "true" &&
		!document.getElementById("q-suggestions").hidden && document.querySelectorAll("#q-suggestions [role=option]").length >= 2`, stepTimeout)
	options := eval[[]string](b, `[...document.querySelectorAll("#q-suggestions [role=option] span:first-child")].map(e => e.textContent)`)
	if eval[string](b, `document.activeElement.id`) != "q" {
		t.Fatal("the search box lost the focus")
	}
	selected := func() (int, string) {
		t.Helper()
		got := eval[[]string](b, `[String([...document.querySelectorAll("#q-suggestions [role=option]")].findIndex(o => o.getAttribute("aria-selected") === "true")),
			document.getElementById("q").getAttribute("aria-activedescendant") || ""]`)
		i, _ := strconv.Atoi(got[0])
		return i, got[1]
	}
	for _, step := range []struct {
		key  string
		name string
		want int
	}{{kb.ArrowDown, "ArrowDown", 0}, {kb.ArrowDown, "ArrowDown", 1}, {kb.ArrowUp, "ArrowUp", 0}, {kb.ArrowDown, "ArrowDown", 1}} {
		b.do(step.name, chromedp.KeyEvent(step.key))
		if i, active := selected(); i != step.want || active != fmt.Sprintf("q-option-%d", step.want) {
			t.Fatalf("after %s option %d is selected (aria-activedescendant %q), want %d of %q", step.name, i, active, step.want, options)
		}
	}
	want := options[1]
	b.keyAndLoad("Enter on the chosen suggestion", pressEnter())
	if !strings.HasPrefix(b.where, "/p/") {
		t.Fatalf("Enter on %q went to %s, want its product page\n%s", want, b.where, b.describe())
	}
	b.wantHeading(want)
}

// The main flow on a phone (360×740): nothing is wider than the screen on
// any page, from sign-up to the confirmed order.
func TestMainFlowFitsAPhone(t *testing.T) {
	b := newBrowser(t, 360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch)
	stockUp(t, "kettel", "kitchen")
	b.mustOpen("/")
	b.fitsScreen()
	b.mustOpen("/signup")
	b.fitsScreen()
	b.signUp("Pia Phone", newEmail("phone"))
	b.fitsScreen()
	b.search("kettel")
	b.fitsScreen()
	b.addToCart(".results .cards .card:nth-child(1) a", 1, "") // checks the product page fits, too
	b.fitsScreen()
	b.clickAndLoad("go to checkout", `main a.button[href="/checkout"]`)
	b.fitsScreen()
	b.fillAddress()
	b.chooseCard("Visa that pays", "tok_visa")
	b.clickAndLoad("place the order", `main form.stack button[type=submit]`)
	b.orderID()
	b.followUntil("Confirmed")
	b.fitsScreen()
	b.mustOpen("/orders")
	b.fitsScreen()
	b.mustOpen("/notifications")
	b.fitsScreen()
}

// product is what addToCart put in the cart.
type product struct {
	path, name, price string
	quantity          int64
}

// search types q into the header's search box and sends it.
func (b *browser) search(q string) {
	b.t.Helper()
	b.do("type "+q+" into the search box", chromedp.Clear(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), q))
	b.clickAndLoad("search for "+q, `header form.search button[type=submit]`)
	if !strings.HasPrefix(b.where, "/search?") {
		b.t.Fatalf("searching for %q went to %s\n%s", q, b.where, b.describe())
	}
	if n := eval[int](b, `document.querySelectorAll(".results .cards .card").length`); n == 0 {
		b.t.Fatalf("a search for %q finds nothing\n%s", q, b.describe())
	}
}

// addToCart opens the product a link (CSS) leads to and adds quantity of
// it to the cart; it ends on the cart. shot, when not "", names a
// screenshot of the product page.
func (b *browser) addToCart(link string, quantity int64, shot string) product {
	b.t.Helper()
	want := b.text(link + " .name")
	b.clickAndLoad("open "+want, link)
	b.wantHeading(want)
	if phone := eval[bool](b, `innerWidth < 500`); phone {
		b.fitsScreen()
	}
	p := product{path: b.where, name: want, price: b.text(".product .price"), quantity: quantity}
	if got := b.text(".product .stock"); got != "In stock" {
		b.t.Fatalf("%s: %q\n%s", want, got, b.describe())
	}
	if shot != "" {
		b.shot(shot)
	}
	b.do("set the quantity", chromedp.SetValue(chromedp.CSS("#quantity"), strconv.FormatInt(quantity, 10)))
	b.clickAndLoad("add "+want+" to the cart", `form.add button[type=submit]`)
	if !strings.HasPrefix(b.where, "/cart") {
		b.t.Fatalf("adding %s to the cart went to %s\n%s", want, b.where, b.describe())
	}
	if got := b.text("main .notice"); got != "Added to your cart." {
		b.t.Errorf("after adding %s the cart says %q", want, got)
	}
	return p
}

// fillAddress fills the checkout's shipping address (the name is the
// shopper's already).
func (b *browser) fillAddress() {
	b.t.Helper()
	b.wantHeading("Checkout")
	b.fill(map[string]string{"#line1": "1 Test Street", "#city": "Berlin", "#postal_code": "10115", "#country": "DE"})
}

// chooseCard picks a test card by its label and checks it is token's.
func (b *browser) chooseCard(label, token string) {
	b.t.Helper()
	sel := b.mark(`[...document.querySelectorAll("fieldset .choice label")].find(l => l.textContent.trim() === ` + jsString(label) + `)`)
	if sel == "" {
		b.t.Fatalf("no test card labelled %q\n%s", label, b.describe())
	}
	b.do("choose "+label, chromedp.Click(chromedp.CSS(sel)))
	if got := eval[string](b, `(document.querySelector("input[name=payment_token]:checked") || {value: "none"}).value`); got != token {
		b.t.Fatalf("choosing %q checked the card %s, want %s", label, got, token)
	}
}

// orderID is the id of the order page the tab is on.
func (b *browser) orderID() string {
	b.t.Helper()
	id, ok := strings.CutPrefix(strings.SplitN(b.where, "?", 2)[0], "/orders/")
	if !ok || id == "" || strings.Contains(id, "/") {
		b.t.Fatalf("placing the order went to %s, want its page\n%s", b.where, b.describe())
	}
	return id
}

// followUntil waits on an order page until its status region says status
// (Confirmed, Cancelled), without the page being loaded again. When the
// page was served while the order was pending, the region must change by
// itself: the page's script (fed by server-sent events) rewrites it and
// hides the cancel button; followUntil then reports true. An order can
// settle before its page is served (the saga takes tens of milliseconds),
// and then there is nothing to watch: it reports false.
func (b *browser) followUntil(status string) bool {
	b.t.Helper()
	marker := unique()
	start := time.Now()
	pending := eval[bool](b, `window.__browsertestPage = `+jsString(marker)+`, !!document.querySelector("#order-status[data-events]")`)
	b.waitFor("the order's status to become "+status, `document.querySelector('#order-status [data-field="label"]').textContent.trim() === `+jsString(status), 20*time.Second)
	if got := eval[string](b, `window.__browsertestPage || "(gone)"`); got != marker {
		b.t.Fatalf("the order page was loaded again while waiting for %s; want it to change by itself", status)
	}
	if got := eval[string](b, `document.querySelector('#order-status [data-field="label"]').className`); !strings.Contains(got, "status-"+strings.ToLower(status)) {
		b.t.Errorf("the status label's class is %q, want status-%s", got, strings.ToLower(status))
	}
	if !pending {
		b.t.Logf("the order was %s before its page was served: nothing to follow live", status)
		return false
	}
	if !eval[bool](b, `document.querySelector('[data-field="cancel"]').hidden && document.querySelector('[data-field="note"]').hidden`) {
		b.t.Errorf("the order is %s but its page still offers to cancel it\n%s", status, b.describe())
	}
	b.t.Logf("the order page, served pending, turned %s by itself within %s", status, time.Since(start).Round(time.Millisecond))
	return true
}

// placeOrder goes from the cart through checkout with the test card of
// that label (and token) and returns the id of the order whose page it
// lands on.
func (b *browser) placeOrder(card, token string) string {
	b.t.Helper()
	b.clickAndLoad("go to checkout", `main a.button[href="/checkout"]`)
	b.fillAddress()
	b.chooseCard(card, token)
	b.clickAndLoad("place the order", `main form.stack button[type=submit]`)
	return b.orderID()
}

// createProduct makes a product in the admin corner, starting on its
// product list, and returns its id.
func (b *browser) createProduct(name, category, price string) string {
	b.t.Helper()
	b.wantHeading("Products")
	b.clickAndLoad("open the new-product form", `main a.button[href="/admin/products/new"]`)
	b.wantHeading("New product")
	sku := strings.ToUpper("BT-" + unique())
	b.fill(map[string]string{"#sku": sku, "#name": name, "#description": "Made by the browser tests.", "#price": price, "#currency": "USD"})
	b.do("choose the category", chromedp.SetValue(chromedp.CSS("#category"), category))
	b.clickAndLoad("create the product", `main form.stack button[type=submit]`)
	path := strings.SplitN(b.where, "?", 2)
	id, ok := strings.CutPrefix(path[0], "/admin/products/")
	if !ok || id == "new" || len(path) < 2 || path[1] != "notice=created" {
		b.t.Fatalf("creating %s went to %s, want its edit page with notice=created\n%s", name, b.where, b.describe())
	}
	if got := eval[string](b, `document.querySelector("#sku").value`); got != sku {
		b.t.Errorf("the new product's SKU is %q, want %q", got, sku)
	}
	return id
}

// setStock sets a product's units available on its admin page.
func (b *browser) setStock(id string, n int) {
	b.t.Helper()
	b.fill(map[string]string{"#available": strconv.Itoa(n)})
	b.clickAndLoad("set the stock", `form[action$="/stock"] button[type=submit]`)
	if want := "/admin/products/" + id + "?notice=stock"; b.where != want {
		b.t.Fatalf("setting the stock went to %s, want %s\n%s", b.where, want, b.describe())
	}
	if got := b.text(`section[aria-labelledby="stock"] p`); !strings.HasPrefix(got, fmt.Sprintf("%d available", n)) {
		b.t.Errorf("the stock section says %q, want %d available", got, n)
	}
}

// waitForOnReload loads path until cond holds on it, for at most timeout.
func (b *browser) waitForOnReload(what, path, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for tries := 1; ; tries++ {
		b.mustOpen(path)
		if eval[bool](b, "!!("+cond+")") {
			if tries > 1 {
				b.t.Logf("%s: there after %d loads", what, tries)
			}
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not there after %s (%d loads of %s)\n%s", what, timeout, tries, path, b.describe())
		}
		time.Sleep(300 * time.Millisecond) // between loads of the page
	}
}

// mark finds an element with a JavaScript expression, gives it an
// attribute and returns a CSS selector for it ("" when none is found).
func (b *browser) mark(find string) string {
	b.t.Helper()
	id := unique()
	if !eval[bool](b, `(() => { const e = `+find+`; if (!e) return false; e.setAttribute("data-browsertest", `+jsString(id)+`); return true; })()`) {
		return ""
	}
	return fmt.Sprintf(`[data-browsertest=%q]`, id)
}

// wantText fails the test unless the element's text is exactly want and
// it has no child elements: the text did not become markup.
func (b *browser) wantText(where, sel, want string) {
	b.t.Helper()
	got := eval[[]string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? [e.textContent, String(e.children.length)] : ["(none)", "0"]; })()`, jsString(sel)))
	if got[0] != want || got[1] != "0" {
		b.t.Errorf("%s: %s shows %q with %s elements inside, want the text %q\n%s", where, sel, got[0], got[1], want, b.describe())
	}
}

// notRun fails the test if a product name's script ran or became an element.
func (b *browser) notRun(where string) {
	b.t.Helper()
	if got := eval[string](b, `typeof window.__pwned`); got != "undefined" {
		b.t.Errorf("%s: window.__pwned is %s: a product name ran as a script", where, got)
	}
	if n := eval[int](b, `[...document.scripts].filter(s => s.textContent.includes("__pwned")).length`); n != 0 {
		b.t.Errorf("%s: %d script elements hold a product name", where, n)
	}
}

// fitsScreen fails the test when the page is wider than the screen, naming
// the elements that stick out.
func (b *browser) fitsScreen() {
	b.t.Helper()
	got := eval[[]string](b, `(() => {
		const w = innerWidth, sw = document.documentElement.scrollWidth;
		if (sw <= w) return [];
		const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > w + 0.5)
			.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " (right " + Math.round(e.getBoundingClientRect().right) + ")");
		return ["scrollWidth " + sw + " > innerWidth " + w, ...wide];
	})()`)
	if len(got) > 0 {
		b.t.Errorf("%s overflows a %s-wide screen: %s", b.where, "360 px", strings.Join(got, "; "))
	}
}

// facetCount reads the count of "Toys & Games (2)".
func facetCount(t *testing.T, label string) int {
	t.Helper()
	i, j := strings.LastIndex(label, "("), strings.LastIndex(label, ")")
	n, err := strconv.Atoi(label[i+1 : max(j, i+1)])
	if i < 0 || err != nil {
		t.Fatalf("facet %q has no count", label)
	}
	return n
}

// cents reads "$1,234.50".
func cents(t *testing.T, money string) int64 {
	t.Helper()
	s := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(money), "$"), ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac+strings.Repeat("0", 2-min(len(frac), 2)), 10, 64)
	if err1 != nil || err2 != nil || len(frac) > 2 {
		t.Fatalf("%q is not an amount of dollars", money)
	}
	return w*100 + f
}

func formatCents(c int64) string {
	return fmt.Sprintf("$%d.%02d", c/100, c%100)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
