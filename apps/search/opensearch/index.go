// Package opensearch is the search.Index on an OpenSearch cluster (Amazon
// OpenSearch Service on AWS). Search serves from an alias; a rebuild fills a
// new concrete index (bulk, refresh off) and swaps the alias to it in one
// _aliases call. Writes of single records are optimistic: read the document
// with its sequence number, write it back only if unchanged (if_seq_no /
// if_primary_term, or _create for a new one), retry on 409.
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

// Index implements search.Index on an alias.
type Index struct {
	cfg    Config
	client *opensearch.Client
	log    *slog.Logger
	now    func() time.Time
	live   atomic.Bool
}

// New returns the index behind cfg.Alias. No request is made until Open.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Index, error) {
	c, err := cfg.client(ctx)
	if err != nil {
		return nil, err
	}
	return &Index{cfg: cfg, client: c, log: log, now: func() time.Time { return time.Now().UTC() }}, nil
}

// maxAttempts bounds optimistic write retries of one record.
const maxAttempts = 10

// errStatus is an answer OpenSearch gave that the caller did not expect.
type errStatus struct {
	op     string
	status int
	body   string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("opensearch %s: status %d: %s", e.op, e.status, e.body)
}

// call sends one request and returns the status and body. ndjson marks a
// bulk body.
func (x *Index) call(ctx context.Context, method, path string, query url.Values, body []byte, ndjson bool) (int, []byte, error) {
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("opensearch %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if ndjson {
			req.Header.Set("Content-Type", "application/x-ndjson")
		}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := x.client.Stream(req)
	if err != nil {
		return 0, nil, fmt.Errorf("opensearch %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("opensearch %s %s: reading the answer: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// expect sends a request that must answer 2xx, decoding the answer into out.
func (x *Index) expect(ctx context.Context, op, method, path string, query url.Values, body []byte, out any) error {
	status, b, err := x.call(ctx, method, path, query, body, false)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return &errStatus{op: op, status: status, body: truncate(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("opensearch %s: decoding the answer: %w", op, err)
		}
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 512 {
		return string(b[:512]) + "…"
	}
	return string(b)
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("opensearch request body: %v", err)) // only our own plain values are marshalled
	}
	return b
}

// Open implements search.Index: live when the alias exists.
func (x *Index) Open(ctx context.Context) error {
	names, err := x.aliased(ctx)
	if err != nil {
		return err
	}
	x.live.Store(len(names) > 0)
	if len(names) == 0 {
		x.log.Warn("no opensearch index behind the alias", "alias", x.cfg.Alias)
	}
	return nil
}

// aliased returns the indices behind the alias (none when it is missing).
func (x *Index) aliased(ctx context.Context) ([]string, error) {
	status, b, err := x.call(ctx, http.MethodGet, "/_alias/"+url.PathEscape(x.cfg.Alias), nil, nil, false)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, nil
	}
	if status != http.StatusOK {
		return nil, &errStatus{op: "get alias", status: status, body: truncate(b)}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("opensearch get alias: %w", err)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	return names, nil
}

// Live implements search.Index.
func (x *Index) Live() bool { return x.live.Load() }

// Close implements search.Index; the client holds no resources to free.
func (x *Index) Close() error { return nil }

// Update implements search.Index.
func (x *Index) Update(ctx context.Context, id string, ch search.Change) error {
	if !x.Live() {
		return search.ErrNotBuilt
	}
	return x.update(ctx, x.cfg.Alias, id, ch)
}

type getAnswer struct {
	Found       bool  `json:"found"`
	SeqNo       int64 `json:"_seq_no"`
	PrimaryTerm int64 `json:"_primary_term"`
	Source      doc   `json:"_source"`
}

// update reads id from index, applies ch and writes the result only if the
// document did not change meanwhile, retrying when it did.
func (x *Index) update(ctx context.Context, index, id string, ch search.Change) error {
	docPath := "/" + url.PathEscape(index) + "/_doc/" + url.PathEscape(id)
	for range maxAttempts {
		status, b, err := x.call(ctx, http.MethodGet, docPath, nil, nil, false)
		if err != nil {
			return err
		}
		var got getAnswer
		if status == http.StatusOK || status == http.StatusNotFound {
			if err := json.Unmarshal(b, &got); err != nil {
				return fmt.Errorf("opensearch get %s: %w", id, err)
			}
		}
		if status != http.StatusOK && (status != http.StatusNotFound || bytes.Contains(b, []byte(`"error"`))) {
			return &errStatus{op: "get " + id, status: status, body: truncate(b)}
		}
		var cur *search.Record
		if got.Found {
			rec := got.Source.record()
			cur = &rec
		}
		next, write := ch(cur)
		if !write {
			return nil
		}
		next.ID = id
		path, q := "/"+url.PathEscape(index)+"/_create/"+url.PathEscape(id), url.Values(nil)
		if got.Found {
			path = docPath
			q = url.Values{"if_seq_no": {strconv.FormatInt(got.SeqNo, 10)}, "if_primary_term": {strconv.FormatInt(got.PrimaryTerm, 10)}}
		}
		status, b, err = x.call(ctx, http.MethodPut, path, q, jsonBody(toDoc(next, x.now())), false)
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusOK || status == http.StatusCreated:
			return nil
		case status == http.StatusConflict:
			continue // changed since we read it: read again
		default:
			return &errStatus{op: "write " + id, status: status, body: truncate(b)}
		}
	}
	return fmt.Errorf("opensearch write %s: still conflicting after %d attempts", id, maxAttempts)
}

// Lookup implements search.Index.
func (x *Index) Lookup(ctx context.Context, ids []string) (map[string]search.Record, error) {
	if !x.Live() {
		return nil, search.ErrNotBuilt
	}
	out := make(map[string]search.Record, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var ans struct {
		Docs []struct {
			ID     string `json:"_id"`
			Found  bool   `json:"found"`
			Source doc    `json:"_source"`
		} `json:"docs"`
	}
	if err := x.expect(ctx, "mget", http.MethodPost, "/"+url.PathEscape(x.cfg.Alias)+"/_mget", nil, jsonBody(map[string]any{"ids": ids}), &ans); err != nil {
		return nil, err
	}
	for _, d := range ans.Docs {
		if d.Found {
			out[d.ID] = d.Source.record()
		}
	}
	return out, nil
}

// Search implements search.Index.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	if !x.Live() {
		return search.Result{}, search.ErrNotBuilt
	}
	var ans searchAnswer
	if err := x.expect(ctx, "search", http.MethodPost, "/"+url.PathEscape(x.cfg.Alias)+"/_search", nil, jsonBody(searchBody(q)), &ans); err != nil {
		return search.Result{}, err
	}
	return ans.result(), nil
}

// NewBuild implements search.Index: a new concrete index "<alias>-<time>"
// with the mapping and refreshes off until Commit.
func (x *Index) NewBuild(ctx context.Context) (search.Build, error) {
	started := x.now()
	name := x.cfg.Alias + "-" + strconv.FormatInt(started.UnixNano(), 10)
	if err := x.expect(ctx, "create index", http.MethodPut, "/"+url.PathEscape(name), nil, jsonBody(indexBody(x.cfg)), nil); err != nil {
		return nil, err
	}
	return &build{x: x, name: name, started: started}, nil
}

type build struct {
	x       *Index
	name    string
	started time.Time
}

// Update implements search.Build.
func (b *build) Update(ctx context.Context, id string, ch search.Change) error {
	return b.x.update(ctx, b.name, id, ch)
}

// Insert implements search.Build with one _bulk of create actions: a
// create of an id the index holds answers 409 and is reported as held.
func (b *build) Insert(ctx context.Context, recs []search.Record) ([]string, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	var body bytes.Buffer
	now := b.x.now()
	for _, r := range recs {
		body.Write(jsonBody(map[string]any{"create": map[string]string{"_index": b.name, "_id": r.ID}}))
		body.WriteByte('\n')
		body.Write(jsonBody(toDoc(r, now)))
		body.WriteByte('\n')
	}
	status, out, err := b.x.call(ctx, http.MethodPost, "/_bulk", nil, body.Bytes(), true)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &errStatus{op: "bulk", status: status, body: truncate(out)}
	}
	var ans struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		return nil, fmt.Errorf("opensearch bulk: decoding the answer: %w", err)
	}
	if len(ans.Items) != len(recs) {
		return nil, fmt.Errorf("opensearch bulk: %d items answered for %d sent", len(ans.Items), len(recs))
	}
	var held []string
	for _, item := range ans.Items {
		res := item["create"]
		switch {
		case res.Status == http.StatusCreated:
		case res.Status == http.StatusConflict:
			held = append(held, res.ID)
		default:
			return nil, fmt.Errorf("opensearch bulk: %s: status %d: %s", res.ID, res.Status, truncate(res.Error))
		}
	}
	return held, nil
}

// catchUpMargin widens the window of the catch-up after a swap, for clocks
// of replicas that disagree a little.
const catchUpMargin = time.Minute

// Commit implements search.Build: refresh, refreshes back on, swap the
// alias in one _aliases call (remove from the old indices, add to the new).
// Other replicas of search may have written changes to the old index while
// this one was filled; after the swap they are folded in by version
// (search.MergeChange) before the old index is deleted.
func (b *build) Commit(ctx context.Context) error {
	x := b.x
	index := "/" + url.PathEscape(b.name)
	if err := x.expect(ctx, "refresh", http.MethodPost, index+"/_refresh", nil, nil, nil); err != nil {
		return err
	}
	if err := x.expect(ctx, "settings", http.MethodPut, index+"/_settings", nil, jsonBody(map[string]any{"index": map[string]any{"refresh_interval": refreshInterval}}), nil); err != nil {
		return err
	}
	old, err := x.aliased(ctx)
	if err != nil {
		return err
	}
	var actions []any
	for _, o := range old {
		actions = append(actions, map[string]any{"remove": map[string]string{"index": o, "alias": x.cfg.Alias}})
	}
	actions = append(actions, map[string]any{"add": map[string]string{"index": b.name, "alias": x.cfg.Alias}})
	if err := x.expect(ctx, "swap alias", http.MethodPost, "/_aliases", nil, jsonBody(map[string]any{"actions": actions}), nil); err != nil {
		return err
	}
	x.live.Store(true)
	// The swap is done: from here on failures are logged, never returned
	// (the caller would throw away the index the alias now names).
	for _, o := range old {
		if err := b.catchUp(ctx, o); err != nil {
			x.log.Error("could not fold late changes of the replaced index into the new one; the old index is kept", "old", o, "new", b.name, "err", err)
			continue
		}
		if err := x.expect(ctx, "delete index", http.MethodDelete, "/"+url.PathEscape(o), nil, nil, nil); err != nil {
			x.log.Warn("could not delete the replaced index", "index", o, "err", err)
		}
	}
	return nil
}

// catchUp folds records the old index got since the build started into
// the new one, a page at a time in id order.
func (b *build) catchUp(ctx context.Context, old string) error {
	x := b.x
	if err := x.expect(ctx, "refresh", http.MethodPost, "/"+url.PathEscape(old)+"/_refresh", nil, nil, nil); err != nil {
		return err
	}
	var after []any
	for {
		body := map[string]any{
			"size":  500,
			"query": map[string]any{"range": map[string]any{"indexed_at": map[string]any{"gte": b.started.Add(-catchUpMargin).Format(time.RFC3339Nano)}}},
			"sort":  []any{map[string]any{"id": "asc"}},
		}
		if after != nil {
			body["search_after"] = after
		}
		var ans struct {
			Hits struct {
				Hits []struct {
					Source doc   `json:"_source"`
					Sort   []any `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := x.expect(ctx, "catch-up search", http.MethodPost, "/"+url.PathEscape(old)+"/_search", nil, jsonBody(body), &ans); err != nil {
			return err
		}
		for _, h := range ans.Hits.Hits {
			rec := h.Source.record()
			if err := x.update(ctx, b.name, rec.ID, search.MergeChange(rec)); err != nil {
				return err
			}
		}
		if len(ans.Hits.Hits) < 500 {
			return nil
		}
		after = ans.Hits.Hits[len(ans.Hits.Hits)-1].Sort
	}
}

// Abort implements search.Build.
func (b *build) Abort(ctx context.Context) error {
	status, out, err := b.x.call(ctx, http.MethodDelete, "/"+url.PathEscape(b.name), nil, nil, false)
	if err != nil {
		return err
	}
	if status/100 != 2 && status != http.StatusNotFound {
		return &errStatus{op: "delete index", status: status, body: truncate(out)}
	}
	return nil
}

// Both types implement their ports.
var (
	_ search.Index = (*Index)(nil)
	_ search.Build = (*build)(nil)
)
