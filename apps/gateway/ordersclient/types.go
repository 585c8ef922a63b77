package ordersclient

import (
	"strings"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Cart is the caller's cart as the orders app serves it.
type Cart struct {
	Items []CartItem      `json:"items"`
	Total contracts.Money `json:"total"`
}

// CartItem is one product in a cart at its current price.
type CartItem struct {
	ProductID string          `json:"product_id"`
	Quantity  int64           `json:"quantity"`
	UnitPrice contracts.Money `json:"unit_price"`
}

// AddItem is the body that puts a product into the cart.
type AddItem struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// Address is where an order is shipped; Country is ISO 3166-1 alpha-2.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// CheckoutRequest is a checkout: the body, and the key that travels as the
// Idempotency-Key header rather than in it.
type CheckoutRequest struct {
	ShippingAddress Address `json:"shipping_address"`
	PaymentToken    string  `json:"payment_token"`
	IdempotencyKey  string  `json:"-"`
}

// CheckoutResult is the answer to an accepted checkout: the order, pending
// until stock and payment have settled it.
type CheckoutResult struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
}

// Order is one of the caller's orders. Status is one of contracts'
// StatusPending, StatusConfirmed, StatusCancelled; a cancelled order has a
// Reason (contracts' Reason* values).
type Order struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Reason          string          `json:"reason,omitempty"`
	Items           []OrderItem     `json:"items"`
	Total           contracts.Money `json:"total"`
	ShippingAddress Address         `json:"shipping_address"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	Timeline        []TimelineEntry `json:"timeline"`
}

// OrderItem is one line of an order at the price checkout read.
type OrderItem struct {
	ProductID string          `json:"product_id"`
	SKU       string          `json:"sku"`
	Name      string          `json:"name"`
	Quantity  int64           `json:"quantity"`
	UnitPrice contracts.Money `json:"unit_price"`
}

// TimelineEntry is one status change of an order; Reason says why an
// order was cancelled (contracts' Reason* values).
type TimelineEntry struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// OrderList is the answer of GET /orders.
type OrderList struct {
	Items []Order `json:"items"`
}

// maxIdempotencyKeyBytes bounds a key: enough for any UUID, ULID or random
// token, and keeps clients from storing documents in the orders app's
// idempotency records.
const maxIdempotencyKeyBytes = 255

// IdempotencyKeyProblem says what is wrong with an Idempotency-Key value,
// or is nil when the key may be sent: 1 to 255 printable ASCII characters,
// not all blank. The orders app needs one on every checkout.
func IdempotencyKeyProblem(key string) *problem.FieldError {
	if strings.TrimSpace(key) == "" {
		return &problem.FieldError{Field: IdempotencyKeyHeader, Detail: "is required: a unique value per checkout, such as a UUID, repeated only to retry the same checkout"}
	}
	if len(key) > maxIdempotencyKeyBytes {
		return &problem.FieldError{Field: IdempotencyKeyHeader, Detail: "must be at most 255 characters"}
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return &problem.FieldError{Field: IdempotencyKeyHeader, Detail: "must be printable ASCII characters"}
		}
	}
	return nil
}
