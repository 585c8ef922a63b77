// Package generated writes files that a command generates into a folder of
// the checkout, and tells whether the folder holds exactly what the command
// writes now: the freshness tests of generated files kept in git (the
// dashboards' JSON, the product pictures).
package generated

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File is one generated file: its name in the folder and its bytes.
type File struct {
	Name string
	Data []byte
}

// Write writes files into dir (created when missing) and removes the files
// with extension ext that it did not write, so that nothing the generator
// no longer makes lingers. It returns the names it removed.
func Write(dir, ext string, files []File) (removed []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return nil, err
		}
	}
	stale, err := Stale(dir, ext, files)
	if err != nil {
		return nil, err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return removed, err
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// Stale lists the files of dir with extension ext that are not among files.
func Stale(dir, ext string, files []File) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ext) {
			continue
		}
		if !slices.ContainsFunc(files, func(f File) bool { return f.Name == name }) {
			stale = append(stale, name)
		}
	}
	return stale, nil
}

// Check compares dir with what the generator writes now and describes each
// difference: a file missing, a file whose bytes differ (edited by hand, or
// the generator's input or code changed without regenerating) and a file
// with extension ext that it no longer writes. regenerate is the command
// that mends them, named in every description.
func Check(dir, ext string, files []File, regenerate string) ([]string, error) {
	var problems []string
	where := filepath.Clean(dir)
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s is missing from %s: run %s", f.Name, where, regenerate))
		case err != nil:
			return nil, err
		case !bytes.Equal(got, f.Data):
			problems = append(problems, fmt.Sprintf("%s in %s is not what the generator writes now (edited by hand, or its input or code changed without regenerating): run %s", f.Name, where, regenerate))
		}
	}
	stale, err := Stale(dir, ext, files)
	if err != nil {
		return nil, err
	}
	for _, name := range stale {
		problems = append(problems, fmt.Sprintf("%s in %s is no longer generated: run %s (it deletes it)", name, where, regenerate))
	}
	return problems, nil
}

// RepoRoot is the checkout's root: the first folder up from the working
// directory that holds tools/go.mod and marker (a path relative to the root
// that the caller needs, e.g. the catalog seed).
func RepoRoot(marker string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(dir, "tools", "go.mod")) && exists(filepath.Join(dir, marker)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no checkout above the working directory holds tools/go.mod and %s", filepath.ToSlash(marker))
		}
		dir = parent
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
