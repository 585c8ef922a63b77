package contracts

import "time"

// CloudEvent types on TopicOrders. Every event's partition key is the order id.
const (
	OrderPlaced    = "order.placed"
	OrderConfirmed = "order.confirmed"
	OrderCancelled = "order.cancelled"
)

// Order statuses, as the public API shows them.
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
)

// Reasons a cancelled order gives (the API's timeline `reason`).
const (
	ReasonOutOfStock          = "out_of_stock"
	ReasonPaymentDeclined     = "payment_declined"
	ReasonCancelledByCustomer = "cancelled_by_customer"
	// ReasonReservationExpired: the order did not finish before its stock
	// reservation ran out (inventory's sweep released it).
	ReasonReservationExpired = "reservation_expired"
)

// OrderLine is one product of an order at the price checkout read from catalog.
type OrderLine struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
}

// OrderEvent is the data of every order.* event. It carries what consumers
// need without calling back: inventory the lines, payments the total and the
// payment token (a sandbox/provider token, never a card number), notifications
// the address to write to. PaymentToken is set on order.placed only; Reason on
// order.cancelled only.
type OrderEvent struct {
	OrderID      string      `json:"order_id"`
	UserID       string      `json:"user_id"`
	Email        string      `json:"email"`
	Name         string      `json:"name,omitempty"`
	Lines        []OrderLine `json:"lines"`
	Total        Money       `json:"total"`
	PaymentToken string      `json:"payment_token,omitempty"`
	Status       string      `json:"status"`
	Reason       string      `json:"reason,omitempty"`
	At           time.Time   `json:"at"`
}
