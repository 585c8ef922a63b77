package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/apps/search/api"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// recorder stands in for the search service: it keeps the query it was
// asked and answers a full page of a long result, so that every answer has
// a next page token.
type recorder struct {
	text  string
	q     search.Query
	calls int
}

func (r *recorder) Search(_ context.Context, text string, q search.Query) (search.Result, error) {
	r.text, r.q = text, q
	r.calls++
	return search.Result{Items: make([]search.Product, q.Limit), Total: api.MaxResults + 1}, nil
}

func (r *recorder) Rebuild() (search.Run, error)             { return search.Run{}, nil }
func (r *recorder) Wait(context.Context) (search.Run, error) { return search.Run{}, nil }
func (r *recorder) LastRun() (search.Run, bool)              { return search.Run{}, false }

// searchFields are the parameters GET /search reads; a refusal names one.
var searchFields = []string{"category", "min_price", "max_price", "in_stock", "sort", "page_size", "page_token"}

var categoryRule = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$`)

// FuzzSearchQuery sends any query string to GET /search. It is answered 200
// or a 400 problem naming a parameter, never anything else; what reaches the
// service keeps API.md's rules; and the next page token of an answer is
// accepted for the same search and continues where the page ended.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{
		"q=stainles+kettel", "category=audio&sort=price_asc", "min_price=20000&max_price=30000&sort=price_desc",
		"in_stock=false", "sort=newest", "q=wireles+mou&sort=relevance", "", "sort=price_asc&page_size=10",
		"page_size=0", "page_size=101", "page_size=ten", "sort=cheapest", "sort=", "min_price=-1", "min_price=1.5",
		"max_price=99999999999999", "min_price=500&max_price=100", "in_stock=maybe", "category=bad+category%21",
		"category=" + strings.Repeat("k", 65), "page_token=garbage", "page_token=djF8MTB8YWJj", "q=%zz", "q=a;b",
	} {
		f.Add(q)
	}
	for _, q := range []string{
		`+-&&||!(){}[]^"~*?:\/`, `name:kettle AND price:>10`, `*`, `"unterminated`, `[1 TO *]`, `/.*/`,
		strings.Repeat("(", 100), "\x00", "\xff\xfe", "<script>alert(1)</script>", "日本語", "ke\u0301ttle",
	} {
		f.Add("q=" + url.QueryEscape(q))
	}
	rec := &recorder{}
	cfg := config.App{ID: "search", MaxBodyBytes: 1 << 20}
	h := httpserver.NewEngine(cfg, discard(), metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	api.Register(httpserver.NewRouter(cfg, h), rec, discard())
	f.Fuzz(func(t *testing.T, raw string) {
		rec.calls = 0
		w := query(h, raw)
		vals, err := url.ParseQuery(raw)
		if err != nil || w.Code != http.StatusOK {
			checkRefusal(t, w, err != nil)
			return
		}
		checkQuery(t, rec, vals)
		var page api.Results
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || page.NextPageToken == "" {
			t.Fatalf("a full page of a long result has a next page token: %s", w.Body.String())
		}

		end := rec.q.Offset + rec.q.Limit
		vals.Set("page_token", page.NextPageToken)
		w = query(h, vals.Encode())
		if w.Code != http.StatusOK {
			t.Fatalf("the next page token of %q was refused: %s", raw, w.Body.String())
		}
		if rec.q.Offset != end {
			t.Fatalf("the next page of %q starts at %d, not %d", raw, rec.q.Offset, end)
		}
	})
}

func query(h http.Handler, raw string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/search", nil)
	req.URL.RawQuery = raw
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// checkRefusal requires a 400 problem: a malformed query string, or
// invalid parameters, each named.
func checkRefusal(t *testing.T, w *httptest.ResponseRecorder, malformed bool) {
	t.Helper()
	var p problem.Problem
	if w.Code != http.StatusBadRequest || w.Header().Get("Content-Type") != problem.ContentType ||
		json.Unmarshal(w.Body.Bytes(), &p) != nil {
		t.Fatalf("answered %d %s", w.Code, w.Body.String())
	}
	if malformed {
		if p.Type != problem.TypeMalformed {
			t.Fatalf("a malformed query string is %s", p.Type)
		}
		return
	}
	if len(p.Errors) == 0 {
		t.Fatalf("a refusal names no parameter: %s", w.Body.String())
	}
	for _, e := range p.Errors {
		if !slices.Contains(searchFields, e.Field) {
			t.Fatalf("a refusal names %q", e.Field)
		}
	}
}

// checkQuery holds what the service was asked to API.md's rules.
func checkQuery(t *testing.T, rec *recorder, vals url.Values) {
	t.Helper()
	q := rec.q
	switch {
	case rec.calls != 1:
		t.Fatalf("the service was asked %d times", rec.calls)
	case rec.text != vals.Get("q"):
		t.Fatalf("searched %q for q=%q", rec.text, vals.Get("q"))
	case q.Category != vals.Get("category") || (q.Category != "" && !categoryRule.MatchString(q.Category)):
		t.Fatalf("category %q for %q", q.Category, vals.Get("category"))
	case q.Limit < 1 || q.Limit > api.MaxPageSize || q.Offset < 0 || q.Offset+q.Limit > api.MaxResults:
		t.Fatalf("offset %d, limit %d", q.Offset, q.Limit)
	case !slices.Contains(search.Sorts(), q.Sort):
		t.Fatalf("sort %q", q.Sort)
	case q.MinPrice != nil && (*q.MinPrice < 0 || *q.MinPrice > api.MaxPrice),
		q.MaxPrice != nil && (*q.MaxPrice < 0 || *q.MaxPrice > api.MaxPrice),
		q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice:
		t.Fatalf("price range %v..%v", q.MinPrice, q.MaxPrice)
	case (vals.Get("page_token") != "") != (q.Offset > 0):
		t.Fatalf("offset %d with page_token %q", q.Offset, vals.Get("page_token"))
	}
}
