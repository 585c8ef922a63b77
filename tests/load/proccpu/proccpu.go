// Package proccpu measures the CPU time groups of processes use, from
// Linux's /proc/<pid>/stat, so a load run can say what each order cost the
// apps, their sidecars and the servers behind them.
package proccpu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Reader samples the processes whose name is a key of Groups.
type Reader struct {
	Dir    string            // the proc file system, /proc outside tests
	Groups map[string]string // process name → group
	// Label names a process of interest from its name and command line,
	// for a split finer than the name (which daprd is which app's);
	// ok false leaves the process out. Nil: the name.
	Label func(name string, args []string) (label string, ok bool)
}

// Proc is one process at one moment.
type Proc struct {
	PID, PPID int
	Start     uint64 // clock ticks after boot: with PID, tells a reused pid apart
	Name      string // comm, or the executable's base name when comm is not one of Groups
	Label     string // Reader.Label's name for it, else Name
	Group     string
	Own       uint64 // utime+stime, clock ticks
	Reaped    uint64 // cutime+cstime: children waited for, clock ticks
}

type procKey struct {
	pid   int
	start uint64
}

// Sample is the processes of interest at one moment.
type Sample struct {
	procs map[procKey]Proc
}

// Len is how many processes the sample holds.
func (s Sample) Len() int { return len(s.procs) }

// Sample reads every process of interest. A process that exits while it
// is read is left out.
func (r Reader) Sample() (Sample, error) {
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return Sample{}, fmt.Errorf("reading processes: %w", err)
	}
	s := Sample{procs: map[procKey]Proc{}}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		p, ok, err := r.read(pid)
		if err != nil {
			return Sample{}, err
		}
		if ok {
			s.procs[procKey{p.PID, p.Start}] = p
		}
	}
	return s, nil
}

// read reads process pid; ok is false when it is not of interest or is
// gone.
func (r Reader) read(pid int) (p Proc, ok bool, err error) {
	dir := filepath.Join(r.Dir, strconv.Itoa(pid))
	raw, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Proc{}, false, nil // exited since the directory was listed, or not ours to read
	}
	p, err = ParseStat(raw)
	if err != nil {
		return Proc{}, false, fmt.Errorf("%s: %w", dir, err)
	}
	if _, known := r.Groups[p.Name]; !known {
		// comm is the first 15 bytes of the executable's name, and a
		// process may rename itself: the executable tells it too.
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		if err != nil {
			return Proc{}, false, nil
		}
		p.Name = filepath.Base(strings.TrimSuffix(exe, " (deleted)")) // replaced by a rebuild while running
	}
	group, known := r.Groups[p.Name]
	if !known {
		return Proc{}, false, nil
	}
	p.Group, p.Label = group, p.Name
	if r.Label != nil {
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			return Proc{}, false, nil
		}
		args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if p.Label, ok = r.Label(p.Name, args); !ok {
			return Proc{}, false, nil
		}
	}
	return p, true, nil
}

// ParseStat reads /proc/<pid>/stat. The name (comm) is in parentheses and
// may itself hold spaces and parentheses: the fields follow the last ')'.
func ParseStat(raw []byte) (Proc, error) {
	open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || end < open {
		return Proc{}, errors.New("stat: no (comm)")
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(raw[:open])))
	if err != nil {
		return Proc{}, fmt.Errorf("stat: pid: %w", err)
	}
	// After ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt
	// majflt cmajflt utime stime cutime cstime priority nice num_threads
	// itrealvalue starttime … (proc(5), fields 3 onwards).
	f := strings.Fields(string(raw[end+1:]))
	if len(f) < 20 {
		return Proc{}, fmt.Errorf("stat: %d fields after comm, want at least 20", len(f))
	}
	var n [6]uint64
	for i, field := range []int{1, 11, 12, 13, 14, 19} { // ppid utime stime cutime cstime starttime
		// cutime and cstime are signed in the kernel's format, never negative in practice.
		v, err := strconv.ParseInt(f[field], 10, 64)
		if err != nil || v < 0 {
			return Proc{}, fmt.Errorf("stat: field %d: %q", field+3, f[field])
		}
		n[i] = uint64(v)
	}
	return Proc{
		PID: pid, PPID: int(n[0]), Name: string(raw[open+1 : end]),
		Own: n[1] + n[2], Reaped: n[3] + n[4], Start: n[5],
	}, nil
}

// Usage is the CPU time one label's processes used between two samples.
type Usage struct {
	Label, Group string
	Procs        int    // processes with the label in the later sample
	Ticks        uint64 // clock ticks
}

// Between returns the CPU time each label used from before to after,
// sorted by group, then most ticks first.
//
// A process in both samples counts the difference; one new in after counts
// all it used. A process that exited in between is known only through the
// parent that waited for it (its cutime/cstime grow by the child's whole
// life): when that parent is in both samples, the child's time before the
// first sample is taken back off the parent's label. postgres, which
// starts a process per connection, is the case this is for.
func Between(before, after Sample) []Usage {
	ticks := map[string]int64{}
	usage := map[string]*Usage{}
	label := func(p Proc) *Usage {
		u := usage[p.Label]
		if u == nil {
			u = &Usage{Label: p.Label, Group: p.Group}
			usage[p.Label] = u
		}
		return u
	}
	for k, p := range after.procs {
		label(p).Procs++
		used := int64(p.Own + p.Reaped)
		if q, ok := before.procs[k]; ok {
			used -= int64(q.Own + q.Reaped)
		}
		ticks[p.Label] += used
	}
	alive := map[int]Proc{} // in both samples, by pid
	for k, p := range after.procs {
		if _, ok := before.procs[k]; ok {
			alive[p.PID] = p
		}
	}
	for k, q := range before.procs {
		if _, ok := after.procs[k]; ok {
			continue
		}
		if parent, ok := alive[q.PPID]; ok {
			ticks[parent.Label] -= int64(q.Own + q.Reaped)
		}
	}
	out := make([]Usage, 0, len(usage))
	for l, u := range usage {
		u.Ticks = uint64(max(ticks[l], 0))
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b Usage) int {
		if a.Group != b.Group {
			return strings.Compare(a.Group, b.Group)
		}
		if a.Ticks != b.Ticks {
			if a.Ticks > b.Ticks {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Label, b.Label)
	})
	return out
}

// ByGroup sums usage per group.
func ByGroup(usage []Usage) map[string]uint64 {
	out := map[string]uint64{}
	for _, u := range usage {
		out[u.Group] += u.Ticks
	}
	return out
}

// ReadSelf returns the CPU time the calling process has used, in clock
// ticks, from dir/self/stat.
func ReadSelf(dir string) (uint64, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "self", "stat"))
	if err != nil {
		return 0, fmt.Errorf("own CPU time: %w", err)
	}
	p, err := ParseStat(raw)
	if err != nil {
		return 0, fmt.Errorf("own CPU time: %w", err)
	}
	return p.Own, nil
}

// Available reports whether dir looks like a proc file system.
func Available(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "self", "stat"))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
