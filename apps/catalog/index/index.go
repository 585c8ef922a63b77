// Package index keeps ordered sets of ids in a key-value store that offers
// ETags and nothing else (no queries, no scans), so catalog listing works the
// same on PostgreSQL, Redis, DynamoDB or MongoDB.
//
// A set is split into chunks of at most MaxChunk ids. A head record lists the
// chunks and the lowest id each covers: chunk i owns [first_i, first_i+1).
// Every write is guarded by an ETag and retried on conflict. A split writes
// the new chunk, then the head, then trims the old chunk; ids a chunk holds
// outside its range (left by a crash between those steps) are ignored on
// read and dropped on its next write, so readers never see duplicates.
package index

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"
)

// MaxChunk bounds the size of one stored record.
const MaxChunk = 512

// maxAttempts bounds retries on concurrent modification.
const maxAttempts = 16

// ErrConflict is what KV returns when an ETag guard or a Create fails.
var ErrConflict = errors.New("index: conflict")

// ErrNotFound is what KV returns for a missing key.
var ErrNotFound = errors.New("index: not found")

// KV is the storage the index needs. Values are opaque to it.
type KV interface {
	// Get decodes key into v and returns its ETag, or ErrNotFound.
	Get(ctx context.Context, key string, v any) (etag string, err error)
	// Put writes v; with a non-empty etag only if unchanged (else ErrConflict).
	Put(ctx context.Context, key string, v any, etag string) error
	// Create writes v only if key is absent, else ErrConflict.
	Create(ctx context.Context, key string, v any) error
}

// Set is one named ordered set of ids, e.g. all products or one category's.
type Set struct {
	kv      KV
	name    string
	newName func() string
}

// New returns the set called name stored in kv.
func New(kv KV, name string) *Set {
	return &Set{kv: kv, name: name, newName: func() string { return uuid.NewString() }}
}

type chunkRef struct {
	// Name is unique per split, so an attempt that lost a race leaves at
	// worst an unreferenced record, never one another writer relies on.
	Name  string `json:"name"`
	First string `json:"first"` // lowest id the chunk covers; "" for the first chunk
}

type head struct {
	Chunks []chunkRef `json:"chunks"`
}

type chunk struct {
	IDs []string `json:"ids"`
}

func (s *Set) headKey() string          { return "index|" + s.name }
func (s *Set) chunkKey(n string) string { return "index|" + s.name + "|" + n }

// loadHead reads the head, creating it on first use.
func (s *Set) loadHead(ctx context.Context) (head, string, error) {
	for range maxAttempts {
		var h head
		etag, err := s.kv.Get(ctx, s.headKey(), &h)
		if err == nil {
			return h, etag, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return head{}, "", fmt.Errorf("index %s: reading head: %w", s.name, err)
		}
		err = s.kv.Create(ctx, s.headKey(), head{Chunks: []chunkRef{{Name: "0"}}})
		if err != nil && !errors.Is(err, ErrConflict) {
			return head{}, "", fmt.Errorf("index %s: creating head: %w", s.name, err)
		}
	}
	return head{}, "", fmt.Errorf("index %s: head: %w", s.name, ErrConflict)
}

// locate returns the position in h.Chunks of the chunk that owns id.
func (h head) locate(id string) int {
	i := sort.Search(len(h.Chunks), func(i int) bool { return h.Chunks[i].First > id })
	return max(i-1, 0)
}

// upper is the exclusive upper bound of chunk i, or "" for the last one.
func (h head) upper(i int) string {
	if i+1 < len(h.Chunks) {
		return h.Chunks[i+1].First
	}
	return ""
}

func inRange(id, first, upper string) bool {
	return id >= first && (upper == "" || id < upper)
}

func (s *Set) loadChunk(ctx context.Context, n string) (chunk, string, error) {
	var c chunk
	etag, err := s.kv.Get(ctx, s.chunkKey(n), &c)
	if errors.Is(err, ErrNotFound) {
		return chunk{}, "", nil
	}
	if err != nil {
		return chunk{}, "", fmt.Errorf("index %s: reading chunk %s: %w", s.name, n, err)
	}
	return c, etag, nil
}

// putChunk writes c, creating it when it had no ETag.
func (s *Set) putChunk(ctx context.Context, n string, c chunk, etag string) error {
	if etag == "" {
		return s.kv.Create(ctx, s.chunkKey(n), c)
	}
	return s.kv.Put(ctx, s.chunkKey(n), c, etag)
}

// Add puts id into the set; adding a present id changes nothing.
func (s *Set) Add(ctx context.Context, id string) error {
	return s.retry(ctx, "add", func() error {
		h, hEtag, err := s.loadHead(ctx)
		if err != nil {
			return err
		}
		i := h.locate(id)
		ref, upper := h.Chunks[i], h.upper(i)
		c, etag, err := s.loadChunk(ctx, ref.Name)
		if err != nil {
			return err
		}
		ids := clean(c.IDs, ref.First, upper)
		pos, found := slices.BinarySearch(ids, id)
		if found && len(ids) == len(c.IDs) {
			return nil
		}
		if !found {
			ids = slices.Insert(ids, pos, id)
		}
		if len(ids) <= MaxChunk {
			return s.putChunk(ctx, ref.Name, chunk{IDs: ids}, etag)
		}
		// Split: the upper half moves to a new chunk. Write it first, then
		// publish it in the head, then trim this chunk.
		mid := len(ids) / 2
		n := s.newName()
		if err := s.kv.Create(ctx, s.chunkKey(n), chunk{IDs: slices.Clone(ids[mid:])}); err != nil {
			return err
		}
		h.Chunks = slices.Insert(h.Chunks, i+1, chunkRef{Name: n, First: ids[mid]})
		if err := s.kv.Put(ctx, s.headKey(), h, hEtag); err != nil {
			return err
		}
		return s.putChunk(ctx, ref.Name, chunk{IDs: ids[:mid]}, etag)
	})
}

// Remove takes id out of the set; removing an absent id changes nothing.
func (s *Set) Remove(ctx context.Context, id string) error {
	return s.retry(ctx, "remove", func() error {
		h, _, err := s.loadHead(ctx)
		if err != nil {
			return err
		}
		i := h.locate(id)
		ref := h.Chunks[i]
		c, etag, err := s.loadChunk(ctx, ref.Name)
		if err != nil {
			return err
		}
		ids := clean(c.IDs, ref.First, h.upper(i))
		pos, found := slices.BinarySearch(ids, id)
		if !found && len(ids) == len(c.IDs) {
			return nil
		}
		if found {
			ids = slices.Delete(ids, pos, pos+1)
		}
		return s.putChunk(ctx, ref.Name, chunk{IDs: ids}, etag)
	})
}

// After returns up to limit ids greater than after, in order, and whether
// more follow.
func (s *Set) After(ctx context.Context, after string, limit int) ([]string, bool, error) {
	h, _, err := s.loadHead(ctx)
	if err != nil {
		return nil, false, err
	}
	var out []string
	for i := h.locate(after); i < len(h.Chunks); i++ {
		ref, upper := h.Chunks[i], h.upper(i)
		c, _, err := s.loadChunk(ctx, ref.Name)
		if err != nil {
			return nil, false, err
		}
		for _, id := range clean(c.IDs, ref.First, upper) {
			if id <= after {
				continue
			}
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, id)
		}
	}
	return out, false, nil
}

// clean returns the sorted, de-duplicated ids of a chunk that lie in its range.
func clean(ids []string, first, upper string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if inRange(id, first, upper) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Set) retry(ctx context.Context, op string, f func() error) error {
	var err error
	for range maxAttempts {
		if err = f(); !errors.Is(err, ErrConflict) {
			if err != nil {
				return fmt.Errorf("index %s: %s: %w", s.name, op, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("index %s: %s: gave up after %d conflicts: %w", s.name, op, maxAttempts, err)
}
