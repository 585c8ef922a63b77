package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/local/stack"
)

// proc is one process of the stack: an app or its daprd.
type proc struct {
	Label   string // the app's instance name, with -daprd for its sidecar
	PidFile string
	Metrics string // its Prometheus metrics, which hold go_goroutines
}

// stackProcs lists the apps of the template and their sidecars, in the
// template's order. An app serves its metrics on its own port; daprd on
// its metrics port (any path).
func stackProcs(l stack.Layout, t *stack.Template) []proc {
	var procs []proc
	for _, a := range t.Apps {
		name := a.InstanceName()
		procs = append(procs,
			proc{Label: name, PidFile: l.PidFile(name, stack.RoleApp), Metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", a.App)},
			proc{Label: name + "-daprd", PidFile: l.PidFile(name, stack.RoleDaprd), Metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", a.Metrics)},
		)
	}
	return procs
}

// reading is one process at one moment.
type reading struct {
	PID        int   // 0: its pid file names no live process of the stack
	RSS        int64 // resident bytes (VmRSS); -1 when unknown
	Goroutines int   // go_goroutines of its metrics; -1 when unknown
}

// sample is every process of the stack at one moment.
type sample struct {
	Label    string    // start, the offset of the load (mm:ss), load end, end
	Readings []reading // one per proc, in order
}

// meter samples the stack's processes.
type meter struct {
	procDir string // /proc
	procs   []proc
	client  *http.Client
}

// newMeter returns the meter of the stack of the checkout the command
// runs in; the reason it has none otherwise.
func newMeter(procDir string) (*meter, string) {
	root, err := stack.FindRoot("")
	if err != nil {
		return nil, "RSS and goroutines not measured: " + err.Error()
	}
	l, err := stack.NewLayout(root)
	if err != nil {
		return nil, "RSS and goroutines not measured: " + err.Error()
	}
	t, err := stack.LoadTemplate(filepath.Join(root, stack.TemplatePath))
	if err != nil {
		return nil, "RSS and goroutines not measured: " + err.Error()
	}
	return &meter{procDir: procDir, procs: stackProcs(l, t), client: &http.Client{Timeout: 5 * time.Second}}, ""
}

// sample reads every process, all at once.
func (m *meter) sample(ctx context.Context, label string) sample {
	s := sample{Label: label, Readings: make([]reading, len(m.procs))}
	var wg sync.WaitGroup
	for i, p := range m.procs {
		wg.Go(func() { s.Readings[i] = m.read(ctx, p) })
	}
	wg.Wait()
	return s
}

func (m *meter) read(ctx context.Context, p proc) reading {
	r := reading{RSS: -1, Goroutines: -1}
	pf, err := stack.ReadPidFile(p.PidFile)
	if err != nil || !stack.IsOurs(pf.Pid, pf.Binary) {
		return r
	}
	r.PID = pf.Pid
	if rss, err := stack.ResidentBytes(m.procDir, pf.Pid); err == nil {
		r.RSS = rss
	}
	if n, err := m.goroutines(ctx, p.Metrics); err == nil {
		r.Goroutines = n
	}
	return r
}

func (m *meter) goroutines(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	return parseGoroutines(data)
}

// parseGoroutines reads go_goroutines from Prometheus's text format.
func parseGoroutines(metrics []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, " ")
		if !ok || (name != "go_goroutines" && !strings.HasPrefix(name, "go_goroutines{")) {
			continue
		}
		f := strings.Fields(rest) // the value, then perhaps a timestamp
		if len(f) == 0 {
			break
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("go_goroutines: unexpected %q", line)
		}
		return int(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no go_goroutines in the metrics")
}

// growth is how a process's RSS changed from the first sample to the last.
type growth struct {
	Label     string
	From, To  int64 // bytes
	Percent   float64
	Restarted bool // the pid changed: the figures are of two processes
}

// warnGrowth is the growth in percent above which a process is flagged.
const warnGrowth = 50

// rssGrowth returns, per process known in the first and the last sample,
// the RSS growth between them.
func rssGrowth(procs []proc, samples []sample) []growth {
	if len(samples) < 2 {
		return nil
	}
	first, last := samples[0], samples[len(samples)-1]
	var out []growth
	for i, p := range procs {
		a, b := first.Readings[i], last.Readings[i]
		if a.RSS <= 0 || b.RSS < 0 {
			continue
		}
		out = append(out, growth{
			Label: p.Label, From: a.RSS, To: b.RSS,
			Percent:   float64(b.RSS-a.RSS) * 100 / float64(a.RSS),
			Restarted: pidChanged(samples, i),
		})
	}
	return out
}

// pidChanged reports whether process i had more than one pid over the
// samples (a process not running in a sample does not count).
func pidChanged(samples []sample, i int) bool {
	pid := 0
	for _, s := range samples {
		switch p := s.Readings[i].PID; {
		case p == 0:
		case pid == 0:
			pid = p
		case p != pid:
			return true
		}
	}
	return false
}

// writeSamples writes RSS and goroutines of every process in every
// sample, one column per sample, with the change from the first to the
// last, then a warning for each process whose RSS grew more than
// warnGrowth percent.
func writeSamples(w io.Writer, procs []proc, samples []sample) error {
	if len(samples) == 0 {
		return nil
	}
	growths := map[string]growth{}
	for _, g := range rssGrowth(procs, samples) {
		growths[g.Label] = g
	}
	table := func(title string, cell func(reading) string, change func(i int, a, b reading) string) error {
		head := []string{title}
		for _, s := range samples {
			head = append(head, s.Label)
		}
		rows := [][]string{append(head, "change")}
		for i, p := range procs {
			row := []string{p.Label}
			for _, s := range samples {
				row = append(row, cell(s.Readings[i]))
			}
			rows = append(rows, append(row, change(i, samples[0].Readings[i], samples[len(samples)-1].Readings[i])))
		}
		return writeTable(w, rows)
	}
	err := table("RSS MiB", func(r reading) string {
		if r.RSS < 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(r.RSS)/(1<<20))
	}, func(i int, _, _ reading) string {
		g, ok := growths[procs[i].Label]
		if !ok {
			return "-"
		}
		s := fmt.Sprintf("%+.0f%%", g.Percent)
		if g.Restarted {
			s += " (restarted)"
		}
		return s
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	err = table("goroutines", func(r reading) string {
		if r.Goroutines < 0 {
			return "-"
		}
		return strconv.Itoa(r.Goroutines)
	}, func(i int, a, b reading) string {
		if a.Goroutines < 0 || b.Goroutines < 0 {
			return "-"
		}
		return fmt.Sprintf("%+d", b.Goroutines-a.Goroutines)
	})
	if err != nil {
		return err
	}
	for _, p := range procs {
		g, ok := growths[p.Label]
		if !ok || g.Percent <= warnGrowth {
			continue
		}
		restarted := ""
		if g.Restarted {
			restarted = " (it restarted in between)"
		}
		fmt.Fprintf(w, "WARNING: RSS of %s grew %.0f%% (%.1f MiB → %.1f MiB) from %s to %s%s: judge from the figures whether it leaks\n",
			g.Label, g.Percent, float64(g.From)/(1<<20), float64(g.To)/(1<<20), samples[0].Label, samples[len(samples)-1].Label, restarted)
	}
	return nil
}

// summarize is one line about a sample for the log: the totals of the
// apps and of their sidecars.
func summarize(procs []proc, s sample) string {
	var appRSS, sideRSS int64
	var appG, sideG, missing int
	for i, p := range procs {
		r := s.Readings[i]
		if r.PID == 0 {
			missing++
		}
		side := strings.HasSuffix(p.Label, "-daprd")
		if r.RSS > 0 {
			if side {
				sideRSS += r.RSS
			} else {
				appRSS += r.RSS
			}
		}
		if r.Goroutines > 0 {
			if side {
				sideG += r.Goroutines
			} else {
				appG += r.Goroutines
			}
		}
	}
	line := fmt.Sprintf("apps %.0f MiB, %d goroutines; sidecars %.0f MiB, %d goroutines",
		float64(appRSS)/(1<<20), appG, float64(sideRSS)/(1<<20), sideG)
	if missing > 0 {
		line += fmt.Sprintf("; %d of %d processes not found", missing, len(procs))
	}
	return line
}
