// Package backend wires search together: it picks the index adapter from
// the configuration, lists the catalog through the sidecar, runs the
// search.Service for the app's lifetime and reports it ready once an index
// serves.
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/search/bleveindex"
	"github.com/shopmesh/shopmesh/apps/search/catalogclient"
	"github.com/shopmesh/shopmesh/apps/search/opensearch"
	"github.com/shopmesh/shopmesh/apps/search/search"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/health"
)

// Backends.
const (
	Bleve      = "bleve"
	OpenSearch = "opensearch"
)

// DefaultDataDir is .local/data/search of the checkout when the app runs
// from apps/search, as `dapr run -f dapr/dapr.yaml` and the local runner
// start it. Images set SEARCH_DATA_DIR.
const DefaultDataDir = "../../.local/data/search"

// Config chooses and locates the index.
type Config struct {
	Backend string
	DataDir string // bleve
	// CatalogTimeout bounds one catalog page's call during a rebuild.
	CatalogTimeout time.Duration
	OpenSearch     opensearch.Config
}

// LoadConfig reads SEARCH_BACKEND (bleve, the default, or opensearch),
// SEARCH_DATA_DIR, SEARCH_CATALOG_TIMEOUT (default 30s) and, for
// OpenSearch, the OPENSEARCH_* variables (opensearch.LoadConfig).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Backend:        l.String("SEARCH_BACKEND", Bleve),
		DataDir:        l.String("SEARCH_DATA_DIR", DefaultDataDir),
		CatalogTimeout: l.Duration("SEARCH_CATALOG_TIMEOUT", 30*time.Second),
	}
	if err := l.Err(); err != nil {
		return cfg, err
	}
	switch cfg.Backend {
	case Bleve:
	case OpenSearch:
		osCfg, err := opensearch.LoadConfig(lookup)
		if err != nil {
			return cfg, err
		}
		cfg.OpenSearch = osCfg
	default:
		return cfg, fmt.Errorf("config SEARCH_BACKEND: %q is not %s or %s", cfg.Backend, Bleve, OpenSearch)
	}
	if cfg.CatalogTimeout <= 0 {
		return cfg, fmt.Errorf("config SEARCH_CATALOG_TIMEOUT: must be positive")
	}
	return cfg, nil
}

// Module provides the index, the catalog client and the search.Service,
// starts and stops the service with the app, and adds its readiness check.
var Module = fx.Options(
	fx.Provide(
		func() (Config, error) { return LoadConfig(os.LookupEnv) },
		NewIndex,
		func(cfg Config, inv *daprx.Invoker) search.Catalog { return catalogclient.New(inv, cfg.CatalogTimeout) },
		NewService,
		fx.Annotate(func(s *search.Service) health.Check {
			return health.Check{Name: "search-index", Check: s.Ready}
		}, fx.ResultTags(`group:"readiness"`)),
	),
	fx.Invoke(func(lc fx.Lifecycle, s *search.Service, idx search.Index) {
		lc.Append(fx.Hook{
			OnStart: s.Start,
			OnStop: func(ctx context.Context) error {
				_ = s.Stop(ctx)
				return idx.Close()
			},
		})
	}),
)

// NewIndex returns the configured adapter.
func NewIndex(cfg Config, log *slog.Logger) (search.Index, error) {
	if cfg.Backend == OpenSearch {
		log.Info("search index on opensearch", "alias", cfg.OpenSearch.Alias, "nodes", len(cfg.OpenSearch.URLs))
		return opensearch.New(context.Background(), cfg.OpenSearch, log)
	}
	log.Info("search index on local disk", "dir", cfg.DataDir)
	return bleveindex.New(cfg.DataDir, log), nil
}

// NewService runs search over idx. A rebuild waits for the sidecar, which
// relays the calls to the catalog, and until the sidecar has subscribed to
// the catalog's and inventory's topics: a product created before that is
// in the catalog the rebuild reads, one created after arrives as an event.
// Read earlier, a product created in between was lost on brokers that keep
// nothing for a subscription that does not exist yet (SNS → SQS: the first
// start found 1 of 64 seeded products and missed events of others).
func NewService(idx search.Index, cat search.Catalog, sc *daprx.Sidecar, subscribed *daprx.Subscribed, log *slog.Logger) *search.Service {
	return search.NewService(search.Deps{Index: idx, Catalog: cat, Log: log, Await: func(ctx context.Context) error {
		if err := sc.WaitOutbound(ctx); err != nil {
			return err
		}
		return subscribed.Wait(ctx, sc, subscribeSettle)
	}})
}

// subscribeSettle is how long after fetching the subscriptions a sidecar
// is given to subscribe to the broker (creating a queue and its topic
// subscription takes a few hundred milliseconds on the emulators).
const subscribeSettle = 2 * time.Second
