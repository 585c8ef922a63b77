// Package inventory is the inventory domain: stock per product and the
// reservations that hold stock for orders while they are paid for. It knows
// neither Gin nor Dapr; it works through Store (JSON values with ETags,
// written one key at a time), Publisher and Catalog.
//
// Every write is a single-key write guarded by an ETag, never a state
// transaction (see the store package: DynamoDB's are not guarded enough). The
// all-or-nothing reservation of an order's lines therefore works like this:
//
//   - The reservation record (one key per order) is the order's state
//     machine. Its status changes first, by an ETag write, before any stock
//     is touched for that change, so concurrent handlers of one order
//     (redeliveries, a cancel racing the placement, sweeps in several
//     replicas) agree on one outcome.
//   - Each stock record (one key per product) remembers which orders hold
//     units of it (Holds) and which orders' holds have ended (Closed). Taking,
//     releasing and committing are thereby idempotent per order: a retried or
//     duplicated step changes nothing twice, and a handler that read the
//     reservation before the order was closed cannot take units afterwards.
//
// Closed entries are kept for closedRetention, which is far longer than any
// handler may take units after reading the reservation (placeFence).
package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Errors the domain reports.
var (
	// ErrNotFound: no stock record (or reservation) for the id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an ETag did not match or a first-write found the key
	// taken; the domain retries, and reports it only when retries run out.
	ErrConflict = errors.New("concurrent modification")
	// ErrUnknownProduct: the catalog has no such product.
	ErrUnknownProduct = errors.New("unknown product")
	// ErrInvalid: an event the domain can never apply (no order id, no
	// lines, a bad quantity, a confirmation of an order never placed).
	ErrInvalid = errors.New("invalid event")
)

// Item is one value read in bulk; Value is nil when the key holds nothing.
type Item struct {
	Key   string
	ETag  string
	Value []byte
}

// Store keeps JSON values under string keys with ETags. Implementations
// translate their errors to ErrNotFound and ErrConflict.
type Store interface {
	// Get reads key into v and returns its ETag, or ErrNotFound.
	Get(ctx context.Context, key string, v any) (etag string, err error)
	// GetBulk reads keys in one call; items come back in the order of keys.
	GetBulk(ctx context.Context, keys []string) ([]Item, error)
	// Create writes v only if key holds nothing, else ErrConflict.
	Create(ctx context.Context, key string, v any) error
	// Save writes v if key is unchanged since etag was read, else ErrConflict.
	Save(ctx context.Context, key string, v any, etag string) error
	// Delete removes key if it is unchanged since etag was read, else ErrConflict.
	Delete(ctx context.Context, key, etag string) error
}

// Publisher publishes an event with CloudEvent type eventType on topic;
// key orders the events of one aggregate (order id or product id).
type Publisher interface {
	Publish(ctx context.Context, topic, eventType, key string, data any) error
}

// Catalog answers whether a product exists.
type Catalog interface {
	ProductExists(ctx context.Context, productID string) (bool, error)
}

// Clock tells the time; tests move it.
type Clock func() time.Time

// Config is the inventory's configuration.
type Config struct {
	// InitialStock is the number of units a new product starts with.
	InitialStock int64
	// ReservationTTL is how long a reservation may wait for its order to be
	// confirmed or cancelled before the sweep releases it.
	ReservationTTL time.Duration
}

// maxInitialStock keeps counts far from overflow.
const maxInitialStock = 1_000_000_000

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		InitialStock:   int64(l.Int("INVENTORY_INITIAL_STOCK", 0)),
		ReservationTTL: l.Duration("INVENTORY_RESERVATION_TTL", 15*time.Minute),
	}
	errs := []error{l.Err()}
	if cfg.InitialStock < 0 || cfg.InitialStock > maxInitialStock {
		errs = append(errs, fmt.Errorf("config INVENTORY_INITIAL_STOCK: must be from 0 to %d", maxInitialStock))
	}
	if cfg.ReservationTTL < time.Second {
		errs = append(errs, errors.New("config INVENTORY_RESERVATION_TTL: must be at least 1s"))
	}
	return cfg, errors.Join(errs...)
}

// Line is a product and how many units of it an order wants.
type Line struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// Order is what the domain needs of an order event.
type Order struct {
	ID    string
	Lines []Line
}

// maxQuantity bounds one line, far above what a cart allows.
const maxQuantity = 1_000_000

// lines validates o's lines and merges repeated products (a product is
// held once per order), keeping the order of first appearance.
func (o Order) lines() ([]Line, error) {
	if o.ID == "" {
		return nil, fmt.Errorf("%w: no order id", ErrInvalid)
	}
	if len(o.Lines) == 0 {
		return nil, fmt.Errorf("%w: order %s has no lines", ErrInvalid, o.ID)
	}
	var out []Line
	at := map[string]int{}
	for _, l := range o.Lines {
		if l.ProductID == "" || l.Quantity < 1 || l.Quantity > maxQuantity {
			return nil, fmt.Errorf("%w: order %s has a bad line (product %q, quantity %d)", ErrInvalid, o.ID, l.ProductID, l.Quantity)
		}
		if i, ok := at[l.ProductID]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.ProductID] = len(out)
		out = append(out, l)
	}
	return out, nil
}
