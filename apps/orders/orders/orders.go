// Package orders is the orders domain: carts, checkout with idempotency
// keys, orders and their timeline, and the saga transitions that confirm or
// cancel an order. It knows neither Gin nor Dapr; it works through CartStore,
// Store and Catalog, which the store and products packages implement.
package orders

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Limits of a cart.
const (
	// MaxQuantity bounds one line of a cart, and so of an order.
	MaxQuantity = 100
	// MaxLines bounds the different products in a cart: checkout asks the
	// catalog for each of them.
	MaxLines = 50
)

// Errors the domain reports; handlers map them to HTTP answers.
var (
	// ErrNotFound: no such order, or not the caller's; stores also report
	// a missing key with it.
	ErrNotFound = errors.New("not found")
	// ErrUnknownProduct: the catalog does not know the product.
	ErrUnknownProduct = errors.New("unknown product")
	// ErrQuantity: a quantity outside 1..MaxQuantity, or a line that would
	// grow beyond MaxQuantity.
	ErrQuantity = errors.New("quantity out of range")
	// ErrCartFull: the cart already holds MaxLines products.
	ErrCartFull = errors.New("cart full")
	// ErrCurrency: a product is priced in another currency than the shop's.
	ErrCurrency = errors.New("product priced in another currency")
	// ErrEmptyCart: checkout of a cart without lines.
	ErrEmptyCart = errors.New("cart is empty")
	// ErrProductGone: a product in the cart is no longer sold (the catalog
	// deleted it after it was added). The error names the products.
	ErrProductGone = errors.New("product no longer available")
	// ErrKeyReused: an idempotency key sent again with another request body.
	ErrKeyReused = errors.New("idempotency key reused with another request")
	// ErrNotPending: the order was already confirmed or cancelled.
	ErrNotPending = errors.New("order is no longer pending")
	// ErrConflict is a store-level ETag or first-write clash.
	ErrConflict = errors.New("concurrent modification")
	// ErrBusy refuses a checkout while the saga runs late (Pace).
	ErrBusy = errors.New("orders are settling slower than they arrive")
)

// Customer is the caller the gateway verified.
type Customer struct {
	UserID string
	Email  string
}

// CartLine is one product in a cart, at the price the catalog had when it
// was last added.
type CartLine struct {
	ProductID string
	Quantity  int64
	UnitPrice contracts.Money
}

// Cart is a customer's cart. ID names its generation: a new one starts
// after the cart was emptied, so an order emptying "its" cart twice (a
// checkout retried after a crash) never touches a later cart.
type Cart struct {
	ID        string
	Lines     []CartLine
	UpdatedAt time.Time
}

// Address is a shipping address; Country is ISO 3166-1 alpha-2.
type Address struct {
	Name       string
	Line1      string
	Line2      string
	City       string
	PostalCode string
	Country    string
}

// Change is one entry of an order's timeline.
type Change struct {
	Status string
	At     time.Time
	Reason string
}

// Order is a placed order. Lines carry the prices checkout read from the
// catalog. Status is one of contracts.StatusPending, StatusConfirmed,
// StatusCancelled; a cancelled order has a Reason.
type Order struct {
	ID              string
	UserID          string
	Email           string
	Status          string
	Reason          string
	Lines           []contracts.OrderLine
	Total           contracts.Money
	ShippingAddress Address
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Timeline        []Change
}

// CheckoutRequest is what a customer sends to check out.
type CheckoutRequest struct {
	ShippingAddress Address
	PaymentToken    string
}

// Idempotency records which order a checkout's Idempotency-Key produced.
// RequestHash identifies the request body; CartID the cart generation the
// order was made from, which checkout empties.
type Idempotency struct {
	Key         string
	OrderID     string
	RequestHash string
	CartID      string
	CreatedAt   time.Time
}

// Event is an order.* event to publish with a write (stored if and only if published).
type Event struct {
	Type string
	Data contracts.OrderEvent
}

// Placement is everything checkout stores in one transaction: the order,
// its order.placed event, the idempotency record (first-write) and the
// user's order index (ETag-guarded; IndexETag "" creates it).
type Placement struct {
	Order       Order
	Event       Event
	Idempotency Idempotency
	Index       []string
	IndexETag   string
}

// Product is what checkout and the cart need of a catalog product.
type Product struct {
	ID    string
	SKU   string
	Name  string
	Price contracts.Money
}

// CartStore keeps one cart per user. SaveCart with an etag replaces only
// the cart read with it, without one it creates; both refuse with
// ErrConflict. A cart expires some time after its last save.
type CartStore interface {
	Cart(ctx context.Context, userID string) (c Cart, etag string, err error) // ErrNotFound
	SaveCart(ctx context.Context, userID string, c Cart, etag string) error
}

// Store keeps orders, the per-user order index and idempotency records.
// Place and Update publish their event atomically with the write.
type Store interface {
	Order(ctx context.Context, id string) (o Order, etag string, err error) // ErrNotFound
	Orders(ctx context.Context, ids []string) ([]Order, error)              // missing ids skipped
	OrderIndex(ctx context.Context, userID string) (ids []string, etag string, err error)
	Idempotency(ctx context.Context, userID, key string) (Idempotency, error) // ErrNotFound
	// Place fails with ErrConflict when the index changed since it was
	// read or the idempotency key is taken; nothing is then stored.
	Place(ctx context.Context, p Placement) error
	// Update replaces the order read with etag (else ErrConflict).
	Update(ctx context.Context, o Order, etag string, ev Event) error
}

// Catalog reads products from the catalog service.
type Catalog interface {
	Product(ctx context.Context, id string) (Product, error) // ErrUnknownProduct
}

// Clock tells the time (UTC); tests set it.
type Clock func() time.Time

// SystemClock is the real clock.
func SystemClock() Clock { return func() time.Time { return time.Now().UTC() } }

// Config is the domain's configuration.
type Config struct {
	// Currency is the shop's ISO 4217 currency (ORDERS_CURRENCY, default
	// USD): every price and total is in it.
	Currency string
	// Pace sheds checkouts while the saga runs late (see Pace):
	// ORDERS_SAGA_LATE (default 500ms, 0 turns it off), ORDERS_SAGA_WINDOW
	// (1s) and ORDERS_SAGA_MIN_SETTLED (10).
	Pace PaceConfig
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Currency: l.String("ORDERS_CURRENCY", "USD"),
		Pace: PaceConfig{
			Limit:      l.Duration("ORDERS_SAGA_LATE", 500*time.Millisecond),
			Window:     l.Duration("ORDERS_SAGA_WINDOW", time.Second),
			MinSettled: l.Int("ORDERS_SAGA_MIN_SETTLED", 10),
		},
	}
	if err := l.Err(); err != nil {
		return cfg, err
	}
	if cfg.Pace.Limit < 0 || cfg.Pace.Window <= 0 || cfg.Pace.MinSettled < 1 {
		return cfg, fmt.Errorf("config ORDERS_SAGA_*: late %s must not be negative, window %s positive, min settled %d at least 1",
			cfg.Pace.Limit, cfg.Pace.Window, cfg.Pace.MinSettled)
	}
	if !currencyPattern.MatchString(cfg.Currency) {
		return cfg, fmt.Errorf("config ORDERS_CURRENCY: %q is not an ISO 4217 code such as USD", cfg.Currency)
	}
	return cfg, nil
}

func loadConfig() (Config, error) { return LoadConfig(os.LookupEnv) }
