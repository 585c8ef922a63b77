package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// up names each app as it becomes ready, and for an app that does not, the
// reason and the end of its logs.
func TestProgressNamesEachAppAndShowsAFailuresLogs(t *testing.T) {
	l, err := NewLayout(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, l.ensureDirs())
	var log strings.Builder
	for i := range 40 {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	log.WriteString("panic: no secrets file\n")
	require.NoError(t, os.WriteFile(l.LogFile("orders", RoleApp), []byte(log.String()), 0o600))

	var out bytes.Buffer
	p := newProgress(&out, 2)
	p.done(l, "users", nil)
	p.done(l, "orders", errors.New("orders exited (status 2)"))

	text := out.String()
	assert.Regexp(t, `(?m)^users: ready after [0-9.]+m?s \(1 of 2\)$`, text)
	assert.Contains(t, text, "orders: not ready after")
	assert.Contains(t, text, "orders exited (status 2)")
	assert.Contains(t, text, "panic: no secrets file")
	assert.Contains(t, text, "line 26\n")
	assert.NotContains(t, text, "line 25\n", "only the last 15 lines")
}
