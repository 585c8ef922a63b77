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
	out      Outcomes
	sweeping sync.Mutex
}

// Outcomes is told, once per order, how its reservation ended: reserved,
// or rejected with a reason. The platform's business metrics.
type Outcomes interface {
	Reservation(status Status, reason string)
}

// NewService returns the inventory over its ports.
func NewService(store Store, pub Publisher, catalog Catalog, cfg Config, now Clock, log *slog.Logger, out Outcomes) *Service {
	return &Service{store: store, pub: pub, catalog: catalog, cfg: cfg, now: now, log: log, out: out}
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
