// Package chromium starts the machine's headless Chromium for chromedp: the
// browser of the screenshot command (tools/cmd/screenshot) and of the
// storefront's browser tests (tools/browsertest). It never downloads a
// browser: Debian's chromium (apt-get install -y chromium), or the one
// SHOPMESH_CHROMIUM names.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// EnvBrowser names the environment variable that picks the Chromium
// executable (a path, or a name on PATH).
const EnvBrowser = "SHOPMESH_CHROMIUM"

// Find returns the Chromium to run: given (a path or a name on PATH) when
// not empty, else chromium or chromium-browser on PATH. Callers pass
// os.Getenv(EnvBrowser), or a flag that defaults to it.
func Find(given string) (string, error) {
	if given != "" {
		p, err := exec.LookPath(given)
		if err != nil {
			return "", fmt.Errorf("browser %q: %w", given, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH: install Debian's (apt-get install -y chromium) or name one with " + EnvBrowser + " (screenshot: -browser)")
}

// New returns a chromedp context for a fresh headless Chromium (browser)
// with a window of width×height; cancel stops it and removes its profile.
// The browser starts at the context's first chromedp call, which must
// carry no timeout of its own (the browser lives as long as that call's
// context).
func New(ctx context.Context, browser string, width, height int) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.WindowSize(width, height),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	return bctx, func() {
		cancel()
		cancelAlloc()
	}
}
