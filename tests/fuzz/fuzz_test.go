// Package fuzz sends bad input to the public API, continuously: requests
// generated from the OpenAPI document the gateway serves (/openapi.json)
// and from the GraphQL schema (apps/gateway/graphql/*.graphqls), some
// valid-looking and most of them damaged, as an anonymous caller, a fresh
// customer and the local admin, from many source addresses.
//
// It fails on any 5xx other than a 503 with Retry-After, on any request
// without an answer within 15 s, when more than 1% of the answers are 503s,
// on 4xx answers that are not problem+json with the same status (GraphQL
// may answer in its own error format), and on GraphQL errors with code
// INTERNAL_SERVER_ERROR.
//
// It runs only with SHOPMESH_INTEGRATION=1, against a stack that is up
// already (go tool task up); it never starts one. SHOPMESH_FUZZ_SEED
// repeats a run (the seed is printed), SHOPMESH_FUZZ_REQUESTS sets the
// number of requests (10,000), SHOPMESH_FUZZ_WORKERS the concurrency (16),
// and SHOPMESH_FUZZ_DUMP names a directory to write each failing request
// to, as raw HTTP (nc 127.0.0.1 8080 < file).
package fuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopmesh/shopmesh/local/stack"
)

type config struct {
	gateway  string
	seed     uint64
	requests int
	workers  int
	peers    int
	dump     string
}

func loadConfig(t *testing.T) config {
	t.Helper()
	cfg := config{
		gateway:  envOr("SHOPMESH_GATEWAY_URL", "http://127.0.0.1:8080"),
		seed:     rand.Uint64() % 1_000_000_000,
		requests: 10000,
		workers:  16,
		peers:    128,
		dump:     os.Getenv("SHOPMESH_FUZZ_DUMP"),
	}
	if v := os.Getenv("SHOPMESH_FUZZ_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SHOPMESH_FUZZ_SEED=%q: %v", v, err)
		}
		cfg.seed = n
	}
	for name, dst := range map[string]*int{"SHOPMESH_FUZZ_REQUESTS": &cfg.requests, "SHOPMESH_FUZZ_WORKERS": &cfg.workers} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive number", name, v)
			}
			*dst = n
		}
	}
	return cfg
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestFuzzThePublicAPI(t *testing.T) {
	if os.Getenv("SHOPMESH_INTEGRATION") == "" {
		t.Skip("fuzz: set SHOPMESH_INTEGRATION=1 and start the stack first (go tool task up)")
	}
	cfg := loadConfig(t)
	base, err := url.Parse(cfg.gateway)
	if err != nil {
		t.Fatalf("SHOPMESH_GATEWAY_URL=%q: %v", cfg.gateway, err)
	}
	t.Logf("fuzz: seed %d (SHOPMESH_FUZZ_SEED=%d repeats the run), %d requests, %d workers, gateway %s",
		cfg.seed, cfg.seed, cfg.requests, cfg.workers, cfg.gateway)

	r := rand.New(rand.NewPCG(cfg.seed, 1<<63))
	setup := newPeers(base, 1, r)[0]
	peers := newPeers(base, cfg.peers, r)
	defer func() {
		setup.close()
		for _, p := range peers {
			p.close()
		}
	}()

	if a := setup.send(base, get("/readyz")); a.err != nil || a.status != http.StatusOK {
		t.Fatalf("fuzz: the gateway at %s is not ready (%s): start the stack first (go tool task up); this test does not start one",
			cfg.gateway, describe(a))
	}
	a := setup.send(base, get("/openapi.json"))
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("fuzz: GET /openapi.json: %s", describe(a))
	}
	ops, err := loadOpenAPI(a.body)
	if err != nil {
		t.Fatalf("fuzz: %v", err)
	}
	gql, err := loadGraphQL(filepath.Join(repoRoot(t), "apps", "gateway", "graphql"))
	if err != nil {
		t.Fatalf("fuzz: %v", err)
	}
	t.Logf("fuzz: %d REST operations from /openapi.json, %d query and %d mutation fields from the GraphQL schema",
		len(ops), len(gql.Query.Fields), len(gql.Mutation.Fields))

	w := prepare(t, setup, base, cfg)
	t.Cleanup(func() { removeOwned(t, setup, base, w, cfg.seed) })

	res := run(t, cfg, base, peers, ops, gql, w)
	res.report(t)
}

// prepare signs in the admin, signs up a customer and learns categories
// and product ids, and creates a few products of the fuzzer's own.
func prepare(t *testing.T, p *peer, base *url.URL, cfg config) *world {
	t.Helper()
	w := &world{tokens: map[string]string{"anonymous": ""}}

	secrets := localSecrets(t)
	w.tokens["admin"] = signIn(t, p, base, secrets["admin-email"], secrets["admin-password"])

	email := fmt.Sprintf("fuzz-%d-%d@fuzz.shopmesh.dev", cfg.seed, time.Now().UnixNano())
	const password = "fuzz-correct-horse-7"
	if a := call(p, base, http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": password, "name": "Fuzz Customer"}, ""); a.status != http.StatusCreated {
		t.Fatalf("fuzz: signing up a customer: %s", describe(a))
	}
	w.tokens["customer"] = signIn(t, p, base, email, password)

	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if a := call(p, base, http.MethodGet, "/api/v1/categories", nil, ""); a.status != http.StatusOK || json.Unmarshal(a.body, &list) != nil {
		t.Fatalf("fuzz: GET /api/v1/categories: %s", describe(a))
	}
	for _, c := range list.Items {
		w.categories = append(w.categories, c.ID)
	}
	list.Items = nil
	if a := call(p, base, http.MethodGet, "/api/v1/products?page_size=100", nil, ""); a.status != http.StatusOK || json.Unmarshal(a.body, &list) != nil {
		t.Fatalf("fuzz: GET /api/v1/products: %s", describe(a))
	}
	for _, it := range list.Items {
		w.products = append(w.products, it.ID)
	}
	category := "kitchen"
	if len(w.categories) > 0 {
		category = w.categories[0]
	}
	for i := range 3 {
		body := map[string]any{
			"sku": fmt.Sprintf("%sS%d-%d", skuPrefix(cfg.seed), i, time.Now().UnixNano()%1e6), "name": fmt.Sprintf("Fuzz product %d", i),
			"description": "Made by tests/fuzz; deleted when it ends.", "category": category,
			"price": map[string]any{"amount": 1000 + i, "currency": "USD"},
		}
		a := call(p, base, http.MethodPost, "/api/v1/products", body, w.tokens["admin"])
		var prod struct {
			ID string `json:"id"`
		}
		if a.status != http.StatusCreated || json.Unmarshal(a.body, &prod) != nil {
			t.Fatalf("fuzz: creating a product as the admin: %s", describe(a))
		}
		w.owned = append(w.owned, prod.ID)
		if a := call(p, base, http.MethodPut, "/api/v1/inventory/"+prod.ID, map[string]int{"available": 1000}, w.tokens["admin"]); a.status != http.StatusOK {
			t.Fatalf("fuzz: stocking product %s: %s", prod.ID, describe(a))
		}
	}
	t.Logf("fuzz: %d categories, %d catalog products (read only), %d products of its own", len(w.categories), len(w.products), len(w.owned))
	return w
}

// skuPrefix starts the SKU of every product a run creates.
func skuPrefix(seed uint64) string { return fmt.Sprintf("FUZZ-%d-", seed%100000) }

// removeOwned deletes the products the fuzzer created: those it learnt of,
// and any other with its SKU prefix (created by a request whose answer it
// did not see).
func removeOwned(t *testing.T, p *peer, base *url.URL, w *world, seed uint64) {
	ids := w.ownedProducts()
	for page, token := 0, ""; page < 50; page++ {
		a := call(p, base, http.MethodGet, "/api/v1/products?page_size=100&page_token="+url.QueryEscape(token), nil, "")
		var list struct {
			Items []struct {
				ID  string `json:"id"`
				SKU string `json:"sku"`
			} `json:"items"`
			Next string `json:"next_page_token"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &list) != nil {
			t.Logf("fuzz: listing products to clean up: %s", describe(a))
			break
		}
		for _, it := range list.Items {
			if strings.HasPrefix(it.SKU, skuPrefix(seed)) && !slices.Contains(ids, it.ID) {
				ids = append(ids, it.ID)
			}
		}
		if token = list.Next; token == "" {
			break
		}
	}
	deleted := 0
	for _, id := range ids {
		switch a := call(p, base, http.MethodDelete, "/api/v1/products/"+id, nil, w.tokens["admin"]); a.status {
		case http.StatusNoContent:
			deleted++
		case http.StatusNotFound:
		default:
			t.Logf("fuzz: deleting product %s: %s", id, describe(a))
		}
	}
	t.Logf("fuzz: deleted %d products of its own", deleted)
}

func signIn(t *testing.T, p *peer, base *url.URL, email, password string) string {
	t.Helper()
	a := call(p, base, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password}, "")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("fuzz: signing in %s: %s", email, describe(a))
	}
	return tok.AccessToken
}

// call sends a well-formed request for the set-up and the clean-up,
// waiting out the rate limit and a 503's Retry-After.
func call(p *peer, base *url.URL, method, target string, body any, token string) answer {
	rq := get(target)
	rq.method = method
	if body != nil {
		rq.body, _ = json.Marshal(body)
		rq.header.Set("Content-Type", "application/json")
	}
	if token != "" {
		rq.header.Set("Authorization", "Bearer "+token)
	}
	for attempt := 1; ; attempt++ {
		a := p.send(base, rq)
		d, ok := retryAfter(a.header)
		if !ok || (a.status != http.StatusTooManyRequests && a.status != http.StatusServiceUnavailable) || attempt == 10 {
			return a
		}
		time.Sleep(d)
	}
}

func get(target string) *request {
	rq := newRequest("setup", "", http.MethodGet, target)
	rq.path, rq.query, _ = strings.Cut(target, "?")
	return rq
}

func describe(a answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, excerpt(a.body, 300))
}

// localSecrets is the local secret store's file, where the admin's
// credentials are (go tool task up creates it).
func localSecrets(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(repoRoot(t), ".local", "secrets.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fuzz: the admin's credentials: %v (go tool task up creates %s)", err, path)
	}
	var secrets map[string]string
	if err := json.Unmarshal(raw, &secrets); err != nil || secrets["admin-email"] == "" {
		t.Fatalf("fuzz: %s holds no admin-email (%v)", path, err)
	}
	return secrets
}

// repoRoot is the checkout the stack runs from (where the secrets are).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := stack.FindRoot("")
	if err != nil {
		t.Fatalf("fuzz: %v", err)
	}
	return root
}

// run sends cfg.requests generated requests from cfg.workers goroutines.
func run(t *testing.T, cfg config, base *url.URL, peers []*peer, ops []*restOp, gql *ast.Schema, w *world) *result {
	res := newResult(cfg)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for worker := range cfg.workers {
		wg.Go(func() {
			pr := rand.New(rand.NewPCG(cfg.seed, uint64(worker)+1<<40))
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.requests {
					return
				}
				g := newGen(cfg.seed, i, w)
				var rq *request
				if g.chance(0.3) {
					rq = g.graphql(gql, g.identity(authOptional))
				} else {
					op := ops[g.r.IntN(len(ops))]
					rq = g.rest(op, g.identity(op.auth))
				}
				rq.index = i
				if w.touchesCatalog(rq) {
					res.guard(rq)
					continue
				}
				p := choosePeer(pr, peers)
				a := p.send(base, rq)
				if a.status == http.StatusTooManyRequests {
					d, _ := retryAfter(a.header)
					p.block(d)
				}
				res.record(t, rq, a)
				harvest(w, rq, a)
				if a.status == http.StatusServiceUnavailable {
					if d, ok := retryAfter(a.header); ok {
						time.Sleep(min(d, 5*time.Second))
					}
				}
				if done := i + 1; done%2500 == 0 {
					t.Logf("fuzz: %d requests sent, %.0f s", done, time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// choosePeer picks a random peer that is not waiting out a Retry-After.
func choosePeer(r *rand.Rand, peers []*peer) *peer {
	for {
		now := time.Now()
		for range 2 * len(peers) {
			if p := peers[r.IntN(len(peers))]; p.free(now) {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// harvest learns ids from successful answers.
func harvest(w *world, rq *request, a answer) {
	if a.err != nil || a.status < 200 || a.status > 299 {
		return
	}
	var v struct {
		ID      string `json:"id"`
		OrderID string `json:"order_id"`
		Data    struct {
			Checkout struct {
				OrderID string `json:"orderId"`
			} `json:"checkout"`
		} `json:"data"`
	}
	if json.Unmarshal(a.body, &v) != nil {
		return
	}
	switch {
	case rq.kind == "rest" && rq.method == http.MethodPost && rq.route == "POST /api/v1/products":
		w.add(&w.owned, v.ID)
	case rq.kind == "rest" && rq.method == http.MethodPost && rq.route == "POST /api/v1/me/addresses":
		w.add(&w.addresses, v.ID)
	case rq.kind == "rest" && rq.method == http.MethodPost && rq.route == "POST /api/v1/checkout":
		w.add(&w.orders, v.OrderID)
	case rq.kind == "graphql":
		w.add(&w.orders, v.Data.Checkout.OrderID)
	}
}

// failure is one request that broke a rule.
type failure struct {
	rule string
	rq   *request
	a    answer
}

// check applies the rules to one answer; unavailable reports a 503 or a
// GraphQL UNAVAILABLE error.
func check(rq *request, a answer) (fails []string, unavailable bool) {
	if a.err != nil {
		if hung(a.err) {
			return []string{"hang: no answer within 15 s"}, false
		}
		return []string{"no answer (transport error)"}, false
	}
	switch {
	case a.status == http.StatusServiceUnavailable:
		unavailable = true
		// A probe says not ready without Retry-After, as documented.
		if _, ok := retryAfter(a.header); !ok && rq.route != "GET /readyz" {
			fails = append(fails, "503 without Retry-After")
		}
	case a.status >= 500:
		fails = append(fails, "5xx")
	}
	if a.status >= 400 && a.status < 500 && len(a.body) > 0 {
		if why := notProblem(a); why != "" && !(rq.kind == "graphql" && graphQLErrors(a)) {
			fails = append(fails, "4xx not problem+json ("+why+")")
		}
	}
	if rq.kind == "graphql" && a.status == http.StatusOK && rq.method != http.MethodHead {
		var resp struct {
			Errors []struct {
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(a.body, &resp); err != nil {
			fails = append(fails, "GraphQL answer is not JSON")
		}
		for _, e := range resp.Errors {
			switch e.Extensions.Code {
			case "INTERNAL_SERVER_ERROR":
				fails = append(fails, "GraphQL INTERNAL_SERVER_ERROR")
			case "UNAVAILABLE":
				unavailable = true
			}
		}
	}
	return slices.Compact(fails), unavailable
}

// notProblem says why a is not a problem document of its own status, or
// "" when it is one.
func notProblem(a answer) string {
	ct := a.header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/problem+json" {
		return fmt.Sprintf("Content-Type %q", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		return "the body is not JSON"
	}
	if p.Status != a.status {
		return fmt.Sprintf("status %d in the body", p.Status)
	}
	if p.Type == "" || p.Title == "" {
		return "no type or title"
	}
	return ""
}

// graphQLErrors reports a GraphQL answer that carries errors, as /graphql
// answers a request it does not serve or an operation that does not
// validate.
func graphQLErrors(a answer) bool {
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/graphql-response+json" {
		return false
	}
	var resp struct {
		Errors []json.RawMessage `json:"errors"`
	}
	return json.Unmarshal(a.body, &resp) == nil && len(resp.Errors) > 0
}

// result collects what the run saw.
type result struct {
	mu          sync.Mutex
	seed        uint64
	dump        string
	sent        int
	answered    int
	unavailable int
	byIdentity  map[string]int
	byKind      map[string]int
	byStatus    map[string]int
	byRoute     map[string]map[string]int
	slowest     *request
	slowestA    answer
	guarded     []string       // requests not sent: they would change a catalog product
	broken      map[string]int // rule → count
	examples    []failure
	signatures  map[string]bool
	elapsed     time.Duration
}

const maxExamples = 10

func newResult(cfg config) *result {
	return &result{
		seed: cfg.seed, dump: cfg.dump,
		byIdentity: map[string]int{}, byKind: map[string]int{}, byStatus: map[string]int{},
		byRoute: map[string]map[string]int{}, broken: map[string]int{}, signatures: map[string]bool{},
	}
}

func (r *result) record(t *testing.T, rq *request, a answer) {
	fails, unavailable := check(rq, a)
	status := strconv.Itoa(a.status)
	switch {
	case a.err != nil && hung(a.err):
		status = "hang"
	case a.err != nil:
		status = "error"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	if a.err == nil {
		r.answered++
	}
	if unavailable {
		r.unavailable++
	}
	r.byIdentity[rq.identity]++
	r.byKind[rq.kind]++
	r.byStatus[status]++
	if r.byRoute[rq.route] == nil {
		r.byRoute[rq.route] = map[string]int{}
	}
	r.byRoute[rq.route][status]++
	if r.slowest == nil || a.took > r.slowestA.took {
		r.slowest, r.slowestA = rq, a
	}
	for _, rule := range fails {
		r.broken[rule]++
		if r.dump != "" {
			if err := dumpRequest(r.dump, rq); err != nil {
				t.Logf("fuzz: dumping request %d: %v", rq.index, err)
			}
		}
		sig := rule + " " + status + " " + rq.route
		if rq.kind == "graphql" {
			sig = rule + " " + status + " graphql"
		}
		if !r.signatures[sig] && len(r.examples) < maxExamples {
			r.signatures[sig] = true
			r.examples = append(r.examples, failure{rule: rule, rq: rq, a: a})
		}
	}
}

// guard records a request the generator should not have made.
func (r *result) guard(rq *request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.guarded = append(r.guarded, fmt.Sprintf("#%d %s %s%s", rq.index, rq.method, rq.target(), notes(rq)))
}

func (r *result) report(t *testing.T) {
	t.Helper()
	if len(r.guarded) > 0 {
		t.Errorf("fuzz: generator bug: %d requests not sent because they would change a catalog product, e.g. %s",
			len(r.guarded), r.guarded[0])
	}
	secs := r.elapsed.Seconds()
	t.Logf("fuzz: %d requests in %.1f s (%.0f/s), seed %d", r.sent, secs, float64(r.sent)/secs, r.seed)
	t.Logf("fuzz: by identity: %s", counts(r.byIdentity))
	t.Logf("fuzz: by kind: %s", counts(r.byKind))
	t.Logf("fuzz: by status: %s", counts(r.byStatus))
	if r.slowest != nil {
		t.Logf("fuzz: slowest: %.2f s, %s %s as %s → %s (request #%d%s)", r.slowestA.took.Seconds(), r.slowest.method,
			r.slowest.target(), r.slowest.identity, statusOf(r.slowestA), r.slowest.index, notes(r.slowest))
	}
	routes := make([]string, 0, len(r.byRoute))
	for route := range r.byRoute {
		routes = append(routes, route)
	}
	sort.Strings(routes)
	var b strings.Builder
	for _, route := range routes {
		fmt.Fprintf(&b, "\n  %-45s %s", route, counts(r.byRoute[route]))
	}
	t.Logf("fuzz: per operation:%s", b.String())

	if r.answered > 0 && r.unavailable*100 > r.answered {
		t.Errorf("fuzz: %d of %d answers (%.1f%%) were 503 or GraphQL UNAVAILABLE, more than 1%%", r.unavailable, r.answered,
			100*float64(r.unavailable)/float64(r.answered))
	}
	if len(r.broken) == 0 {
		return
	}
	b.Reset()
	fmt.Fprintf(&b, "fuzz: rules broken (seed %d, SHOPMESH_FUZZ_SEED=%d repeats the run): %s", r.seed, r.seed, counts(r.broken))
	for i, f := range r.examples {
		fmt.Fprintf(&b, "\n%d. %s: %s %s as %s (request #%d, %s)\n   → %s %.2f s: %s",
			i+1, f.rule, f.rq.method, f.rq.target(), f.rq.identity, f.rq.index, f.rq.kind, statusOf(f.a), f.a.took.Seconds(),
			excerpt(f.a.body, 300))
		if len(f.rq.notes) > 0 {
			fmt.Fprintf(&b, "\n   request: %s", strings.Join(f.rq.notes, "; "))
		}
		if ct := f.rq.header.Values("Content-Type"); len(ct) > 0 {
			fmt.Fprintf(&b, "\n   Content-Type: %s", strings.Join(ct, " | "))
		}
		if len(f.rq.body) > 0 {
			fmt.Fprintf(&b, "\n   body: %s", excerpt(f.rq.body, 300))
		}
	}
	t.Error(b.String())
}

func statusOf(a answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	ct := a.header.Get("Content-Type")
	return fmt.Sprintf("%d (%s)", a.status, ct)
}

func notes(rq *request) string {
	if len(rq.notes) == 0 {
		return ""
	}
	return "; " + excerpt([]byte(strings.Join(rq.notes, "; ")), 200)
}

// counts renders a histogram, largest first.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// dumpRequest writes rq as raw HTTP/1.1 to dir, to send again with nc.
func dumpRequest(dir string, rq *request) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	target := rq.path
	if rq.query != "" {
		target += "?" + rq.query
	}
	host := rq.host
	if host == "" {
		host = "127.0.0.1:8080"
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", rq.method, target, host)
	for _, k := range sortedHeaderKeys(rq.header) {
		for _, v := range rq.header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(rq.body))
	b.Write(rq.body)
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d-%d.http", rq.index, time.Now().UnixNano()%1000)), b.Bytes(), 0o644)
}

func sortedHeaderKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
