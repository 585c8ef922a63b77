// Command bench runs the checkout scenario against the running stack at
// rising rates and prints one row per rate: what was offered, accepted
// and confirmed, how long orders took to confirm, what failed, and the
// CPU time the apps, their sidecars and the servers spent per confirmed
// order.
//
//	go tool task up PROFILE=local
//	go tool task bench:checkout PROFILE=local RATES=25,50,100 STEP=30s
//
// Each step stocks a product of its own and signs up the shoppers it
// needs before its clock starts (reusing earlier steps' shoppers), paces
// add-to-cart and checkout with vegeta for the step's time, then waits
// until that step's orders have settled or the settle bound has passed.
// CPU times come from /proc, so they are measured only when the gateway
// runs on this machine.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shopmesh/shopmesh/tests/load/proccpu"
	"github.com/shopmesh/shopmesh/tests/load/shop"
)

func main() {
	var o options
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	o.register(fs, os.Getenv)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bench [flags]\n\nCheckout at rising rates against the running stack; one row per rate.\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:]) // ExitOnError
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first interrupt stops the run (in-flight requests finish, within
	// their 30 s timeout); a second one kills the command.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, o, os.Stdout, log.New(os.Stderr, "bench: ", log.Ltime)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

type options struct {
	shop       shop.Config
	profile    string
	rates      string
	step       time.Duration
	settle     time.Duration
	shopperGap time.Duration
	products   int
	signups    int
	criteria   criteria
	procDir    string // the proc file system: /proc but in tests
}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string) {
	o.shop.RegisterFlags(fs, getenv)
	fs.StringVar(&o.profile, "profile", "", "label of the stack's profile, printed with the results (the stack is not started or changed)")
	fs.StringVar(&o.rates, "rates", "25,50,100,200,400", "comma-separated checkouts per second, one step each, in order")
	fs.DurationVar(&o.step, "step", 30*time.Second, "how long each step places orders")
	fs.DurationVar(&o.settle, "settle", time.Minute, "how long after a step to wait for its orders to settle; those still pending count as not settled")
	fs.DurationVar(&o.criteria.P99, "p99", time.Second, "a step passes with placed→confirmed p99 within this")
	fs.Float64Var(&o.criteria.MinAccepted, "min-accepted", 0.5, "a step with accepted/s below this fraction of offered/s fails and ends the run")
	fs.Float64Var(&o.criteria.MaxUnsettled, "max-unsettled", 0.05, "a step with more than this fraction of accepted orders not settled ends the run")
	// Sign-ups are slow (argon2id, a few per second per core), so a
	// shopper checks out more often than the checkout scenario's one per
	// 10 s: 400/s needs 1,600 shoppers rather than 4,000.
	fs.DurationVar(&o.shopperGap, "shopper-gap", 4*time.Second, "time between one shopper's checkouts: a step has rate × this shoppers (at least 20); requests slower than half of it leave no shopper ready, and the ticks they miss count as noans")
	fs.IntVar(&o.products, "products", 1, "products each step sells, every shopper always the same one: 1 is a flash sale where every order contends for one stock record")
	fs.IntVar(&o.signups, "signup-workers", 4, "sign-ups at once (each hashes a password with argon2id)")
	o.procDir = "/proc"
}

// parseRates reads "25,50,100" into rates, each positive.
func parseRates(s string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 || math.IsInf(r, 0) {
			return nil, fmt.Errorf("rates: %q is not a positive number", f)
		}
		rates = append(rates, r)
	}
	if len(rates) == 0 {
		return nil, errors.New("rates: none given")
	}
	return rates, nil
}

// shoppersFor is how many shoppers a rate needs so that each checks out
// once per gap.
func shoppersFor(rate float64, gap time.Duration) int {
	return max(20, int(math.Ceil(rate*gap.Seconds())))
}

// cpuMeter samples the stack's processes; nil when the stack is elsewhere.
type cpuMeter struct {
	reader proccpu.Reader
	hz     int
}

// cpuWindow is where a measurement began.
type cpuWindow struct {
	before proccpu.Sample
	own    uint64 // this command's clock ticks
}

// begin starts a measurement; nil from a nil meter.
func (m *cpuMeter) begin() (*cpuWindow, error) {
	if m == nil {
		return nil, nil
	}
	before, err := m.reader.Sample()
	if err != nil {
		return nil, err
	}
	own, err := proccpu.ReadSelf(m.reader.Dir)
	if err != nil {
		return nil, err
	}
	return &cpuWindow{before: before, own: own}, nil
}

// end returns the CPU time used since w began, by process label, and the
// seconds this command used.
func (m *cpuMeter) end(w *cpuWindow) ([]proccpu.Usage, float64, error) {
	after, err := m.reader.Sample()
	if err != nil {
		return nil, 0, err
	}
	own, err := proccpu.ReadSelf(m.reader.Dir)
	if err != nil {
		return nil, 0, err
	}
	return proccpu.Between(w.before, after), m.seconds(own - w.own), nil
}

func (m *cpuMeter) seconds(ticks uint64) float64 { return float64(ticks) / float64(m.hz) }

// newCPUMeter returns the meter of the stack's processes, or a note why
// there is none: they are measured only when they run on this machine.
func newCPUMeter(procDir string, local bool, gateway string) (*cpuMeter, string, error) {
	switch {
	case !local:
		return nil, "CPU not measured: the gateway " + gateway + " is not on this machine", nil
	case !proccpu.Available(procDir):
		return nil, "CPU not measured: no " + procDir + " on this system", nil
	}
	hz, err := proccpu.ClockTicks(procDir)
	if err != nil {
		return nil, "", err
	}
	return &cpuMeter{reader: proccpu.Reader{Dir: procDir, Groups: groupOf(), Label: label}, hz: hz}, "", nil
}

func run(ctx context.Context, o options, out io.Writer, logger *log.Logger) error {
	rates, err := parseRates(o.rates)
	if err != nil {
		return err
	}
	if o.step <= 0 || o.settle <= 0 || o.shopperGap <= 0 || o.criteria.P99 <= 0 || o.products <= 0 {
		return errors.New("step, settle, shopper-gap, p99 and products must be positive")
	}
	addrs, local, err := o.shop.Connect(ctx)
	if err != nil {
		return err
	}
	cpu, cpuNote, err := newCPUMeter(o.procDir, local, o.shop.Gateway)
	if err != nil {
		return err
	}

	profile := o.profile
	if profile == "" {
		profile = "(unlabelled)"
	}
	fmt.Fprintf(out, "bench:checkout profile=%s gateway=%s at %s\n", profile, o.shop.Gateway, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "steps %s/s, %s each; settle wait up to %s; pass: placed→confirmed p99 <= %s; %d CPUs here\n",
		o.rates, o.step, o.settle, o.criteria.P99, runtime.NumCPU())
	fmt.Fprintf(out, "shoppers: rate × %s (at least 20), addresses %s\n", o.shopperGap, addrs)
	if cpuNote != "" {
		fmt.Fprintln(out, cpuNote)
	}
	fmt.Fprintln(out)
	cols := columns(o.criteria)
	if err := writeHeader(out, cols); err != nil {
		return err
	}

	pool := shop.NewPool(o.shop.Gateway, addrs, o.signups)
	defer pool.Close()
	var rows []row
	var last *stepResult
	for _, rate := range rates {
		res, err := runStep(ctx, o, pool, cpu, rate, logger)
		if err != nil {
			return fmt.Errorf("step %g/s: %w", rate, err)
		}
		rows, last = append(rows, res.row), res
		if err := writeRow(out, cols, res.row); err != nil {
			return err
		}
		if o.criteria.clearlyFailed(res.row) {
			fmt.Fprintf(out, "stopped after %g/s: it clearly failed (accepted/s under %g%% of offered, or more than %g%% of accepted orders not settled)\n",
				rate, o.criteria.MinAccepted*100, o.criteria.MaxUnsettled*100)
			break
		}
	}

	fmt.Fprint(out, "\n"+legend(o.criteria))
	if last != nil && last.row.CPU != nil {
		fmt.Fprintln(out)
		if err := writeSplit(out, last.usage, cpu.hz, last.row, last.ownCPU); err != nil {
			return err
		}
	}
	fmt.Fprintln(out)
	verdict := "none"
	if rate, ok := o.criteria.highest(rows); ok {
		verdict = strconv.FormatFloat(rate, 'g', -1, 64) + "/s"
	}
	_, err = fmt.Fprintf(out, "highest rate at which every accepted order settled with p99 <= %s: %s\n", o.criteria.P99, verdict)
	return err
}

// stepResult is one step's row and, for the split, its CPU by process.
type stepResult struct {
	row    row
	usage  []proccpu.Usage
	ownCPU float64 // seconds this command used
}

// runStep sets up, runs and measures one rate.
func runStep(ctx context.Context, o options, pool *shop.Pool, cpu *cpuMeter, rate float64, logger *log.Logger) (*stepResult, error) {
	// Signed in per step: a run outlasts an access token.
	admin, err := shop.SignInAdmin(ctx, o.shop)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	// Two units per order leave room for add-to-carts repeated after a
	// lost answer.
	units := int64(math.Ceil(rate*o.step.Seconds()/float64(o.products)))*2 + 100
	products := make([]string, o.products)
	for i := range products {
		if products[i], err = admin.CreateProduct(ctx, units); err != nil {
			return nil, err
		}
	}
	need := shoppersFor(rate, o.shopperGap)
	if grow := need - pool.Len(); grow > 0 {
		logger.Printf("%g/s: signing up %d more shoppers (%d in all)", rate, grow, need)
		started := time.Now()
		if err := pool.Grow(ctx, need); err != nil {
			return nil, err
		}
		logger.Printf("%g/s: signed up %d shoppers in %s", rate, grow, time.Since(started).Round(time.Second))
	}
	if err := pool.Refresh(ctx, need, time.Now().Add(o.step+o.settle+time.Minute)); err != nil {
		return nil, err
	}

	load := shop.Load{Gateway: o.shop.Gateway, Rate: rate, Duration: o.step, Products: products, Shoppers: pool.Shoppers(need)}
	if err := shop.Prepare(ctx, load); err != nil {
		return nil, err
	}
	window, err := cpu.begin()
	if err != nil {
		return nil, err
	}
	logger.Printf("%g/s: placing orders for %s with %d shoppers (%d product(s), %d units each)", rate, o.step, need, len(products), units)
	ran, err := shop.Run(ctx, load)
	if err != nil {
		return nil, err
	}
	logger.Printf("%g/s: %d checkouts accepted; waiting up to %s for them to settle", rate, len(ran.Placed), o.settle)
	outcomes, settled, err := shop.Settle(ctx, o.shop.Gateway, ran.Placed, o.settle)
	if err != nil {
		return nil, err
	}
	res := &stepResult{}
	var cpuByGroup map[string]float64
	if window != nil {
		if res.usage, res.ownCPU, err = cpu.end(window); err != nil {
			return nil, err
		}
		if len(res.usage) == 0 {
			logger.Printf("%g/s: none of the stack's processes found in %s: CPU not measured", rate, cpu.reader.Dir)
		} else {
			cpuByGroup = map[string]float64{}
			for g, ticks := range proccpu.ByGroup(res.usage) {
				cpuByGroup[g] = cpu.seconds(ticks)
			}
		}
	}
	sum := shop.Summarize(outcomes)
	res.row = row{
		Offered: rate, Duration: o.step,
		Accepted: sum.Accepted, Confirmed: sum.Confirmed, ConfirmedPS: sum.ConfirmedPerSecond(),
		Cancelled: sum.Cancelled, Unsettled: sum.Pending,
		P50:          shop.Percentile(sum.PlacedToConfirmed, 50),
		P95:          shop.Percentile(sum.PlacedToConfirmed, 95),
		P99:          shop.Percentile(sum.PlacedToConfirmed, 99),
		CheckoutP50:  shop.Percentile(ran.CheckoutLatencies, 50),
		CheckoutP99:  shop.Percentile(ran.CheckoutLatencies, 99),
		ServerErrors: ran.ServerErrors(), Shed: ran.Shed(), OtherErrors: ran.OtherErrors(), NoAnswer: ran.NoAnswer(),
		Settle: settled.Took, CPU: cpuByGroup,
	}
	logStep(logger, rate, ran, sum, settled)
	if err := pool.EmptyCarts(ctx, products); err != nil {
		return nil, err
	}
	return res, nil
}

// logStep logs what the table has no room for: what failed and why
// orders were cancelled.
func logStep(logger *log.Logger, rate float64, ran shop.RunResult, sum shop.Summary, settled shop.SettleStats) {
	failures := slices.SortedFunc(maps.Keys(ran.Failures), func(a, b string) int {
		return cmp.Or(cmp.Compare(ran.Failures[b], ran.Failures[a]), strings.Compare(a, b))
	})
	for _, what := range failures {
		logger.Printf("%g/s: %d× %s", rate, ran.Failures[what], what)
	}
	if ran.Skipped > 0 {
		logger.Printf("%g/s: %d requests not sent: no shopper was ready, all that could send them had one in flight (a longer -shopper-gap gives more shoppers)", rate, ran.Skipped)
	}
	for reason, n := range sum.Reasons {
		logger.Printf("%g/s: %d orders cancelled: %s", rate, n, reason)
	}
	if settled.PollErrors > 0 {
		logger.Printf("%g/s: %d of %d order-history reads failed, last: %v", rate, settled.PollErrors, settled.Polls, settled.LastError)
	}
}
