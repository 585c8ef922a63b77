package proccpu

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProc writes a /proc look-alike under dir.
type fakeProc struct {
	t   *testing.T
	dir string
}

type fakeProcess struct {
	pid, ppid                    int
	comm                         string
	utime, stime, cutime, cstime uint64
	start                        uint64
	exe                          string   // symlink target; none when empty
	cmdline                      []string // NUL-separated; default: comm
}

func (f fakeProc) write(ps ...fakeProcess) {
	f.t.Helper()
	entries, err := os.ReadDir(f.dir)
	require.NoError(f.t, err)
	for _, e := range entries {
		require.NoError(f.t, os.RemoveAll(filepath.Join(f.dir, e.Name())))
	}
	require.NoError(f.t, os.MkdirAll(filepath.Join(f.dir, "self"), 0o755)) // not a pid: skipped
	for _, p := range ps {
		d := filepath.Join(f.dir, strconv.Itoa(p.pid))
		require.NoError(f.t, os.MkdirAll(d, 0o755))
		stat := fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194304 100 0 0 0 %d %d %d %d 20 0 12 0 %d 123456 789 18446744073709551615\n",
			p.pid, p.comm, p.ppid, p.pid, p.pid, p.utime, p.stime, p.cutime, p.cstime, p.start)
		require.NoError(f.t, os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644))
		if p.exe != "" {
			require.NoError(f.t, os.Symlink(p.exe, filepath.Join(d, "exe")))
		}
		cmdline := p.cmdline
		if cmdline == nil {
			cmdline = []string{p.comm}
		}
		require.NoError(f.t, os.WriteFile(filepath.Join(d, "cmdline"), []byte(strings.Join(cmdline, "\x00")+"\x00"), 0o644))
	}
}

var groups = map[string]string{
	"gateway": "apps", "orders": "apps", "daprd": "sidecars",
	"postgres": "servers", "redis-server": "servers", "node": "servers",
}

func byLabel(us []Usage) map[string]Usage {
	m := map[string]Usage{}
	for _, u := range us {
		m[u.Label] = u
	}
	return m
}

func TestSampleGroupsProcessesByName(t *testing.T) {
	f := fakeProc{t, t.TempDir()}
	f.write(
		fakeProcess{pid: 10, ppid: 1, comm: "gateway", utime: 100, stime: 50, start: 1000},
		fakeProcess{pid: 11, ppid: 1, comm: "daprd", utime: 70, stime: 30, start: 1001, cmdline: []string{"daprd", "--app-id", "gateway", "--app-port", "8080"}},
		fakeProcess{pid: 12, ppid: 1, comm: "daprd", utime: 7, stime: 3, start: 1002, cmdline: []string{"daprd", "-app-id=orders"}},
		fakeProcess{pid: 20, ppid: 1, comm: "postgres", utime: 5, stime: 5, start: 900},
		fakeProcess{pid: 21, ppid: 20, comm: "postgres", utime: 40, stime: 10, start: 1100},
		fakeProcess{pid: 30, ppid: 1, comm: "bash", utime: 999, stime: 999, start: 10, exe: "/usr/bin/bash"},
		// Renamed itself: the executable tells, even replaced since it started.
		fakeProcess{pid: 40, ppid: 1, comm: "redis (main) 1", utime: 3, stime: 1, start: 800, exe: "/opt/redis/bin/redis-server (deleted)"},
		fakeProcess{pid: 50, ppid: 1, comm: "orders", utime: 1, stime: 1, start: 1200},
		fakeProcess{pid: 60, ppid: 1, comm: "node", utime: 1, stime: 1, start: 1300, cmdline: []string{"node", "editor-server.js"}},
	)
	r := Reader{Dir: f.dir, Groups: groups, Label: func(name string, args []string) (string, bool) {
		switch {
		case name == "daprd" && len(args) > 2:
			return "daprd:" + args[2], true
		case name == "daprd":
			return "daprd:" + strings.TrimPrefix(args[1], "-app-id="), true
		case name == "node":
			return "", false // not one of ours
		}
		return name, true
	}}
	s, err := r.Sample()
	require.NoError(t, err)
	assert.Equal(t, 7, s.Len(), "bash and the node process are left out")

	f.write(
		fakeProcess{pid: 10, ppid: 1, comm: "gateway", utime: 300, stime: 90, start: 1000},
		fakeProcess{pid: 11, ppid: 1, comm: "daprd", utime: 170, stime: 30, start: 1001, cmdline: []string{"daprd", "--app-id", "gateway"}},
		fakeProcess{pid: 12, ppid: 1, comm: "daprd", utime: 17, stime: 3, start: 1002, cmdline: []string{"daprd", "-app-id=orders"}},
		// Backend 21 exited (40+10 before, 70+20 at its end); postgres
		// waited for it, and for one that lived and died in between (30).
		fakeProcess{pid: 20, ppid: 1, comm: "postgres", utime: 6, stime: 5, cutime: 80, cstime: 40, start: 900},
		fakeProcess{pid: 22, ppid: 20, comm: "postgres", utime: 12, stime: 3, start: 1500}, // new
		fakeProcess{pid: 30, ppid: 1, comm: "bash", utime: 2000, stime: 999, start: 10, exe: "/usr/bin/bash"},
		fakeProcess{pid: 40, ppid: 1, comm: "redis (main) 1", utime: 13, stime: 1, start: 800, exe: "/opt/redis/bin/redis-server (deleted)"},
		// pid 50 reused by another orders process: all its time is new.
		fakeProcess{pid: 50, ppid: 1, comm: "orders", utime: 4, stime: 0, start: 1600},
		fakeProcess{pid: 60, ppid: 1, comm: "node", utime: 100, stime: 1, start: 1300, cmdline: []string{"node", "editor-server.js"}},
	)
	after, err := r.Sample()
	require.NoError(t, err)
	usage := Between(s, after)
	got := byLabel(usage)

	assert.Equal(t, Usage{Label: "gateway", Group: "apps", Procs: 1, Ticks: 240}, got["gateway"])
	assert.Equal(t, Usage{Label: "daprd:gateway", Group: "sidecars", Procs: 1, Ticks: 100}, got["daprd:gateway"])
	assert.Equal(t, Usage{Label: "daprd:orders", Group: "sidecars", Procs: 1, Ticks: 10}, got["daprd:orders"])
	// parent 1 + reaped 120 - backend 21's time before the first sample 50
	// + new backend 15.
	assert.Equal(t, Usage{Label: "postgres", Group: "servers", Procs: 2, Ticks: 1 + 120 - 50 + 15}, got["postgres"])
	assert.Equal(t, Usage{Label: "redis-server", Group: "servers", Procs: 1, Ticks: 10}, got["redis-server"])
	assert.Equal(t, Usage{Label: "orders", Group: "apps", Procs: 1, Ticks: 4}, got["orders"])
	assert.NotContains(t, got, "bash")
	assert.Len(t, usage, 6)

	assert.Equal(t, map[string]uint64{"apps": 244, "sidecars": 110, "servers": 96}, ByGroup(usage))
	assert.Equal(t, "apps", usage[0].Group, "sorted by group")
	assert.Equal(t, "gateway", usage[0].Label, "then most time first")
}

func TestBetweenNeverGoesNegative(t *testing.T) {
	f := fakeProc{t, t.TempDir()}
	r := Reader{Dir: f.dir, Groups: groups}
	f.write(
		fakeProcess{pid: 20, ppid: 1, comm: "postgres", utime: 5, start: 900},
		fakeProcess{pid: 21, ppid: 20, comm: "postgres", utime: 500, start: 1000},
	)
	before, err := r.Sample()
	require.NoError(t, err)
	// 21 is gone but its parent did not wait for it: nothing to take back.
	f.write(fakeProcess{pid: 20, ppid: 1, comm: "postgres", utime: 6, start: 900})
	after, err := r.Sample()
	require.NoError(t, err)
	assert.Equal(t, uint64(0), byLabel(Between(before, after))["postgres"].Ticks)
}

func TestParseStat(t *testing.T) {
	p, err := ParseStat([]byte("4242 (we(ird) na)me) R 7 4242 4242 0 -1 0 0 0 0 0 11 22 33 44 20 0 1 0 5555 0 0\n"))
	require.NoError(t, err)
	assert.Equal(t, Proc{PID: 4242, PPID: 7, Name: "we(ird) na)me", Own: 33, Reaped: 77, Start: 5555}, p)

	for _, bad := range []string{"", "12 gateway S 1", "12 (gateway) S 1 2 3", "x (gateway) S 1 1 1 0 -1 0 0 0 0 0 1 1 1 1 20 0 1 0 1"} {
		_, err := ParseStat([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestAuxvValue(t *testing.T) {
	words := func(order binary.AppendByteOrder, size int, vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			if size == 4 {
				b = order.AppendUint32(b, uint32(v))
			} else {
				b = order.AppendUint64(b, v)
			}
		}
		return b
	}
	raw := words(binary.LittleEndian, 8, 33, 0x7fff0000, 16, 0xbfebfbff, 6, 4096, 17, 100, 0, 0)
	v, ok := auxvValue(raw, binary.LittleEndian, 8, atClkTck)
	assert.True(t, ok)
	assert.Equal(t, uint64(100), v)

	raw = words(binary.BigEndian, 4, 6, 4096, 17, 1024, 0, 0)
	v, ok = auxvValue(raw, binary.BigEndian, 4, atClkTck)
	assert.True(t, ok)
	assert.Equal(t, uint64(1024), v)

	_, ok = auxvValue(words(binary.LittleEndian, 8, 6, 4096, 0, 0, 17, 100), binary.LittleEndian, 8, atClkTck)
	assert.False(t, ok, "nothing after the end marker")
	_, ok = auxvValue(nil, binary.LittleEndian, 8, atClkTck)
	assert.False(t, ok)
}

func TestClockTicksOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	hz, err := ClockTicks("/proc")
	require.NoError(t, err)
	assert.Positive(t, hz)
	assert.True(t, Available("/proc"))
	assert.False(t, Available(t.TempDir()))
	own, err := ReadSelf("/proc")
	require.NoError(t, err)
	_ = own // any value: the test process may not have used a tick yet
}
