package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// Product search as a shopper uses it, through the gateway: the search
// service's index follows the catalog within seconds, forgives typos,
// completes the last word, filters, sorts, counts facets, treats any text
// as text, and keeps (or rebuilds) its index across restarts. Expectations
// on the seeded products come from apps/catalog/seed/products.json.

type searchFacets struct {
	Category map[string]int `json:"category"`
	Price    map[string]int `json:"price"`
}

type searchPage struct {
	Items  []product    `json:"items"`
	Total  int          `json:"total"`
	Facets searchFacets `json:"facets"`
	Next   string       `json:"next_page_token"`
}

// searchBands are the price facet's bands in minor units, [min, max); max 0
// has no upper bound (apps/search/API.md).
var searchBands = []struct {
	key      string
	min, max int64
}{
	{"under_25", 0, 2500}, {"25_to_50", 2500, 5000}, {"50_to_100", 5000, 10000},
	{"100_to_200", 10000, 20000}, {"200_and_over", 20000, 0},
}

func searchBandOf(amount int64) string {
	for _, b := range searchBands {
		if amount >= b.min && (b.max == 0 || amount < b.max) {
			return b.key
		}
	}
	return ""
}

// searcher is a shopper that searches from an address of its own, so its
// polling has its own rate-limit budget.
type searcher struct{ shopper }

func newSearcher(t *testing.T) searcher { return searcher{newShopper(t)} }

// searchParams builds a query string: q, then name/value pairs.
func searchParams(q string, kv ...string) url.Values {
	v := url.Values{"q": {q}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func (s searcher) raw(t *testing.T, params url.Values) response {
	t.Helper()
	return s.call(t, http.MethodGet, "/api/v1/search?"+params.Encode(), nil)
}

// find runs a search that must succeed, and checks the answer's shape.
func (s searcher) find(t *testing.T, params url.Values) searchPage {
	t.Helper()
	r := s.raw(t, params)
	require.Equal(t, http.StatusOK, r.Status, "search %s: %s", params.Encode(), r.Body)
	return decodeSearchPage(t, r)
}

func decodeSearchPage(t *testing.T, r response) searchPage {
	t.Helper()
	require.Equal(t, "application/json", strings.Split(r.Header.Get("Content-Type"), ";")[0])
	var fields map[string]json.RawMessage
	r.decode(t, &fields)
	for _, f := range []string{"items", "total", "facets", "next_page_token"} {
		require.Contains(t, fields, f, "every answer has %s: %s", f, r.Body)
	}
	require.NotEqual(t, "null", string(fields["items"]), "items is a list, even when empty")
	var p searchPage
	r.decode(t, &p)
	require.NotNil(t, p.Facets.Category, "facets.category: %s", r.Body)
	require.Len(t, p.Facets.Price, len(searchBands), "every price band is present: %s", r.Body)
	for _, b := range searchBands {
		require.Contains(t, p.Facets.Price, b.key)
	}
	require.LessOrEqual(t, len(p.Items), p.Total)
	return p
}

func skusOf(items []product) []string {
	out := make([]string, len(items))
	for i, p := range items {
		out[i] = p.SKU
	}
	return out
}

func idsOf(items []product) []string {
	out := make([]string, len(items))
	for i, p := range items {
		out[i] = p.ID
	}
	return out
}

// seedSKU matches the seed's SKUs (KIT-0001); the tests' products have others.
var seedSKU = regexp.MustCompile(`^[A-Z]{3}-[0-9]{4}$`)

// seedSKUsOf keeps the seeded products' SKUs, in order.
func seedSKUsOf(items []product) []string {
	var out []string
	for _, p := range items {
		if seedSKU.MatchString(p.SKU) {
			out = append(out, p.SKU)
		}
	}
	return out
}

type seededProduct struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Price    money  `json:"price"`
}

// seededProducts reads the catalog's seed, in the order it was loaded.
func seededProducts(t *testing.T) []seededProduct {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "apps", "catalog", "seed", "products.json"))
	require.NoError(t, err)
	var seed struct {
		Products []seededProduct `json:"products"`
	}
	require.NoError(t, json.Unmarshal(raw, &seed))
	require.Len(t, seed.Products, 64)
	return seed.Products
}

// uniqueWord is a made-up word no other product has, nor one within a typo
// or a prefix of it.
func uniqueWord() string {
	b := []byte("zq")
	for range 10 {
		b = append(b, byte('a'+mrand.IntN(26)))
	}
	return string(b)
}

// createSearchProbe creates a product as the admin from body (a
// newProductBody with changes) and deletes it when the test ends.
func createSearchProbe(t *testing.T, body map[string]any) product {
	t.Helper()
	admin := asAdmin(t)
	r := call(t, http.MethodPost, gateway+"/api/v1/products", body, admin...)
	require.Equal(t, http.StatusCreated, r.Status, "create product: %s", r.Body)
	var p product
	r.decode(t, &p)
	t.Cleanup(func() { call(t, http.MethodDelete, gateway+"/api/v1/products/"+p.ID, nil, asAdmin(t)...) })
	return p
}

// probeBody is a product in the outdoor category (the other tests' products
// are kitchen ones) named name, priced amount.
func probeBody(name, description string, amount int64) map[string]any {
	body := newProductBody(uniqueSKU("SRCH"))
	body["name"], body["description"], body["category"] = name, description, "outdoor"
	body["price"] = map[string]any{"amount": amount, "currency": "USD"}
	return body
}

// await polls the search until ok holds of its answer, every 50 ms, and
// returns how long that took and the answer.
func (s searcher) await(t *testing.T, timeout time.Duration, what string, params url.Values, ok func(searchPage) bool) (time.Duration, searchPage) {
	t.Helper()
	start := time.Now()
	for {
		p := s.find(t, params)
		if ok(p) {
			return time.Since(start), p
		}
		require.Less(t, time.Since(start), timeout, "timed out waiting: %s; last answer: %+v", what, p)
		time.Sleep(50 * time.Millisecond)
	}
}

func onlyID(id string) func(searchPage) bool {
	return func(p searchPage) bool { return p.Total == 1 && len(p.Items) == 1 && p.Items[0].ID == id }
}

func nothing(p searchPage) bool { return p.Total == 0 && len(p.Items) == 0 }

func TestSearchFindsANewProductWithinTwoSecondsAndFollowsItsChanges(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	oldWord, newWord := uniqueWord(), uniqueWord()
	admin := asAdmin(t)

	body := probeBody("Search Probe "+oldWord+" Lantern", "A lantern only the search tests sell.", 4321)
	p := createSearchProbe(t, body)
	took, page := s.await(t, 10*time.Second, "the new product is found by a word of its name", searchParams(oldWord), onlyID(p.ID))
	assertLocalTarget(t, took, 2*time.Second, "created → searchable")
	hit := page.Items[0]
	hit.InStock = p.InStock // stock is the inventory's to say (see TestSearchFiltersByStock)
	assert.Equal(t, p, hit, "the hit is the product as created")
	assert.Equal(t, map[string]int{"outdoor": 1}, page.Facets.Category)
	// Matching ignores case and the other words' order.
	assert.True(t, onlyID(p.ID)(s.find(t, searchParams("lantern "+strings.ToUpper(oldWord)))))

	body["name"] = "Search Probe " + newWord + " Lantern"
	r := call(t, http.MethodPut, gateway+"/api/v1/products/"+p.ID, body, admin...)
	require.Equal(t, http.StatusOK, r.Status, "rename: %s", r.Body)
	took, page = s.await(t, 10*time.Second, "the renamed product is found by its new name", searchParams(newWord), onlyID(p.ID))
	t.Logf("renamed → new name searchable in %s", took)
	assert.Equal(t, body["name"], page.Items[0].Name)
	took, _ = s.await(t, 10*time.Second, "the old name finds nothing", searchParams(oldWord), nothing)
	t.Logf("renamed → old name gone after %s more", took)

	r = call(t, http.MethodDelete, gateway+"/api/v1/products/"+p.ID, nil, admin...)
	require.Equal(t, http.StatusNoContent, r.Status, "delete: %s", r.Body)
	took, _ = s.await(t, 10*time.Second, "the deleted product disappears", searchParams(newWord), nothing)
	t.Logf("deleted → gone from search in %s", took)
	// Nor does it come back, by any of its words or in a listing.
	time.Sleep(time.Second)
	assert.True(t, nothing(s.find(t, searchParams(newWord))))
	assert.True(t, nothing(s.find(t, searchParams(oldWord))))
	all := s.find(t, searchParams("", "category", "outdoor", "page_size", "100"))
	assert.NotContains(t, idsOf(all.Items), p.ID)
}

func TestSearchForgivesOneTypoPerLongWord(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	cases := []struct {
		q    string
		want []string // the SKUs found, in order
		why  string
	}{
		{"stainles kettel", []string{"KIT-0001"}, "a deletion and a swap, one per word"},
		{"kettel", []string{"KIT-0001"}, "two neighbouring letters swapped"},
		{"Kéttle", []string{"KIT-0001"}, "case and accents are folded"},
		{"yogo mat", []string{"FIT-0002"}, "a substitution in a four-letter word"},
		{"skilet", []string{"KIT-0002"}, "a missing letter"},
		{"kottke", nil, "two edits are not forgiven"},
		{"usv", nil, "words under four letters must match exactly (usb is one edit away)"},
		{"stainless kettle skillet", nil, "every word must match"},
	}
	for _, c := range cases {
		p := s.find(t, searchParams(c.q, "page_size", "100"))
		assert.Equal(t, c.want, nilIfEmpty(skusOf(p.Items)), "%q: %s", c.q, c.why)
		assert.Equal(t, len(c.want), p.Total, "%q: total", c.q)
	}
	usb := s.find(t, searchParams("usb", "page_size", "100"))
	assert.Equal(t, []string{"AUD-0005", "HOF-0003", "HOF-0006"}, sortedCopy(seedSKUsOf(usb.Items)), "usb matches exactly")
}

func TestSearchCompletesOnlyTheLastWord(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	cases := []struct {
		q    string
		want []string // the SKUs found, in any order
		why  string
	}{
		{"mechani", []string{"HOF-0006"}, "a word being typed finds Mechanical Keyboard"},
		{"stainless ste", []string{"KIT-0001"}, "the last word is a prefix of steel"},
		{"wireless earb", []string{"AUD-0001", "AUD-0002"}, "earb completes to earbuds (and is one edit from the ear of over-ear)"},
		{"earb wireless", []string{"AUD-0001"}, "only the last word is completed: earb no longer finds earbuds"},
		{"headphon", []string{"AUD-0001", "AUD-0005"}, "headphones and headphone"},
		{"mech keyboard", nil, "a short first word is not completed"},
	}
	for _, c := range cases {
		p := s.find(t, searchParams(c.q, "page_size", "100"))
		assert.Equal(t, c.want, nilIfEmpty(sortedCopy(skusOf(p.Items))), "%q: %s", c.q, c.why)
		assert.Equal(t, len(c.want), p.Total, "%q: total", c.q)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestSearchFiltersByCategoryAndPrice(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	seed := seededProducts(t)
	cases := []struct {
		category string
		min, max int64 // -1: not given
	}{
		{"audio", -1, -1},
		{"audio", 8000, 20000},
		{"", 7999, 7999}, // both bounds are inclusive
		{"books", -1, 2000},
		{"", 30000, -1},
		{"toys", 10000, 20000}, // no toy costs that much
	}
	for _, c := range cases {
		params := searchParams("", "page_size", "100")
		var want []string
		for _, p := range seed {
			if (c.category == "" || p.Category == c.category) && (c.min < 0 || p.Price.Amount >= c.min) && (c.max < 0 || p.Price.Amount <= c.max) {
				want = append(want, p.SKU)
			}
		}
		if c.category != "" {
			params.Set("category", c.category)
		}
		if c.min >= 0 {
			params.Set("min_price", fmt.Sprint(c.min))
		}
		if c.max >= 0 {
			params.Set("max_price", fmt.Sprint(c.max))
		}
		page := s.find(t, params)
		require.Empty(t, page.Next, "%s: one page holds the match", params.Encode())
		assert.Equal(t, sortedCopy(want), nilIfEmpty(sortedCopy(seedSKUsOf(page.Items))), "%s: the seeded products that pass", params.Encode())
		for _, it := range page.Items {
			if c.category != "" {
				assert.Equal(t, c.category, it.Category, "%s: %s", params.Encode(), it.SKU)
			}
			assert.True(t, (c.min < 0 || it.Price.Amount >= c.min) && (c.max < 0 || it.Price.Amount <= c.max),
				"%s: %s costs %d", params.Encode(), it.SKU, it.Price.Amount)
		}
	}

	// Filters narrow a text search too.
	page := s.find(t, searchParams("wireless", "category", "audio", "max_price", "25000"))
	assert.Equal(t, []string{"AUD-0001", "AUD-0002"}, sortedCopy(skusOf(page.Items)))
	assert.True(t, nothing(s.find(t, searchParams("kettle", "category", "books"))))
}

// setStockEventually is setStock that waits out an inventory app being
// restarted by another test.
func setStockEventually(t *testing.T, productID string, available int64) {
	t.Helper()
	var last response
	eventually(t, 60*time.Second, fmt.Sprintf("stock of %s set to %d", productID, available), func() bool {
		last = call(t, http.MethodPut, gateway+"/api/v1/inventory/"+productID, map[string]any{"available": available}, asAdmin(t)...)
		if last.Status != http.StatusOK {
			time.Sleep(400 * time.Millisecond)
		}
		return last.Status == http.StatusOK
	})
}

func TestSearchFiltersByStock(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	word := uniqueWord()
	p := createSearchProbe(t, probeBody("Search Probe "+word+" Stove", "A stove whose stock the search tests move.", 2600))

	inStock := func(v string) url.Values { return searchParams(word, "in_stock", v) }
	setStockEventually(t, p.ID, 0)
	took, page := s.await(t, 20*time.Second, "out of stock", inStock("false"), onlyID(p.ID))
	t.Logf("stock 0 → in_stock=false in search after %s", took)
	assert.False(t, page.Items[0].InStock)
	assert.True(t, nothing(s.find(t, inStock("true"))))
	assert.True(t, onlyID(p.ID)(s.find(t, searchParams(word))), "without the filter it is found either way")

	setStockEventually(t, p.ID, 4)
	took, page = s.await(t, 20*time.Second, "back in stock", inStock("true"), onlyID(p.ID))
	t.Logf("stock 4 → in_stock=true in search after %s", took)
	assert.True(t, page.Items[0].InStock)
	assert.True(t, nothing(s.find(t, inStock("false"))))

	// Every listed product agrees with the filter.
	for _, v := range []string{"true", "false"} {
		page := s.find(t, searchParams("", "in_stock", v, "page_size", "100"))
		for _, it := range page.Items {
			assert.Equal(t, v == "true", it.InStock, "in_stock=%s lists %s", v, it.SKU)
		}
	}
}

func TestSearchSortsSeededProducts(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	var books []seededProduct
	for _, p := range seededProducts(t) {
		if p.Category == "books" {
			books = append(books, p)
		}
	}
	require.Len(t, books, 8)
	byPrice := slices.Clone(books)
	slices.SortFunc(byPrice, func(a, b seededProduct) int { return int(a.Price.Amount - b.Price.Amount) })
	var asc, desc, newest []string
	for i := range books {
		asc = append(asc, byPrice[i].SKU)
		desc = append(desc, byPrice[len(books)-1-i].SKU)
		newest = append(newest, books[len(books)-1-i].SKU) // the seed is loaded in file order
	}
	order := func(sort string) []string {
		params := searchParams("", "category", "books", "page_size", "100")
		if sort != "" {
			params.Set("sort", sort)
		}
		return seedSKUsOf(s.find(t, params).Items)
	}
	assert.Equal(t, asc, order("price_asc"))
	assert.Equal(t, desc, order("price_desc"))
	assert.Equal(t, newest, order("newest"))
	assert.Equal(t, newest, order(""), "without text, relevance lists the newest first")
	assert.Equal(t, newest, order("relevance"))

	// Over everything (the other tests' products too) the orders hold.
	for _, sort := range []string{"price_asc", "price_desc"} {
		items := s.find(t, searchParams("", "sort", sort, "page_size", "100")).Items
		require.NotEmpty(t, items)
		for i := 1; i < len(items); i++ {
			a, b := items[i-1].Price.Amount, items[i].Price.Amount
			assert.True(t, (sort == "price_asc" && a <= b) || (sort == "price_desc" && a >= b), "%s: %s %d then %s %d", sort, items[i-1].SKU, a, items[i].SKU, b)
		}
	}

	// Relevance: a word in the name outweighs the same word in a description.
	// Only the soundbar has "wireless" in its description alone.
	wireless := skusOf(s.find(t, searchParams("wireless")).Items)
	require.ElementsMatch(t, []string{"AUD-0001", "AUD-0002", "AUD-0008", "HOF-0005"}, wireless)
	assert.Equal(t, "AUD-0008", wireless[len(wireless)-1], "relevance order: %v", wireless)
	steel := skusOf(s.find(t, searchParams("steel")).Items)
	require.NotEmpty(t, steel)
	assert.Equal(t, "KIT-0001", steel[0], "Stainless Steel Kettle has steel in its name: %v", steel)
}

func TestSearchSortsFiltersAndPagesNewProducts(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	w := uniqueWord()
	// Created one after another: a, then b, then c.
	a := createSearchProbe(t, probeBody("Probe "+w+" Alpha", "Sort probe.", 3000))
	b := createSearchProbe(t, probeBody("Probe Bravo", "Sort probe "+w+".", 1000))
	c := createSearchProbe(t, probeBody("Probe "+w+" Charlie", "Sort probe.", 2000))
	s.await(t, 10*time.Second, "the three products are found", searchParams(w), func(p searchPage) bool { return p.Total == 3 })

	order := func(kv ...string) []string { return idsOf(s.find(t, searchParams(w, kv...)).Items) }
	assert.Equal(t, []string{c.ID, a.ID, b.ID}, order(), "relevance: name matches first, ties newest first")
	assert.Equal(t, []string{c.ID, a.ID, b.ID}, order("sort", "relevance"))
	assert.Equal(t, []string{b.ID, c.ID, a.ID}, order("sort", "price_asc"))
	assert.Equal(t, []string{a.ID, c.ID, b.ID}, order("sort", "price_desc"))
	assert.Equal(t, []string{c.ID, b.ID, a.ID}, order("sort", "newest"))

	assert.Equal(t, []string{c.ID, b.ID}, order("sort", "newest", "max_price", "2000"))
	assert.Equal(t, []string{c.ID, a.ID}, order("sort", "newest", "min_price", "2000"))
	assert.Equal(t, []string{c.ID}, order("min_price", "2000", "max_price", "2000"))
	assert.Empty(t, order("category", "toys"))
	assert.Len(t, order("category", "outdoor"), 3)

	// One product a page: every page counts the whole match, the pages
	// follow the order without overlap, and the last has no token.
	params := searchParams(w, "sort", "newest", "page_size", "1")
	var seen []string
	for range 3 {
		p := s.find(t, params)
		require.Len(t, p.Items, 1)
		assert.Equal(t, 3, p.Total)
		assert.Equal(t, map[string]int{"outdoor": 3}, p.Facets.Category)
		assert.Equal(t, map[string]int{"under_25": 2, "25_to_50": 1, "50_to_100": 0, "100_to_200": 0, "200_and_over": 0}, p.Facets.Price)
		seen = append(seen, p.Items[0].ID)
		if len(seen) < 3 {
			require.NotEmpty(t, p.Next)
		} else {
			assert.Empty(t, p.Next)
		}
		params.Set("page_token", p.Next)
	}
	assert.Equal(t, []string{c.ID, b.ID, a.ID}, seen)

	// A token belongs to its search.
	first := s.find(t, searchParams(w, "sort", "newest", "page_size", "1"))
	r := s.raw(t, searchParams(w, "sort", "price_asc", "page_size", "1", "page_token", first.Next))
	p := requireProblem(t, r, http.StatusBadRequest)
	assert.Equal(t, "page_token", fieldOf(p))
}

func fieldOf(p problem) string {
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

// countFacets counts items per category and per price band.
func countFacets(items []product) searchFacets {
	f := searchFacets{Category: map[string]int{}, Price: map[string]int{}}
	for _, b := range searchBands {
		f.Price[b.key] = 0
	}
	for _, it := range items {
		f.Category[it.Category]++
		f.Price[searchBandOf(it.Price.Amount)]++
	}
	return f
}

func TestSearchFacetsCountTheWholeMatch(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)

	steel := s.find(t, searchParams("steel", "page_size", "100"))
	assert.ElementsMatch(t, []string{"KIT-0001", "KIT-0004", "HOF-0004", "HOF-0007", "OUT-0005", "FIT-0005"}, skusOf(steel.Items))
	assert.Equal(t, len(steel.Items), steel.Total)
	assert.Equal(t, countFacets(steel.Items), steel.Facets, "facets are the counts of the matching items")
	assert.Equal(t, map[string]int{"kitchen": 2, "home-office": 2, "outdoor": 1, "fitness": 1}, steel.Facets.Category)

	// A page of one still counts all four matches; paging collects them.
	want := searchFacets{
		Category: map[string]int{"audio": 3, "home-office": 1},
		Price:    map[string]int{"under_25": 0, "25_to_50": 1, "50_to_100": 1, "100_to_200": 0, "200_and_over": 2},
	}
	params := searchParams("wireless", "page_size", "1")
	var all []product
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "paging does not end")
		p := s.find(t, params)
		require.Len(t, p.Items, 1)
		assert.Equal(t, 4, p.Total)
		assert.Equal(t, want, p.Facets)
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		params.Set("page_token", p.Next)
	}
	assert.ElementsMatch(t, []string{"AUD-0001", "AUD-0002", "AUD-0008", "HOF-0005"}, skusOf(all))
	assert.Equal(t, want, countFacets(all))

	// Facets count after the filters.
	audio := s.find(t, searchParams("wireless", "category", "audio"))
	assert.Equal(t, 3, audio.Total)
	assert.Equal(t, map[string]int{"audio": 3}, audio.Facets.Category)
	assert.Equal(t, countFacets(audio.Items), audio.Facets)

	// Everything: one answer's facets add up to its total.
	every := s.find(t, searchParams("", "page_size", "100"))
	require.GreaterOrEqual(t, every.Total, 64)
	sum := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	assert.Equal(t, every.Total, sum(every.Facets.Category))
	assert.Equal(t, every.Total, sum(every.Facets.Price))
	for _, cat := range []string{"audio", "apparel", "books", "fitness", "home-office", "kitchen", "outdoor", "toys"} {
		assert.GreaterOrEqual(t, every.Facets.Category[cat], 8, "category %s", cat)
	}
}

func TestSearchTreatsHostileTextAsText(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	// Query syntax of Lucene, bleve and SQL means nothing: these answer 200.
	for _, q := range []string{
		`name:* OR "`, `*`, `?`, `"unterminated`, `kettle~2`, `kettle^10`, `/ket.*/`, `[a TO z]`, `{!}`, `(kettle`,
		`\`, `+kettle -steel`, `kettle && !steel || ()`, `_id:*`, `price:>0`, `%`, `%25`, `'; DROP TABLE products; --`,
		`<script>alert(1)</script>`, `{{.}}`, `${jndi:ldap://x}`, "\u202ekettle", strings.Repeat("kettle ", 28),
	} {
		r := s.raw(t, searchParams(q))
		require.Equal(t, http.StatusOK, r.Status, "q=%q: %s", q, r.Body)
		decodeSearchPage(t, r)
	}
	// Operators are words, not operators.
	assert.True(t, nothing(s.find(t, searchParams("*"))), "no word: nothing matches")
	assert.True(t, nothing(s.find(t, searchParams("!!!"))), "no word: nothing matches")
	assert.True(t, nothing(s.find(t, searchParams("kettle OR skillet"))), "OR is a word: both must match")
	assert.Contains(t, skusOf(s.find(t, searchParams("-steel kettle")).Items), "KIT-0001", "- does not exclude")
	assert.Equal(t, "KIT-0001", s.find(t, searchParams(`"stainless steel kettle"*`)).Items[0].SKU)

	// Bytes that are not text, and long texts: 200 or a 400 problem, never a 5xx.
	hostile := []struct{ name, q string }{
		{"NUL and control bytes", "kettle\x00\x01\x1b[31m"},
		{"invalid UTF-8", "\xff\xfe\xfdkettle"},
		{"200 distinct words", func() string {
			var b strings.Builder
			for i := range 200 {
				fmt.Fprintf(&b, "w%dx ", i)
			}
			return b.String()
		}()},
		{"one 10 kB word", strings.Repeat("k", 10<<10)},
		{"10 kB of words", strings.Repeat("stainless kettle ", 10<<10/17)},
		{"10 kB of query syntax", strings.Repeat(`name:* OR " `, 10<<10/12)},
		{"10 kB of quotes", strings.Repeat(`"`, 10<<10)},
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			r := s.raw(t, searchParams(h.q))
			switch r.Status {
			case http.StatusOK:
				decodeSearchPage(t, r)
			case http.StatusBadRequest:
				requireProblem(t, r, http.StatusBadRequest)
			default:
				t.Errorf("q of %d bytes (%d URL-encoded): status %d, want 200 or 400: %s", len(h.q), len(url.QueryEscape(h.q)), r.Status, r.Body)
			}
			// The same text through GraphQL: data, or a bad-input error.
			g := s.call(t, http.MethodPost, "/graphql", map[string]any{
				"query": `query($q: String) { search(q: $q) { total } }`, "variables": map[string]any{"q": h.q},
			})
			require.Less(t, g.Status, 500, "graphql: %s", g.Body)
			var out struct {
				Errors []struct {
					Extensions struct {
						Code string `json:"code"`
					} `json:"extensions"`
				} `json:"errors"`
			}
			g.decode(t, &out)
			for _, e := range out.Errors {
				assert.Contains(t, []string{"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, e.Extensions.Code, "graphql: %s", g.Body)
			}
		})
	}
	// Search still answers after all that.
	assert.Equal(t, []string{"KIT-0001"}, skusOf(s.find(t, searchParams("stainles kettel")).Items))
}

func TestSearchRefusesBadParameters(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	cases := []struct {
		query string
		field string
	}{
		{"min_price=abc", "min_price"},
		{"max_price=1.5", "max_price"},
		{"min_price=-1", "min_price"},
		{"max_price=100000000001", "max_price"},
		{"min_price=500&max_price=499", "max_price"},
		{"sort=bogus", "sort"},
		{"sort=PRICE_ASC", "sort"},
		{"in_stock=maybe", "in_stock"},
		{"page_size=0", "page_size"},
		{"page_size=101", "page_size"},
		{"page_size=ten", "page_size"},
		{"category=" + url.QueryEscape("bad id!"), "category"},
		{"category=" + strings.Repeat("x", 65), "category"},
		{"page_token=garbage", "page_token"},
		{"page_token=" + url.QueryEscape("djF8MXx4"), "page_token"},
	}
	for _, c := range cases {
		r := s.call(t, http.MethodGet, "/api/v1/search?q=kettle&"+c.query, nil)
		p := requireProblem(t, r, http.StatusBadRequest)
		require.NotEmpty(t, p.Errors, "%s: %s", c.query, r.Body)
		assert.Equal(t, c.field, p.Errors[0].Field, "%s: %s", c.query, r.Body)
	}
	// A query string longer than the sidecars take (daprd reads 4 KiB of
	// request line and headers) is refused as the client's to shorten, not
	// answered as an outage.
	for _, q := range []string{"category=" + strings.Repeat("x", 20<<10), strings.Repeat("sort=newest&", 2000)} {
		requireProblem(t, s.call(t, http.MethodGet, "/api/v1/search?q=kettle&"+q, nil), http.StatusBadRequest)
	}
	// Parameters the search does not know are not passed on, nor refused.
	page := s.find(t, searchParams("kettle", "debug", "true", "explain", "1"))
	assert.Contains(t, skusOf(page.Items), "KIT-0001")
}

// searchGraphQL runs the GraphQL search and returns its result as REST's
// answer would be, with the facets' list turned back into maps.
func (s searcher) searchGraphQL(t *testing.T, args string, vars map[string]any) searchPage {
	t.Helper()
	query := `query($q: String, $c: String, $min: Int, $max: Int, $st: Boolean, $sort: SearchSort, $n: Int, $tok: String) {
	  search(q: $q, category: $c, minPrice: $min, maxPrice: $max, inStock: $st, sort: $sort, pageSize: $n, pageToken: $tok) {
	    items { id sku name description category price { amount currency } imageUrl inStock }
	    total
	    facets { name buckets { value count } }
	    nextPageToken
	  }
	}`
	r := s.call(t, http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars})
	require.Equal(t, http.StatusOK, r.Status, "%s: %s", args, r.Body)
	var out struct {
		Data struct {
			Search struct {
				Items []struct {
					product
					ImageURL string `json:"imageUrl"`
					InStock  bool   `json:"inStock"`
				} `json:"items"`
				Total  int `json:"total"`
				Facets []struct {
					Name    string `json:"name"`
					Buckets []struct {
						Value string `json:"value"`
						Count int    `json:"count"`
					} `json:"buckets"`
				} `json:"facets"`
				Next *string `json:"nextPageToken"`
			} `json:"search"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	r.decode(t, &out)
	require.Empty(t, out.Errors, "%s: %s", args, r.Body)
	g := out.Data.Search
	page := searchPage{Total: g.Total, Facets: searchFacets{}}
	for _, it := range g.Items {
		p := it.product
		p.ImageURL, p.InStock = it.ImageURL, it.InStock
		page.Items = append(page.Items, p)
	}
	for _, f := range g.Facets {
		m := map[string]int{}
		for _, b := range f.Buckets {
			m[b.Value] = b.Count
		}
		switch f.Name {
		case "category":
			page.Facets.Category = m
		case "price":
			page.Facets.Price = m
		default:
			t.Errorf("%s: unexpected facet %q", args, f.Name)
		}
	}
	if g.Next != nil {
		require.NotEmpty(t, *g.Next, "nextPageToken is null, not empty, on the last page")
		page.Next = *g.Next
	}
	return page
}

func TestSearchGraphQLMatchesREST(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	cases := []struct {
		rest url.Values
		vars map[string]any
	}{
		{searchParams("wireless", "page_size", "2"), map[string]any{"q": "wireless", "n": 2}},
		{searchParams("stainles kettel"), map[string]any{"q": "stainles kettel"}},
		{searchParams("", "category", "books", "sort", "price_desc", "max_price", "3000"),
			map[string]any{"c": "books", "sort": "PRICE_DESC", "max": 3000}},
		{searchParams("steel", "sort", "price_asc", "min_price", "2000", "in_stock", "true"),
			map[string]any{"q": "steel", "sort": "PRICE_ASC", "min": 2000, "st": true}},
	}
	for _, c := range cases {
		rest := s.find(t, c.rest)
		require.NotEmpty(t, rest.Items, "%s", c.rest.Encode())
		gql := s.searchGraphQL(t, c.rest.Encode(), c.vars)
		assert.Equal(t, idsOf(rest.Items), idsOf(gql.Items), "%s: the same products in the same order", c.rest.Encode())
		assert.Equal(t, rest, gql, "%s", c.rest.Encode())
	}
	// The next page through GraphQL is REST's next page.
	first := s.find(t, searchParams("wireless", "page_size", "2"))
	require.NotEmpty(t, first.Next)
	second := s.find(t, searchParams("wireless", "page_size", "2", "page_token", first.Next))
	gql := s.searchGraphQL(t, "page 2", map[string]any{"q": "wireless", "n": 2, "tok": first.Next})
	assert.Equal(t, idsOf(second.Items), idsOf(gql.Items))
}

func TestSearchReindexIsForAdminsAndKeepsAnswering(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	word := uniqueWord()
	p := createSearchProbe(t, probeBody("Search Probe "+word+" Compass", "A compass the search tests rebuild.", 1800))
	s.await(t, 10*time.Second, "the probe is found", searchParams(word), onlyID(p.ID))

	requireProblem(t, s.call(t, http.MethodPost, "/api/v1/search/reindex", nil), http.StatusUnauthorized)
	c := newCustomer(t, "searchreindex")
	requireProblem(t, c.do(t, http.MethodPost, "/api/v1/search/reindex", nil), http.StatusForbidden)

	r := call(t, http.MethodPost, gateway+"/api/v1/search/reindex", nil, asAdmin(t)...)
	require.Equal(t, http.StatusAccepted, r.Status, "reindex: %s", r.Body)
	var run struct {
		State     string    `json:"state"`
		StartedAt time.Time `json:"started_at"`
		Attempts  int       `json:"attempts"`
	}
	r.decode(t, &run)
	assert.Contains(t, []string{"running", "done"}, run.State)
	assert.WithinDuration(t, time.Now(), run.StartedAt, time.Minute)

	// Searches keep answering from the old index while the new one is
	// built, and the new one has the catalog's products.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		assert.True(t, onlyID(p.ID)(s.find(t, searchParams(word))), "the probe is found during and after the rebuild")
		assert.Equal(t, []string{"KIT-0001"}, skusOf(s.find(t, searchParams("stainles kettel")).Items))
		time.Sleep(100 * time.Millisecond)
	}
}

// searchIndexDir is the search app's bleve directory: SEARCH_DATA_DIR of
// dapr/dapr.yaml, else its default, relative to the app's directory.
func searchIndexDir(t *testing.T) string {
	t.Helper()
	root := repoRoot()
	tmpl, err := stack.LoadTemplate(filepath.Join(root, "dapr", "dapr.yaml"))
	require.NoError(t, err)
	spec, err := tmpl.App("search")
	require.NoError(t, err)
	dir := spec.Env["SEARCH_DATA_DIR"]
	if dir == "" {
		dir = os.Getenv("SEARCH_DATA_DIR") // the runner passes its environment on
	}
	if dir == "" {
		dir = "../../.local/data/search"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(spec.Dir, dir)
	}
	dir = filepath.Clean(dir)
	require.FileExists(t, filepath.Join(dir, "CURRENT"), "the search index lives in %s", dir)
	return dir
}

func liveIndex(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	require.NoError(t, err)
	name := strings.TrimSpace(string(b))
	require.DirExists(t, filepath.Join(dir, name))
	return name
}

// searchLogSince returns the JSON records of the search app's log (the
// stack's .local/logs/search.log) from byte offset on, and the log's size;
// offset -1 returns the size alone.
func searchLogSince(t *testing.T, offset int64) (msgs []map[string]any, size int64) {
	t.Helper()
	l, err := stack.NewLayout(repoRoot())
	require.NoError(t, err)
	data, err := os.ReadFile(l.LogFile("search", stack.RoleApp))
	require.NoError(t, err)
	if offset < 0 || offset > int64(len(data)) {
		return nil, int64(len(data))
	}
	sc := bufio.NewScanner(bytes.NewReader(data[offset:]))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			msgs = append(msgs, rec)
		}
	}
	return msgs, int64(len(data))
}

func logMessages(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		if m, ok := r["msg"].(string); ok && m != "http request" {
			out = append(out, m)
		}
	}
	return out
}

// restartSearch kills the search app (SIGKILL, as a crash), runs after (if
// any) while it is down, then lets the runner start it again while polling
// the gateway with params. The runner waits for the app's /readyz only, not
// for its sidecar, so the gateway may answer 503 a little longer: the first
// answer that is not a 503 is returned, with how many answers of each kind
// came meanwhile (each must be 200 or a 503 problem).
func restartSearch(t *testing.T, s searcher, params url.Values, after func()) (response, map[string]int) {
	t.Helper()
	kill9(t, "search", stack.RoleApp)
	down := s.raw(t, params)
	requireProblem(t, down, http.StatusServiceUnavailable)
	if after != nil {
		after()
	}
	root := repoRoot()
	up := exec.Command(filepath.Join(root, ".local", "bin", "runner"), "up")
	up.Dir = root
	var out bytes.Buffer
	up.Stdout, up.Stderr = &out, &out
	require.NoError(t, up.Start())
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	start := time.Now()
	seen := map[string]int{}
	var upDone time.Time
	for {
		if upDone.IsZero() {
			select {
			case err := <-done:
				require.NoError(t, err, "runner up: %s", out.String())
				upDone = time.Now()
				t.Logf("runner up took %s", upDone.Sub(start).Round(time.Millisecond))
			default:
			}
		}
		r := s.raw(t, params)
		if r.Status != http.StatusServiceUnavailable && !upDone.IsZero() {
			t.Logf("the gateway reached search %s after the runner was done; answers meanwhile: %v",
				time.Since(upDone).Round(time.Millisecond), seen)
			return r, seen
		}
		kind := fmt.Sprint(r.Status)
		if r.Status != http.StatusOK {
			requireProblem(t, r, http.StatusServiceUnavailable)
			if ra := r.Header.Get("Retry-After"); ra != "" {
				kind += " Retry-After: " + ra
			}
		}
		seen[kind]++
		require.Less(t, time.Since(start), 3*time.Minute, "search is not reachable through the gateway: %s", r.Body)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSearchRestartKeepsTheIndex(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	dir := searchIndexDir(t)
	word := uniqueWord()
	p := createSearchProbe(t, probeBody("Search Probe "+word+" Tent Peg", "A tent peg that survives restarts.", 650))
	s.await(t, 10*time.Second, "the probe is found", searchParams(word), onlyID(p.ID))
	before := liveIndex(t, dir)
	_, offset := searchLogSince(t, -1)

	r, _ := restartSearch(t, s, searchParams(word), nil)
	require.Equal(t, http.StatusOK, r.Status, "search answers once the runner is done: %s", r.Body)
	assert.True(t, onlyID(p.ID)(decodeSearchPage(t, r)), "the product created before the crash is found right away: %s", r.Body)
	assert.Equal(t, []string{"KIT-0001"}, skusOf(s.find(t, searchParams("stainles kettel")).Items))

	assert.Equal(t, before, liveIndex(t, dir), "the same index is live: nothing was rebuilt")
	recs, _ := searchLogSince(t, offset)
	msgs := logMessages(recs)
	assert.Contains(t, msgs, "search index on local disk", "the log covers the new start")
	assert.NotContains(t, msgs, "no usable search index; rebuilding it from the catalog")
	assert.NotContains(t, msgs, "search index rebuilt")
	assert.NotContains(t, msgs, "no usable search index on disk")

	// And it still follows the catalog.
	newWord := uniqueWord()
	body := probeBody("Search Probe "+newWord+" Tent Peg", "A tent peg that survives restarts.", 650)
	body["sku"] = p.SKU
	require.Equal(t, http.StatusOK, call(t, http.MethodPut, gateway+"/api/v1/products/"+p.ID, body, asAdmin(t)...).Status)
	s.await(t, 10*time.Second, "the rename after the restart is found", searchParams(newWord), onlyID(p.ID))
}

func TestSearchRebuildsADeletedIndex(t *testing.T) {
	requireStack(t)
	s := newSearcher(t)
	dir := searchIndexDir(t)
	word := uniqueWord()
	p := createSearchProbe(t, probeBody("Search Probe "+word+" Kayak", "A kayak the rebuild must bring back.", 33300))
	s.await(t, 10*time.Second, "the probe is found", searchParams(word), onlyID(p.ID))
	before := liveIndex(t, dir)
	_, offset := searchLogSince(t, -1)

	r, seen := restartSearch(t, s, searchParams("stainles kettel"), func() {
		require.NoError(t, os.RemoveAll(dir))
		require.NoDirExists(t, dir)
	})
	t.Logf("while search was down or rebuilding the gateway answered %v", seen)
	require.Equal(t, http.StatusOK, r.Status, "search answers once the runner is done: %s", r.Body)
	assert.Equal(t, []string{"KIT-0001"}, skusOf(decodeSearchPage(t, r).Items))

	// Every seeded product is back, and so is the one made through the API.
	seeded := map[string]bool{}
	params := searchParams("", "page_size", "100")
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "paging does not end")
		page := s.find(t, params)
		for _, sku := range seedSKUsOf(page.Items) {
			seeded[sku] = true
		}
		if page.Next == "" {
			break
		}
		params.Set("page_token", page.Next)
	}
	for _, sp := range seededProducts(t) {
		assert.True(t, seeded[sp.SKU], "seeded %s is in the rebuilt index", sp.SKU)
	}
	assert.True(t, onlyID(p.ID)(s.find(t, searchParams(word))), "the product created through the API is rebuilt from the catalog")

	after := liveIndex(t, dir)
	assert.NotEqual(t, before, after, "a new index was built")
	recs, _ := searchLogSince(t, offset)
	msgs := logMessages(recs)
	assert.Contains(t, msgs, "no usable search index; rebuilding it from the catalog")
	assert.Contains(t, msgs, "search index rebuilt")
	for _, rec := range recs {
		if rec["msg"] == "search index rebuilt" {
			n, _ := rec["products"].(float64)
			assert.GreaterOrEqual(t, int(n), 64, "the rebuild read the whole catalog: %v", rec)
		}
	}
}
