package chromium

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestFindGiven(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "my-chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Find(exe)
	if err != nil || got != exe {
		t.Errorf("Find(%q) = %q, %v; want it back", exe, got, err)
	}
	if _, err := Find(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Find of a missing browser: %v; want an error naming it", err)
	}
}

func TestFindOnPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium-browser")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got, err := Find(""); err != nil || got != exe {
		t.Errorf("Find(\"\") = %q, %v; want %q", got, err, exe)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(""); err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") {
		t.Errorf("Find(\"\") without a browser: %v; want the hint to install one", err)
	}
}

// The machine's Chromium starts headless with the asked window (skipped
// without one, unless SHOPMESH_BROWSER_TESTS=1).
func TestNew(t *testing.T) {
	browser, err := Find(os.Getenv(EnvBrowser))
	if err != nil {
		if os.Getenv("SHOPMESH_BROWSER_TESTS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := New(context.Background(), browser, 640, 480)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts it, with no timeout
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	size, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`[window.innerWidth, window.innerHeight]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(size) != 2 || size[0] != 640 || size[1] > 480 || size[1] < 300 {
		t.Errorf("window %v; want 640 wide and at most 480 high", size)
	}
}
