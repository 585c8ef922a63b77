package background_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/fx/fxtest"

	"github.com/shopmesh/shopmesh/internal/platform/background"
)

// The work runs after start; stop cancels it and waits until it returned.
func TestGoRunsUntilStop(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	started, returned := make(chan struct{}), make(chan struct{})
	background.Go(lc, func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		close(returned)
	})
	select {
	case <-started:
		t.Fatal("work ran before the app started")
	default:
	}
	lc.RequireStart()
	<-started
	lc.RequireStop()
	select {
	case <-returned:
	default:
		t.Fatal("stop returned before the work did")
	}
}

// A stop whose deadline passes first reports it instead of hanging.
func TestGoStopHonoursItsDeadline(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	release := make(chan struct{})
	defer close(release)
	background.Go(lc, func(context.Context) { <-release })
	if err := lc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := lc.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop = %v, want the deadline", err)
	}
}
