package fuzz

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// world is what the generator knows of the stack: the identities' tokens
// and the ids it may use. Requests that change state only ever touch what
// the fuzzer created itself (owned products, its customer's orders and
// addresses), never the catalog's own products.
type world struct {
	mu         sync.Mutex
	tokens     map[string]string // identity → access token ("" for anonymous)
	categories []string
	products   []string // the catalog's products: read only
	owned      []string // products the fuzzer created
	orders     []string
	addresses  []string
	idemKeys   []string // Idempotency-Keys already sent
}

func (w *world) add(list *[]string, id string) {
	if id == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(*list) < 500 {
		*list = append(*list, id)
	}
}

func (w *world) pick(r *rand.Rand, lists ...*[]string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var all []string
	for _, l := range lists {
		all = append(all, *l...)
	}
	if len(all) == 0 {
		return ""
	}
	return all[r.IntN(len(all))]
}

// touchesCatalog reports whether a request that may change state names a
// product of the catalog's own (in any spelling the services accept), which
// the fuzzer must never change: a last guard against generator bugs.
func (w *world) touchesCatalog(rq *request) bool {
	write := rq.method != http.MethodGet && rq.method != http.MethodHead
	if rq.kind == "graphql" {
		var body struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(rq.body, &body) == nil {
			write = strings.HasPrefix(strings.TrimSpace(body.Query), "mutation")
		} else {
			write = bytes.Contains(rq.body, []byte("mutation "))
		}
	}
	if !write {
		return false
	}
	text := string(rq.body)
	if len(text) > 16<<10 {
		text = text[:16<<10]
	}
	text = strings.ToLower(strings.ReplaceAll(rq.path+" "+rq.query+" "+text, "-", ""))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range w.products {
		if strings.Contains(text, strings.ReplaceAll(id, "-", "")) {
			return true
		}
	}
	return false
}

func (w *world) ownedProducts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.owned...)
}

// gen generates one request. Every request has its own random source,
// seeded with the run's seed and the request's number, so the same seed
// generates the same requests (ids learnt from answers aside).
type gen struct {
	r         *rand.Rand
	w         *world
	seq       string // unique per request: seed and number
	index     int
	skuPrefix string
	route     string // the path template, to tell whose id a parameter is
	write     bool   // the request may change state: use owned ids only
	n         int    // counts values made, for unique names
}

func newGen(seed uint64, index int, w *world) *gen {
	return &gen{
		r:         rand.New(rand.NewPCG(seed, uint64(index))),
		w:         w,
		seq:       fmt.Sprintf("%d-%d", seed%100000, index),
		index:     index,
		skuPrefix: skuPrefix(seed),
	}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// identity picks who sends a request: anonymous callers less often where a
// token is required, since the gateway turns them away before any service.
func (g *gen) identity(need authNeed) string {
	if need == authRequired {
		return pick(g, "anonymous", "customer", "customer", "customer", "admin", "admin")
	}
	return pick(g, "anonymous", "anonymous", "customer", "customer", "customer", "admin", "admin")
}

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

func (g *gen) uuid() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (g *gen) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var words = []string{"mug", "kettle", "stainles", "kettel", "lamp", "chair", "tea", "coffee", "steel",
	"headphones", "desk", "enamel", "wireless", "cotton", "shirt", "book", "garden", "kitchen", "audio"}

func (g *gen) words(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = words[g.r.IntN(len(words))]
	}
	return strings.Join(out, " ")
}

func (g *gen) email() string {
	g.n++
	return fmt.Sprintf("fuzz-%s-%d-%d@fuzz.shopmesh.dev", g.seq, g.n, g.r.IntN(1e6))
}

// productID is a product to use: for a write one the fuzzer owns, for a
// read any; now and then an id nobody has.
func (g *gen) productID() string {
	if g.chance(0.1) {
		return g.uuid()
	}
	var id string
	if g.write {
		id = g.w.pick(g.r, &g.w.owned)
	} else {
		id = g.w.pick(g.r, &g.w.products, &g.w.owned)
	}
	if id == "" {
		return g.uuid()
	}
	return id
}

func (g *gen) orderID() string {
	if id := g.w.pick(g.r, &g.w.orders); id != "" && g.chance(0.8) {
		return id
	}
	return g.uuid()
}

func (g *gen) addressID() string {
	if id := g.w.pick(g.r, &g.w.addresses); id != "" && g.chance(0.8) {
		return id
	}
	return g.uuid()
}

// id is a value for an id named name on the current route.
func (g *gen) id(name string) string {
	switch {
	case name == "order_id" || name == "orderId" || (name == "id" && strings.Contains(g.route, "order")):
		return g.orderID()
	case name == "id" && strings.Contains(g.route, "address"):
		return g.addressID()
	default:
		return g.productID()
	}
}

func (g *gen) category() string {
	if c := g.w.pick(g.r, &g.w.categories); c != "" && g.chance(0.9) {
		return c
	}
	return pick(g, "kitchen", "audio", "no-such-category")
}

// valid is a value for s that should pass validation, named name.
func (g *gen) valid(name string, s *schema, depth int) any {
	if s == nil {
		return g.words(1)
	}
	if len(s.enum) > 0 {
		return s.enum[g.r.IntN(len(s.enum))]
	}
	switch s.typ() {
	case "object":
		m := map[string]any{}
		if depth > 4 {
			return m
		}
		for _, k := range s.order {
			if s.isRequired[k] || g.chance(0.6) {
				m[k] = g.valid(k, s.props[k], depth+1)
			}
		}
		return m
	case "array":
		out := []any{}
		for range g.r.IntN(3) {
			out = append(out, g.valid(name, s.items, depth+1))
		}
		return out
	case "integer":
		return g.integer(name, s)
	case "number":
		return float64(g.integer(name, s)) + 0.5
	case "boolean":
		return g.chance(0.5)
	default:
		return g.str(name, s)
	}
}

func (g *gen) integer(name string, s *schema) int64 {
	lo, hi := int64(0), int64(1000)
	switch name {
	case "quantity":
		lo, hi = 1, 3
	case "amount":
		lo, hi = 100, 100000
	case "min_price", "minPrice":
		lo, hi = 0, 5000
	case "max_price", "maxPrice":
		lo, hi = 5000, 100000
	case "page_size", "pageSize":
		lo, hi = 1, 100
	}
	if s != nil && s.min != nil && int64(*s.min) > lo {
		lo = int64(*s.min)
	}
	if s != nil && s.max != nil && int64(*s.max) < hi {
		hi = int64(*s.max)
	}
	if hi < lo {
		hi = lo
	}
	return lo + g.r.Int64N(hi-lo+1)
}

// str is a valid-looking string for a field or parameter named name.
func (g *gen) str(name string, s *schema) string {
	if s == nil {
		s = &schema{}
	}
	var v string
	switch {
	case s.format == "uuid" || name == "id" || name == "product_id" || name == "order_id":
		return g.id(name)
	case s.format == "email" || name == "email":
		return g.email()
	case name == "password":
		return "fuzz-pass-" + g.token(8)
	case s.format == "uri" || strings.HasSuffix(name, "_url"):
		v = fmt.Sprintf("https://images.shopmesh.dev/products/fuzz-%s.jpg", g.seq)
	case s.format == "date-time":
		v = time.Now().UTC().Format(time.RFC3339)
	case name == "category":
		v = g.category()
	case name == "country":
		v = pick(g, "DE", "GB", "US", "FR", "nl")
	case name == "currency":
		v = "USD"
	case name == "payment_token":
		v = pick(g, "tok_visa", "tok_visa", "tok_chargeDeclined", "tok_insufficientFunds")
	case name == "sku":
		g.n++
		v = fmt.Sprintf("%s%d-%d", g.skuPrefix, g.index, g.n)
	case name == "q":
		v = g.words(1 + g.r.IntN(3))
	case name == "refresh_token" || name == "page_token":
		v = g.token(24)
	case name == "Idempotency-Key":
		v = g.uuid()
	case name == "postal_code":
		v = pick(g, "W1 1AA", "10115", "75001", "94105")
	case s.pattern != "":
		if p, ok := g.fromPattern(s.pattern, s.maxLen); ok {
			v = p
		} else {
			v = g.words(1)
		}
	case len(s.examples) > 0:
		v = s.examples[g.r.IntN(len(s.examples))]
	default:
		v = g.words(1 + g.r.IntN(3))
		if name == "name" {
			v = "Fuzz " + v
		}
	}
	if s.maxLen != nil && int64(utf8.RuneCountInString(v)) > *s.maxLen {
		v = string([]rune(v)[:*s.maxLen])
	}
	for s.minLen != nil && int64(utf8.RuneCountInString(v)) < *s.minLen {
		v += "x"
	}
	return v
}

// fromPattern generates a string that matches a regular expression,
// keeping repetitions short.
func (g *gen) fromPattern(pattern string, maxLen *int64) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	check, err := regexp.Compile(pattern)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	for range 10 {
		var b strings.Builder
		g.walk(re, &b)
		s := b.String()
		if check.MatchString(s) && (maxLen == nil || int64(utf8.RuneCountInString(s)) <= *maxLen) {
			return s, true
		}
	}
	return "", false
}

func (g *gen) walk(re *syntax.Regexp, b *strings.Builder) {
	repeat := func(lo, hi int) {
		for range lo + g.r.IntN(hi-lo+1) {
			g.walk(re.Sub[0], b)
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) < 2 {
			return
		}
		i := g.r.IntN(len(re.Rune)/2) * 2
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi > lo+0x7f {
			hi = lo + 0x7f
		}
		b.WriteRune(lo + rune(g.r.IntN(int(hi-lo)+1)))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte(byte('a' + g.r.IntN(26)))
	case syntax.OpCapture:
		g.walk(re.Sub[0], b)
	case syntax.OpStar:
		repeat(0, 6)
	case syntax.OpPlus:
		repeat(1, 6)
	case syntax.OpQuest:
		repeat(0, 1)
	case syntax.OpRepeat:
		hi := re.Max
		if hi < 0 {
			hi = re.Min + 6
		}
		repeat(re.Min, hi)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.walk(s, b)
		}
	case syntax.OpAlternate:
		g.walk(re.Sub[g.r.IntN(len(re.Sub))], b)
	}
}

const hugeLen = 100 << 10 // 100 KiB

// nastyString is a string that a validator, a store or a template should
// survive, with a note saying what it is.
func (g *gen) nastyString() (string, string) {
	switch g.r.IntN(16) {
	case 0:
		return strings.Repeat("A", hugeLen), "huge string (100 KiB)"
	case 1:
		return strings.Repeat("🛒", hugeLen/4), "huge unicode string (100 KiB)"
	case 2:
		return "Ünïcödé ☃ 🛒 中文 עברית \u202e\u200b\u200d\ufeff Z̴̡͝a̷l̸g̵o̶", "unicode"
	case 3:
		return "a\x00b\x01\x02\x1b[31m\x7f\r\n\t", "control characters"
	case 4:
		return "", "empty string"
	case 5:
		return "   \t  ", "blank string"
	case 6:
		return "' OR '1'='1' --", "SQL-looking"
	case 7:
		return "<script>alert(1)</script>{{7*7}}${jndi:ldap://x/a}", "markup and template syntax"
	case 8:
		return "../../../../etc/passwd", "path traversal"
	case 9:
		return "%00%s%n%x%d", "format verbs"
	case 10:
		return strings.Repeat("x", 300+g.r.IntN(5000)), "long string"
	case 11:
		return "NaN", "NaN as a string"
	case 12:
		return "\uffff\ufffe\U0010ffff", "non-characters"
	case 13:
		return strings.Repeat("\u0301", 1000), "combining marks only"
	case 14:
		return "{\"$ne\": null}", "JSON in a string"
	default:
		return "-1", "negative number as a string"
	}
}

// nastyNumber is a number a field should reject or survive.
func (g *gen) nastyNumber() (json.Number, string) {
	n := pick(g, "-1", "0", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
		"18446744073709551616", "1e308", "-1e308", "1e400", "2147483648", "4294967296", "1.5", "-0",
		"1e-7", "100000000001", "99999999999999999999999999999999", "101", "1000000001")
	return json.Number(n), "number " + n
}

// wrongType is a value of another JSON type than s wants.
func (g *gen) wrongType(s *schema) (any, string) {
	t := "string"
	if s != nil {
		t = s.typ()
	}
	switch t {
	case "string":
		return pick[any](g, json.Number("12345"), true, []any{"a"}, map[string]any{"a": 1}, nil, json.Number("-1.5")), "not a string"
	case "integer", "number":
		return pick[any](g, "12", "one", true, []any{1}, map[string]any{}, nil, "1e3", ""), "not a number"
	case "boolean":
		return pick[any](g, "true", json.Number("1"), nil, []any{}), "not a boolean"
	case "array":
		return pick[any](g, "a", json.Number("1"), map[string]any{}, nil), "not an array"
	default:
		return pick[any](g, "object", json.Number("1"), []any{map[string]any{}}, nil, true), "not an object"
	}
}
