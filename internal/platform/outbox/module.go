package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	l := config.NewLoader(lookup)
	cfg := Config{
		Instance:  l.String("OUTBOX_INSTANCE", host),
		Seats:     l.Int("OUTBOX_SEATS", 64),
		Slots:     l.Int("OUTBOX_SLOTS", 512),
		Lease:     l.Duration("OUTBOX_LEASE", 30*time.Second),
		Sweep:     l.Duration("OUTBOX_SWEEP", 5*time.Second),
		TxTimeout: l.Duration("OUTBOX_TX_TIMEOUT", 10*time.Second),
		Skew:      l.Duration("OUTBOX_CLOCK_SKEW", 5*time.Second),
	}
	switch fp := l.String("OUTBOX_FAILPOINT", ""); fp {
	case "":
	case "exit-after-commit":
		cfg.ExitAfterCommit = true
	default:
		return cfg, fmt.Errorf("outbox: OUTBOX_FAILPOINT %q: want exit-after-commit or nothing", fp)
	}
	if err := l.Err(); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	switch {
	case c.Seats < 1 || c.Slots < 1:
		return errors.New("outbox: OUTBOX_SEATS and OUTBOX_SLOTS must be positive")
	case c.TxTimeout <= 0 || c.Lease < 2*c.TxTimeout:
		return errors.New("outbox: OUTBOX_TX_TIMEOUT must be positive and OUTBOX_LEASE at least twice as long")
	case c.Sweep <= 0 || c.Skew < 0:
		return errors.New("outbox: OUTBOX_SWEEP must be positive and OUTBOX_CLOCK_SKEW not negative")
	}
	return nil
}

// Module provides the *Outbox of the state store component named store,
// runs it for the app's lifetime and makes readiness wait for its seat.
// The app's key of the process's instance is its host name unless
// OUTBOX_INSTANCE says otherwise.
func Module(store string) fx.Option {
	return fx.Options(
		fx.Provide(
			func(c dapr.Client, pub *daprx.Publisher, sidecar *daprx.Sidecar, lc fx.Lifecycle, log *slog.Logger, app config.App) (*Outbox, error) {
				cfg, err := LoadConfig(os.LookupEnv)
				if err != nil {
					return nil, err
				}
				// Local stacks run every app on one host: the app id keeps
				// their instance names apart (one store may serve several).
				cfg.Instance += "/" + app.ID
				o := New(daprx.NewState(c, store), pub, cfg, log)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				lc.Append(fx.Hook{
					OnStart: func(context.Context) error {
						go func() {
							defer close(done)
							// The sidecar may start after the app: claim once it serves.
							if sidecar.WaitOutbound(ctx) == nil {
								o.Run(ctx)
							}
						}()
						return nil
					},
					OnStop: func(stop context.Context) error {
						err := o.Close(stop)
						cancel()
						<-done
						return err
					},
				})
				return o, nil
			},
			fx.Annotate(func(o *Outbox) health.Check {
				return health.Check{Name: "outbox", Check: o.Ready}
			}, fx.ResultTags(`group:"readiness"`)),
		),
		fx.Invoke(registerBacklog),
	)
}

// registerBacklog exports the outbox's backlog: events that wait for a
// publish are the saga standing still.
func registerBacklog(o *Outbox, r *prometheus.Registry) {
	r.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shopmesh_outbox_events_waiting",
			Help: "Committed events whose publish failed, waiting for a retry.",
		}, func() float64 { n, _ := o.Backlog(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shopmesh_outbox_oldest_event_age_seconds",
			Help: "How long the oldest event waiting to be published has waited (0 when none waits).",
		}, func() float64 { _, age := o.Backlog(); return age.Seconds() }),
	)
}
