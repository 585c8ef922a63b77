package fuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
)

// The kinds of damage a REST request can carry; a mutated request gets one
// to three of them, the rest of it stays valid.
const (
	mutAuth        = "auth"         // a bad Authorization header
	mutRoute       = "route"        // another spelling of the path
	mutMethod      = "method"       // a method the path does not serve
	mutHeaders     = "headers"      // odd or duplicated headers
	mutQuery       = "query"        // bad, repeated or unknown query parameters
	mutPath        = "path"         // a bad path parameter
	mutIdempotency = "idempotency"  // a bad Idempotency-Key
	mutField       = "field"        // a bad value in the JSON body
	mutJSON        = "json"         // a body that is not the JSON it should be
	mutContentType = "content-type" // a wrong Content-Type
	mutStrayBody   = "stray-body"   // a body where none is expected
)

// rest generates a request for op as identity.
func (g *gen) rest(op *restOp, identity string) *request {
	rq := newRequest("rest", identity, op.method, op.route())
	muts := map[string]bool{}
	if g.chance(0.7) {
		choices := []string{mutAuth, mutRoute, mutMethod, mutHeaders, mutQuery}
		if len(op.paramsIn("path")) > 0 {
			choices = append(choices, mutPath, mutPath, mutPath)
		}
		if len(op.paramsIn("header")) > 0 {
			choices = append(choices, mutIdempotency, mutIdempotency)
		}
		if op.body != nil {
			choices = append(choices, mutField, mutField, mutField, mutField, mutJSON, mutJSON, mutJSON, mutContentType)
		} else {
			choices = append(choices, mutStrayBody)
		}
		for range 1 + g.r.IntN(3) {
			muts[choices[g.r.IntN(len(choices))]] = true
		}
	}
	// The method comes first: ids depend on it. Only a plain read may use
	// ids of things the fuzzer does not own; anything that might change
	// state (another method, a method-override header) gets owned ones.
	if muts[mutMethod] {
		rq.method = pick(g, "PATCH", "PUT", "DELETE", "POST", "GET", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "get", "CONNECTX")
		rq.note("method %s", rq.method)
	}
	read := (rq.method == http.MethodGet || rq.method == http.MethodHead) && op.method == http.MethodGet && !muts[mutHeaders]
	g.route, g.write = op.path, !read

	path := op.path
	for _, p := range op.paramsIn("path") {
		seg := url.PathEscape(g.str(p.name, p.schema))
		if muts[mutPath] {
			var note string
			seg, note = g.badSegment(p)
			rq.note("path {%s}: %s", p.name, note)
		}
		path = strings.ReplaceAll(path, "{"+p.name+"}", seg)
	}
	if muts[mutRoute] {
		path = g.oddRoute(path, rq)
	}
	rq.path = path

	var query []string
	for _, p := range op.paramsIn("query") {
		if p.required || g.chance(0.5) {
			query = append(query, url.QueryEscape(p.name)+"="+url.QueryEscape(fmt.Sprint(g.valid(p.name, p.schema, 0))))
		}
	}
	if muts[mutQuery] {
		query = g.badQuery(op, query, rq)
	}
	rq.query = strings.Join(query, "&")

	for _, p := range op.paramsIn("header") {
		v := g.str(p.name, p.schema)
		if p.name == "Idempotency-Key" {
			g.w.add(&g.w.idemKeys, v)
		}
		rq.header.Set(p.name, v)
		if muts[mutIdempotency] {
			g.badIdempotencyKey(p.name, rq)
		}
	}

	g.authorize(rq, muts[mutAuth])

	switch {
	case op.body != nil:
		v := g.valid("", op.body, 0)
		if muts[mutField] {
			v = g.mutateValue(v, op.body, rq)
		}
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(`{}`)
			rq.note("(marshal failed: %v)", err)
		}
		if muts[mutJSON] {
			b = g.badJSON(b, rq)
		}
		rq.body = b
		rq.header.Set("Content-Type", "application/json")
		if muts[mutContentType] {
			g.badContentType(rq)
		}
	case muts[mutStrayBody]:
		rq.body = pick(g, []byte(`{"a":1}`), []byte("not json"), bytes.Repeat([]byte("x"), hugeLen))
		rq.header.Set("Content-Type", pick(g, "application/json", "text/plain"))
		rq.note("a body on an operation that takes none (%d bytes)", len(rq.body))
	}

	if muts[mutHeaders] {
		g.oddHeaders(rq)
	}
	return rq
}

// authorize sets the identity's token, or when bad, a broken one.
func (g *gen) authorize(rq *request, bad bool) {
	tok := g.w.tokens[rq.identity]
	if tok != "" {
		rq.header.Set("Authorization", "Bearer "+tok)
	}
	if !bad {
		return
	}
	some := tok
	if some == "" {
		some = g.w.tokens["customer"]
	}
	flip := func(s string) string {
		if s == "" {
			return "x"
		}
		b := []byte(s)
		i := g.r.IntN(len(b))
		b[i] = pick(g, byte('A'), byte('_'), byte('-'), byte('0'))
		return string(b)
	}
	parts := strings.Split(some, ".")
	variants := []struct{ value, note string }{
		{"Bearer", "Authorization: Bearer without a token"},
		{"Bearer ", "Authorization: Bearer and a space"},
		{"Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic"},
		{"bearer " + some, "Authorization: lower-case scheme"},
		{"Bearer  " + some, "Authorization: two spaces"},
		{"Bearer\t" + some, "Authorization: a tab"},
		{"Bearer " + some + " extra", "Authorization: trailing words"},
		{"Bearer " + flip(some), "Authorization: one character changed"},
		{"Bearer " + some[:len(some)/2], "Authorization: truncated token"},
		{"Bearer a.b.c", "Authorization: a.b.c"},
		{"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsInJvbGVzIjpbImFkbWluIl19.", "Authorization: alg none"},
		{"Bearer " + strings.Repeat("A", hugeLen), "Authorization: 100 KiB token"},
		{"Bearer " + some + "." + some, "Authorization: two tokens joined"},
		{"Token " + some, "Authorization: unknown scheme"},
		{"Bearer ünïcode", "Authorization: non-ASCII token"},
		{"Bearer " + "%00" + some, "Authorization: %00 prefix"},
	}
	if len(parts) == 3 {
		variants = append(variants,
			struct{ value, note string }{"Bearer " + parts[0] + "." + parts[1] + "." + flip(parts[2]), "Authorization: signature changed"},
			struct{ value, note string }{"Bearer " + parts[0] + "." + flip(parts[1]) + "." + parts[2], "Authorization: claims changed"},
			struct{ value, note string }{"Bearer " + parts[0] + "." + parts[1] + ".", "Authorization: signature removed"},
			struct{ value, note string }{"Bearer " + parts[0] + "." + parts[1] + "." + parts[2] + "=", "Authorization: padded signature"},
		)
	}
	v := variants[g.r.IntN(len(variants))]
	switch g.r.IntN(5) {
	case 0: // a second Authorization header
		rq.header.Add("Authorization", v.value)
		rq.note("%s, as a second Authorization header", v.note)
	default:
		rq.header.Set("Authorization", v.value)
		rq.note("%s", v.note)
	}
}

// badSegment is a path parameter that is not a valid id, already escaped
// for the request line.
func (g *gen) badSegment(p param) (string, string) {
	id := g.str(p.name, p.schema)
	switch g.r.IntN(20) {
	case 0:
		return "..%2F..%2F..%2Fmetrics", "encoded ../"
	case 1:
		return "..", ".."
	case 2:
		return "%2e%2e%2f%2e%2e%2fadmin", "encoded dots and slash"
	case 3:
		return id + "%00", "id then %00"
	case 4:
		return "%00", "%00"
	case 5:
		return strings.Repeat("a", hugeLen), "100 KiB id"
	case 6:
		return strings.Repeat(id, 200), "id repeated 200 times"
	case 7:
		return url.PathEscape("ünïcode🛒\u202e"), "unicode"
	case 8:
		return "%0d%0aSet-Cookie:%20x=1", "CR LF"
	case 9:
		return pick(g, "-1", "0", "null", "undefined", "true", "1e9", "NaN"), "not an id"
	case 10:
		return strings.ToUpper(id), "upper-case id"
	case 11:
		return "%7B" + id + "%7D", "id in braces"
	case 12:
		return "00000000-0000-0000-0000-000000000000", "nil UUID"
	case 13:
		return url.PathEscape("' OR 1=1--"), "SQL-looking"
	case 14:
		return id + "%2F" + id, "two ids with an encoded slash"
	case 15:
		return strings.ReplaceAll(id, "-", ""), "UUID without dashes"
	case 16:
		return "%20" + id + "%20", "id in spaces"
	case 17:
		return url.PathEscape(strings.Repeat("🛒", 2000)), "8 KiB of emoji"
	case 18:
		return id + ";x=1", "matrix parameter"
	default:
		return "", "empty"
	}
}

// oddRoute spells the path another way.
func (g *gen) oddRoute(path string, rq *request) string {
	variants := []struct{ path, note string }{
		{path + "/", "trailing slash"},
		{strings.Replace(path, "/v1/", "//v1/", 1), "double slash"},
		{strings.ToUpper(path), "upper case"},
		{strings.Replace(path, "/v1/", "/v2/", 1), "unknown version"},
		{strings.Replace(path, "/v1/", "/v1/./", 1), "dot segment"},
		{strings.Replace(path, "/v1/", "/v1/x/../", 1), "dot-dot segment"},
		{path + ";jsessionid=1", "path parameter"},
		{path + "%2F", "encoded trailing slash"},
		{path + "/extra/segments/" + strings.Repeat("a/", 200), "extra segments"},
		{strings.Replace(path, "/api/", "/%61pi/", 1), "percent-encoded letter"},
		{path + ".json", "extension"},
		{path + "%00", "%00 suffix"},
		{path + "/" + strings.Repeat("x", hugeLen), "100 KiB extra segment"},
	}
	v := variants[g.r.IntN(len(variants))]
	rq.note("route: %s", v.note)
	return v.path
}

// badQuery damages the query string.
func (g *gen) badQuery(op *restOp, query []string, rq *request) []string {
	qp := op.paramsIn("query")
	name := pick(g, "page_size", "q", "category", "page_token", "min_price", "sort", "in_stock")
	if len(qp) > 0 {
		name = qp[g.r.IntN(len(qp))].name
	}
	switch g.r.IntN(11) {
	case 0:
		v := pick(g, "abc", "1.5", "-1", "0", "1e9", "99999999999999999999999", "true", "", "null", "[]", "0x10", "+5", " 5")
		rq.note("query %s=%q", name, v)
		return append(query, name+"="+url.QueryEscape(v))
	case 1:
		rq.note("query %s: 100 KiB", name)
		return append(query, name+"="+strings.Repeat("q", hugeLen))
	case 2:
		s, note := g.nastyString()
		rq.note("query %s: %s", name, note)
		return append(query, name+"="+url.QueryEscape(s))
	case 3:
		rq.note("query %s repeated", name)
		return append(query, name+"=1", name+"=2", name+"=abc")
	case 4:
		rq.note("200 unknown query parameters")
		for i := range 200 {
			query = append(query, fmt.Sprintf("p%d=%d", i, i))
		}
		return query
	case 5:
		v := pick(g, "%zz", "%", "%0", "%ff%fe", "%00", "%C0%AF")
		rq.note("query %s=%s (bad escape)", name, v)
		return append(query, name+"="+v)
	case 6:
		rq.note("query %s without a value", name)
		return append(query, name)
	case 7:
		rq.note("query: empty pairs and semicolons")
		return append(query, "", "=x", ";", name+"=1;"+name+"=2")
	case 8:
		rq.note("query: unknown parameter with a nested name")
		return append(query, "filter[price][$gt]=0", "a.b.c=1")
	case 9:
		rq.note("query %s: min_price above max_price", name)
		return append(query, "min_price=5000", "max_price=10")
	default:
		rq.note("query %s: unicode", name)
		return append(query, url.QueryEscape(name+"ü")+"="+url.QueryEscape("☃"))
	}
}

func (g *gen) badIdempotencyKey(name string, rq *request) {
	var v, note string
	switch g.r.IntN(11) {
	case 0:
		rq.header.Del(name)
		rq.note("no %s", name)
		return
	case 1:
		v, note = "", "empty"
	case 2:
		v, note = strings.Repeat("k", 256), "256 characters"
	case 3:
		v, note = strings.Repeat("k", hugeLen), "100 KiB"
	case 4:
		v, note = "ключ-🔑", "non-ASCII"
	case 5:
		v, note = "a\tb", "a tab inside"
	case 6:
		v, note = "  "+g.uuid()+"  ", "spaces around"
	case 7:
		rq.header.Add(name, g.uuid())
		rq.note("two %s headers", name)
		return
	case 8:
		if k := g.w.pick(g.r, &g.w.idemKeys); k != "" {
			v, note = k, "a key sent before (maybe with another body)"
		} else {
			v, note = "k", "one character"
		}
	case 9:
		v, note = "k", "one character"
	default:
		v, note = "%00", "%00"
	}
	rq.header.Set(name, v)
	rq.note("%s: %s", name, note)
}

// mutateValue damages one place of a valid body (a map from valid).
func (g *gen) mutateValue(v any, s *schema, rq *request) any {
	m, ok := v.(map[string]any)
	if !ok || s == nil {
		return v
	}
	// Walk down to a random object, then damage one of its properties.
	at, sch, where := m, s, ""
	for g.chance(0.4) {
		var nested []string
		for _, k := range sortedKeys(at) {
			if _, ok := at[k].(map[string]any); ok && sch.props[k] != nil {
				nested = append(nested, k)
			}
		}
		if len(nested) == 0 {
			break
		}
		k := nested[g.r.IntN(len(nested))]
		at, sch, where = at[k].(map[string]any), sch.props[k], where+k+"."
	}
	names := sch.order
	if len(names) == 0 {
		names = sortedKeys(at)
	}
	if len(names) == 0 {
		at["unexpected"] = "field"
		rq.note("body: extra field")
		return m
	}
	k := names[g.r.IntN(len(names))]
	ps := sch.props[k]
	switch g.r.IntN(8) {
	case 0, 1:
		w, note := g.wrongType(ps)
		at[k] = w
		rq.note("body %s%s: %s", where, k, note)
	case 2:
		s, note := g.nastyString()
		at[k] = s
		rq.note("body %s%s: %s", where, k, note)
	case 3:
		n, note := g.nastyNumber()
		at[k] = n
		rq.note("body %s%s: %s", where, k, note)
	case 4:
		delete(at, k)
		rq.note("body %s%s missing (required: %t)", where, k, sch.isRequired[k])
	case 5:
		at[k] = nil
		rq.note("body %s%s: null", where, k)
	case 6:
		extra := pick(g, "admin", "roles", "id", "status", "__proto__", "$where", "version", "unexpected")
		at[extra] = pick[any](g, true, []any{"admin"}, "x", json.Number("1"))
		rq.note("body %s: extra field %s", where, extra)
	default:
		rq.note("body: the object wrapped in an array")
		return []any{m}
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// badJSON turns a valid JSON body into one that is not what it should be.
func (g *gen) badJSON(b []byte, rq *request) []byte {
	var out []byte
	var note string
	switch g.r.IntN(22) {
	case 0:
		out, note = b[:len(b)/2], "truncated JSON"
	case 1:
		out, note = append(slices.Clone(b), "xyz"...), "trailing garbage"
	case 2:
		out, note = slices.Concat(b, b), "two JSON documents"
	case 3:
		out, note = nil, "no body"
	case 4:
		out = []byte(pick(g, "null", "[]", `"str"`, "0", "true", "{}"))
		note = "body " + string(out)
	case 5:
		out, note = slices.Concat([]byte("\xef\xbb\xbf"), b), "UTF-8 byte order mark"
	case 6:
		out, note = bytes.Replace(b, []byte(`":"`), []byte("\":\"\xff\xfe"), 1), "invalid UTF-8 in a string"
	case 7:
		out, note = bytes.Replace(b, []byte(`":"`), []byte(`":"\ud800`), 1), "lone surrogate escape"
	case 8:
		n := 20000
		out, note = slices.Concat(bytes.Repeat([]byte("["), n), bytes.Repeat([]byte("]"), n)), "arrays nested 20,000 deep"
	case 9:
		n := 5000
		out, note = slices.Concat(bytes.Repeat([]byte(`{"a":`), n), []byte("1"), bytes.Repeat([]byte("}"), n)), "objects nested 5,000 deep"
	case 10:
		out, note = bytes.Replace(b, []byte("{"), []byte(`{"x":1,"x":"two","x":null,`), 1), "duplicate keys"
	case 11:
		out, note = bytes.ReplaceAll(b, []byte(`"`), []byte(`'`)), "single quotes"
	case 12:
		out, note = slices.Concat([]byte("/* comment */ "), b), "a comment"
	case 13:
		out, note = bytes.Replace(b, []byte(":"), []byte(":NaN,\"y\":"), 1), "NaN"
	case 14:
		out, note = slices.Concat(b, bytes.Repeat([]byte(" "), 2<<20)), "2 MiB of trailing spaces"
	case 15:
		out, note = slices.Concat(bytes.Repeat([]byte(" "), 900<<10), b), "900 KiB of leading spaces"
	case 16:
		out, note = []byte("a=1&b=2&quantity=3"), "form-encoded"
	case 17:
		out, note = []byte(`<?xml version="1.0"?><a><b>1</b></a>`), "XML"
	case 18:
		out = make([]byte, 1024)
		for i := range out {
			out[i] = byte(g.r.UintN(256))
		}
		note = "1 KiB of random bytes"
	case 19:
		u := utf16.Encode([]rune(string(b)))
		out = make([]byte, 0, 2*len(u))
		for _, c := range u {
			out = append(out, byte(c), byte(c>>8))
		}
		note = "UTF-16"
	case 20:
		out, note = bytes.Replace(b, []byte("}"), []byte(`,"pad":"`+strings.Repeat("p", 1100<<10)+`"}`), 1), "1.1 MiB body"
	default:
		out, note = slices.Concat([]byte(`{"a":`), b, []byte("}")), "the object wrapped in another"
	}
	rq.note("%s", note)
	return out
}

func (g *gen) badContentType(rq *request) {
	ct := pick(g, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/xml", "application/json; charset=latin1", "application/json; charset=utf-16", "APPLICATION/JSON",
		"application/json, application/xml", "application/vnd.api+json", "application/problem+json", "*/*",
		"application/json;;;", "json", "application/json; boundary=\"", "application/merge-patch+json")
	if ct == "" {
		rq.header.Del("Content-Type")
		rq.note("no Content-Type")
		return
	}
	if g.chance(0.2) {
		rq.header.Add("Content-Type", ct)
		rq.note("two Content-Types: application/json and %s", ct)
		return
	}
	rq.header.Set("Content-Type", ct)
	rq.note("Content-Type: %s", ct)
}

// oddHeaders adds headers a client should not send, or sends odd values.
func (g *gen) oddHeaders(rq *request) {
	switch g.r.IntN(14) {
	case 0:
		rq.header.Set("X-Forwarded-For", "1.2.3.4, 5.6.7.8")
		rq.header.Set("X-Real-IP", "9.9.9.9")
		rq.note("forwarding headers")
	case 1:
		rq.header.Set("Accept", pick(g, "application/xml", "text/html", "*/*;q=0", "application/problem+json", "image/png"))
		rq.note("Accept: %s", rq.header.Get("Accept"))
	case 2:
		rq.header.Set("Accept-Encoding", "gzip, br, zstd, deflate, compress, identity;q=0")
		rq.note("Accept-Encoding without identity")
	case 3:
		rq.header.Set("X-HTTP-Method-Override", "DELETE")
		rq.note("X-HTTP-Method-Override")
	case 4:
		rq.host = pick(g, "evil.example", "localhost:1", "[::1]:8080", "xn--80ak6aa92e.com")
		rq.note("Host: %s", rq.host)
	case 5:
		rq.chunked = true
		rq.note("chunked transfer encoding")
	case 6:
		rq.header.Set("Content-Encoding", pick(g, "gzip", "br", "deflate"))
		rq.note("Content-Encoding: %s on a plain body", rq.header.Get("Content-Encoding"))
	case 7:
		rq.header.Set("Expect", "100-continue")
		rq.note("Expect: 100-continue")
	case 8:
		rq.header.Set("Range", "bytes=0-1,5-3,-1")
		rq.header.Set("If-None-Match", "*")
		rq.header.Set("If-Modified-Since", "yesterday")
		rq.note("Range and conditional headers")
	case 9:
		rq.header.Set("Cookie", strings.Repeat("c=1; ", 4000))
		rq.note("20 KB Cookie")
	case 10:
		for i := range 100 {
			rq.header.Add(fmt.Sprintf("X-Fuzz-%d", i), strings.Repeat("v", 100))
		}
		rq.note("100 extra headers")
	case 11:
		rq.header.Set("Traceparent", pick(g, "00-zzzz-zzzz-01", "ff-"+strings.Repeat("0", 32)+"-"+strings.Repeat("0", 16)+"-01", strings.Repeat("x", 4096)))
		rq.header.Set("Baggage", strings.Repeat("k=v,", 2000))
		rq.note("bad trace context")
	case 12:
		rq.header.Set("X-Request-Id", strings.Repeat("r", 8192))
		rq.header.Set("Dapr-Api-Token", "guess")
		rq.header.Set("Dapr-App-Id", "users")
		rq.note("long X-Request-Id and Dapr headers")
	default:
		rq.header.Set("Origin", "https://evil.example")
		rq.header.Set("Access-Control-Request-Method", "DELETE")
		rq.note("CORS preflight headers")
	}
}
