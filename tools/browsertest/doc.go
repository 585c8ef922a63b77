// Package browsertest tests the web storefront (apps/storefront) of the
// running local stack in the machine's headless Chromium, driven by
// chromedp, as a shopper and the shop's administrator use it: sign-up and
// sign-in forms, search with typos, category facets and keyboard
// suggestions, product pages, the cart, checkout with the sandbox's test
// cards, the order page following a pending order live, order history, the
// notification log, the admin corner (new product, stock) and who may open
// it, product names shown as text and never run as markup, and the main flow
// on a phone-sized screen without sideways scrolling. Every console error
// or uncaught exception of a page (a Content-Security-Policy violation is
// one) fails the test that loaded the page.
//
// The package holds only tests. They need the stack (go tool task up) and
// Debian's chromium (apt-get install -y chromium; SHOPMESH_CHROMIUM names
// another) and skip unless SHOPMESH_INTEGRATION=1:
//
//	SHOPMESH_INTEGRATION=1 go test -C tools -count=1 ./browsertest
//
// or go tool task test:browser. Each test makes its own shoppers and
// products (names from the time and a random suffix), so runs can repeat
// and never collide; the seed products a test buys get their stock topped
// up through the admin corner when it runs low. The admin's credentials are
// admin-email and admin-password of <repo>/.local/secrets.json.
//
// A run signs in or up about 12 times (a sign-up is two calls). The gateway
// allows 10 a minute per client address after a burst of 20, and every
// test shares 127.0.0.1, so runs back to back wait, as the refused form
// says, up to 30 s per sign-in (about 35 s a run from a full budget, about
// a minute when it is spent).
//
// Environment:
//
//	SHOPMESH_STOREFRONT_URL    the storefront (http://127.0.0.1:8088)
//	SHOPMESH_GATEWAY_URL       the public API, for test set-up only (http://127.0.0.1:8080)
//	SHOPMESH_STOREFRONT_SHOTS  a folder: save storefront-{home,search,product,cart,order}.png
//	                           there, 1280×900 (go tool task screenshots: docs/images)
//	SHOPMESH_CHROMIUM          the Chromium executable (chromium or chromium-browser on PATH)
//
// Cancelling a pending order is not tested here: orders settle in well
// under a second and nothing outside the platform can hold one pending, so
// a browser cannot reach the cancel button in time reliably. The
// storefront's unit tests (apps/storefront/web) cover it against a fake
// gateway.
package browsertest
