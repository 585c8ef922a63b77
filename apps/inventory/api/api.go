// Package api serves the inventory over HTTP to its sidecar: the admin's
// stock routes (the gateway reaches them through Dapr service invocation)
// and the reservation sweep, which the cron input binding triggers.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Handler holds the inventory's HTTP handlers.
type Handler struct {
	svc *inventory.Service
	log *slog.Logger
}

// Register mounts the handlers on the sidecar-only router: identity headers
// are trusted only on calls the sidecar relays (auth.Require), and the
// sweep only from the sidecar's cron binding.
func Register(r httpserver.Router, svc *inventory.Service, log *slog.Logger) {
	h := Handler{svc: svc, log: log}
	admin := r.Sidecar.Group("/inventory", auth.Require(auth.RoleAdmin))
	admin.GET("/:product_id", h.get)
	admin.PUT("/:product_id", h.put)
	r.Sidecar.POST("/"+contracts.ReservationSweep, h.sweep)
}

// Stock is the wire form of a product's stock.
type Stock struct {
	ProductID string `json:"product_id"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
}

func toStock(s inventory.Stock) Stock {
	return Stock{ProductID: s.ProductID, Available: s.Available, Reserved: s.Reserved}
}

// StockInput is the body of PUT /inventory/:product_id.
type StockInput struct {
	Available *int64 `json:"available" validate:"required,gte=0,lte=1000000000"`
}

func (h Handler) get(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	st, err := h.svc.Stock(c, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStock(st))
}

func (h Handler) put(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	var in StockInput
	if !httpserver.BindJSON(c, &in) {
		return
	}
	st, err := h.svc.SetAvailable(c, id, *in.Available)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toStock(st))
}

// sweep answers the cron binding. A failure is logged and answered 500;
// the next tick sweeps again from where this one stopped. The answer has
// no body: Dapr would read one as instructions (state to save, bindings to
// call).
func (h Handler) sweep(c *gin.Context) {
	n, err := h.svc.Sweep(c)
	if err != nil {
		h.log.ErrorContext(c, "reservation sweep failed", "expired", n, "err", err)
		httpserver.Abort(c, problem.Internal())
		return
	}
	if n > 0 {
		h.log.InfoContext(c, "reservation sweep", "expired", n)
	}
	c.Status(http.StatusOK)
}

// productID answers 404 for ids that cannot name a product, without a
// store lookup.
func productID(c *gin.Context) (string, bool) {
	id, err := uuid.Parse(c.Param("product_id"))
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no product with id "+strconv.Quote(c.Param("product_id"))))
		return "", false
	}
	return id.String(), true
}

// fail maps domain errors to problems; anything else is a 503: the store
// or the catalog is unreachable.
func fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		httpserver.Abort(c, problem.NotFound("no stock record for this product"))
	case errors.Is(err, inventory.ErrUnknownProduct):
		httpserver.Abort(c, problem.NotFound("no such product"))
	case errors.Is(err, inventory.ErrConflict):
		httpserver.Abort(c, problem.Conflict("the stock was changed concurrently; retry"))
	default:
		_ = c.Error(err)
		httpserver.Abort(c, problem.Unavailable("the inventory could not complete the request; retry later"))
	}
}

// Module mounts the handlers.
var Module = fx.Invoke(Register)
