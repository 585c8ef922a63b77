package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shopmesh/shopmesh/tools/chromium"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string][2]int{"1400x1000": {1400, 1000}, " 800X600 ": {800, 600}} {
		w, h, err := parseSize(in)
		if err != nil || w != want[0] || h != want[1] {
			t.Errorf("parseSize(%q) = %d, %d, %v; want %v", in, w, h, err, want)
		}
	}
	for _, in := range []string{"", "1400", "1400x", "x1000", "axb", "99x100", "1400x10001", "-5x100"} {
		if _, _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	if got := run(context.Background(), []string{"-url", "http://x"}, &stderr); got != 2 {
		t.Errorf("without -o: exit %d, want 2", got)
	}
	if !strings.Contains(stderr.String(), "-url and -o are required") {
		t.Errorf("stderr %q", stderr.String())
	}
	o, err := parseFlags([]string{"-url", "http://x/", "-o", "a.png", "-wait", "main svg", "-size", "640x480", "-full"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "http://x/" || o.out != "a.png" || o.wait != "main svg" || o.width != 640 || o.height != 480 || !o.full {
		t.Errorf("parsed %+v", o)
	}
	if _, err := parseFlags([]string{"-url", "u", "-o", "f", "extra"}, io.Discard); err == nil {
		t.Error("a stray argument is accepted")
	}
}

func TestWriteFileReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "shot.png")
	for _, data := range []string{"first", "second"} {
		if err := writeFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".screenshot-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// viewerDir is the trace viewer this command photographs.
const viewerDir = "../../../observability/ui/traces"

// fakeJaeger answers like the local Jaeger's query port: the viewer's
// static/ folder, its index.html for every other path, and the API
// (services, operations, search, one trace) from the given traces.
func fakeJaeger(t *testing.T, traces map[string]map[string]any) *httptest.Server {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(viewerDir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", http.FileServer(http.Dir(viewerDir)))
	mux.HandleFunc("/api/services", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]any{"data": []string{"gateway", "orders", "catalog", "inventory", "payments", "notifications"}})
	})
	mux.HandleFunc("/api/services/{svc}/operations", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]any{"data": []string{"POST /api/v1/checkout", "GET /api/v1/products"}})
	})
	mux.HandleFunc("/api/traces", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("service") == "" || r.URL.Query().Get("start") == "" {
			http.Error(w, `{"errors":[{"code":400,"msg":"service and start required"}]}`, http.StatusBadRequest)
			return
		}
		reply(w, map[string]any{"data": []any{traces["main"]}})
	})
	mux.HandleFunc("/api/traces/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, tr := range traces {
			if tr["traceID"] == r.PathValue("id") {
				reply(w, map[string]any{"data": []any{tr}})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		reply(w, map[string]any{"data": nil, "errors": []any{map[string]any{"code": 404, "msg": "trace not found"}}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// loadFixture reads the viewer's recorded checkout trace.
func loadFixture(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(viewerDir, "testdata", "checkout-trace.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Data) != 1 {
		t.Fatalf("fixture: %v (%d traces)", err, len(body.Data))
	}
	return body.Data[0]
}

func spansOf(tr map[string]any) []map[string]any {
	var out []map[string]any
	for _, s := range tr["spans"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// A smoke test of the viewer in the machine's Chromium (skipped without
// one, unless SHOPMESH_BROWSER_TESTS=1): the newest-trace URL draws every
// span, marks the sidecars', opens details with Enter, escapes what the API
// says, shows the spans whose parent is missing, and the command writes a
// PNG of it.
func TestViewerInChromium(t *testing.T) {
	browser, err := chromium.Find(os.Getenv(chromium.EnvBrowser))
	if err != nil {
		if os.Getenv("SHOPMESH_BROWSER_TESTS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	main := loadFixture(t)
	spans := spansOf(main)
	sidecars := 0
	for _, s := range spans {
		for _, tag := range s["tags"].([]any) {
			tg := tag.(map[string]any)
			if tg["key"] == "otel.scope.name" && tg["value"] == "dapr-diagnostics" {
				sidecars++
			}
		}
	}
	// Hostile values: they must show as text.
	spans[0]["tags"] = append(spans[0]["tags"].([]any),
		map[string]any{"key": "evil", "type": "string", "value": `<img src=x onerror="window.__xss=1">`})
	spans[1]["operationName"] = `<b id="injected">bold</b>`

	// The same trace without one span that has children: they lose their parent.
	orphaned := loadFixture(t)
	orphaned["traceID"] = "00000000000000000000000000000abc"
	parents := map[string]int{}
	ids := map[string]bool{}
	for _, s := range spansOf(orphaned) {
		ids[s["spanID"].(string)] = true
		for _, r := range s["references"].([]any) {
			if ref := r.(map[string]any); ref["refType"] == "CHILD_OF" {
				parents[ref["spanID"].(string)]++
			}
		}
	}
	missing := 0 // spans of the recording whose parent is missing already
	for id, n := range parents {
		if !ids[id] {
			missing += n
		}
	}
	var dropped string
	var kept []any
	for _, s := range spansOf(orphaned) {
		id := s["spanID"].(string)
		if dropped == "" && parents[id] > 0 && len(s["references"].([]any)) > 0 {
			dropped = id
			continue
		}
		kept = append(kept, s)
	}
	orphaned["spans"] = kept

	srv := fakeJaeger(t, map[string]map[string]any{"main": main, "orphaned": orphaned})

	ctx, cancel := chromium.New(context.Background(), browser, 1280, 900)
	defer cancel()
	var mu sync.Mutex
	var complaints []string
	messages := chromedp.Console(ctx)
	cctx, stopConsole := context.WithCancel(ctx)
	go func() {
		for m, err := range messages {
			if err != nil || cctx.Err() != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				complaints = append(complaints, m.Text)
				mu.Unlock()
			}
		}
	}()
	defer stopConsole()

	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(tctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	must := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatal(err)
		}
	}

	must(chromedp.Navigate(srv.URL+"/?service=gateway&operation=POST%20/api/v1/checkout&latest=1"),
		chromedp.WaitVisible(chromedp.CSS(`main[data-ready="trace"] .rows .row`)))
	if got := eval(`document.querySelectorAll('.rows .row').length`); got != len(spans) {
		t.Errorf("%d rows, want one per span (%d)", got, len(spans))
	}
	if got := eval(`document.querySelectorAll('.rows .row.sidecar .badge.daprd').length`); got != sidecars || sidecars == 0 {
		t.Errorf("%d rows marked daprd, want %d", got, sidecars)
	}
	if got := eval(`location.hash === '#/trace/' + ` + jsString(main["traceID"].(string)) + ` ? 1 : 0`); got != 1 {
		t.Error("the newest trace's URL does not name it")
	}
	if eval(`document.querySelectorAll('#injected').length`) != 0 {
		t.Error("an operation name became markup")
	}
	if eval(`[...document.querySelectorAll('.rows .row .op')].some(e => e.textContent === '<b id="injected">bold</b>') ? 1 : 0`) != 1 {
		t.Error("the operation name is not shown as text")
	}

	// Keyboard: the first row opens its details with Enter, and closes them.
	must(chromedp.Focus(chromedp.CSS(`.rows .row`)), chromedp.KeyEvent(kb.Enter))
	if eval(`document.querySelectorAll('.rows .details').length`) != 1 {
		t.Fatal("Enter on a row opens no details")
	}
	if eval(`[...document.querySelectorAll('.rows .details td')].some(e => e.textContent.startsWith('<img src=x')) ? 1 : 0`) != 1 {
		t.Error("the hostile tag is not shown as text")
	}
	if eval(`window.__xss ? 1 : 0`) != 0 || eval(`document.querySelectorAll('.details img').length`) != 0 {
		t.Error("a tag value ran as markup")
	}
	must(chromedp.KeyEvent(kb.ArrowDown))
	if eval(`document.activeElement === document.querySelectorAll('.rows .row')[1] ? 1 : 0`) != 1 {
		t.Error("ArrowDown does not move to the next row")
	}
	must(chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.Enter))
	if eval(`document.querySelectorAll('.rows .details').length`) != 0 {
		t.Error("Enter again does not close the details")
	}
	// A consumer's badge takes the focus to its publisher.
	if eval(`document.querySelectorAll('.rows .row button.badge.event').length`) > 0 {
		must(chromedp.Click(chromedp.CSS(`.rows .row button.badge.event`)))
		if eval(`document.activeElement.classList.contains('row') && document.activeElement.querySelector('.badge.pub') ? 1 : 0`) != 1 {
			t.Error("the consumer's badge does not go to its publisher")
		}
	}

	// Spans whose parent is missing: top level, marked.
	must(chromedp.Navigate(srv.URL+"/#/trace/"+orphaned["traceID"].(string)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-ready="trace"] .rows .row`)))
	if got := eval(`document.querySelectorAll('.rows .row.orphan[aria-level="1"] .badge.orphan').length`); got != missing+parents[dropped] {
		t.Errorf("%d rows marked parent missing, want %d: the %d children of the dropped span and %d of the recording", got, missing+parents[dropped], parents[dropped], missing)
	}

	// The search page lists the trace.
	must(chromedp.Navigate(srv.URL+"/#/search?service=gateway"),
		chromedp.WaitVisible(chromedp.CSS(`main[data-ready="search"] .trace-item`)))
	if got := eval(`document.querySelectorAll('.trace-item').length`); got != 1 {
		t.Errorf("%d traces listed, want 1", got)
	}
	mu.Lock()
	if len(complaints) > 0 {
		t.Errorf("console errors: %q", complaints)
	}
	mu.Unlock()
	// An unknown trace says so (the browser logs the 404 as an error).
	must(chromedp.Navigate(srv.URL+"/#/trace/0123"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="error"] .alert`)))

	// And the command's own path: a PNG of the asked size.
	img, err := shoot(context.Background(), browser, options{
		url: srv.URL + "/?service=gateway&operation=POST%20/api/v1/checkout&latest=1&complete=1", wait: `main[data-ready="trace"] .rows .row`,
		width: 900, height: 600, timeout: 60 * time.Second,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 900 || cfg.Height != 600 {
		t.Errorf("PNG %dx%d, %v; want 900x600", cfg.Width, cfg.Height, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
