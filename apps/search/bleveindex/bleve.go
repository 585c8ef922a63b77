// Package bleveindex is the embedded search.Index: a bleve (scorch) index
// on local disk, the local default. The data directory holds one index
// folder per build and a CURRENT file naming the live one; a build is
// swapped in by rewriting CURRENT atomically, so a crash mid-build leaves
// the old index in place (or, on first start, no index, which is rebuilt).
package bleveindex

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/shopmesh/shopmesh/apps/search/search"
)

const (
	currentFile = "CURRENT"
	indexPrefix = "index-"
)

// Index implements search.Index on a data directory.
type Index struct {
	dir string
	log *slog.Logger

	mu   sync.RWMutex // guards the swap of live against readers and writers
	live *store       // nil until a build is committed
}

// New returns the index kept under dir (created if missing). Open reads it.
func New(dir string, log *slog.Logger) *Index { return &Index{dir: dir, log: log} }

// store is one bleve index with per-id write locks.
type store struct {
	name  string
	idx   bleve.Index
	locks stripes
}

// Open implements search.Index. It opens the index CURRENT names; a
// missing, unreadable or outdated index leaves Live false (and is removed
// once a build replaces it). Folders of builds that never finished go.
func (x *Index) Open(context.Context) error {
	if err := os.MkdirAll(x.dir, 0o750); err != nil {
		return fmt.Errorf("search data directory: %w", err)
	}
	name, err := x.current()
	if err == nil {
		var idx bleve.Index
		idx, err = openChecked(filepath.Join(x.dir, name))
		if err == nil {
			x.mu.Lock()
			x.live = &store{name: name, idx: idx}
			x.mu.Unlock()
			x.removeAllBut(name)
			return nil
		}
	}
	x.log.Warn("no usable search index on disk", "dir", x.dir, "err", err)
	x.removeAllBut(name) // keep an unreadable index for inspection until a build replaces it
	return nil
}

func (x *Index) current() (string, error) {
	b, err := os.ReadFile(filepath.Join(x.dir, currentFile))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", currentFile, err)
	}
	name := strings.TrimSpace(string(b))
	if !strings.HasPrefix(name, indexPrefix) || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("%s names %q, not an index folder", currentFile, name)
	}
	return name, nil
}

// openChecked opens an index and proves it readable: right schema, a
// document count, a search that loads stored fields. Damaged files can make
// bleve panic rather than fail, so a panic counts as damage too.
func openChecked(path string) (idx bleve.Index, err error) {
	defer func() {
		if p := recover(); p != nil {
			if idx != nil {
				_ = idx.Close()
			}
			idx, err = nil, fmt.Errorf("index %s is damaged: %v", path, p)
		}
	}()
	idx, err = bleve.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening index %s: %w", path, err)
	}
	check := func() error {
		v, err := idx.GetInternal([]byte(schemaKey))
		if err != nil {
			return err
		}
		if string(v) != schemaVersion {
			return fmt.Errorf("schema %q, want %q", v, schemaVersion)
		}
		if v, err := idx.GetInternal([]byte(completeKey)); err != nil || len(v) == 0 {
			return errors.Join(errors.New("the index was never completed (or fell back to a snapshot from before)"), err)
		}
		if _, err := idx.DocCount(); err != nil {
			return err
		}
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 1, 0, false)
		req.Fields = []string{"source"}
		_, err = idx.Search(req)
		return err
	}
	if err := check(); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("index %s is unusable: %w", path, err)
	}
	return idx, nil
}

// removeAllBut deletes index folders other than keep.
func (x *Index) removeAllBut(keep string) {
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), indexPrefix) && e.Name() != keep {
			if err := os.RemoveAll(filepath.Join(x.dir, e.Name())); err != nil {
				x.log.Warn("could not remove an old search index", "dir", e.Name(), "err", err)
			}
		}
	}
}

// Live implements search.Index.
func (x *Index) Live() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live != nil
}

// Close implements search.Index.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.live == nil {
		return nil
	}
	err := x.live.idx.Close()
	x.live = nil
	return err
}

// withLive runs f on the live store, holding it against a swap.
func (x *Index) withLive(f func(*store) error) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == nil {
		return search.ErrNotBuilt
	}
	return f(x.live)
}

// Update implements search.Index.
func (x *Index) Update(_ context.Context, id string, ch search.Change) error {
	return x.withLive(func(s *store) error { return s.update(id, ch) })
}

// Lookup implements search.Index.
func (x *Index) Lookup(_ context.Context, ids []string) (map[string]search.Record, error) {
	out := make(map[string]search.Record, len(ids))
	err := x.withLive(func(s *store) error {
		for _, id := range ids {
			rec, err := s.get(id)
			if err != nil {
				return err
			}
			if rec != nil {
				out[id] = *rec
			}
		}
		return nil
	})
	return out, err
}

// Search implements search.Index.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	var res search.Result
	err := x.withLive(func(s *store) error {
		var err error
		res, err = run(ctx, s.idx, q)
		return err
	})
	return res, err
}

func (s *store) get(id string) (*search.Record, error) {
	d, err := s.idx.Document(id)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", id, err)
	}
	if d == nil {
		return nil, nil
	}
	var src []byte
	d.VisitFields(func(f index.Field) {
		if f.Name() == "source" {
			src = f.Value()
		}
	})
	if src == nil {
		return nil, fmt.Errorf("record %s has no stored source", id)
	}
	rec, err := fromSource(src)
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

func (s *store) update(id string, ch search.Change) error {
	unlock := s.locks.lock(id)
	defer unlock()
	cur, err := s.get(id)
	if err != nil {
		return err
	}
	next, write := ch(cur)
	if !write {
		return nil
	}
	next.ID = id
	d, err := toDoc(next)
	if err != nil {
		return err
	}
	if err := s.idx.Index(id, d); err != nil {
		return fmt.Errorf("indexing %s: %w", id, err)
	}
	return nil
}

// NewBuild implements search.Index: a new, empty index folder.
func (x *Index) NewBuild(context.Context) (search.Build, error) {
	if err := os.MkdirAll(x.dir, 0o750); err != nil {
		return nil, fmt.Errorf("search data directory: %w", err)
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	name := indexPrefix + strconv.FormatInt(time.Now().UTC().UnixNano(), 10)
	idx, err := create(filepath.Join(x.dir, name), m)
	if err != nil {
		return nil, err
	}
	return &build{parent: x, s: &store{name: name, idx: idx}, held: map[string]bool{}}, nil
}

func create(path string, m mapping.IndexMapping) (bleve.Index, error) {
	idx, err := bleve.New(path, m)
	if err != nil {
		return nil, fmt.Errorf("creating index %s: %w", path, err)
	}
	if err := idx.SetInternal([]byte(schemaKey), []byte(schemaVersion)); err != nil {
		_ = idx.Close()
		_ = os.RemoveAll(path)
		return nil, fmt.Errorf("marking index %s: %w", path, err)
	}
	return idx, nil
}

// build is an index being filled. Insert holds mu exclusively so that its
// check of which ids are held and its batch write are one step against
// Updates, which hold it shared (and a per-id lock).
type build struct {
	parent *Index
	s      *store

	mu     sync.RWMutex
	heldMu sync.Mutex
	held   map[string]bool // ids written to the build
}

func (b *build) hold(id string) bool {
	b.heldMu.Lock()
	defer b.heldMu.Unlock()
	had := b.held[id]
	b.held[id] = true
	return had
}

// Update implements search.Build.
func (b *build) Update(_ context.Context, id string, ch search.Change) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.s.update(id, ch); err != nil {
		return err
	}
	b.hold(id)
	return nil
}

// Insert implements search.Build with one bleve batch.
func (b *build) Insert(_ context.Context, recs []search.Record) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var held, added []string
	batch := b.s.idx.NewBatch()
	err := func() error {
		for _, r := range recs {
			if b.hold(r.ID) {
				held = append(held, r.ID)
				continue
			}
			added = append(added, r.ID)
			d, err := toDoc(r)
			if err != nil {
				return err
			}
			if err := batch.Index(r.ID, d); err != nil {
				return fmt.Errorf("batching %s: %w", r.ID, err)
			}
		}
		if err := b.s.idx.Batch(batch); err != nil {
			return fmt.Errorf("writing a batch of %d: %w", batch.Size(), err)
		}
		return nil
	}()
	if err != nil {
		b.heldMu.Lock()
		for _, id := range added {
			delete(b.held, id)
		}
		b.heldMu.Unlock()
		return nil, err
	}
	return held, nil
}

// Commit implements search.Build: point CURRENT at the build (write a new
// file, then rename it over the old: atomic on POSIX file systems), swap it
// in, close and delete the old index.
func (b *build) Commit(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.parent
	if err := b.s.idx.SetInternal([]byte(completeKey), []byte("1")); err != nil {
		return fmt.Errorf("marking %s complete: %w", b.s.name, err)
	}
	if err := writeAtomic(filepath.Join(x.dir, currentFile), []byte(b.s.name+"\n")); err != nil {
		return fmt.Errorf("pointing %s at %s: %w", currentFile, b.s.name, err)
	}
	x.mu.Lock()
	old := x.live
	x.live = b.s
	x.mu.Unlock()
	if old != nil {
		if err := old.idx.Close(); err != nil {
			x.log.Warn("closing the replaced search index", "err", err)
		}
	}
	x.removeAllBut(b.s.name)
	return nil
}

// Abort implements search.Build.
func (b *build) Abort(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.s.idx.Close()
	return errors.Join(err, os.RemoveAll(filepath.Join(b.parent.dir, b.s.name)))
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// stripes serialise read-modify-write per id without a lock per id.
type stripes struct {
	seed maphash.Seed
	once sync.Once
	mus  [64]sync.Mutex
}

func (s *stripes) lock(id string) func() {
	s.once.Do(func() { s.seed = maphash.MakeSeed() })
	m := &s.mus[maphash.String(s.seed, id)%uint64(len(s.mus))]
	m.Lock()
	return m.Unlock
}
