package index

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memKV is an in-memory KV with ETags, like the Dapr state stores.
type memKV struct {
	mu   sync.Mutex
	data map[string][]byte
	ver  map[string]int
	// crash, when set, is asked before each write ("put" or "create") and
	// fails the write if it says so: a process dying between two steps.
	crash func(op, key string) bool
}

func newMemKV() *memKV {
	return &memKV{data: map[string][]byte{}, ver: map[string]int{}}
}

func (m *memKV) Get(_ context.Context, key string, v any) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[key]
	if !ok {
		return "", ErrNotFound
	}
	return strconv.Itoa(m.ver[key]), json.Unmarshal(b, v)
}

func (m *memKV) Put(_ context.Context, key string, v any, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.crash != nil && m.crash("put", key) {
		return fmt.Errorf("injected failure writing %s", key)
	}
	if etag != "" && etag != strconv.Itoa(m.ver[key]) {
		return ErrConflict
	}
	b, _ := json.Marshal(v)
	m.data[key] = b
	m.ver[key]++
	return nil
}

func (m *memKV) Create(_ context.Context, key string, v any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.crash != nil && m.crash("create", key) {
		return fmt.Errorf("injected failure creating %s", key)
	}
	if _, ok := m.data[key]; ok {
		return ErrConflict
	}
	b, _ := json.Marshal(v)
	m.data[key] = b
	m.ver[key] = 1
	return nil
}

func all(t *testing.T, s *Set, page int) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		ids, more, err := s.After(context.Background(), after, page)
		require.NoError(t, err)
		out = append(out, ids...)
		if !more {
			return out
		}
		require.NotEmpty(t, ids)
		after = ids[len(ids)-1]
	}
}

func id(i int) string { return fmt.Sprintf("id-%06d", i) }

func TestAddRemoveAcrossSplits(t *testing.T) {
	ctx := context.Background()
	s := New(newMemKV(), "all")
	var want []string
	for _, i := range rand.Perm(3 * MaxChunk) {
		require.NoError(t, s.Add(ctx, id(i)))
		want = append(want, id(i))
	}
	require.NoError(t, s.Add(ctx, id(7)), "adding twice is harmless")
	slices.Sort(want)
	assert.Equal(t, want, all(t, s, 50))
	assert.Equal(t, want, all(t, s, 1000))

	for i := 0; i < len(want); i += 3 {
		require.NoError(t, s.Remove(ctx, id(i)))
	}
	require.NoError(t, s.Remove(ctx, "absent"))
	var left []string
	for i := range 3 * MaxChunk {
		if i%3 != 0 {
			left = append(left, id(i))
		}
	}
	assert.Equal(t, left, all(t, s, 37))
}

func TestEmptySet(t *testing.T) {
	ids, more, err := New(newMemKV(), "none").After(context.Background(), "", 10)
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.False(t, more)
}

func TestConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	s := New(newMemKV(), "all")
	var wg sync.WaitGroup
	const writers, each = 8, 200
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				assert.NoError(t, s.Add(ctx, id(w*each+i)))
			}
		}()
	}
	wg.Wait()
	got := all(t, s, 100)
	require.Len(t, got, writers*each)
	assert.True(t, slices.IsSorted(got))
}

// A split that dies after any of its steps leaves the set readable, with
// every id once, and the next write finishes it.
func TestInterruptedSplitsAreFinishedByTheNextWriter(t *testing.T) {
	steps := map[string]func(s *Set) func(op, key string) bool{
		"after sealing": func(s *Set) func(op, key string) bool {
			return func(op, key string) bool { return op == "create" && key != s.headKey() }
		},
		"after creating the new chunk": func(s *Set) func(op, key string) bool {
			return func(op, key string) bool { return op == "put" && key == s.headKey() }
		},
		"after updating the head": func(s *Set) func(op, key string) bool {
			puts := 0
			return func(op, key string) bool {
				if op == "put" && key == s.chunkKey(firstChunk) {
					puts++
					return puts == 2 // the seal is the first put, the trim the second
				}
				return false
			}
		},
	}
	for name, crashAt := range steps {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			kv := newMemKV()
			s := New(kv, "all")
			for i := range MaxChunk {
				require.NoError(t, s.Add(ctx, id(i)))
			}
			kv.crash = crashAt(s)
			require.Error(t, s.Add(ctx, id(MaxChunk)))
			kv.mu.Lock()
			kv.crash = nil
			kv.mu.Unlock()

			got := all(t, s, 64)
			assert.True(t, slices.IsSorted(got))
			assert.Len(t, slices.Compact(slices.Clone(got)), len(got), "no id twice")
			assert.Len(t, got, MaxChunk+1, "the sealed chunk already holds the new id")

			require.NoError(t, s.Remove(ctx, id(0)))
			require.NoError(t, s.Add(ctx, id(MaxChunk+1)))
			got = all(t, s, 64)
			assert.Len(t, got, MaxChunk+1)
			assert.Len(t, slices.Compact(slices.Clone(got)), len(got))

			var h head
			_, err := kv.Get(ctx, s.headKey(), &h)
			require.NoError(t, err)
			assert.Len(t, h.Chunks, 2, "the split was finished")
		})
	}
}

func TestConcurrentAddsAndRemoves(t *testing.T) {
	ctx := context.Background()
	s := New(newMemKV(), "all")
	const n = 2000
	for i := 0; i < n; i += 2 {
		require.NoError(t, s.Add(ctx, id(i)))
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 6 {
				if i%2 == 0 {
					assert.NoError(t, s.Remove(ctx, id(i)))
				} else {
					assert.NoError(t, s.Add(ctx, id(i)))
				}
			}
		}()
	}
	// Readers page through while writers split chunks under them.
	for range 20 {
		got := all(t, s, 97)
		assert.True(t, slices.IsSorted(got))
		assert.Len(t, slices.Compact(slices.Clone(got)), len(got))
	}
	wg.Wait()
	got := all(t, s, 100)
	require.Len(t, got, n/2)
	for i, v := range got {
		assert.Equal(t, id(2*i+1), v)
	}
}
