package opensearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/search/opensearch"
	"github.com/shopmesh/shopmesh/apps/search/search"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// request is one request the fake cluster received.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

func (r request) String() string { return r.Method + " " + r.Path }

// cluster is a fake OpenSearch: it records every request and answers with
// the first route whose pattern ("METHOD /path-regexp") matches.
type cluster struct {
	mu       sync.Mutex
	requests []request
	routes   []route
}

type route struct {
	pattern *regexp.Regexp
	answer  func(r request) (int, string)
}

func (c *cluster) on(pattern string, answer func(r request) (int, string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.routes = append([]route{{regexp.MustCompile("^" + pattern + "$"), answer}}, c.routes...)
}

func fixed(status int, body string) func(request) (int, string) {
	return func(request) (int, string) { return status, body }
}

func (c *cluster) seen() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]request(nil), c.requests...)
}

func (c *cluster) paths() []string {
	var out []string
	for _, r := range c.seen() {
		out = append(out, r.String())
	}
	return out
}

func (c *cluster) start(t *testing.T, alias string) *opensearch.Index {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
		c.mu.Lock()
		c.requests = append(c.requests, rec)
		routes := c.routes
		c.mu.Unlock()
		for _, rt := range routes {
			if rt.pattern.MatchString(rec.String()) {
				status, out := rt.answer(rec)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(out))
				return
			}
		}
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"error":"unexpected request ` + rec.String() + `"}`))
	}))
	t.Cleanup(srv.Close)
	x, err := opensearch.New(context.Background(), opensearch.Config{
		URLs: []string{srv.URL}, Alias: alias, Auth: opensearch.AuthBasic, Username: "search", Password: "s3cret",
		Shards: 1, Replicas: -1,
	}, discard())
	require.NoError(t, err)
	return x
}

func rec(id, name string, version int64) search.Record {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return search.Record{Product: search.Product{
		ID: id, SKU: "SKU-" + id, Name: name, Description: "A thing.", Category: "kitchen",
		Price: search.Money{Amount: 1999, Currency: "USD"}, ImageURL: "https://img/x.jpg", InStock: true, CreatedAt: at, UpdatedAt: at,
	}, Version: version}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

func TestBuildIntoANewIndexAndSwapTheAlias(t *testing.T) {
	var c cluster
	c.on(`GET /_alias/products`, fixed(404, `{"error":"alias [products] missing","status":404}`))
	c.on(`PUT /products-\d+`, fixed(200, `{"acknowledged":true}`))
	c.on(`POST /_bulk`, func(r request) (int, string) {
		return 200, `{"errors":true,"items":[{"create":{"_id":"a","status":201}},{"create":{"_id":"b","status":409,"error":{"type":"version_conflict_engine_exception"}}}]}`
	})
	c.on(`POST /products-\d+/_refresh`, fixed(200, `{}`))
	c.on(`PUT /products-\d+/_settings`, fixed(200, `{"acknowledged":true}`))
	c.on(`POST /_aliases`, fixed(200, `{"acknowledged":true}`))
	x := c.start(t, "products")
	ctx := context.Background()

	require.NoError(t, x.Open(ctx))
	assert.False(t, x.Live(), "no alias yet")
	_, err := x.Search(ctx, search.Query{})
	require.ErrorIs(t, err, search.ErrNotBuilt)

	b, err := x.NewBuild(ctx)
	require.NoError(t, err)
	reqs := c.seen()
	create := reqs[len(reqs)-1]
	require.Regexp(t, `^PUT /products-\d+$`, create.String())
	index := strings.TrimPrefix(create.Path, "/")
	assert.JSONEq(t, `{
		"settings": {"index": {
			"number_of_shards": 1,
			"refresh_interval": "-1",
			"analysis": {"analyzer": {"shopmesh_text": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}}}
		}},
		"mappings": {"dynamic": "strict", "properties": {
			"id": {"type": "keyword"}, "sku": {"type": "keyword"},
			"name": {"type": "text", "analyzer": "shopmesh_text"},
			"description": {"type": "text", "analyzer": "shopmesh_text"},
			"category_text": {"type": "text", "analyzer": "shopmesh_text"},
			"category": {"type": "keyword"}, "price": {"type": "long"},
			"currency": {"type": "keyword", "index": false}, "image_url": {"type": "keyword", "index": false},
			"in_stock": {"type": "boolean"}, "live": {"type": "boolean"},
			"created_at": {"type": "date"}, "updated_at": {"type": "date", "index": false}, "indexed_at": {"type": "date"},
			"version": {"type": "long", "index": false}, "deleted": {"type": "boolean", "index": false},
			"stock_version": {"type": "long", "index": false}
		}}
	}`, string(create.Body), "an explicit mapping")

	held, err := b.Insert(ctx, []search.Record{rec("a", "Kettle", 1), rec("b", "Pan", 1)})
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, held, "a create that met an existing document is held")
	bulk := c.seen()[len(c.seen())-1]
	assert.Equal(t, "application/x-ndjson", bulk.Header.Get("Content-Type"))
	lines := strings.Split(strings.TrimSuffix(string(bulk.Body), "\n"), "\n")
	require.Len(t, lines, 4)
	assert.JSONEq(t, `{"create":{"_index":"`+index+`","_id":"a"}}`, lines[0])
	d := decode(t, []byte(lines[1]))
	assert.Equal(t, map[string]any{
		"id": "a", "sku": "SKU-a", "name": "Kettle", "description": "A thing.", "category": "kitchen", "category_text": "kitchen",
		"price": float64(1999), "currency": "USD", "image_url": "https://img/x.jpg", "in_stock": true, "live": true,
		"created_at": "2026-03-01T12:00:00Z", "updated_at": "2026-03-01T12:00:00Z", "indexed_at": d["indexed_at"],
		"version": float64(1), "deleted": false, "stock_version": float64(0),
	}, d)
	assert.JSONEq(t, `{"create":{"_index":"`+index+`","_id":"b"}}`, lines[2])

	before := len(c.seen())
	require.NoError(t, b.Commit(ctx))
	assert.True(t, x.Live())
	assert.Equal(t, []string{
		"POST /" + index + "/_refresh", "PUT /" + index + "/_settings", "GET /_alias/products", "POST /_aliases",
	}, c.paths()[before:])
	commit := c.seen()[before:]
	assert.JSONEq(t, `{"index":{"refresh_interval":"1s"}}`, string(commit[1].Body))
	assert.JSONEq(t, `{"actions":[{"add":{"index":"`+index+`","alias":"products"}}]}`, string(commit[3].Body))

	for _, r := range c.seen() {
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		assert.True(t, ok && user == "search" && pass == "s3cret", "%s carries basic auth", r)
	}
}

func TestSwapRemovesTheOldIndexAfterCatchingUp(t *testing.T) {
	var c cluster
	c.on(`GET /_alias/shop`, fixed(200, `{"shop-1":{"aliases":{"shop":{}}}}`))
	c.on(`PUT /shop-\d+`, fixed(200, `{"acknowledged":true}`))
	c.on(`POST /shop-\d+/_refresh`, fixed(200, `{}`))
	c.on(`PUT /shop-\d+/_settings`, fixed(200, `{}`))
	c.on(`POST /_aliases`, fixed(200, `{"acknowledged":true}`))
	// Another replica applied a stock change to the old index meanwhile.
	late := `{"id":"a","sku":"SKU-a","name":"Kettle","category":"kitchen","price":1999,"in_stock":false,"live":true,"version":1,"stock_version":4,"indexed_at":"2026-03-01T12:00:00Z"}`
	c.on(`POST /shop-1/_search`, fixed(200, `{"hits":{"hits":[{"_source":`+late+`,"sort":["a"]}]}}`))
	c.on(`GET /shop-\d+/_doc/a`, fixed(200, `{"found":true,"_seq_no":3,"_primary_term":1,"_source":{"id":"a","sku":"SKU-a","name":"Kettle","category":"kitchen","price":1999,"in_stock":true,"live":true,"version":1,"stock_version":2}}`))
	c.on(`PUT /shop-\d+/_doc/a`, fixed(200, `{"result":"updated"}`))
	c.on(`DELETE /shop-1`, fixed(200, `{"acknowledged":true}`))
	x := c.start(t, "shop")
	ctx := context.Background()
	require.NoError(t, x.Open(ctx))
	assert.True(t, x.Live())

	b, err := x.NewBuild(ctx)
	require.NoError(t, err)
	index := strings.TrimPrefix(c.seen()[len(c.seen())-1].Path, "/")
	before := len(c.seen())
	require.NoError(t, b.Commit(ctx))
	reqs := c.seen()[before:]
	assert.Equal(t, []string{
		"POST /" + index + "/_refresh", "PUT /" + index + "/_settings", "GET /_alias/shop", "POST /_aliases",
		"POST /shop-1/_refresh", "POST /shop-1/_search", "GET /" + index + "/_doc/a", "PUT /" + index + "/_doc/a", "DELETE /shop-1",
	}, c.paths()[before:])
	assert.JSONEq(t, `{"actions":[{"remove":{"index":"shop-1","alias":"shop"}},{"add":{"index":"`+index+`","alias":"shop"}}]}`, string(reqs[3].Body),
		"one atomic swap")
	catchUp := decode(t, reqs[5].Body)
	assert.Contains(t, catchUp["query"], "range")
	assert.Equal(t, []any{map[string]any{"id": "asc"}}, catchUp["sort"])
	write := reqs[7]
	assert.Equal(t, "3", write.Query.Get("if_seq_no"))
	assert.Equal(t, "1", write.Query.Get("if_primary_term"))
	merged := decode(t, write.Body)
	assert.Equal(t, false, merged["in_stock"], "the newer stock of the old index is folded in")
	assert.Equal(t, float64(4), merged["stock_version"])
}

func TestUpdateIsOptimistic(t *testing.T) {
	var c cluster
	c.on(`GET /_alias/products`, fixed(200, `{"products-1":{"aliases":{"products":{}}}}`))
	gets := 0
	c.on(`GET /products/_doc/p1`, func(request) (int, string) {
		gets++
		if gets == 1 {
			return 404, `{"_index":"products-1","_id":"p1","found":false}`
		}
		return 200, `{"_index":"products-1","_id":"p1","_seq_no":7,"_primary_term":2,"found":true,"_source":{"id":"p1","in_stock":true,"live":false,"version":0,"stock_version":1,"price":0,"deleted":false}}`
	})
	c.on(`PUT /products/_create/p1`, fixed(409, `{"error":{"type":"version_conflict_engine_exception"},"status":409}`))
	c.on(`PUT /products/_doc/p1`, fixed(200, `{"result":"updated"}`))
	x := c.start(t, "products")
	ctx := context.Background()
	require.NoError(t, x.Open(ctx))

	var seen []*search.Record
	require.NoError(t, x.Update(ctx, "p1", func(cur *search.Record) (search.Record, bool) {
		seen = append(seen, cur)
		r := rec("p1", "Kettle", 1)
		if cur != nil {
			r.InStock, r.StockVersion = cur.InStock, cur.StockVersion
		}
		return r, true
	}))
	require.Len(t, seen, 2, "a lost race is retried from a fresh read")
	assert.Nil(t, seen[0])
	assert.EqualValues(t, 1, seen[1].StockVersion)
	assert.Equal(t, []string{
		"GET /_alias/products", "GET /products/_doc/p1", "PUT /products/_create/p1", "GET /products/_doc/p1", "PUT /products/_doc/p1",
	}, c.paths())
	last := c.seen()[4]
	assert.Equal(t, url.Values{"if_seq_no": {"7"}, "if_primary_term": {"2"}}, last.Query)

	before := len(c.seen())
	require.NoError(t, x.Update(ctx, "p1", func(*search.Record) (search.Record, bool) { return search.Record{}, false }))
	assert.Equal(t, []string{"GET /products/_doc/p1"}, c.paths()[before:], "no write when nothing changes")
}

func TestSearchRequestAndAnswer(t *testing.T) {
	var c cluster
	c.on(`GET /_alias/products`, fixed(200, `{"products-1":{"aliases":{"products":{}}}}`))
	c.on(`POST /products/_search`, fixed(200, `{
		"hits": {"total": {"value": 42, "relation": "eq"}, "hits": [
			{"_id": "a", "_source": {"id":"a","sku":"KIT-0001","name":"Stainless Steel Kettle","description":"Boils.","category":"kitchen","category_text":"kitchen","price":3999,"currency":"USD","image_url":"https://img/k.jpg","in_stock":true,"live":true,"created_at":"2026-01-01T09:00:00Z","version":1,"deleted":false,"stock_version":0}}
		]},
		"aggregations": {
			"category": {"buckets": [{"key": "kitchen", "doc_count": 40}, {"key": "outdoor", "doc_count": 2}]},
			"price": {"buckets": {"under_25": {"doc_count": 0}, "25_to_50": {"doc_count": 42}, "50_to_100": {"doc_count": 0}, "100_to_200": {"doc_count": 0}, "200_and_over": {"doc_count": 0}}}
		}}`))
	x := c.start(t, "products")
	ctx := context.Background()
	require.NoError(t, x.Open(ctx))

	lo, hi, in := int64(1000), int64(5000), true
	res, err := x.Search(ctx, search.Query{
		Terms: search.Plan("stainles kettel"), Category: "kitchen", MinPrice: &lo, MaxPrice: &hi, InStock: &in,
		Sort: search.SortPriceAsc, Offset: 20, Limit: 10,
	})
	require.NoError(t, err)
	fuzzy := func(field, value string, boost float64) string {
		b, _ := json.Marshal(map[string]any{"fuzzy": map[string]any{field: map[string]any{
			"value": value, "fuzziness": 1, "prefix_length": 0, "transpositions": true, "max_expansions": 50, "boost": boost}}})
		return string(b)
	}
	term := func(field, value string, boost float64) string {
		b, _ := json.Marshal(map[string]any{"term": map[string]any{field: map[string]any{"value": value, "boost": boost}}})
		return string(b)
	}
	prefix := func(field, value string, boost float64) string {
		b, _ := json.Marshal(map[string]any{"prefix": map[string]any{field: map[string]any{"value": value, "boost": boost}}})
		return string(b)
	}
	want := `{
		"from": 20, "size": 10, "track_total_hits": true,
		"query": {"bool": {
			"filter": [{"term": {"live": true}}, {"term": {"category": "kitchen"}}, {"range": {"price": {"gte": 1000, "lte": 5000}}}, {"term": {"in_stock": true}}],
			"must": [
				{"bool": {"minimum_should_match": 1, "should": [` + strings.Join([]string{
		term("name", "stainles", 3), fuzzy("name", "stainles", 1.5),
		term("description", "stainles", 1), fuzzy("description", "stainles", 0.5),
		term("category_text", "stainles", 1), fuzzy("category_text", "stainles", 0.5),
	}, ",") + `]}},
				{"bool": {"minimum_should_match": 1, "should": [` + strings.Join([]string{
		term("name", "kettel", 3), fuzzy("name", "kettel", 1.5), prefix("name", "kettel", 2.25),
		term("description", "kettel", 1), fuzzy("description", "kettel", 0.5), prefix("description", "kettel", 0.75),
		term("category_text", "kettel", 1), fuzzy("category_text", "kettel", 0.5), prefix("category_text", "kettel", 0.75),
	}, ",") + `]}}
			]
		}},
		"sort": [{"price": "asc"}, {"id": "asc"}],
		"aggs": {
			"category": {"terms": {"field": "category", "size": 200}},
			"price": {"range": {"field": "price", "keyed": true, "ranges": [
				{"key": "under_25", "from": 0, "to": 2500}, {"key": "25_to_50", "from": 2500, "to": 5000},
				{"key": "50_to_100", "from": 5000, "to": 10000}, {"key": "100_to_200", "from": 10000, "to": 20000},
				{"key": "200_and_over", "from": 20000}
			]}}
		}
	}`
	sent := c.seen()[1]
	assert.JSONEq(t, want, string(sent.Body))
	assert.Equal(t, "application/json", sent.Header.Get("Content-Type"))

	assert.Equal(t, 42, res.Total)
	require.Len(t, res.Items, 1)
	assert.Equal(t, search.Product{
		ID: "a", SKU: "KIT-0001", Name: "Stainless Steel Kettle", Description: "Boils.", Category: "kitchen",
		Price: search.Money{Amount: 3999, Currency: "USD"}, ImageURL: "https://img/k.jpg", InStock: true,
		CreatedAt: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
	}, res.Items[0])
	assert.Equal(t, map[string]int{"kitchen": 40, "outdoor": 2}, res.Categories)
	assert.Equal(t, map[string]int{"under_25": 0, "25_to_50": 42, "50_to_100": 0, "100_to_200": 0, "200_and_over": 0}, res.PriceBands)

	for s, want := range map[search.Sort]string{
		search.SortRelevance: `["_score", {"created_at": "desc"}, {"id": "asc"}]`,
		search.SortPriceDesc: `[{"price": "desc"}, {"id": "asc"}]`,
		search.SortNewest:    `[{"created_at": "desc"}, {"id": "desc"}]`,
	} {
		_, err := x.Search(ctx, search.Query{Terms: search.Plan("the kettle"), Sort: s, Limit: 5})
		require.NoError(t, err)
		body := decode(t, c.seen()[len(c.seen())-1].Body)
		got, _ := json.Marshal(body["sort"])
		assert.JSONEq(t, want, string(got), "sort %s", s)
		boolQ := body["query"].(map[string]any)["bool"].(map[string]any)
		assert.Len(t, boolQ["must"], 1, "kettle is required")
		assert.Len(t, boolQ["should"], 1, "the stop word only scores")
	}
	_, err = x.Search(ctx, search.Query{Sort: search.SortNewest, Limit: 5})
	require.NoError(t, err)
	boolQ := decode(t, c.seen()[len(c.seen())-1].Body)["query"].(map[string]any)["bool"].(map[string]any)
	assert.NotContains(t, boolQ, "must", "no text: filters only")
}

func TestClusterErrors(t *testing.T) {
	ctx := context.Background()

	var down cluster
	down.on(`GET /_alias/products`, fixed(500, `{"error":"boom"}`))
	require.Error(t, down.start(t, "products").Open(ctx), "an unreadable alias is an error, not a missing index")

	var c cluster
	c.on(`GET /_alias/products`, fixed(200, `{"products-1":{"aliases":{"products":{}}}}`))
	c.on(`POST /products/_search`, fixed(400, `{"error":{"type":"search_phase_execution_exception"},"status":400}`))
	c.on(`GET /products/_doc/.*`, fixed(404, `{"error":{"type":"index_not_found_exception"},"status":404}`))
	c.on(`PUT /products-\d+`, fixed(200, `{}`))
	c.on(`POST /_bulk`, fixed(200, `{"errors":true,"items":[{"create":{"_id":"a","status":400,"error":{"type":"mapper_parsing_exception"}}}]}`))
	c.on(`DELETE /products-\d+`, fixed(404, `{"error":{"type":"index_not_found_exception"},"status":404}`))
	x := c.start(t, "products")
	require.NoError(t, x.Open(ctx))

	_, err := x.Search(ctx, search.Query{Limit: 1})
	require.ErrorContains(t, err, "status 400")
	err = x.Update(ctx, "a", func(*search.Record) (search.Record, bool) { return rec("a", "x", 1), true })
	require.ErrorContains(t, err, "index_not_found", "a missing index is not a missing document")
	b, err := x.NewBuild(ctx)
	require.NoError(t, err)
	_, err = b.Insert(ctx, []search.Record{rec("a", "x", 1)})
	require.ErrorContains(t, err, "mapper_parsing_exception")
	require.NoError(t, b.Abort(ctx), "an index already gone is aborted")
	for _, r := range c.seen() {
		assert.NotContains(t, string(r.Body), "s3cret")
	}
	assert.False(t, bytes.Contains([]byte(err.Error()), []byte("s3cret")))
}

func TestConfig(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := opensearch.LoadConfig(env("OPENSEARCH_URL", "https://a:9200, https://b:9200"))
	require.NoError(t, err)
	assert.Equal(t, opensearch.Config{
		URLs: []string{"https://a:9200", "https://b:9200"}, Alias: "products", Auth: opensearch.AuthNone,
		Service: "es", Shards: 1, Replicas: -1,
	}, cfg)

	cfg, err = opensearch.LoadConfig(env("OPENSEARCH_URL", "https://a", "OPENSEARCH_USERNAME", "u", "OPENSEARCH_PASSWORD", "p", "OPENSEARCH_INDEX", "shop-products", "OPENSEARCH_REPLICAS", "2"))
	require.NoError(t, err)
	assert.Equal(t, opensearch.AuthBasic, cfg.Auth)
	assert.Equal(t, "shop-products", cfg.Alias)
	assert.Equal(t, 2, cfg.Replicas)

	cfg, err = opensearch.LoadConfig(env("OPENSEARCH_URL", "https://a", "OPENSEARCH_AUTH", "sigv4", "AWS_REGION", "eu-west-1"))
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", cfg.Region)

	for name, lookup := range map[string]func(string) (string, bool){
		"no url":             env(),
		"basic without pass": env("OPENSEARCH_URL", "https://a", "OPENSEARCH_AUTH", "basic", "OPENSEARCH_USERNAME", "u"),
		"sigv4 no region":    env("OPENSEARCH_URL", "https://a", "OPENSEARCH_AUTH", "sigv4"),
		"unknown auth":       env("OPENSEARCH_URL", "https://a", "OPENSEARCH_AUTH", "kerberos"),
		"bad alias":          env("OPENSEARCH_URL", "https://a", "OPENSEARCH_INDEX", "Products/../x"),
		"no shards":          env("OPENSEARCH_URL", "https://a", "OPENSEARCH_SHARDS", "0"),
		"bad bool":           env("OPENSEARCH_URL", "https://a", "OPENSEARCH_INSECURE_SKIP_VERIFY", "maybe"),
	} {
		_, err := opensearch.LoadConfig(lookup)
		assert.Error(t, err, name)
	}
}
