package stack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe to read while Follow writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A follower merges what is appended to every file from now on, each line with
// its label; it picks up a file created later, waits for a line's end, and
// reads a file that started afresh from its beginning.
func TestFollowerMergesNewLinesWithLabels(t *testing.T) {
	dir := t.TempDir()
	orders, search := filepath.Join(dir, "orders.log"), filepath.Join(dir, "search-daprd.log")
	appendTo(t, orders, "old line, not shown\n")

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	fw := NewFollower([]Followed{{"orders", orders}, {"search-daprd", search}}, false)
	go func() { done <- fw.Run(ctx, &out, 5*time.Millisecond) }()
	wait := func(s string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(out.String(), s) }, 2*time.Second, 5*time.Millisecond, "%q in %q", s, out.String())
	}

	appendTo(t, orders, "placed\nhalf a ")
	wait("orders       | placed\n")
	appendTo(t, search, "indexed\n")
	wait("search-daprd | indexed\n")
	appendTo(t, orders, "line\n")
	wait("orders       | half a line\n")
	require.NoError(t, os.WriteFile(orders, []byte("restarted\n"), 0o600))
	wait("orders       | restarted\n")

	cancel()
	require.NoError(t, <-done)
	assert.NotContains(t, out.String(), "old line")
}

func TestPrefixColoursOnlyOnATerminal(t *testing.T) {
	assert.Equal(t, "api   | ", prefix("api", 5, 0, false))
	assert.Equal(t, "\x1b[32mapi   | \x1b[0m", prefix("api", 5, 1, true))
}
