// Package api serves payments to admins over HTTP. The gateway reaches it
// through Dapr service invocation with the caller's identity; end-to-end
// tests read "one charge" or "no charge" for an order from here.
package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Handler holds the payments' HTTP handlers.
type Handler struct{ svc *payments.Service }

// Register mounts the handlers on the sidecar-only router: identity headers
// are trusted only on calls relayed from the gateway's sidecar.
func Register(r httpserver.Router, svc *payments.Service) {
	h := Handler{svc: svc}
	r.Sidecar.GET("/payments/:order_id", auth.Require(auth.RoleAdmin), h.get)
}

// Money is the wire form of an amount.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Payment is the wire form of an order's payment. Charges is the provider's
// count of approved charges for the order.
type Payment struct {
	OrderID   string    `json:"order_id"`
	Status    string    `json:"status"`
	Amount    Money     `json:"amount"`
	Charges   int       `json:"charges"`
	Refunded  bool      `json:"refunded"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toPayment(v payments.View) Payment {
	return Payment{
		OrderID: v.OrderID, Status: string(v.Status), Amount: Money{v.Amount.Amount, v.Amount.Currency},
		Charges: v.Charges, Refunded: v.Refunded, Reason: v.Reason, UpdatedAt: v.UpdatedAt,
	}
}

func (h Handler) get(c *gin.Context) {
	// Order ids are UUIDs: anything else cannot have a payment.
	id, err := uuid.Parse(c.Param("order_id"))
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no payment for order "+strconv.Quote(c.Param("order_id"))))
		return
	}
	v, err := h.svc.Get(c, id.String())
	switch {
	case errors.Is(err, payments.ErrNotFound):
		httpserver.Abort(c, problem.NotFound("no payment for order "+id.String()))
	case err != nil:
		_ = c.Error(err)
		httpserver.Abort(c, problem.Unavailable("payments could not answer; retry later"))
	default:
		c.JSON(http.StatusOK, toPayment(v))
	}
}

// Module mounts the handlers.
var Module = fx.Invoke(Register)
