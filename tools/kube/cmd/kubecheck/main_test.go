package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadObjects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	multi := write("multi.yaml", "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n")
	objs, err := readObjects(multi)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetKind() != "Deployment" {
		t.Fatalf("got %d objects: %v", len(objs), objs)
	}
	if _, err := readObjects(write("nokind.yaml", "metadata:\n  name: x\n")); err == nil || !strings.Contains(err.Error(), "no apiVersion or kind") {
		t.Errorf("a document without kind: %v", err)
	}
	if _, err := readObjects(write("bad.yaml", "apiVersion: v1\nkind: [\n")); err == nil {
		t.Error("malformed YAML was accepted")
	}
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.yaml", "a.yml", "c.json", "notes.md", "sub/d.yaml"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		names = append(names, rel)
	}
	if got := strings.Join(names, ","); got != "a.yml,b.yaml,c.json,sub/d.yaml" {
		t.Errorf("collect = %s", got)
	}
}
