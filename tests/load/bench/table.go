package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopmesh/shopmesh/tests/load/proccpu"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

// row is what one step did.
type row struct {
	Offered     float64       // checkouts per second offered
	Duration    time.Duration // the step's paced time
	Accepted    int           // checkouts answered 2xx with an order id
	Confirmed   int
	ConfirmedPS float64 // confirmed from first placed to last confirmed
	Cancelled   int
	Unsettled   int
	// Placed → confirmed, from each order's timeline.
	P50, P95, P99            time.Duration
	CheckoutP50, CheckoutP99 time.Duration // accepted checkouts' answer times
	ServerErrors             int           // 5xx answers but 503, add-to-cart and checkout
	Shed                     int           // 503 and 429 answers: refused for load
	OtherErrors              int           // other non-2xx answers (409…)
	NoAnswer                 int           // timeouts, connection errors, no shopper ready
	Settle                   time.Duration // from the step's end until its orders settled (or the bound)
	// CPU seconds per group over the step and its settle wait; nil when
	// not measured.
	CPU map[string]float64
}

func (r row) acceptedPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Duration.Seconds()
}

// msPerOrder is CPU milliseconds per confirmed order; ok is false when
// there is nothing to divide.
func (r row) msPerOrder(cpuSeconds float64) (float64, bool) {
	if r.CPU == nil || r.Confirmed == 0 {
		return 0, false
	}
	return cpuSeconds * 1000 / float64(r.Confirmed), true
}

func (r row) totalCPU() float64 {
	t := 0.0
	for _, g := range groups {
		t += r.CPU[g]
	}
	return t
}

// criteria decide whether a step passed and whether to go on.
type criteria struct {
	P99          time.Duration // bound on placed → confirmed p99
	MinAccepted  float64       // accepted/s at least this fraction of offered/s
	MaxUnsettled float64       // beyond this fraction of accepted unsettled, stop
}

// failures says why r did not pass; none when it did. A step passes when
// it accepted enough of what was offered and every accepted order was
// confirmed (none cancelled, none unsettled) with p99 within the bound.
func (c criteria) failures(r row) []string {
	var why []string
	if r.Accepted == 0 {
		return []string{"none accepted"}
	}
	if r.acceptedPerSecond() < c.MinAccepted*r.Offered {
		why = append(why, fmt.Sprintf("accepted<%g%%", c.MinAccepted*100))
	}
	if r.Unsettled > 0 {
		why = append(why, "unsettled")
	}
	if r.Cancelled > 0 {
		why = append(why, "cancelled")
	}
	if r.P99 > c.P99 {
		why = append(why, "p99>"+c.P99.String())
	}
	return why
}

// clearlyFailed is a step after which higher rates cannot do better: too
// little accepted or too much left unsettled.
func (c criteria) clearlyFailed(r row) bool {
	return r.Accepted == 0 ||
		r.acceptedPerSecond() < c.MinAccepted*r.Offered ||
		float64(r.Unsettled) > c.MaxUnsettled*float64(r.Accepted)
}

// highest returns the highest offered rate among the steps that passed.
func (c criteria) highest(rows []row) (rate float64, ok bool) {
	for _, r := range rows {
		if len(c.failures(r)) == 0 && (!ok || r.Offered > rate) {
			rate, ok = r.Offered, true
		}
	}
	return rate, ok
}

// column is one column of the table: its group's label (over the columns
// that share it), its title and how a row fills it.
type column struct {
	group, title string
	width        int
	cell         func(row) string
}

// columns lays out the table; c judges the verdict column.
func columns(c criteria) []column {
	cols := []column{
		{"", "offered/s", 9, func(r row) string { return strconv.FormatFloat(r.Offered, 'g', -1, 64) }},
		{"", "accepted/s", 10, func(r row) string { return fmt.Sprintf("%.1f", r.acceptedPerSecond()) }},
		{"", "confirmed/s", 11, func(r row) string { return fmt.Sprintf("%.1f", r.ConfirmedPS) }},
		{"", "cancelled", 9, func(r row) string { return strconv.Itoa(r.Cancelled) }},
		{"placed→confirmed", "p50", 7, func(r row) string { return shop.FormatLatency(r.P50, r.Confirmed) }},
		{"placed→confirmed", "p95", 7, func(r row) string { return shop.FormatLatency(r.P95, r.Confirmed) }},
		{"placed→confirmed", "p99", 7, func(r row) string { return shop.FormatLatency(r.P99, r.Confirmed) }},
		{"checkout", "p50", 7, func(r row) string { return shop.FormatLatency(r.CheckoutP50, r.Accepted) }},
		{"checkout", "p99", 7, func(r row) string { return shop.FormatLatency(r.CheckoutP99, r.Accepted) }},
		{"failed requests", "5xx", 5, func(r row) string { return strconv.Itoa(r.ServerErrors) }},
		{"failed requests", "shed", 5, func(r row) string { return strconv.Itoa(r.Shed) }},
		{"failed requests", "other", 5, func(r row) string { return strconv.Itoa(r.OtherErrors) }},
		{"failed requests", "noans", 5, func(r row) string { return strconv.Itoa(r.NoAnswer) }},
		{"", "unsettled", 9, func(r row) string { return strconv.Itoa(r.Unsettled) }},
		{"", "settle", 7, func(r row) string { return shop.FormatDuration(r.Settle) }},
	}
	for _, g := range groups {
		cols = append(cols, column{"CPU s", g, max(len(g), 5), func(r row) string {
			if r.CPU == nil {
				return "-"
			}
			return fmt.Sprintf("%.1f", r.CPU[g])
		}})
	}
	for _, g := range append(groups[:len(groups):len(groups)], "total") {
		cols = append(cols, column{"CPU ms / confirmed order", g, max(len(g), 5), func(r row) string {
			cpu := r.CPU[g]
			if g == "total" {
				cpu = r.totalCPU()
			}
			ms, ok := r.msPerOrder(cpu)
			if !ok {
				return "-"
			}
			return fmt.Sprintf("%.1f", ms)
		}})
	}
	return append(cols, column{"", "verdict", 7, func(r row) string {
		why := c.failures(r)
		if len(why) == 0 {
			return "pass"
		}
		return strings.Join(why, ",")
	}})
}

// writeHeader writes the two header lines: group labels centred over
// their columns, then the titles.
func writeHeader(w io.Writer, cols []column) error {
	var groupsLine, titles strings.Builder
	for i := 0; i < len(cols); {
		span := cols[i].width
		j := i + 1
		for ; j < len(cols) && cols[j].group == cols[i].group; j++ {
			span += 1 + cols[j].width
		}
		if i > 0 {
			groupsLine.WriteByte(' ')
		}
		groupsLine.WriteString(center(cols[i].group, span))
		i = j
	}
	for i, c := range cols {
		if i > 0 {
			titles.WriteByte(' ')
		}
		if i == len(cols)-1 {
			titles.WriteString(c.title) // the verdict: left-aligned, as its cells
			continue
		}
		titles.WriteString(padLeft(c.title, c.width))
	}
	_, err := fmt.Fprintf(w, "%s\n%s\n", strings.TrimRight(groupsLine.String(), " "), titles.String())
	return err
}

// writeRow writes r as one line under writeHeader's titles.
func writeRow(w io.Writer, cols []column, r row) error {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == len(cols)-1 {
			b.WriteString(c.cell(r))
			continue
		}
		b.WriteString(padLeft(c.cell(r), c.width))
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}

func padLeft(s string, width int) string {
	return strings.Repeat(" ", max(width-utf8.RuneCountInString(s), 0)) + s
}

func center(s string, width int) string {
	pad := max(width-utf8.RuneCountInString(s), 0)
	return strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2)
}

// writeSplit writes the CPU per confirmed order of each process label of
// one step, so what each order costs at least can be seen; own is this
// command's CPU seconds over the same time, reported apart.
func writeSplit(w io.Writer, usage []proccpu.Usage, hz int, r row, own float64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CPU by process at %s/s (%d confirmed orders; step and settle wait):\n",
		strconv.FormatFloat(r.Offered, 'g', -1, 64), r.Confirmed)
	fmt.Fprintf(&b, "  %-9s %-22s %5s %8s %9s\n", "group", "process", "procs", "CPU s", "ms/order")
	total := 0.0
	for _, u := range usage {
		s := float64(u.Ticks) / float64(hz)
		total += s
		fmt.Fprintf(&b, "  %-9s %-22s %5d %8.2f %9s\n", u.Group, u.Label, u.Procs, s, perOrder(r, s))
	}
	fmt.Fprintf(&b, "  %-9s %-22s %5s %8.2f %9s\n", "total", "", "", total, perOrder(r, total))
	fmt.Fprintf(&b, "  this load generator (not in the totals): %.2f CPU s\n", own)
	_, err := io.WriteString(w, b.String())
	return err
}

func perOrder(r row, seconds float64) string {
	if r.Confirmed == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", seconds*1000/float64(r.Confirmed))
}

// legend explains the columns the titles cannot.
func legend(c criteria) string {
	return fmt.Sprintf(`offered/s: checkouts offered per second, alternating with as many add-to-carts. accepted/s: checkouts answered
2xx with an order id, per second of the step. confirmed/s: confirmed orders over first placed → last confirmed.
placed→confirmed: each order's created_at to its confirmed timeline entry. checkout: answer time of accepted
checkouts. failed requests (add-to-cart and checkout): 5xx but 503; shed: refused for load, 503 (admission control,
the saga running late) or 429 (a client's rate limit), each with Retry-After; other non-2xx (409…); noans: no answer
(timeout, connection error, or no shopper ready to send it). unsettled: still pending when the settle wait ended. settle: from
the step's end until its orders settled. CPU s: used during the step and its settle wait by the apps, their daprd
sidecars, the servers (redis-server, postgres with all its backends, mailpit, kafka, node for dynalite and fauxqs)
and telemetry (jaeger, prometheus); and per confirmed order.
verdict: pass, or why not: a pass has every accepted order confirmed, placed→confirmed p99 <= %s, and accepted/s at
least %g%% of offered/s.
`, c.P99, c.MinAccepted*100)
}
