package stack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// After `task test` ran the e2e suite on every profile, each profile's
// stack ran the very same executables: `runner binaries` recorded the
// SHA-256 of every running app and daprd into <dir>/binaries-<profile>.txt.
func TestProfilesRanTheSameBinaries(t *testing.T) {
	dir := os.Getenv("SHOPMESH_BINARIES_DIR")
	if dir == "" {
		t.Skip("SHOPMESH_BINARIES_DIR is not set: `go tool task test` sets it after running every profile")
	}
	tmpl := loadRepoTemplate(t)
	read := func(profile string) string {
		data, err := os.ReadFile(filepath.Join(dir, "binaries-"+profile+".txt"))
		if err != nil {
			t.Fatalf("profile %s: %v", profile, err)
		}
		return string(data)
	}
	local := read("local")
	if n := len(strings.Split(strings.TrimSpace(local), "\n")); n != 2*len(tmpl.Apps) {
		t.Fatalf("local recorded %d binaries, want an app and a daprd for each of %d apps:\n%s", n, len(tmpl.Apps), local)
	}
	for _, p := range runnerProfiles {
		if got := read(p); got != local {
			t.Errorf("profile %s ran other binaries than local:\n%s\nlocal:\n%s", p, got, local)
		}
	}
	t.Logf("%d profiles ran the same %d binaries:\n%s", 1+len(runnerProfiles), 2*len(tmpl.Apps), local)
}
