package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StopTimeout is how long a process group gets between SIGTERM and SIGKILL.
const StopTimeout = 15 * time.Second

// PidFile is the content of a pid file: the pid on the first line and the
// binary that was started on the second, so that ownership can be checked
// without guessing the binary from the file name.
type PidFile struct {
	Path   string
	Pid    int
	Binary string
}

// WritePidFile writes a pid file atomically.
func WritePidFile(path string, pid int, binary string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n%s\n", pid, binary)), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// ReadPidFile reads a pid file written by WritePidFile.
func ReadPidFile(path string) (PidFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PidFile{}, fmt.Errorf("read pid file: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 1 {
		return PidFile{}, fmt.Errorf("pid file %s: bad pid %q", path, lines[0])
	}
	pf := PidFile{Path: path, Pid: pid}
	if len(lines) > 1 {
		pf.Binary = strings.TrimSpace(lines[1])
	}
	return pf, nil
}

// procState returns the state letter of a process from /proc/<pid>/stat
// ("R", "S", "Z", ...) and its process group; ok is false if there is no such process.
func procState(pid int) (state string, pgrp int, ok bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return "", 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 3 {
		return "", 0, false
	}
	pgrp, _ = strconv.Atoi(fields[2])
	return fields[0], pgrp, true
}

// ResidentBytes is the resident set size of process pid, from
// <procDir>/<pid>/status (procDir is /proc but in tests).
func ResidentBytes(procDir string, pid int) (int64, error) {
	status, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(status)
}

// parseVmRSS reads the resident set size in bytes from the text of
// /proc/<pid>/status ("VmRSS:	  12345 kB").
func parseVmRSS(status []byte) (int64, error) {
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS: unexpected %q", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("VmRSS: unexpected %q", rest)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS (a kernel thread, or a zombie)")
}

// Alive reports whether pid is a live process (a zombie is not).
func Alive(pid int) bool {
	st, _, ok := procState(pid)
	return ok && st != "Z" && st != "X"
}

// IsOurs reports whether pid is a live process running binary: one of the
// arguments in /proc/<pid>/cmdline is exactly the binary's path. This keeps
// `down` from signalling a process that merely reuses a stale pid.
func IsOurs(pid int, binary string) bool {
	if pid <= 1 || binary == "" || !Alive(pid) {
		return false
	}
	var data []byte
	// A process caught in the middle of execve shows an empty cmdline for a
	// moment; read again before deciding.
	for range 50 {
		var err error
		data, err = os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			return false
		}
		if len(data) > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, arg := range bytes.Split(data, []byte{0}) {
		if string(arg) == binary {
			return true
		}
	}
	return false
}

// groupAlive reports whether any live (non-zombie) process is in process group pgid.
func groupAlive(pgid int) bool {
	if Alive(pgid) {
		return true
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, pg, ok := procState(pid); ok && pg == pgid && st != "Z" && st != "X" {
			return true
		}
	}
	return false
}

// stopGroup sends SIGTERM to process group pgid (started with Setpgid, so
// pgid is the leader's pid), waits up to timeout for the group to exit, then
// sends SIGKILL. It returns true if SIGKILL was needed.
func stopGroup(ctx context.Context, pgid int, timeout time.Duration) (killed bool, err error) {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fmt.Errorf("SIGTERM process group %d: %w", pgid, err)
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			deadline = time.Now() // stop waiting politely
		case <-tick.C:
		}
	}
	if !groupAlive(pgid) {
		return false, nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("SIGKILL process group %d: %w", pgid, err)
	}
	for i := 0; i < 100 && groupAlive(pgid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if groupAlive(pgid) {
		return true, fmt.Errorf("process group %d survived SIGKILL", pgid)
	}
	return true, nil
}

// stopPidFile stops the process of a pid file if it is ours and removes the
// file. It returns what it did, for the user.
func stopPidFile(ctx context.Context, path string) (string, error) {
	pf, err := ReadPidFile(path)
	if err != nil || pf.Binary == "" {
		return "left alone " + path + ": not a pid file of local/stack", nil
	}
	if !IsOurs(pf.Pid, pf.Binary) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("remove %s: %w", path, err)
		}
		return fmt.Sprintf("pid %d was not running (removed stale %s)", pf.Pid, filepath.Base(path)), nil
	}
	killed, err := stopGroup(ctx, pf.Pid, StopTimeout)
	if err != nil {
		return "", err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("remove %s: %w", path, err)
	}
	if killed {
		return fmt.Sprintf("killed pid %d (no exit %s after SIGTERM)", pf.Pid, StopTimeout), nil
	}
	return fmt.Sprintf("stopped pid %d", pf.Pid), nil
}

// running returns the pid of the process of a pid file if it is alive and
// ours, or 0.
func running(path string) int {
	pf, err := ReadPidFile(path)
	if err != nil || !IsOurs(pf.Pid, pf.Binary) {
		return 0
	}
	return pf.Pid
}

// cmdline returns the arguments of a process (argv[0] included).
func cmdline(pid int) []string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil
	}
	args := strings.Split(string(data), "\x00")
	if n := len(args); n > 0 && args[n-1] == "" {
		args = args[:n-1]
	}
	return args
}

// binaryReplaced reports whether the executable a process runs was deleted
// or replaced since it started (e.g. rebuilt by go build).
func binaryReplaced(pid int) bool {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	return err == nil && strings.HasSuffix(exe, " (deleted)")
}
