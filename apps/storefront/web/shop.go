package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
)

// Patterns of what the API accepts as a category id and a page token;
// anything else is answered here without a call.
var (
	categoryPattern  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$`)
	pageTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,512}$`)
)

// validID reports whether id can be a product or order id (a UUID); the
// API answers 404 for anything else, so the storefront does too, without asking.
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// listingPageSize is how many products a category page shows.
const listingPageSize = 24

type homeContent struct {
	Categories []gateway.Category
	Featured   []gateway.Product
}

// home shows the categories and, as featured products, the first product of
// each category in the catalog's own order (by name): real products from
// every category, since the API has no editorial "featured" list. A
// category whose call fails is left out rather than failing the page.
func (h *Handler) home(c *gin.Context) {
	cats, err := h.api.Categories(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	featured := make([]*gateway.Product, len(cats))
	var g errgroup.Group
	g.SetLimit(4)
	for i, cat := range cats {
		g.Go(func() error {
			pg, err := h.api.Products(c, cat.ID, 1, "")
			if err != nil {
				h.log.WarnContext(c, "featured products of a category", "category", cat.ID, "err", err)
				return nil
			}
			if len(pg.Items) > 0 {
				featured[i] = &pg.Items[0]
			}
			return nil
		})
	}
	_ = g.Wait()
	content := homeContent{Categories: cats}
	for _, p := range featured {
		if p != nil {
			content.Featured = append(content.Featured, *p)
		}
	}
	h.render(c, http.StatusOK, "home", "", content)
}

type listingContent struct {
	Category gateway.Category
	Products []gateway.Product
	Next     string // the next page's URL, "" on the last
	First    string // the first page's URL, "" on it
}

func (h *Handler) category(c *gin.Context) {
	id := c.Param("category")
	token := c.Query("page_token")
	if !categoryPattern.MatchString(id) || (token != "" && !pageTokenPattern.MatchString(token)) {
		h.notFound(c)
		return
	}
	cat, ok, err := h.findCategory(c, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !ok {
		h.notFound(c)
		return
	}
	pg, err := h.api.Products(c, id, listingPageSize, token)
	if gateway.StatusOf(err) == http.StatusBadRequest && token != "" {
		// A page token from another listing or a garbled link.
		h.errorPage(c, http.StatusBadRequest, "This page link no longer works",
			"Start again from the first page of "+cat.Name+".", 0)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	base := "/c/" + url.PathEscape(id)
	content := listingContent{Category: cat, Products: pg.Items}
	if pg.NextPageToken != "" {
		content.Next = base + "?page_token=" + url.QueryEscape(pg.NextPageToken)
	}
	if token != "" {
		content.First = base
	}
	h.render(c, http.StatusOK, "category", cat.Name, content)
}

// findCategory looks a category up in the catalog's list.
func (h *Handler) findCategory(ctx context.Context, id string) (gateway.Category, bool, error) {
	cats, err := h.api.Categories(ctx)
	if err != nil {
		return gateway.Category{}, false, err
	}
	for _, cat := range cats {
		if cat.ID == id {
			return cat, true, nil
		}
	}
	return gateway.Category{}, false, nil
}

// productNotices are the messages a product page shows after a failed add.
var productNotices = map[string]string{
	"limit":    "That would be more than the cart takes: at most 100 of a product, and at most 50 different products.",
	"currency": "This product is priced in a currency the shop does not sell in, so it cannot go in the cart.",
}

type productContent struct {
	Product  gateway.Product
	Category gateway.Category
	Notice   string
}

// productParam fetches the product the route's :id names. When it cannot
// (a malformed id: 404; the gateway's error: its page) it has answered, and
// ok is false.
func (h *Handler) productParam(c *gin.Context) (p gateway.Product, ok bool) {
	id := c.Param("id")
	if !validID(id) {
		h.notFound(c)
		return p, false
	}
	p, err := h.api.Product(c, id)
	if err != nil {
		h.fail(c, err)
		return p, false
	}
	return p, true
}

func (h *Handler) product(c *gin.Context) {
	p, ok := h.productParam(c)
	if !ok {
		return
	}
	cat, ok, err := h.findCategory(c, p.Category)
	if err != nil || !ok {
		cat = gateway.Category{ID: p.Category, Name: p.Category}
	}
	h.render(c, http.StatusOK, "product", p.Name, productContent{Product: p, Category: cat, Notice: productNotices[c.Query("notice")]})
}

// Search parameters, as the search API takes them.
const (
	maxQueryRunes  = 200
	searchPageSize = 24
	suggestions    = 6
)

// sorts are the search API's orders, in the order the page offers them.
var sorts = []struct{ Value, Label string }{
	{"relevance", "Best match"},
	{"price_asc", "Price: low to high"},
	{"price_desc", "Price: high to low"},
	{"newest", "Newest first"},
}

// bands are the search API's price bands, in minor units: [Min, Max), Max 0
// unbounded. The filter sends them as the inclusive min_price and max_price.
var bands = []struct {
	Key      string
	Min, Max int64
}{
	{"under_25", 0, 2500},
	{"25_to_50", 2500, 5000},
	{"50_to_100", 5000, 10000},
	{"100_to_200", 10000, 20000},
	{"200_and_over", 20000, 0},
}

// searchParams is a search as the page's URL states it.
type searchParams struct {
	Q, Category, Sort, PageToken string
	MinPrice, MaxPrice           *int64
}

func parseSearch(c *gin.Context) searchParams {
	p := searchParams{Q: strings.TrimSpace(c.Query("q"))}
	if utf8.RuneCountInString(p.Q) > maxQueryRunes {
		p.Q = string([]rune(p.Q)[:maxQueryRunes])
	}
	if cat := c.Query("category"); categoryPattern.MatchString(cat) {
		p.Category = cat
	}
	for _, s := range sorts {
		if c.Query("sort") == s.Value {
			p.Sort = s.Value
		}
	}
	if tok := c.Query("page_token"); pageTokenPattern.MatchString(tok) {
		p.PageToken = tok
	}
	price := func(name string) *int64 {
		n, err := strconv.ParseInt(c.Query(name), 10, 64)
		if err != nil || n < 0 || n > 100_000_000_000 {
			return nil
		}
		return &n
	}
	p.MinPrice, p.MaxPrice = price("min_price"), price("max_price")
	if p.MinPrice != nil && p.MaxPrice != nil && *p.MinPrice > *p.MaxPrice {
		p.MinPrice, p.MaxPrice = nil, nil
	}
	return p
}

// url returns the search page's URL for p; facets and sorts change a copy
// of p, and any change starts again from the first page.
func (p searchParams) url() string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("q", p.Q)
	set("category", p.Category)
	if p.MinPrice != nil {
		q.Set("min_price", strconv.FormatInt(*p.MinPrice, 10))
	}
	if p.MaxPrice != nil {
		q.Set("max_price", strconv.FormatInt(*p.MaxPrice, 10))
	}
	set("sort", p.Sort)
	set("page_token", p.PageToken)
	if len(q) == 0 {
		return "/search"
	}
	return "/search?" + q.Encode()
}

type facetLink struct {
	Label  string
	Count  int
	URL    string // "" when following it would find nothing
	Active bool   // the filter is on; URL removes it
}

type searchContent struct {
	Params       searchParams
	Result       gateway.SearchResult
	CloseMatches string // the words found only as close matches, "" when all matched as typed
	Categories   []facetLink
	Prices       []facetLink
	Sorts        []struct {
		Value, Label string
		Selected     bool
	}
	Next, First string
	Refused     string // why the search API refused the search
}

func (h *Handler) search(c *gin.Context) {
	p := parseSearch(c)
	res, err := h.api.Search(c, gateway.SearchQuery{
		Q: p.Q, Category: p.Category, MinPrice: p.MinPrice, MaxPrice: p.MaxPrice,
		Sort: p.Sort, PageSize: searchPageSize, PageToken: p.PageToken,
	})
	var ge *gateway.Error
	content := searchContent{Params: p}
	switch {
	case err == nil:
		content.Result = res
	case errors.As(err, &ge) && ge.Status == http.StatusBadRequest:
		content.Refused = refusal(ge)
	default:
		h.fail(c, err)
		return
	}
	cats, err := h.api.Categories(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	content.CloseMatches = strings.Join(closeMatches(p.Q, res.Items), " ")
	content.Categories = categoryFacets(p, cats, res.Facets.Category)
	content.Prices = priceFacets(p, res)
	for _, s := range sorts {
		content.Sorts = append(content.Sorts, struct {
			Value, Label string
			Selected     bool
		}{s.Value, s.Label, s.Value == p.Sort || (p.Sort == "" && s.Value == "relevance")})
	}
	if res.NextPageToken != "" {
		next := p
		next.PageToken = res.NextPageToken
		content.Next = next.url()
	}
	if p.PageToken != "" {
		first := p
		first.PageToken = ""
		content.First = first.url()
	}
	title := "All products"
	if p.Q != "" {
		title = "Search results for “" + p.Q + "”"
	}
	h.render(c, http.StatusOK, "search", title, content)
}

// refusal explains a search the API refused, from the fields it named.
func refusal(ge *gateway.Error) string {
	for _, f := range ge.Problem.Errors {
		if f.Field == "page_token" {
			return "This page of results is no longer available. Start again from the first page."
		}
	}
	return "We could not run that search: " + sentence(ge.Problem.Detail)
}

func categoryFacets(p searchParams, cats []gateway.Category, counts map[string]int) []facetLink {
	var out []facetLink
	for _, cat := range cats {
		n, ok := counts[cat.ID]
		if !ok {
			continue
		}
		f := p
		f.PageToken = ""
		active := p.Category == cat.ID
		if active {
			f.Category = ""
		} else {
			f.Category = cat.ID
		}
		out = append(out, facetLink{Label: cat.Name, Count: n, URL: f.url(), Active: active})
	}
	return out
}

func priceFacets(p searchParams, res gateway.SearchResult) []facetLink {
	cur := "USD"
	if len(res.Items) > 0 {
		cur = res.Items[0].Price.Currency
	}
	var out []facetLink
	for _, b := range bands {
		var label string
		switch {
		case b.Min == 0:
			label = "Under " + formatAmount(b.Max, cur, true)
		case b.Max == 0:
			label = formatAmount(b.Min, cur, true) + " and over"
		default:
			label = formatAmount(b.Min, cur, true) + " to " + formatAmount(b.Max, cur, true)
		}
		var lo, hi *int64
		if b.Min > 0 {
			lo = &b.Min
		}
		if b.Max > 0 {
			v := b.Max - 1
			hi = &v
		}
		active := eqPtr(p.MinPrice, lo) && eqPtr(p.MaxPrice, hi)
		f := p
		f.PageToken = ""
		if active {
			f.MinPrice, f.MaxPrice = nil, nil
		} else {
			f.MinPrice, f.MaxPrice = lo, hi
		}
		link := facetLink{Label: label, Count: res.Facets.Price[b.Key], Active: active}
		if active || link.Count > 0 {
			link.URL = f.url()
		}
		out = append(out, link)
	}
	return out
}

func eqPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// fold lower-cases s and drops accents, as the search service matches
// words (Kéttle = kettle).
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// optionalWords are the search's English stop words of four or more
// letters (Lucene's list): a query need not match them at all.
var optionalWords = map[string]bool{
	"into": true, "such": true, "that": true, "their": true, "then": true, "there": true,
	"these": true, "they": true, "this": true, "will": true, "with": true,
}

// words splits folded text into its words.
func words(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// closeMatches returns the words of q that no item holds as typed: the
// search forgave a typo in them. As the search matches, a word counts as
// typed when an item has it, and the last word also when it starts one
// (search as you type). Words under four letters get no typo tolerance, so
// they are never among them.
func closeMatches(q string, items []gateway.Product) []string {
	if len(items) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, p := range items {
		for _, w := range words(p.Name + " " + p.Description + " " + p.Category) {
			seen[w] = true
		}
	}
	qw := words(q)
	var out []string
	for i, w := range qw {
		if utf8.RuneCountInString(w) < 4 || optionalWords[w] || seen[w] {
			continue
		}
		if i == len(qw)-1 && hasPrefixed(seen, w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func hasPrefixed(set map[string]bool, prefix string) bool {
	for w := range set {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// suggestion is one entry of the search box's list.
type suggestion struct {
	Name  string `json:"name"`
	Price string `json:"price"`
	URL   string `json:"url"`
}

// suggest answers the search box's suggestions as small JSON: the first
// matches of what was typed so far (the search API matches the last word
// as a prefix). A failure is an empty list; the box still submits.
func (h *Handler) suggest(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	out := struct {
		Items []suggestion `json:"items"`
	}{Items: []suggestion{}}
	if utf8.RuneCountInString(q) < 2 || utf8.RuneCountInString(q) > maxQueryRunes {
		c.JSON(http.StatusOK, out)
		return
	}
	res, err := h.api.Search(c, gateway.SearchQuery{Q: q, PageSize: suggestions})
	if err != nil {
		h.log.WarnContext(c, "search suggestions", "err", err)
		c.JSON(http.StatusOK, out)
		return
	}
	for _, p := range res.Items {
		out.Items = append(out.Items, suggestion{Name: p.Name, Price: formatMoney(p.Price), URL: "/p/" + url.PathEscape(p.ID)})
	}
	c.JSON(http.StatusOK, out)
}
