// Command checkout is a load scenario for the running stack: shoppers add a
// product to their cart and check out at a steady rate (vegeta paces the
// requests) for a while, then the scenario waits for every accepted order to
// settle and prints what the platform did: orders confirmed per second and
// the placed → confirmed latency (from each order's own timeline).
//
//	go tool task up
//	go run ./tests/load/checkout -rate 10 -duration 60s
//
// Each shopper connects from its own loopback address (127.x.y.z), as real
// shoppers come from their own addresses, so the gateway's per-client rate
// limits apply per shopper and not to the whole run. tests/load/bench runs
// the same scenario at rising rates.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

func main() {
	var o options
	fs := flag.NewFlagSet("checkout", flag.ExitOnError)
	o.shop.RegisterFlags(fs, os.Getenv)
	fs.Float64Var(&o.rate, "rate", 10, "checkouts per second (each with its add-to-cart)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long to place orders")
	fs.IntVar(&o.shoppers, "shoppers", 0, "number of shoppers (default: enough that each checks out once per 10 s)")
	fs.DurationVar(&o.settle, "settle", 3*time.Minute, "how long to wait for accepted orders to settle")
	_ = fs.Parse(os.Args[1:]) // ExitOnError
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first interrupt stops the run (in-flight requests finish, within
	// their 30 s timeout); a second one kills the command.
	context.AfterFunc(ctx, stop)
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if err := run(ctx, o, os.Stdout, logger); err != nil {
		stop()
		logger.Fatal(err)
	}
}

type options struct {
	shop     shop.Config
	rate     float64
	duration time.Duration
	shoppers int
	settle   time.Duration
}

func run(ctx context.Context, o options, out io.Writer, logger *log.Logger) error {
	if o.rate <= 0 || o.duration <= 0 || o.settle <= 0 {
		return errors.New("rate, duration and settle must be positive")
	}
	if o.shoppers == 0 {
		o.shoppers = max(20, int(o.rate*10))
	}
	addrs, _, err := o.shop.Connect(ctx)
	if err != nil {
		return err
	}
	admin, err := shop.SignInAdmin(ctx, o.shop)
	if err != nil {
		return err
	}
	defer admin.Close()
	units := int64(o.rate*o.duration.Seconds())*2 + 100
	productID, err := admin.CreateProduct(ctx, units)
	if err != nil {
		return err
	}
	logger.Printf("product %s with %d units; signing up %d shoppers", productID, units, o.shoppers)
	pool := shop.NewPool(o.shop.Gateway, addrs, 4)
	defer pool.Close()
	if err := pool.Grow(ctx, o.shoppers); err != nil {
		return err
	}

	logger.Printf("placing %.1f orders/s for %s", o.rate, o.duration)
	started := time.Now()
	ran, err := shop.Run(ctx, shop.Load{Gateway: o.shop.Gateway, Rate: o.rate, Duration: o.duration, Products: []string{productID}, Shoppers: pool.Shoppers(o.shoppers)})
	if err != nil {
		return err
	}
	for what, count := range ran.Failures {
		logger.Printf("failed %d×: %s", count, what)
	}
	logger.Printf("%d checkouts accepted; waiting for them to settle", len(ran.Placed))
	outcomes, _, err := shop.Settle(ctx, o.shop.Gateway, ran.Placed, o.settle)
	if err != nil {
		return err
	}
	sum := shop.Summarize(outcomes)
	report(out, o, started, ran, sum)
	if sum.Pending > 0 {
		return fmt.Errorf("%d orders still pending after %s", sum.Pending, o.settle)
	}
	return nil
}

func report(w io.Writer, o options, started time.Time, ran shop.RunResult, sum shop.Summary) {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	reasons := map[string]int{}
	for reason, n := range sum.Reasons {
		reasons[shop.StatusCancelled+"/"+reason] = n
	}
	fmt.Fprintf(w, "checkout load scenario: offered %.1f checkouts/s for %s (started %s)\n", o.rate, o.duration, started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  accepted checkouts (202): %d; checkout answer p50 %s, p99 %s\n", len(ran.Placed),
		ms(shop.Percentile(ran.CheckoutLatencies, 50)), ms(shop.Percentile(ran.CheckoutLatencies, 99)))
	fmt.Fprintf(w, "  confirmed: %d; other outcomes: %v\n", sum.Confirmed, reasons)
	if sum.Pending > 0 {
		fmt.Fprintf(w, "  not settled after %s: %d\n", o.settle, sum.Pending)
	}
	if cps := sum.ConfirmedPerSecond(); cps > 0 {
		fmt.Fprintf(w, "  orders confirmed per second: %.1f (first placed → last confirmed: %s)\n", cps, ms(sum.LastConfirmed.Sub(sum.FirstPlaced)))
	}
	fmt.Fprintf(w, "  placed → confirmed: p50 %s, p99 %s, max %s\n", ms(shop.Percentile(sum.PlacedToConfirmed, 50)),
		ms(shop.Percentile(sum.PlacedToConfirmed, 99)), ms(shop.Percentile(sum.PlacedToConfirmed, 100)))
}
