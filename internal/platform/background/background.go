// Package background runs an app's work that lasts as long as the app: it
// starts when the app has started and, when the app stops, its context is
// cancelled and the stop waits for it to return.
package background

import (
	"context"

	"go.uber.org/fx"
)

// Go runs work in a goroutine of its own from lc's start to its stop. The
// stop cancels work's context and waits for work to return, or for the
// stop's own deadline.
func Go(lc fx.Lifecycle, work func(ctx context.Context)) {
	var cancel context.CancelFunc
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			go func() {
				defer close(done)
				work(ctx)
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
}
