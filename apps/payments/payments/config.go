package payments

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Config tunes the payment flow.
type Config struct {
	// ProviderTimeout bounds one provider call.
	ProviderTimeout time.Duration
	// Lease is how long a worker holds a payment for a provider call before
	// another may take over. It must outlast ProviderTimeout, or a slow but
	// live call would be repeated (harmless, the provider is idempotent, but
	// pointless).
	Lease time.Duration
}

// DefaultConfig is the local configuration. The lease is below the local
// pub/sub's redelivery time (15 s), so a delivery redelivered after a crash
// finds the dead worker's lease expired.
var DefaultConfig = Config{ProviderTimeout: 5 * time.Second, Lease: 10 * time.Second}

// LoadConfig reads PAYMENTS_PROVIDER_TIMEOUT and PAYMENTS_LEASE.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		ProviderTimeout: l.Duration("PAYMENTS_PROVIDER_TIMEOUT", DefaultConfig.ProviderTimeout),
		Lease:           l.Duration("PAYMENTS_LEASE", DefaultConfig.Lease),
	}
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	if cfg.ProviderTimeout <= 0 {
		return Config{}, fmt.Errorf("config PAYMENTS_PROVIDER_TIMEOUT: %s is not positive", cfg.ProviderTimeout)
	}
	if cfg.Lease <= cfg.ProviderTimeout {
		return Config{}, fmt.Errorf("config PAYMENTS_LEASE: %s must be longer than PAYMENTS_PROVIDER_TIMEOUT (%s)", cfg.Lease, cfg.ProviderTimeout)
	}
	return cfg, nil
}

// Module provides the configuration from the environment and the Service.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	NewService,
)
