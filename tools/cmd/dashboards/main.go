// Command dashboards writes ShopMesh's Grafana dashboards, built with the
// Grafana Foundation SDK, as JSON into observability/dashboards: the
// platform overview, one dashboard per service and one of the Dapr
// sidecars, plus index.json, the list of them that the page of
// observability/ui/dashboards (served by the local Prometheus at
// /user/index.html) shows. The output is the same on every run; the test
// beside this file fails when the JSON in git is not what this writes.
//
//	go run -C tools ./cmd/dashboards        (go tool task dashboards)
//	go run -C tools ./cmd/dashboards -dir /tmp/out
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shopmesh/shopmesh/tools/generated"
)

// regenerate is the command that brings the JSON in git up to date.
const regenerate = "go tool task dashboards (go run -C tools ./cmd/dashboards)"

// indexFile lists the dashboards for the page; it is not a dashboard.
const indexFile = "index.json"

func main() {
	dir := flag.String("dir", "", "where to write the JSON (default: observability/dashboards of the checkout)")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

func run(dir string, log io.Writer) error {
	if dir == "" {
		root, err := generated.RepoRoot(markerPath)
		if err != nil {
			return err
		}
		dir = filepath.Join(root, "observability", "dashboards")
	}
	files, err := render()
	if err != nil {
		return err
	}
	// A dashboard no longer generated must not linger.
	if _, err := generated.Write(dir, ".json", files); err != nil {
		return err
	}
	fmt.Fprintf(log, "dashboards: wrote %d files to %s\n", len(files), dir)
	return nil
}

// entry is a dashboard in index.json.
type entry struct {
	File        string   `json:"file"`
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags"`
}

// render returns every file the command writes, dashboards in page order
// and index.json last.
func render() ([]generated.File, error) {
	names, dbs, err := built()
	if err != nil {
		return nil, err
	}
	var out []generated.File
	var index struct {
		Dashboards []entry `json:"dashboards"`
	}
	uids := map[string]string{}
	for i, db := range dbs {
		uid := deref(db.Uid)
		if other, dup := uids[uid]; dup || uid == "" {
			return nil, fmt.Errorf("%s: uid %q empty or already used by %s", names[i], uid, other)
		}
		uids[uid] = names[i]
		data, err := marshal(db)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		out = append(out, generated.File{Name: names[i], Data: data})
		index.Dashboards = append(index.Dashboards, entry{
			File: names[i], UID: uid, Title: deref(db.Title), Description: deref(db.Description), Tags: db.Tags,
		})
	}
	data, err := marshal(index)
	if err != nil {
		return nil, err
	}
	return append(out, generated.File{Name: indexFile, Data: data}), nil
}

// marshal is indented JSON with a final newline; encoding/json sorts map
// keys, so equal values give equal bytes.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// PromQL has < and > and & in it: keep them readable in the JSON.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// markerPath is what tells the checkout's root (generated.RepoRoot).
const markerPath = "observability"

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
