package stack

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWithProfile(t *testing.T) {
	root := writeRepo(t, twoApps, []string{"local", "aws"}, []string{"gateway", "catalog"})
	tmpl, err := LoadTemplate(filepath.Join(root, TemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := tmpl.App("gateway")

	same, err := gw.WithProfile("local")
	if err != nil || !reflect.DeepEqual(same, gw) {
		t.Fatalf("profile local must change nothing: %v", err)
	}

	aws, err := gw.WithProfile("aws")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "components/aws"), filepath.Join(root, "dapr/resources")}; !reflect.DeepEqual(aws.ResourcesPaths, want) {
		t.Errorf("resources = %v, want %v", aws.ResourcesPaths, want)
	}
	// Only the resources path changes.
	back := aws.Clone()
	back.ResourcesPaths = gw.ResourcesPaths
	if !reflect.DeepEqual(back, gw) {
		t.Errorf("profile changed more than the resources path:\n%+v\n%+v", back, gw)
	}
	if gw.ResourcesPaths[0] != filepath.Join(root, "components/local") {
		t.Error("WithProfile must not modify its receiver")
	}

	if _, err := gw.WithProfile("gcp"); err == nil || !strings.Contains(err.Error(), "components/gcp does not exist") {
		t.Errorf("missing profile folder: err = %v", err)
	}
	if _, err := gw.WithProfile("../x"); err == nil {
		t.Error("a profile must be a plain folder name")
	}

	// catalog has its own resources paths, none ending in components/local.
	if _, err := tmpl.WithProfile("aws"); err == nil || !strings.Contains(err.Error(), "catalog: profile \"aws\": no resources path ends in components/local") {
		t.Errorf("template WithProfile: err = %v", err)
	}
}

// Up records its profile, so a later `runner up` that restarts what is
// missing keeps it; Down forgets it.
func TestRunningProfile(t *testing.T) {
	l := Layout{RunDir: t.TempDir()}
	if got := l.RunningProfile(); got != DefaultProfile {
		t.Fatalf("nothing recorded: %q, want %q", got, DefaultProfile)
	}
	if err := os.WriteFile(l.profileFile(), []byte("redis-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := l.RunningProfile(); got != "redis-only" {
		t.Fatalf("recorded redis-only: %q", got)
	}
	if err := Down(context.Background(), l, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := l.RunningProfile(); got != DefaultProfile {
		t.Fatalf("after Down: %q", got)
	}
}
