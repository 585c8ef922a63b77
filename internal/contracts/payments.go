package contracts

import "time"

// CloudEvent types on TopicPayments, keyed by order id.
const (
	PaymentSucceeded = "payment.succeeded"
	PaymentFailed    = "payment.failed"
	PaymentRefunded  = "payment.refunded"
)

// Why a payment failed (PaymentEvent.Reason). Orders maps every one of them to
// ReasonPaymentDeclined.
const (
	PaymentDeclined          = "card_declined"
	PaymentInsufficientFunds = "insufficient_funds"
	PaymentInvalidToken      = "invalid_token"
)

// PaymentEvent is the data of payment.* events. It never holds card data.
type PaymentEvent struct {
	PaymentID string    `json:"payment_id"`
	OrderID   string    `json:"order_id"`
	UserID    string    `json:"user_id"`
	Amount    Money     `json:"amount"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}
