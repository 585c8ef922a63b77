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
	// failPutAfter, when set, makes the next Put of that key fail once,
	// standing in for a crash between the steps of a split.
	failOnce map[string]bool
}

func newMemKV() *memKV {
	return &memKV{data: map[string][]byte{}, ver: map[string]int{}, failOnce: map[string]bool{}}
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
	if m.failOnce[key] {
		delete(m.failOnce, key)
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

// A crash after the head names the new chunk but before the old one is
// trimmed leaves ids in two chunks; readers must still see each once.
func TestInterruptedSplitShowsNoDuplicates(t *testing.T) {
	ctx := context.Background()
	kv := newMemKV()
	s := New(kv, "all")
	for i := range MaxChunk {
		require.NoError(t, s.Add(ctx, id(i)))
	}
	kv.failOnce[s.chunkKey("0")] = true // the trim of chunk 0 fails
	require.Error(t, s.Add(ctx, id(MaxChunk)))

	got := all(t, s, 64)
	assert.Len(t, got, MaxChunk+1)
	assert.True(t, slices.IsSorted(got))
	assert.Len(t, slices.Compact(slices.Clone(got)), len(got))

	// The next write to chunk 0 drops what it no longer owns.
	require.NoError(t, s.Remove(ctx, id(0)))
	assert.Len(t, all(t, s, 64), MaxChunk)
}
