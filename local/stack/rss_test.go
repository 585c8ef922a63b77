package stack

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusSample is /proc/<pid>/status of a Go server (Linux 6.x), cut.
const statusSample = `Name:	orders
Umask:	0022
State:	S (sleeping)
Tgid:	41235
Pid:	41235
PPid:	1
VmPeak:	 1990844 kB
VmSize:	 1990844 kB
VmLck:	       0 kB
VmHWM:	   48312 kB
VmRSS:	   45872 kB
RssAnon:	   21504 kB
RssFile:	   24368 kB
Threads:	9
`

func TestParseVmRSS(t *testing.T) {
	rss, err := parseVmRSS([]byte(statusSample))
	require.NoError(t, err)
	assert.Equal(t, int64(45872*1024), rss)

	_, err = parseVmRSS([]byte("Name:\tkthreadd\nState:\tS (sleeping)\n"))
	assert.ErrorContains(t, err, "no VmRSS", "kernel threads have none")
	_, err = parseVmRSS([]byte("VmRSS:\t 12 MB\n"))
	assert.Error(t, err)
	_, err = parseVmRSS([]byte("VmRSS:\t x kB\n"))
	assert.Error(t, err)
}

func TestResidentBytesReadsProcStatus(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "41235"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "41235", "status"), []byte(statusSample), 0o644))
	rss, err := ResidentBytes(dir, 41235)
	require.NoError(t, err)
	assert.Equal(t, int64(45872*1024), rss)
	_, err = ResidentBytes(dir, 7)
	assert.Error(t, err, "no such process")
}
