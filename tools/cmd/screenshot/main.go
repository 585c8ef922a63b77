// Command screenshot loads a page in headless Chromium, waits until an
// element matching a CSS selector is visible, and writes a PNG of the page at
// a given size: the README's pictures of the running stack (go tool task
// screenshots), taken by a tool and not by hand.
//
//	go run -C tools ./cmd/screenshot -url URL -wait SELECTOR -o FILE [-size 1400x1000] [-full]
//
// It drives the browser of the machine (Debian's chromium: apt-get install
// -y chromium; -browser or SHOPMESH_CHROMIUM names another) through chromedp
// and never downloads one. The page's console errors are printed on stderr;
// when the selector does not appear in time, so is the start of the page's
// text, which usually says why. Exit status: 0 written, 1 failed, 2 bad
// usage.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopmesh/shopmesh/tools/chromium"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// options are the command's flags.
type options struct {
	url     string
	wait    string
	out     string
	width   int
	height  int
	full    bool
	timeout time.Duration
	settle  time.Duration
	browser string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("screenshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "page to load (required)")
	fs.StringVar(&o.wait, "wait", "body", "CSS selector of an element that must be visible before the shot")
	fs.StringVar(&o.out, "o", "", "PNG file to write (required; folders are created)")
	size := fs.String("size", "1400x1000", "viewport WIDTHxHEIGHT in CSS pixels: the PNG's size without -full")
	fs.BoolVar(&o.full, "full", false, "capture the whole page height, not only the viewport")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "how long to wait for the page and the selector")
	fs.DurationVar(&o.settle, "settle", 300*time.Millisecond, "pause after the selector appears (layout, fonts)")
	fs.StringVar(&o.browser, "browser", os.Getenv(chromium.EnvBrowser), "Chromium executable (default: chromium or chromium-browser on PATH; env SHOPMESH_CHROMIUM)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.url == "" || o.out == "" {
		return o, errors.New("-url and -o are required")
	}
	var err error
	if o.width, o.height, err = parseSize(*size); err != nil {
		return o, err
	}
	if o.timeout <= 0 {
		return o, errors.New("-timeout must be positive")
	}
	return o, nil
}

// parseSize reads "WIDTHxHEIGHT", each from 100 to 10000.
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 100 || h < 100 || w > 10000 || h > 10000 {
		return 0, 0, fmt.Errorf("-size %q: want WIDTHxHEIGHT, e.g. 1400x1000 (100 to 10000 each)", s)
	}
	return w, h, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "screenshot:", err)
		}
		return 2
	}
	browser, err := chromium.Find(o.browser)
	if err != nil {
		fmt.Fprintln(stderr, "screenshot:", err)
		return 1
	}
	img, err := shoot(ctx, browser, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "screenshot:", err)
		return 1
	}
	if err := writeFile(o.out, img); err != nil {
		fmt.Fprintln(stderr, "screenshot:", err)
		return 1
	}
	cfg, _ := png.DecodeConfig(bytes.NewReader(img))
	fmt.Fprintf(stderr, "screenshot: %s (%dx%d) of %s\n", o.out, cfg.Width, cfg.Height, o.url)
	return 0
}

// shoot loads o.url in a fresh headless browser of o.width×o.height, waits
// for o.wait and returns the PNG. Console errors and uncaught exceptions
// of the page go to logw as they come.
func shoot(ctx context.Context, browser string, o options, logw io.Writer) ([]byte, error) {
	bctx, cancel := chromium.New(ctx, browser, o.width, o.height)
	defer cancel()

	// Collect the page's complaints from the start (Console starts the
	// browser: the first chromedp call must carry no timeout).
	var mu sync.Mutex
	var complaints []string
	consoleCtx, stopConsole := context.WithCancel(bctx)
	defer stopConsole()
	messages := chromedp.Console(consoleCtx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue // the browser asks for it on its own
			}
			line := fmt.Sprintf("page %s: %s", m.Type, m.Text)
			if m.URL != "" {
				line += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			mu.Lock()
			complaints = append(complaints, line)
			mu.Unlock()
			fmt.Fprintln(logw, "screenshot:", line)
		}
	})
	defer wg.Wait()
	defer stopConsole()

	tctx, cancelT := context.WithTimeout(bctx, o.timeout)
	defer cancelT()
	if err := chromedp.Do(tctx,
		chromedp.EmulateViewport(int64(o.width), int64(o.height)),
		chromedp.Navigate(o.url),
	); err != nil {
		return nil, fmt.Errorf("load %s: %w", o.url, err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(o.wait))); err != nil {
		// Say what the page shows instead (from a context with time left).
		textCtx, cancelText := context.WithTimeout(bctx, 5*time.Second)
		defer cancelText()
		text, _ := chromedp.Run(textCtx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 600) : ""`))
		mu.Lock()
		n := len(complaints)
		mu.Unlock()
		return nil, fmt.Errorf("%s: no visible %q after %s (%d console errors); the page says:\n%s", o.url, o.wait, o.timeout, n, strings.TrimSpace(text))
	}
	if o.settle > 0 {
		select {
		case <-tctx.Done():
			return nil, tctx.Err()
		case <-time.After(o.settle):
		}
	}
	shot := chromedp.CaptureScreenshot()
	if o.full {
		shot = chromedp.FullScreenshot(100)
	}
	img, err := chromedp.Run(tctx, shot)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", o.url, err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(img)); err != nil {
		return nil, fmt.Errorf("capture %s: not a PNG: %w", o.url, err)
	}
	return img, nil
}

// writeFile writes data to path through a temporary file in its folder, so
// a failed run leaves the previous picture as it was.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".screenshot-*.png")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
