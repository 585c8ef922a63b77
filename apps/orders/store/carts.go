package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// Config is the stores' configuration.
type Config struct {
	// CartTTL is how long a cart lives after its last change (CART_TTL,
	// default 7 days).
	CartTTL time.Duration
}

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{CartTTL: l.Duration("CART_TTL", 7*24*time.Hour)}
	if err := l.Err(); err != nil {
		return cfg, err
	}
	if cfg.CartTTL < time.Second {
		return cfg, errors.New("config CART_TTL: must be at least 1s")
	}
	return cfg, nil
}

func loadConfig() (Config, error) { return LoadConfig(os.LookupEnv) }

func cartKey(userID string) string { return "cart|" + userID }

// Carts implements orders.CartStore. Every write carries the TTL as the
// request metadata ttlInSeconds, so a cart expires CartTTL after its last
// change.
type Carts struct {
	state *daprx.State
	ttl   map[string]string
}

// NewCarts returns the store on contracts.CartStore.
func NewCarts(c dapr.Client, cfg Config) *Carts {
	return &Carts{
		state: daprx.NewState(c, contracts.CartStore),
		ttl:   map[string]string{"ttlInSeconds": strconv.FormatInt(int64(cfg.CartTTL/time.Second), 10)},
	}
}

type cartLineRecord struct {
	ProductID string          `json:"product_id"`
	Quantity  int64           `json:"quantity"`
	UnitPrice contracts.Money `json:"unit_price"`
}

type cartRecord struct {
	ID        string           `json:"id"`
	Lines     []cartLineRecord `json:"lines"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// Cart implements orders.CartStore.
func (s *Carts) Cart(ctx context.Context, userID string) (orders.Cart, string, error) {
	var r cartRecord
	etag, err := s.state.Get(ctx, cartKey(userID), &r)
	if err != nil {
		return orders.Cart{}, "", domainErr(err)
	}
	c := orders.Cart{ID: r.ID, UpdatedAt: r.UpdatedAt, Lines: make([]orders.CartLine, len(r.Lines))}
	for i, l := range r.Lines {
		c.Lines[i] = orders.CartLine(l)
	}
	return c, etag, nil
}

// SaveCart implements orders.CartStore.
func (s *Carts) SaveCart(ctx context.Context, userID string, c orders.Cart, etag string) error {
	r := cartRecord{ID: c.ID, UpdatedAt: c.UpdatedAt, Lines: make([]cartLineRecord, len(c.Lines))}
	for i, l := range c.Lines {
		r.Lines[i] = cartLineRecord(l)
	}
	if err := s.state.Write(ctx, cartKey(userID), r, etag, s.ttl); err != nil {
		return fmt.Errorf("saving cart: %w", domainErr(err))
	}
	return nil
}
