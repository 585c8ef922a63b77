// Package index keeps ordered sets of ids in a key-value store that offers
// ETags and nothing else (no queries, no scans), so catalog listing works the
// same on PostgreSQL, Redis, DynamoDB or MongoDB.
//
// A set is split into chunks of at most MaxChunk ids. Each chunk records the
// range of ids it owns, [First, Upper); that record is authoritative. A head
// record lists the chunks in order and only routes to them: a reader or
// writer that finds an id outside the range of the chunk the head sent it to
// knows its head is stale and reads it again.
//
// Every write is guarded by an ETag and retried on conflict. A full chunk is
// split in four idempotent steps that any writer can finish if the first one
// dies: seal the chunk (it then takes no writes) naming the new chunk and the
// split point; create the new chunk with the upper half; add it to the head;
// trim and unseal the old chunk.
package index

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
)

// firstChunk names the chunk every set starts with.
const firstChunk = "0"

// MaxChunk bounds the size of one stored record.
const MaxChunk = 512

// maxAttempts bounds retries on concurrent modification.
const maxAttempts = 32

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
	First string `json:"first"` // where the chunk starts, for routing
}

type head struct {
	Chunks []chunkRef `json:"chunks"`
}

// split is set on a sealed chunk: the ids from First on move to chunk Name.
type split struct {
	Name  string `json:"name"`
	First string `json:"first"`
}

type chunk struct {
	First string   `json:"first"`
	Upper string   `json:"upper"` // exclusive; "" is unbounded
	IDs   []string `json:"ids"`
	Split *split   `json:"split,omitempty"`
}

func (c chunk) owns(id string) bool { return id >= c.First && (c.Upper == "" || id < c.Upper) }

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
		err = s.kv.Create(ctx, s.headKey(), head{Chunks: []chunkRef{{Name: firstChunk}}})
		if err != nil && !errors.Is(err, ErrConflict) {
			return head{}, "", fmt.Errorf("index %s: creating head: %w", s.name, err)
		}
	}
	return head{}, "", fmt.Errorf("index %s: head: %w", s.name, ErrConflict)
}

// locate returns the position in h.Chunks of the chunk routing for id.
func (h head) locate(id string) int {
	i := sort.Search(len(h.Chunks), func(i int) bool { return h.Chunks[i].First > id })
	return max(i-1, 0)
}

func (h head) has(name string) bool {
	return slices.ContainsFunc(h.Chunks, func(r chunkRef) bool { return r.Name == name })
}

// errStaleHead makes the retry loop read the head again.
var errStaleHead = fmt.Errorf("stale head: %w", ErrConflict)

// loadChunk reads a chunk; the first chunk exists before it is written.
func (s *Set) loadChunk(ctx context.Context, name string) (chunk, string, error) {
	var c chunk
	etag, err := s.kv.Get(ctx, s.chunkKey(name), &c)
	if errors.Is(err, ErrNotFound) && name == firstChunk {
		return chunk{}, "", nil
	}
	if err != nil {
		return chunk{}, "", fmt.Errorf("index %s: reading chunk %s: %w", s.name, name, err)
	}
	return c, etag, nil
}

// putChunk writes c, creating it when it had no ETag.
func (s *Set) putChunk(ctx context.Context, name string, c chunk, etag string) error {
	if etag == "" {
		return s.kv.Create(ctx, s.chunkKey(name), c)
	}
	return s.kv.Put(ctx, s.chunkKey(name), c, etag)
}

// writable returns the chunk that owns id with its ETag, finishing any split
// in the way; errStaleHead when the head routed to the wrong chunk.
func (s *Set) writable(ctx context.Context, id string) (string, chunk, string, error) {
	h, _, err := s.loadHead(ctx)
	if err != nil {
		return "", chunk{}, "", err
	}
	name := h.Chunks[h.locate(id)].Name
	c, etag, err := s.loadChunk(ctx, name)
	if err != nil {
		return "", chunk{}, "", err
	}
	if c.Split != nil {
		if err := s.finishSplit(ctx, name, c, etag); err != nil {
			return "", chunk{}, "", err
		}
		return "", chunk{}, "", errStaleHead
	}
	if !c.owns(id) {
		return "", chunk{}, "", errStaleHead
	}
	return name, c, etag, nil
}

// Add puts id into the set; adding a present id changes nothing.
func (s *Set) Add(ctx context.Context, id string) error {
	return s.retry(ctx, "add", func() error {
		name, c, etag, err := s.writable(ctx, id)
		if err != nil {
			return err
		}
		pos, found := slices.BinarySearch(c.IDs, id)
		if found {
			return nil
		}
		c.IDs = slices.Insert(c.IDs, pos, id)
		if len(c.IDs) <= MaxChunk {
			return s.putChunk(ctx, name, c, etag)
		}
		mid := c.IDs[len(c.IDs)/2]
		c.Split = &split{Name: s.newName(), First: mid}
		if err := s.putChunk(ctx, name, c, etag); err != nil {
			return err // sealing lost a race: start again
		}
		// Finish with the sealed version's ETag, so that the trim cannot
		// overwrite a chunk that another writer already trimmed and added to.
		sealed, etag, err := s.loadChunk(ctx, name)
		if err != nil {
			return err
		}
		if sealed.Split == nil || *sealed.Split != *c.Split {
			return errStaleHead // someone finished the split first
		}
		return s.finishSplit(ctx, name, sealed, etag)
	})
}

// finishSplit completes the split of sealed chunk c. Each step is
// idempotent, so whoever finds a sealed chunk can run it.
func (s *Set) finishSplit(ctx context.Context, name string, c chunk, etag string) error {
	sp := *c.Split
	at, _ := slices.BinarySearch(c.IDs, sp.First)
	upper := chunk{First: sp.First, Upper: c.Upper, IDs: slices.Clone(c.IDs[at:])}
	if err := s.kv.Create(ctx, s.chunkKey(sp.Name), upper); err != nil && !errors.Is(err, ErrConflict) {
		return err // ErrConflict: created already, and written to since
	}
	for {
		h, hEtag, err := s.loadHead(ctx)
		if err != nil {
			return err
		}
		if h.has(sp.Name) {
			break
		}
		i := slices.IndexFunc(h.Chunks, func(r chunkRef) bool { return r.Name == name })
		if i < 0 {
			return errStaleHead
		}
		h.Chunks = slices.Insert(h.Chunks, i+1, chunkRef{Name: sp.Name, First: sp.First})
		err = s.kv.Put(ctx, s.headKey(), h, hEtag)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	lower := chunk{First: c.First, Upper: sp.First, IDs: slices.Clone(c.IDs[:at])}
	if err := s.putChunk(ctx, name, lower, etag); err != nil && !errors.Is(err, ErrConflict) {
		return err // ErrConflict: another writer trimmed it
	}
	return nil
}

// Remove takes id out of the set; removing an absent id changes nothing.
func (s *Set) Remove(ctx context.Context, id string) error {
	return s.retry(ctx, "remove", func() error {
		name, c, etag, err := s.writable(ctx, id)
		if err != nil {
			return err
		}
		pos, found := slices.BinarySearch(c.IDs, id)
		if !found {
			return nil
		}
		c.IDs = slices.Delete(c.IDs, pos, pos+1)
		return s.putChunk(ctx, name, c, etag)
	})
}

// After returns up to limit ids greater than after, in order, and whether
// more follow.
func (s *Set) After(ctx context.Context, after string, limit int) ([]string, bool, error) {
	var out []string
	cursor := after
	for range maxAttempts {
		ids, more, err := s.after(ctx, cursor, limit-len(out))
		out = append(out, ids...)
		if !errors.Is(err, errStaleHead) {
			return out, more, err
		}
		if len(out) > 0 {
			cursor = out[len(out)-1]
		}
	}
	return nil, false, fmt.Errorf("index %s: list: %w", s.name, ErrConflict)
}

// after lists from one reading of the head; errStaleHead (with the ids
// gathered so far) when a chunk shows that the head has changed meanwhile.
func (s *Set) after(ctx context.Context, after string, limit int) ([]string, bool, error) {
	h, _, err := s.loadHead(ctx)
	if err != nil {
		return nil, false, err
	}
	var out []string
	for i := h.locate(after); i < len(h.Chunks); i++ {
		c, _, err := s.loadChunk(ctx, h.Chunks[i].Name)
		if err != nil {
			return nil, false, err
		}
		// The head must route exactly the range the chunk owns; a chunk
		// that ends earlier was split after the head was read.
		want := ""
		if i+1 < len(h.Chunks) {
			want = h.Chunks[i+1].First
		}
		end := c.Upper
		if c.Split != nil && h.has(c.Split.Name) {
			end = c.Split.First // sealed, and its upper half is already listed
		}
		if end != want {
			return out, false, errStaleHead
		}
		for _, id := range c.IDs {
			if id <= after || (end != "" && id >= end) {
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

func (s *Set) retry(ctx context.Context, op string, f func() error) error {
	var err error
	for attempt := range maxAttempts {
		if err = f(); !errors.Is(err, ErrConflict) {
			if err != nil {
				return fmt.Errorf("index %s: %s: %w", s.name, op, err)
			}
			return nil
		}
		// New products all land in the last chunk, so writers collide there;
		// a random, growing pause keeps them from colliding again in step.
		pause := time.Duration(rand.Int64N(int64(min(time.Millisecond<<attempt, 200*time.Millisecond)) + 1))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return fmt.Errorf("index %s: %s: gave up after %d conflicts: %w", s.name, op, maxAttempts, err)
}
