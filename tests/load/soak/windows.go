package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

// tally counts requests and keeps the answer times of those answered.
type tally struct {
	Requests  int
	Server    int // 5xx
	Other     int // other answers outside 2xx (429, 404…)
	NoAnswer  int // timeouts, connection errors
	Latencies []time.Duration
}

func (t *tally) add(a shop.Answer) {
	t.Requests++
	switch {
	case a.Status == 0:
		t.NoAnswer++
		return // a timeout's "latency" is the timeout
	case a.Status >= 500:
		t.Server++
	case a.Status < 200 || a.Status >= 300:
		t.Other++
	}
	t.Latencies = append(t.Latencies, a.Latency)
}

// window is what one STEP of the run did, by when requests were sent.
type window struct {
	tally
	Skipped  int // actions not made: no idle shopper could make them
	Accepted int // checkouts answered 202 with an order id, paying card
	Declined int // the same with the declined card
}

// placement is an accepted checkout.
type placement struct {
	shop.Placed
	Window   int
	Declined bool // paid with the declined card
}

// recorder collects a run's answers by window and by kind. Safe for
// concurrent use.
type recorder struct {
	start time.Time
	step  time.Duration
	last  int // the last window: a request sent as the load ends counts in it

	mu       sync.Mutex
	windows  []*window
	kinds    [kinds]tally
	failures map[string]int // what failed and how often, for the log
	placed   []placement
}

// newRecorder returns the recorder of a load of length d from start, in
// windows of step.
func newRecorder(start time.Time, step, d time.Duration) *recorder {
	return &recorder{start: start, step: step, last: max(int((d-1)/step), 0), failures: map[string]int{}}
}

// windowAt returns the window of instant at, making it (and those before
// it) when new. The caller holds mu.
func (r *recorder) windowAt(at time.Time) (*window, int) {
	i := min(max(int(at.Sub(r.start)/r.step), 0), r.last)
	for len(r.windows) <= i {
		r.windows = append(r.windows, &window{})
	}
	return r.windows[i], i
}

// request notes an answer of kind k to a request sent at sent.
func (r *recorder) request(k Kind, sent time.Time, a shop.Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, _ := r.windowAt(sent)
	w.add(a)
	r.kinds[k].add(a)
	if a.Status < 200 || a.Status >= 300 {
		noteFailure(r.failures, k, a)
	}
}

// note counts a failure that is no request's status.
func (r *recorder) note(k Kind, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[k.String()+": "+what]++
}

// skip notes an action that no shopper could make at at.
func (r *recorder) skip(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, _ := r.windowAt(at)
	w.Skipped++
}

// place notes an accepted checkout sent at sent.
func (r *recorder) place(p shop.Placed, sent time.Time, declined bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, i := r.windowAt(sent)
	if declined {
		w.Declined++
	} else {
		w.Accepted++
	}
	r.placed = append(r.placed, placement{Placed: p, Window: i, Declined: declined})
}

// snapshot copies what the recorder holds, for a report while the run
// goes on.
func (r *recorder) snapshot() ([]window, [kinds]tally, map[string]int, []placement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := make([]window, len(r.windows))
	for i, w := range r.windows {
		ws[i] = *w
		ws[i].Latencies = slices.Clone(w.Latencies)
	}
	var ks [kinds]tally
	for i, t := range r.kinds {
		ks[i] = t
		ks[i].Latencies = slices.Clone(t.Latencies)
	}
	return ws, ks, maps.Clone(r.failures), slices.Clone(r.placed)
}

// maxFailureKinds caps the distinct failures kept: error texts can hold
// addresses and would otherwise each count once.
const maxFailureKinds = 30

func noteFailure(failures map[string]int, k Kind, a shop.Answer) {
	var what string
	if a.Status == 0 {
		what = fmt.Sprintf("%s: %s %s: no answer: %v", k, a.Method, route(a.Path), a.Err)
	} else {
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(a.Body, &p) // problem+json when it can; the status alone otherwise
		what = strings.TrimSpace(fmt.Sprintf("%s: %s %s: %d %s", k, a.Method, route(a.Path), a.Status, p.Type))
	}
	if _, ok := failures[what]; !ok && len(failures) >= maxFailureKinds {
		what = "other failures"
	}
	failures[what]++
}

// route is a request's path without its query and with ids as {id}, so
// failures of one route count together.
func route(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if len(p) == 36 && strings.Count(p, "-") == 4 { // a UUID
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// windowRow is one line of the window table.
type windowRow struct {
	From, To time.Duration // offsets from the load's start
	window
	// From the orders placed in the window, once they settled; Settled
	// false before the wait (the columns then show "-").
	Settled           bool
	PlacedToConfirmed []time.Duration
	Unsettled         int
}

// windowRows lays out ws, the windows of a run of length total in steps
// of step; outcomes, when settled, are the outcomes of placed in order.
func windowRows(ws []window, step, total time.Duration, placed []placement, outcomes []shop.Outcome, settled bool) []windowRow {
	rows := make([]windowRow, len(ws))
	for i, w := range ws {
		from := time.Duration(i) * step
		rows[i] = windowRow{From: from, To: min(from+step, max(total, from)), window: w, Settled: settled}
	}
	if !settled {
		return rows
	}
	byWindow := make([][]shop.Outcome, len(ws))
	for i, p := range placed {
		if i < len(outcomes) && p.Window < len(ws) {
			byWindow[p.Window] = append(byWindow[p.Window], outcomes[i])
		}
	}
	for i, outs := range byWindow {
		sum := shop.Summarize(outs)
		rows[i].PlacedToConfirmed, rows[i].Unsettled = sum.PlacedToConfirmed, sum.Pending
	}
	return rows
}

// writeWindows writes the table of rows and a total line.
func writeWindows(w io.Writer, rows []windowRow) error {
	table := [][]string{{"window", "requests", "req/s", "5xx", "other", "noans", "skipped", "p50", "p99", "checkouts", "declined", "confirm p99", "unsettled"}}
	var all windowRow
	for _, r := range rows {
		table = append(table, windowCells(clock(r.From)+"–"+clock(r.To), r))
		all.To = max(all.To, r.To)
		all.Requests += r.Requests
		all.Server += r.Server
		all.Other += r.Other
		all.NoAnswer += r.NoAnswer
		all.Skipped += r.Skipped
		all.Accepted += r.Accepted
		all.Declined += r.Declined
		all.Latencies = append(all.Latencies, r.Latencies...)
		all.PlacedToConfirmed = append(all.PlacedToConfirmed, r.PlacedToConfirmed...)
		all.Unsettled += r.Unsettled
		all.Settled = r.Settled
	}
	if len(rows) > 1 {
		slices.Sort(all.PlacedToConfirmed)
		table = append(table, windowCells("all", all))
	}
	return writeTable(w, table)
}

func windowCells(label string, r windowRow) []string {
	perSecond := "-"
	if span := r.To - r.From; span > 0 {
		perSecond = fmt.Sprintf("%.1f", float64(r.Requests)/span.Seconds())
	}
	confirmP99, unsettled := "-", "-"
	if r.Settled {
		confirmP99, unsettled = shop.FormatLatency(shop.Percentile(r.PlacedToConfirmed, 99), len(r.PlacedToConfirmed)), strconv.Itoa(r.Unsettled)
	}
	n := len(r.Latencies)
	return []string{label, strconv.Itoa(r.Requests), perSecond,
		strconv.Itoa(r.Server), strconv.Itoa(r.Other), strconv.Itoa(r.NoAnswer), strconv.Itoa(r.Skipped),
		shop.FormatLatency(shop.Percentile(r.Latencies, 50), n), shop.FormatLatency(shop.Percentile(r.Latencies, 99), n),
		strconv.Itoa(r.Accepted), strconv.Itoa(r.Declined), confirmP99, unsettled}
}

// writeKinds writes the requests of each kind: how many, how many failed
// and how fast they were answered.
func writeKinds(w io.Writer, ks [kinds]tally) error {
	table := [][]string{{"action", "requests", "5xx", "other", "noans", "p50", "p99", "max"}}
	for k, t := range ks {
		if t.Requests == 0 {
			continue
		}
		n := len(t.Latencies)
		table = append(table, []string{Kind(k).String(), strconv.Itoa(t.Requests), strconv.Itoa(t.Server), strconv.Itoa(t.Other), strconv.Itoa(t.NoAnswer),
			shop.FormatLatency(shop.Percentile(t.Latencies, 50), n), shop.FormatLatency(shop.Percentile(t.Latencies, 99), n), shop.FormatLatency(shop.Percentile(t.Latencies, 100), n)})
	}
	return writeTable(w, table)
}

// sortedFailures lists failures most frequent first.
func sortedFailures(failures map[string]int) []string {
	return slices.SortedFunc(maps.Keys(failures), func(a, b string) int {
		return cmp.Or(cmp.Compare(failures[b], failures[a]), strings.Compare(a, b))
	})
}

// clock formats an offset from the load's start as mm:ss, or h:mm:ss
// from an hour on.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
