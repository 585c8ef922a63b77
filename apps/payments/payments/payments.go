// Package payments is the payments domain: one payment per order, charged at
// most once through a Provider and refunded when its order is cancelled
// after the charge. It knows neither Gin nor Dapr: it works through Store and
// Provider, which packages store and sandbox supply.
package payments

import (
	"context"
	"errors"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Status is where a payment stands. The life of a payment:
//
//	pending -> charging -> captured -> refunding -> refunded
//	                    -> failed
//	pending -> cancelled                  (its order was cancelled first)
//
// charging and refunding hold a lease: while it runs, one worker calls the
// provider and the others wait; after it runs out (the worker died), the next
// delivery takes over and repeats the call, which the provider answers from
// its idempotency record instead of moving money again.
type Status string

// Statuses.
const (
	StatusPending   Status = "pending"
	StatusCharging  Status = "charging"
	StatusCaptured  Status = "captured"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
	StatusRefunding Status = "refunding"
	StatusRefunded  Status = "refunded"
)

// Payment is the payment of one order, keyed by the order id. Token is the
// provider's payment token from checkout, kept until the charge is settled;
// no card data is ever held.
type Payment struct {
	ID         string
	OrderID    string
	UserID     string
	Amount     contracts.Money
	Token      string
	Status     Status
	Reason     string // why it failed (contracts.PaymentDeclined, …)
	ChargeID   string
	RefundID   string
	LeaseUntil time.Time // zero unless a provider call holds the payment
	// StockReserved: inventory.reserved was seen. The charge happens when
	// both it and the intent (order.placed) are recorded, in whichever
	// order they arrive: waiting for one inside the other's delivery would
	// hold a pub/sub worker, and enough of those starve the very delivery
	// they wait for.
	StockReserved bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Intent is what order.placed tells payments: who pays how much with what.
type Intent struct {
	OrderID string
	UserID  string
	Amount  contracts.Money
	Token   string
}

// View is a payment as admins see it, with the provider's count of charges.
type View struct {
	Payment
	Charges  int
	Refunded bool
}

// Event is a payment.* event to publish with a status change.
type Event struct {
	Type string
	Data contracts.PaymentEvent
}

// Errors the domain reports.
var (
	ErrNotFound = errors.New("payment not found")
	// ErrConflict is a store-level ETag or first-write clash.
	ErrConflict = errors.New("concurrent modification")
	// ErrInvalid: an event that can never be handled (to the dead letter).
	ErrInvalid = errors.New("invalid payment request")
	// ErrInProgress: another worker holds the payment for a provider call;
	// retry later.
	ErrInProgress = errors.New("a provider call for the payment is in progress")
)

// Store persists payments keyed by order id, with ETags.
type Store interface {
	Payment(ctx context.Context, orderID string) (p Payment, etag string, err error) // ErrNotFound
	Create(ctx context.Context, p Payment) error                                     // ErrConflict when taken
	Save(ctx context.Context, p Payment, etag string) error                          // ErrConflict
	// SaveAndPublish writes p and publishes ev in one state transaction
	// (stored if and only if published). ErrConflict.
	SaveAndPublish(ctx context.Context, p Payment, etag string, ev Event) error
}

// ChargeRequest asks the provider to charge Amount to Token. A repeated
// request with the same IdempotencyKey returns the first one's result.
type ChargeRequest struct {
	IdempotencyKey string
	OrderID        string
	Token          string
	Amount         contracts.Money
}

// ChargeResult is the provider's answer. A declined charge is a result, not
// an error: DeclineReason says why (contracts.PaymentDeclined, …).
type ChargeResult struct {
	ChargeID      string
	Approved      bool
	DeclineReason string
}

// RefundRequest asks the provider to refund Amount of a charge; idempotent
// on IdempotencyKey like ChargeRequest.
type RefundRequest struct {
	IdempotencyKey string
	OrderID        string
	ChargeID       string
	Amount         contracts.Money
}

// RefundResult is the provider's answer to a refund.
type RefundResult struct {
	RefundID string
}

// Provider is a payment service provider. Errors are failures to get an
// answer (retry), never declines.
type Provider interface {
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// Charges counts the charges the provider made (approved) for an order.
	Charges(ctx context.Context, orderID string) (int, error)
}
