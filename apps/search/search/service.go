package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Service implements search's use cases: apply catalog and stock changes,
// search, and rebuild the index from the catalog.
type Service struct {
	index   Index
	catalog Catalog
	log     *slog.Logger
	now     func() time.Time
	await   func(context.Context) error
	retry   func(attempt int) time.Duration

	// mu orders changes against builds: a change holds it shared while it
	// writes the live index and the build; starting and committing a build
	// hold it exclusively, so every change lands in both or in the new index.
	mu    sync.RWMutex
	build Build

	runMu sync.Mutex
	run   *run

	stock stockVersions

	ctx    context.Context // ends when the service stops
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Deps are what the Service works with.
type Deps struct {
	Index   Index
	Catalog Catalog
	Log     *slog.Logger
	// Await, when set, blocks until the catalog can be reached (the app's
	// sidecar is up); every rebuild attempt waits for it first.
	Await func(context.Context) error
	// Retry is the pause before rebuild attempt n+1; a growing one when nil.
	Retry func(attempt int) time.Duration
}

// NewService returns the search service over d.
func NewService(d Deps) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		index: d.Index, catalog: d.Catalog, log: d.Log, await: d.Await, retry: d.Retry,
		now: func() time.Time { return time.Now().UTC() },
		ctx: ctx, cancel: cancel,
	}
	if s.retry == nil {
		s.retry = func(n int) time.Duration { return min(time.Duration(n)*time.Second, 10*time.Second) }
	}
	return s
}

// PageSize is how many products a rebuild asks the catalog for at a time
// (the catalog's largest page).
const PageSize = 100

// maxAttempts bounds the attempts of a rebuild that replaces a live index;
// the first build of an index retries until it succeeds.
const maxAttempts = 5

// Start attaches to the stored index. Without a usable one it starts a
// rebuild at once, so that changes arriving meanwhile reach the new index.
// If the index cannot be reached yet, it keeps trying in the background.
func (s *Service) Start(ctx context.Context) error {
	if err := s.index.Open(ctx); err != nil {
		s.log.WarnContext(ctx, "search index unreachable; retrying in the background", "err", err)
		s.wg.Go(s.openLater)
		return nil
	}
	return s.ensureBuilt()
}

func (s *Service) ensureBuilt() error {
	if s.index.Live() {
		return nil
	}
	s.log.Info("no usable search index; rebuilding it from the catalog")
	_, err := s.Rebuild()
	return err
}

func (s *Service) openLater() {
	for attempt := 1; ; attempt++ {
		if !s.sleep(s.retry(attempt)) {
			return
		}
		err := s.index.Open(s.ctx)
		if err == nil {
			err = s.ensureBuilt()
		}
		if err == nil {
			return
		}
		s.log.Warn("search index still unreachable", "attempt", attempt, "err", err)
	}
}

// Stop ends a running rebuild (throwing its build away) and waits for it.
func (s *Service) Stop(context.Context) error {
	s.runMu.Lock() // Rebuild starts no goroutine once this cancel is seen
	s.cancel()
	s.runMu.Unlock()
	s.wg.Wait()
	return nil
}

// Ready reports whether a complete index serves searches.
func (s *Service) Ready(context.Context) error {
	if !s.index.Live() {
		return ErrNotBuilt
	}
	return nil
}

// ProductChanged applies a product.created, .updated or .deleted event:
// rec is the product at rec.Version, or (Deleted) its tombstone. Older and
// repeated events change nothing.
func (s *Service) ProductChanged(ctx context.Context, rec Record) error {
	if rec.ID == "" || rec.Version <= 0 {
		return fmt.Errorf("%w: product change without id or version", ErrInvalidEvent)
	}
	return s.update(ctx, rec.ID, productChange(rec))
}

// StockChanged applies a stock.changed event of product id at version.
// Older and repeated events change nothing; a product not seen yet keeps
// the stock until its product event arrives.
func (s *Service) StockChanged(ctx context.Context, id string, inStock bool, version int64) error {
	if id == "" || version <= 0 {
		return fmt.Errorf("%w: stock change without product id or version", ErrInvalidEvent)
	}
	return s.update(ctx, id, s.stockChange(id, inStock, version))
}

// update writes a change to the live index and to the build, if one runs.
func (s *Service) update(ctx context.Context, id string, ch Change) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.index.Live():
		if err := s.index.Update(ctx, id, ch); err != nil {
			return fmt.Errorf("updating %s in the index: %w", id, err)
		}
	case s.build == nil:
		return ErrNotBuilt
	}
	if s.build != nil {
		if err := s.build.Update(ctx, id, ch); err != nil {
			return fmt.Errorf("updating %s in the index being built: %w", id, err)
		}
	}
	return nil
}

// productChange replaces the record by in when in is newer. Stock known
// from stock events wins over the catalog's copy of it.
func productChange(in Record) Change {
	return func(cur *Record) (Record, bool) {
		if cur != nil && cur.Version >= in.Version {
			return Record{}, false
		}
		next := in
		if in.Deleted {
			next = Record{Product: Product{ID: in.ID, SKU: in.SKU, UpdatedAt: in.UpdatedAt}, Version: in.Version, Deleted: true}
		} else if next.CreatedAt.IsZero() {
			next.CreatedAt = createdAt(cur, in)
		}
		if cur != nil && cur.StockVersion > 0 {
			next.InStock, next.StockVersion = cur.InStock, cur.StockVersion
		}
		return next, true
	}
}

// createdAt is the creation time of a product whose event lacks it: the
// one already known, else the time in its UUIDv7 id, else its last update.
func createdAt(cur *Record, in Record) time.Time {
	if cur != nil && !cur.CreatedAt.IsZero() {
		return cur.CreatedAt
	}
	if id, err := uuid.Parse(in.ID); err == nil && id.Version() == 7 {
		sec, nsec := id.Time().UnixTime()
		return time.Unix(sec, nsec).UTC()
	}
	return in.UpdatedAt
}

// MergeChange folds what in knows into the record: the product from
// whichever has the higher Version, the stock from whichever has the higher
// StockVersion. Adapters use it to carry changes between two indexes that
// both received some (see the OpenSearch build's catch-up).
func MergeChange(in Record) Change {
	return func(cur *Record) (Record, bool) {
		if cur == nil {
			return in, true
		}
		next, changed := *cur, false
		if in.Version > cur.Version {
			next = in
			next.InStock, next.StockVersion = cur.InStock, cur.StockVersion
			changed = true
		}
		if in.StockVersion > cur.StockVersion {
			next.InStock, next.StockVersion = in.InStock, in.StockVersion
			changed = true
		}
		return next, changed
	}
}

// Most stock changes (every reservation) leave in_stock as it was: those
// are not written, so the product is not re-indexed. Its stored stock
// version then lags, so the newest version seen is also kept in memory,
// and an older event delivered late (consumers run concurrently) cannot
// flip in_stock back. The check runs inside the change, under the index's
// write, so two events of one product cannot pass it in the wrong order.
func (s *Service) stockChange(id string, inStock bool, version int64) Change {
	return func(cur *Record) (Record, bool) {
		if !s.stock.advance(id, version) {
			return Record{}, false
		}
		if cur == nil {
			return Record{Product: Product{ID: id, InStock: inStock}, StockVersion: version}, true
		}
		if cur.StockVersion >= version || (cur.StockVersion > 0 && cur.InStock == inStock) {
			return Record{}, false
		}
		next := *cur
		next.InStock, next.StockVersion = inStock, version
		return next, true
	}
}

// Search runs text with q's filters, order and page. Text is planned into
// terms (Plan); text with no words matches nothing, and no text at all
// lists every product that passes the filters.
func (s *Service) Search(ctx context.Context, text string, q Query) (Result, error) {
	if !s.index.Live() {
		return Result{}, ErrNotBuilt
	}
	q.Terms = Plan(text)
	if len(q.Terms) == 0 && strings.TrimSpace(text) != "" {
		return emptyResult(), nil
	}
	if len(q.Terms) == 0 && q.Sort == SortRelevance {
		q.Sort = SortNewest
	}
	res, err := s.index.Search(ctx, q)
	if err != nil {
		return Result{}, fmt.Errorf("searching: %w", err)
	}
	return res, nil
}

func emptyResult() Result {
	r := Result{Items: []Product{}, Categories: map[string]int{}, PriceBands: map[string]int{}}
	for _, b := range Bands() {
		r.PriceBands[b.Key] = 0
	}
	return r
}

// RunState is the state of a rebuild.
type RunState string

// Rebuild states.
const (
	RunRunning RunState = "running"
	RunDone    RunState = "done"
	RunFailed  RunState = "failed"
)

// Run describes a rebuild from the catalog.
type Run struct {
	State      RunState
	StartedAt  time.Time
	FinishedAt time.Time
	Products   int // catalog products written to the new index
	Pages      int // catalog pages read
	Attempts   int
	Error      string
}

type run struct {
	mu     sync.Mutex
	status Run
	done   chan struct{}
}

func (r *run) get() Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

func (r *run) set(f func(*Run)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.status)
}

// Rebuild starts rebuilding the index from the catalog in the background,
// unless a rebuild runs already; either way it returns the running one.
// Searches keep using the live index until the new one is swapped in.
func (s *Service) Rebuild() (Run, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.run != nil && s.run.get().State == RunRunning {
		return s.run.get(), nil
	}
	if s.ctx.Err() != nil {
		return Run{}, errors.New("the search service is stopping")
	}
	b, err := s.begin(s.ctx)
	if err != nil {
		return Run{}, err
	}
	r := &run{status: Run{State: RunRunning, StartedAt: s.now()}, done: make(chan struct{})}
	s.run = r
	s.wg.Go(func() { s.execute(r, b) })
	return r.get(), nil
}

// LastRun returns the running or the last rebuild, if any.
func (s *Service) LastRun() (Run, bool) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.run == nil {
		return Run{}, false
	}
	return s.run.get(), true
}

// Wait blocks until the running rebuild ends (or ctx does) and returns it.
func (s *Service) Wait(ctx context.Context) (Run, error) {
	s.runMu.Lock()
	r := s.run
	s.runMu.Unlock()
	if r == nil {
		return Run{}, errors.New("no rebuild has run")
	}
	select {
	case <-r.done:
		return r.get(), nil
	case <-ctx.Done():
		return r.get(), ctx.Err()
	}
}

func (s *Service) begin(ctx context.Context) (Build, error) {
	b, err := s.index.NewBuild(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting a new index: %w", err)
	}
	s.mu.Lock()
	s.build = b
	s.mu.Unlock()
	return b, nil
}

// execute fills b from the catalog and swaps it in, retrying failures: a
// fill is idempotent, so a retry goes on with the same build; a build that
// failed to commit is replaced by a new one.
func (s *Service) execute(r *run, b Build) {
	defer close(r.done)
	for attempt := 1; ; attempt++ {
		r.set(func(st *Run) { st.Attempts = attempt })
		var err error
		if b == nil {
			b, err = s.begin(s.ctx)
		}
		if err == nil {
			err = s.attempt(r, b)
			if _, ok := errors.AsType[*commitError](err); ok {
				b = nil // attempt dropped it
			}
		}
		if err == nil {
			r.set(func(st *Run) { st.State, st.FinishedAt = RunDone, s.now() })
			st := r.get()
			s.log.Info("search index rebuilt", "products", st.Products, "pages", st.Pages, "attempts", attempt,
				"duration_ms", st.FinishedAt.Sub(st.StartedAt).Milliseconds())
			return
		}
		// The first build of an index retries until it succeeds: search
		// cannot serve without it. A rebuild of a live one gives up.
		if s.ctx.Err() == nil && (!s.index.Live() || attempt < maxAttempts) {
			pause := s.retry(attempt)
			s.log.Warn("search index rebuild attempt failed; retrying", "attempt", attempt, "in", pause, "err", err)
			if s.sleep(pause) {
				continue
			}
		}
		s.drop(b)
		r.set(func(st *Run) { st.State, st.FinishedAt, st.Error = RunFailed, s.now(), err.Error() })
		s.log.Error("search index rebuild failed", "attempts", attempt, "err", err)
		return
	}
}

type commitError struct{ err error }

func (e *commitError) Error() string { return "swapping in the new index: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

func (s *Service) attempt(r *run, b Build) error {
	if s.await != nil {
		if err := s.await(s.ctx); err != nil {
			return err
		}
	}
	products, pages, err := s.fill(s.ctx, b)
	r.set(func(st *Run) { st.Products, st.Pages = products, pages })
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.build = nil
	if err := b.Commit(s.ctx); err != nil {
		s.abort(b)
		return &commitError{err}
	}
	return nil
}

// drop detaches and aborts a build that will not be committed.
func (s *Service) drop(b Build) {
	if b == nil {
		return
	}
	s.mu.Lock()
	if s.build == b {
		s.build = nil
	}
	s.mu.Unlock()
	s.abort(b)
}

func (s *Service) abort(b Build) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Abort(ctx); err != nil {
		s.log.Warn("could not discard an unfinished index", "err", err)
	}
}

// fill copies the catalog into b. Stock known from stock events is carried
// over from the live index; records a change already put in b are merged
// by version.
func (s *Service) fill(ctx context.Context, b Build) (products, pages int, err error) {
	token := ""
	for {
		items, next, err := s.catalog.Products(ctx, token, PageSize)
		if err != nil {
			return products, pages, fmt.Errorf("reading catalog page %d: %w", pages+1, err)
		}
		pages++
		recs, err := s.withStock(ctx, items)
		if err != nil {
			return products, pages, err
		}
		held, err := b.Insert(ctx, recs)
		if err != nil {
			return products, pages, fmt.Errorf("writing catalog page %d: %w", pages, err)
		}
		byID := make(map[string]Record, len(recs))
		for _, rec := range recs {
			byID[rec.ID] = rec
		}
		for _, id := range held {
			if err := b.Update(ctx, id, productChange(byID[id])); err != nil {
				return products, pages, fmt.Errorf("merging %s: %w", id, err)
			}
		}
		products += len(recs)
		if next == "" {
			return products, pages, nil
		}
		token = next
	}
}

// withStock drops malformed catalog items and takes stock from the live
// index where stock events set it.
func (s *Service) withStock(ctx context.Context, items []Record) ([]Record, error) {
	recs := make([]Record, 0, len(items))
	ids := make([]string, 0, len(items))
	for _, it := range items {
		if it.ID == "" || it.Version <= 0 {
			s.log.WarnContext(ctx, "catalog product without id or version skipped", "id", it.ID, "sku", it.SKU)
			continue
		}
		it.Deleted, it.StockVersion = false, 0
		if it.CreatedAt.IsZero() {
			it.CreatedAt = createdAt(nil, it)
		}
		recs = append(recs, it)
		ids = append(ids, it.ID)
	}
	if !s.index.Live() || len(ids) == 0 {
		return recs, nil
	}
	live, err := s.index.Lookup(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("reading stock from the live index: %w", err)
	}
	for i, rec := range recs {
		if l, ok := live[rec.ID]; ok && l.StockVersion > 0 {
			recs[i].InStock, recs[i].StockVersion = l.InStock, l.StockVersion
		}
	}
	return recs, nil
}

// sleep waits d unless the service stops first; it reports whether to go on.
func (s *Service) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// maxStockVersions bounds the memory of stock versions; past it the memory
// starts again, and the stored versions alone order events.
const maxStockVersions = 100_000

// stockVersions is the newest stock version seen per product.
type stockVersions struct {
	mu   sync.Mutex
	seen map[string]int64
}

// advance records version for id unless a newer one was seen. An equal one
// passes: one change is applied to the live index and to a build.
func (v *stockVersions) advance(id string, version int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen[id] > version {
		return false
	}
	if v.seen == nil || len(v.seen) >= maxStockVersions {
		v.seen = make(map[string]int64)
	}
	v.seen[id] = version
	return true
}
