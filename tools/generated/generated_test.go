package generated

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Write writes every file and removes only the files of its extension that
// it no longer writes; Check then finds nothing, and finds each kind of
// difference after a hand edit, a deletion and a stray file.
func TestWriteAndCheck(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"gone.svg": "<svg/>", "README.md": "kept"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []File{{Name: "a.svg", Data: []byte("a")}, {Name: "b.svg", Data: []byte("b")}}
	removed, err := Write(dir, ".svg", files)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{"gone.svg"}) {
		t.Errorf("removed %v, want [gone.svg]", removed)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("a file of another extension was removed: %v", err)
	}
	if problems, err := Check(dir, ".svg", files, "regen"); err != nil || len(problems) != 0 {
		t.Fatalf("fresh folder: %v %v", problems, err)
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a.svg"), []byte("edited"), 0o644))
	must(os.Remove(filepath.Join(dir, "b.svg")))
	must(os.WriteFile(filepath.Join(dir, "stray.svg"), nil, 0o644))
	problems, err := Check(dir, ".svg", files, "regen")
	must(err)
	want := []string{"a.svg in", "b.svg is missing", "stray.svg in"}
	if len(problems) != len(want) {
		t.Fatalf("problems %q, want one per %q", problems, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i], w) || !strings.Contains(problems[i], "run regen") {
			t.Errorf("problem %d = %q, want it to start with %q and name the command", i, problems[i], w)
		}
	}
}
