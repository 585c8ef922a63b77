package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Binary is the executable a running process of the stack was started
// from, with its SHA-256.
type Binary struct {
	Name   string // app id
	Role   Role
	Path   string
	SHA256 string
}

// RunningBinaries hashes the executable of every app and daprd of tmpl the
// stack runs. It reads /proc/<pid>/exe, the file the kernel runs, so a
// binary rebuilt on disk after the start does not pass for the running one.
// Every process must be running.
func RunningBinaries(l Layout, tmpl *Template) ([]Binary, error) {
	var out []Binary
	for _, s := range tmpl.Apps {
		for _, role := range []Role{RoleApp, RoleDaprd} {
			pf, err := ReadPidFile(l.PidFile(s.InstanceName(), role))
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", s.InstanceName(), role, err)
			}
			if !IsOurs(pf.Pid, pf.Binary) {
				return nil, fmt.Errorf("%s %s: pid %d is not running %s", s.InstanceName(), role, pf.Pid, pf.Binary)
			}
			sum, err := fileSHA256(filepath.Join("/proc", strconv.Itoa(pf.Pid), "exe"))
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", s.InstanceName(), role, err)
			}
			out = append(out, Binary{Name: s.InstanceName(), Role: role, Path: pf.Binary, SHA256: sum})
		}
	}
	return out, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
