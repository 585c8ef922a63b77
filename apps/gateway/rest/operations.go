package rest

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/inventoryclient"
	"github.com/shopmesh/shopmesh/apps/gateway/paymentsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
)

// Inventory is what the operations handlers ask the inventory app.
type Inventory interface {
	Stock(ctx context.Context, productID string) (servicecall.Answer, error)
	SetStock(ctx context.Context, productID string, body []byte) (servicecall.Answer, error)
}

// Payments is what the operations handlers ask the payments app.
type Payments interface {
	Payment(ctx context.Context, orderID string) (servicecall.Answer, error)
}

type operations struct {
	inventory    Inventory
	payments     Payments
	inventoryApp upstream
	paymentsApp  upstream
}

// MountOperations registers the operators' routes on api, the group at
// Prefix: stock per product and the payment of an order. Who may call them
// (administrators) is package authz's business, mounted on the group.
func MountOperations(api gin.IRouter, inventory Inventory, payments Payments, log *slog.Logger) {
	o := operations{
		inventory:    inventory,
		payments:     payments,
		inventoryApp: upstream{unavailable: inventoryclient.ErrUnavailable, log: log},
		paymentsApp:  upstream{unavailable: paymentsclient.ErrUnavailable, log: log},
	}
	api.GET("/inventory/:product_id", o.stock)
	api.PUT("/inventory/:product_id", o.setStock)
	api.GET("/payments/:order_id", o.payment)
}

func (o operations) stock(c *gin.Context) {
	id, ok := idParam(c, "product_id", "product")
	if !ok {
		return
	}
	a, err := o.inventory.Stock(c.Request.Context(), id)
	c.Header("Cache-Control", private)
	o.inventoryApp.reply(c, a, err)
}

func (o operations) setStock(c *gin.Context) {
	id, ok := idParam(c, "product_id", "product")
	if !ok {
		return
	}
	body, ok := readJSONBody(c)
	if !ok {
		return
	}
	a, err := o.inventory.SetStock(c.Request.Context(), id, body)
	c.Header("Cache-Control", private)
	o.inventoryApp.reply(c, a, err)
}

func (o operations) payment(c *gin.Context) {
	id, ok := idParam(c, "order_id", "order")
	if !ok {
		return
	}
	a, err := o.payments.Payment(c.Request.Context(), id)
	c.Header("Cache-Control", private)
	o.paymentsApp.reply(c, a, err)
}
