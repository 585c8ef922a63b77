// Package seed loads the catalogue in products.json on start-up, once the
// sidecar is up. The app reports ready only after seeding, so `task up`
// returns with a browsable shop.
package seed

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

//go:embed products.json
var productsJSON []byte

// Module seeds in the background and adds a readiness check for it.
var Module = fx.Options(
	fx.Provide(newLoader, fx.Annotate(func(l *loader) health.Check {
		return health.Check{Name: "seed", Check: l.done}
	}, fx.ResultTags(`group:"readiness"`))),
	fx.Invoke(func(lc fx.Lifecycle, l *loader) { lc.Append(fx.StartStopHook(l.start, l.stop)) }),
)

type file struct {
	Categories []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"categories"`
	Products []struct {
		SKU         string `json:"sku"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Category    string `json:"category"`
		Price       struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price"`
		ImageURL string `json:"image_url"`
	} `json:"products"`
}

// Parse reads the embedded seed.
func Parse() (catalog.Seed, error) {
	var f file
	if err := json.Unmarshal(productsJSON, &f); err != nil {
		return catalog.Seed{}, fmt.Errorf("parsing seed: %w", err)
	}
	var s catalog.Seed
	for _, c := range f.Categories {
		s.Categories = append(s.Categories, catalog.Category{ID: c.ID, Name: c.Name})
	}
	for _, p := range f.Products {
		s.Products = append(s.Products, catalog.Draft{
			SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
			Price: catalog.Money{Amount: p.Price.Amount, Currency: p.Price.Currency}, ImageURL: p.ImageURL,
		})
	}
	return s, nil
}

type loader struct {
	svc     *catalog.Service
	sidecar *daprx.Sidecar
	log     *slog.Logger
	enabled bool
	seeded  atomic.Bool
	cancel  context.CancelFunc
	stopped chan struct{}
}

// newLoader reads CATALOG_SEED (default true): a production catalogue
// managed by admins turns the demo seed off.
func newLoader(svc *catalog.Service, sc *daprx.Sidecar, log *slog.Logger) (*loader, error) {
	env := config.NewLoader(os.LookupEnv)
	l := &loader{svc: svc, sidecar: sc, log: log, enabled: env.Bool("CATALOG_SEED", true)}
	return l, env.Err()
}

func (l *loader) done(context.Context) error {
	if l.enabled && !l.seeded.Load() {
		return errors.New("seeding the catalogue")
	}
	return nil
}

func (l *loader) start() error {
	if !l.enabled {
		return nil
	}
	s, err := Parse()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.stopped = cancel, make(chan struct{})
	go func() {
		defer close(l.stopped)
		l.run(ctx, s)
	}()
	return nil
}

// run retries until the seed is in: the store may come up after us.
func (l *loader) run(ctx context.Context, s catalog.Seed) {
	for attempt := 1; ; attempt++ {
		err := l.sidecar.WaitOutbound(ctx)
		if err == nil {
			var added int
			added, err = l.svc.LoadSeed(ctx, s)
			if err == nil {
				l.seeded.Store(true)
				l.log.Info("catalogue seeded", "added", added, "in_seed", len(s.Products))
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("seeding failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt)*time.Second, 10*time.Second)):
		}
	}
}

func (l *loader) stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.stopped
	}
}
