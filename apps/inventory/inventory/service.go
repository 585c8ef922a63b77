package inventory

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"go.uber.org/fx"
)

// Service implements the inventory's use cases.
type Service struct {
	store    Store
	pub      Publisher
	catalog  Catalog
	cfg      Config
	now      Clock
	log      *slog.Logger
	sweeping sync.Mutex
}

// NewService returns the inventory over its ports.
func NewService(store Store, pub Publisher, catalog Catalog, cfg Config, now Clock, log *slog.Logger) *Service {
	return &Service{store: store, pub: pub, catalog: catalog, cfg: cfg, now: now, log: log}
}

// SystemClock is the wall clock in UTC.
func SystemClock() Clock { return func() time.Time { return time.Now().UTC() } }

// Module provides the Service, its configuration from the environment and
// the system clock.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	SystemClock,
	NewService,
)
