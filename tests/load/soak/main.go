// Command soak runs a shopper mix against the running stack for a long
// while at a steady rate and prints what a leak or a slow decline would
// show: the resident memory (VmRSS) and goroutines of every app and every
// daprd at the start, every STEP and the end; requests, 5xx and answer
// times p50/p99 per STEP window; and whether every accepted order settled.
//
//	go tool task up
//	go tool task soak RATE=12 DURATION=30m STEP=5m
//
// The rate is checkouts per second (paying and declined together); the
// other actions come in proportion to them by the mix (-mix, DefaultMix):
// per checkout 3 catalogue browses (one to three pages each), 2 searches,
// 4 product views, 1.4 adds to the cart, 0.3 quantity changes and 0.3
// removals, 0.5 order-history reads (and the newest order half the time);
// 1 checkout in 20 pays with the declined card. Each action goes to an
// idle shopper that can make it (a checkout to one whose cart holds
// something), the one idle longest; with none, the action is skipped and
// counted.
//
// The run stocks products of its own (the only ones shoppers buy; views
// and browses reach the whole catalogue), signs up its shoppers, each
// connecting from an address of its own as tests/load/checkout's do,
// paces the actions for DURATION, then waits for every accepted order to
// settle. A shopper's order history grows through the run (by rate ×
// duration / shoppers orders), and reading it costs more as it does:
// -shoppers spreads the orders thinner. It fails when any answer was a 5xx or an order did not settle;
// RSS growing more than 50% from the start to the end is a warning, for
// a human to judge from the figures. RSS and goroutines are read only
// when the gateway runs on this machine: from the pid files the local
// stack writes (.local/run), /proc/<pid>/status, and each process's
// Prometheus metrics (an app's on its port, a daprd's on its metrics port).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

func main() {
	var o options
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	o.register(fs, os.Getenv)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: soak [flags]\n\nA shopper mix at a steady rate against the running stack; RSS, goroutines, errors and latency over time.\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:]) // ExitOnError
	logger := log.New(os.Stderr, "soak: ", log.Ltime)

	// The first interrupt stops the load and goes on to the settle wait
	// and the report; the second stops waiting; the third kills.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		logger.Print("interrupted: stopping the load, then waiting for the orders (interrupt again to stop waiting)")
		stopLoad()
		<-sigs
		logger.Print("interrupted again: reporting what there is")
		cancel()
		<-sigs
		os.Exit(130)
	}()
	if err := run(ctx, load, o, os.Stdout, logger); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	shop     shop.Config
	rate     float64
	duration time.Duration
	step     time.Duration
	settle   time.Duration
	shoppers int
	products int
	mix      string
	signups  int
	procs    bool   // measure the local stack's processes
	procDir  string // the proc file system
}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string) {
	o.shop.RegisterFlags(fs, getenv)
	fs.Float64Var(&o.rate, "rate", 12, "checkouts per second, paying and declined together (12: half of the 25/s at which `local` settles every order, README \"Checkout speed\"); the other actions follow the mix")
	fs.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to run the mix")
	fs.DurationVar(&o.step, "step", 5*time.Minute, "the window of the table and the time between samples of RSS and goroutines")
	fs.DurationVar(&o.settle, "settle", 3*time.Minute, "how long after the load to wait for accepted orders to settle; those still pending fail the run")
	fs.IntVar(&o.shoppers, "shoppers", 0, "shoppers (default: rate × 20, at least 20); each one's order history grows by duration × rate / shoppers orders")
	fs.IntVar(&o.products, "products", 4, "products of its own the run stocks and sells")
	fs.StringVar(&o.mix, "mix", DefaultMix, "actions and their relative weights: "+strings.Join(kindNames[:mixKinds], ", "))
	fs.IntVar(&o.signups, "signup-workers", 4, "sign-ups at once (each hashes a password with argon2id)")
	fs.BoolVar(&o.procs, "procs", true, "read RSS and goroutines of the local stack's apps and sidecars (when the gateway is on this machine)")
	o.procDir = "/proc"
}

func (o options) check() (Mix, error) {
	m, err := ParseMix(o.mix)
	if err != nil {
		return Mix{}, err
	}
	if o.rate <= 0 || math.IsInf(o.rate, 0) || math.IsNaN(o.rate) || o.duration <= 0 || o.step <= 0 || o.settle <= 0 || o.products <= 0 || o.signups <= 0 || o.shoppers < 0 {
		return Mix{}, errors.New("rate, duration, step, settle, products and signup-workers must be positive")
	}
	return m, nil
}

// shoppersFor is how many shoppers a rate gets by default: each then
// checks out about once every 20 s.
func shoppersFor(rate float64) int { return max(20, int(math.Ceil(rate*20))) }

func run(ctx, load context.Context, o options, out io.Writer, logger *log.Logger) error {
	mix, err := o.check()
	if err != nil {
		return err
	}
	if o.shoppers == 0 {
		o.shoppers = shoppersFor(o.rate)
	}
	addrs, local, err := o.shop.Connect(ctx)
	if err != nil {
		return err
	}
	var m *meter
	var note string
	switch {
	case !o.procs:
		note = "RSS and goroutines not measured (-procs=false)"
	case !local:
		note = "RSS and goroutines not measured: the gateway " + o.shop.Gateway + " is not on this machine"
	default:
		m, note = newMeter(o.procDir)
	}

	sh, pool, err := setUp(ctx, o, addrs, logger)
	if pool != nil {
		defer pool.Close()
	}
	if err != nil {
		return err
	}

	actions := mix.ActionsPerSecond(o.rate)
	fmt.Fprintf(out, "soak gateway=%s at %s; %d CPUs here\n", o.shop.Gateway, time.Now().UTC().Format(time.RFC3339), runtime.NumCPU())
	fmt.Fprintf(out, "%g checkouts/s (%.0f%% with the declined card), %.1f actions/s, for %s; windows and samples every %s; settle wait up to %s\n",
		o.rate, 100*mix[Declined]/mix.checkouts(), actions, o.duration, o.step, o.settle)
	fmt.Fprintf(out, "mix per checkout: %s\n", mix)
	fmt.Fprintf(out, "%d shoppers, addresses %s; %d products of the run's own\n", o.shoppers, addrs, len(sh.products))
	if note != "" {
		fmt.Fprintln(out, note)
	}
	fmt.Fprintln(out)

	var samples []sample
	measure := func(label string) {
		if m == nil {
			return
		}
		s := m.sample(ctx, label)
		samples = append(samples, s)
		logger.Printf("%s: %s", label, summarize(m.procs, s))
	}
	measure("start")

	started := time.Now()
	sh.rec = newRecorder(started, o.step, o.duration)
	shoppers := make([]*shopper, 0, o.shoppers)
	for _, s := range pool.Shoppers(o.shoppers) {
		shoppers = append(shoppers, newShopper(s))
	}
	logger.Printf("running the mix for %s: %.1f actions/s, %g checkouts/s", o.duration, actions, o.rate)
	done := make(chan struct{})
	go func() {
		defer close(done)
		drive(load, ctx, newPicker(mix), actions, o.duration, newIdle(shoppers), sh)
	}()
	ticker := time.NewTicker(o.step)
loop:
	for k := 1; ; k++ {
		select {
		case <-done:
			break loop
		case <-ticker.C:
		}
		at := time.Duration(k) * o.step
		if at >= o.duration {
			continue // the load is about to end: "load end" samples it
		}
		measure(clock(at))
		if ws, _, _, _ := sh.rec.snapshot(); k-1 < len(ws) {
			logger.Printf("window %s–%s: %s", clock(at-o.step), clock(at), progress(ws[k-1]))
		}
	}
	ticker.Stop()
	ran := min(time.Since(started), o.duration)
	measure("load end")

	ws, ks, failures, placed := sh.rec.snapshot()
	logger.Printf("load over after %s: %d checkouts accepted; waiting up to %s for them to settle", ran.Round(time.Second), len(placed), o.settle)
	// Settle reads with the shoppers' tokens, which the load may have
	// left close to expiring.
	if err := pool.Refresh(ctx, o.shoppers, time.Now().Add(o.settle+time.Minute)); err != nil {
		logger.Printf("renewing tokens for the settle wait: %v", err)
	}
	toSettle := make([]shop.Placed, len(placed))
	for i, p := range placed {
		toSettle[i] = p.Placed
	}
	outcomes, settleStats, settleErr := shop.Settle(ctx, o.shop.Gateway, toSettle, o.settle)
	if settleErr != nil {
		logger.Printf("settle wait cut short: %v", settleErr)
	}
	if settleStats.PollErrors > 0 {
		logger.Printf("%d of %d order-history reads failed, last: %v", settleStats.PollErrors, settleStats.Polls, settleStats.LastError)
	}
	measure("end")

	rows := windowRows(ws, o.step, ran, placed, outcomes, true)
	if err := report(out, rows, ks, failures, placed, outcomes, settleStats, m, samples); err != nil {
		return err
	}
	return verdict(out, rows, o.settle)
}

// setUp stocks the run's products, signs up its shoppers and reads the
// categories.
func setUp(ctx context.Context, o options, addrs *shop.Addrs, logger *log.Logger) (*shopping, *shop.Pool, error) {
	admin, err := shop.SignInAdmin(ctx, o.shop)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close()
	// Up to about two units per checkout (an add and now and then a
	// change), with room to spare: a soak must not run out of stock.
	units := int64(math.Ceil(o.rate*o.duration.Seconds()*3/float64(o.products))) + 200
	products := make([]string, o.products)
	for i := range products {
		if products[i], err = admin.CreateProduct(ctx, units); err != nil {
			return nil, nil, err
		}
	}
	pool := shop.NewPool(o.shop.Gateway, addrs, o.signups)
	logger.Printf("%d products with %d units each; signing up %d shoppers", len(products), units, o.shoppers)
	began := time.Now()
	if err := pool.Grow(ctx, o.shoppers); err != nil {
		return nil, pool, err
	}
	logger.Printf("signed up %d shoppers in %s", pool.Len(), time.Since(began).Round(time.Second))
	sh := &shopping{
		gateway:  o.shop.Gateway,
		products: products,
		seen:     newSeen(products),
		run:      strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	a := pool.Shoppers(1)[0].Do(ctx, o.shop.Gateway, http.MethodGet, "/api/v1/categories", nil, nil)
	var cats struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &cats) != nil {
		logger.Printf("categories not read (%d %v): browsing without them", a.Status, a.Err)
	}
	for _, c := range cats.Items {
		sh.categories = append(sh.categories, c.ID)
	}
	return sh, pool, nil
}

// drive paces actions per second of the mix for d, until pacing is done,
// handing each to an idle shopper who can make it, and returns once every
// action's requests are answered. Requests run under ctx, so stopping the
// pacing lets those in flight finish.
func drive(pacing, ctx context.Context, p *picker, actions float64, d time.Duration, q *idle, sh *shopping) {
	var wg sync.WaitGroup
	pace(pacing, sh.rec.start, actions, d, func(at time.Time) {
		k := p.next()
		s := q.take(k)
		if s == nil {
			sh.rec.skip(at)
			return
		}
		wg.Go(func() {
			defer q.put(s)
			sh.act(ctx, k, s)
		})
	})
	wg.Wait()
}

// pace calls tick at a constant rate per second from start for d, or until
// ctx is done, with the instant each tick was due; ticks that come late
// (a slow tick, a busy machine) are made at once, so the rate holds on
// average.
func pace(ctx context.Context, start time.Time, rate float64, d time.Duration, tick func(at time.Time)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		off := time.Duration(float64(i) / rate * float64(time.Second))
		if off >= d {
			return
		}
		at := start.Add(off)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		tick(at)
	}
}

// progress is a window's line for the log while the run goes on.
func progress(w window) string {
	return fmt.Sprintf("%d requests, %d 5xx, %d other, %d noans, %d skipped; p50 %s, p99 %s; %d checkouts accepted, %d declined",
		w.Requests, w.Server, w.Other, w.NoAnswer, w.Skipped,
		shop.FormatLatency(shop.Percentile(w.Latencies, 50), len(w.Latencies)), shop.FormatLatency(shop.Percentile(w.Latencies, 99), len(w.Latencies)),
		w.Accepted, w.Declined)
}

// report prints the run's tables.
func report(out io.Writer, rows []windowRow, ks [kinds]tally, failures map[string]int, placed []placement,
	outcomes []shop.Outcome, settled shop.SettleStats, m *meter, samples []sample) error {
	fmt.Fprintln(out, "requests by window (by when sent); checkouts and confirm p99 by when the checkout was sent:")
	if err := writeWindows(out, rows); err != nil {
		return err
	}
	fmt.Fprintln(out, `other: answers outside 2xx but 5xx (429, 404…); noans: no answer (timeout, connection error); skipped: actions
no idle shopper could make; p50/p99: answer times of every answered request; checkouts/declined: accepted (202)
with the paying/declined card; confirm p99: placed→confirmed from the orders' timelines; unsettled: still pending.`)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "requests by action:")
	if err := writeKinds(out, ks); err != nil {
		return err
	}
	fmt.Fprintln(out)
	writeOrders(out, placed, outcomes, settled)
	if len(failures) > 0 {
		fmt.Fprintln(out, "failed requests:")
		for _, what := range sortedFailures(failures) {
			fmt.Fprintf(out, "  %6d× %s\n", failures[what], what)
		}
	}
	if m != nil {
		fmt.Fprintln(out)
		fmt.Fprintln(out, "processes: start (before the load), every window, load end (requests answered), end (orders settled)")
		if err := writeSamples(out, m.procs, samples); err != nil {
			return err
		}
	}
	fmt.Fprintln(out)
	return nil
}

// writeOrders sums up what became of the accepted checkouts, and flags
// outcomes the card does not explain.
func writeOrders(out io.Writer, placed []placement, outcomes []shop.Outcome, settled shop.SettleStats) {
	var paying, declined []shop.Outcome
	for i, p := range placed {
		if i >= len(outcomes) {
			break
		}
		if p.Declined {
			declined = append(declined, outcomes[i])
		} else {
			paying = append(paying, outcomes[i])
		}
	}
	ps, ds := shop.Summarize(paying), shop.Summarize(declined)
	fmt.Fprintf(out, "orders (settle wait %s, %d history reads):\n", settled.Took.Round(time.Millisecond), settled.Polls)
	fmt.Fprintf(out, "  paying card:   %d accepted, %d confirmed, %d cancelled%s, %d unsettled; placed→confirmed p50 %s, p99 %s, max %s\n",
		ps.Accepted, ps.Confirmed, ps.Cancelled, reasons(ps.Reasons), ps.Pending,
		shop.FormatLatency(shop.Percentile(ps.PlacedToConfirmed, 50), ps.Confirmed), shop.FormatLatency(shop.Percentile(ps.PlacedToConfirmed, 99), ps.Confirmed),
		shop.FormatLatency(shop.Percentile(ps.PlacedToConfirmed, 100), ps.Confirmed))
	fmt.Fprintf(out, "  declined card: %d accepted, %d cancelled%s, %d confirmed, %d unsettled\n",
		ds.Accepted, ds.Cancelled, reasons(ds.Reasons), ds.Confirmed, ds.Pending)
	if ps.Cancelled > 0 {
		fmt.Fprintf(out, "WARNING: %d orders paid with the paying card were cancelled%s\n", ps.Cancelled, reasons(ps.Reasons))
	}
	if n := ds.Confirmed + ds.Cancelled - ds.Reasons["payment_declined"]; n > 0 {
		fmt.Fprintf(out, "WARNING: %d orders paid with the declined card ended other than cancelled/payment_declined\n", n)
	}
}

// reasons formats cancellation reasons with their counts: " (a: 2, b: 1)",
// or nothing for none.
func reasons(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, r := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", r, m[r]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// verdict prints whether the run passed: no 5xx and every order settled.
func verdict(out io.Writer, rows []windowRow, settle time.Duration) error {
	server, unsettled := 0, 0
	for _, r := range rows {
		server += r.Server
		unsettled += r.Unsettled
	}
	var why []string
	if server > 0 {
		why = append(why, fmt.Sprintf("%d answers were 5xx", server))
	}
	if unsettled > 0 {
		why = append(why, fmt.Sprintf("%d orders still pending %s after the load", unsettled, settle))
	}
	if len(why) > 0 {
		fmt.Fprintf(out, "soak: FAIL: %s\n", strings.Join(why, "; "))
		return errors.New(strings.Join(why, "; "))
	}
	_, err := fmt.Fprintln(out, "soak: PASS: no 5xx, every accepted order settled (judge RSS and goroutines from the figures)")
	return err
}
