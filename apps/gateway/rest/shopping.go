package rest

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/shopmesh/shopmesh/apps/gateway/catalogclient"
	"github.com/shopmesh/shopmesh/apps/gateway/notificationsclient"
	"github.com/shopmesh/shopmesh/apps/gateway/ordersclient"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Orders is what the shopping handlers ask the orders app: the caller's
// cart, checkout and orders.
type Orders interface {
	Cart(ctx context.Context) (servicecall.Answer, error)
	AddToCart(ctx context.Context, body []byte) (servicecall.Answer, error)
	RemoveFromCart(ctx context.Context, productID string) (servicecall.Answer, error)
	Checkout(ctx context.Context, body []byte, idempotencyKey string) (servicecall.Answer, error)
	Orders(ctx context.Context) (servicecall.Answer, error)
	Order(ctx context.Context, id string) (servicecall.Answer, error)
	CancelOrder(ctx context.Context, id string) (servicecall.Answer, error)
}

// Notifications is what the shopping handlers ask the notifications app:
// the caller's notification log.
type Notifications interface {
	Notifications(ctx context.Context) (servicecall.Answer, error)
}

type shopping struct {
	orders        Orders
	notifications Notifications
	ordersApp     upstream
	notesApp      upstream
}

// MountShopping registers a shopper's routes on api, the group at Prefix:
// cart, checkout, orders and notifications. Who may call them is package
// authz's business, mounted on the group. Every answer is the caller's
// own data: only the client may keep it.
func MountShopping(api gin.IRouter, orders Orders, notifications Notifications, log *slog.Logger) {
	s := shopping{
		orders:        orders,
		notifications: notifications,
		ordersApp:     upstream{unavailable: ordersclient.ErrUnavailable, log: log},
		notesApp:      upstream{unavailable: notificationsclient.ErrUnavailable, log: log},
	}
	api.GET("/cart", s.cart)
	api.POST("/cart/items", s.addItem)
	api.DELETE("/cart/items/:product_id", s.removeItem)
	api.POST("/checkout", s.checkout)
	api.GET("/orders", s.list)
	api.GET("/orders/:id", s.order)
	api.POST("/orders/:id/cancel", s.cancel)
	api.GET("/notifications", s.notes)
}

func (s shopping) cart(c *gin.Context) {
	a, err := s.orders.Cart(c.Request.Context())
	s.reply(c, a, err)
}

func (s shopping) addItem(c *gin.Context) {
	body, ok := readJSONBody(c)
	if !ok {
		return
	}
	a, err := s.orders.AddToCart(c.Request.Context(), body)
	s.reply(c, a, err)
}

func (s shopping) removeItem(c *gin.Context) {
	id, ok := idParam(c, "product_id", "product")
	if !ok {
		return
	}
	a, err := s.orders.RemoveFromCart(c.Request.Context(), id)
	s.reply(c, a, err)
}

// checkout forwards the Idempotency-Key, the one client header that
// reaches a service, and points Location at the order it placed so the
// client knows where to watch it settle.
func (s shopping) checkout(c *gin.Context) {
	keys := c.Request.Header.Values(ordersclient.IdempotencyKeyHeader)
	if len(keys) > 1 {
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: ordersclient.IdempotencyKeyHeader, Detail: "must be sent once"}))
		return
	}
	var key string
	if len(keys) == 1 {
		key = keys[0]
	}
	if fe := ordersclient.IdempotencyKeyProblem(key); fe != nil {
		httpserver.Abort(c, problem.Validation(*fe))
		return
	}
	body, ok := readJSONBody(c)
	if !ok {
		return
	}
	a, err := s.orders.Checkout(c.Request.Context(), body, key)
	if err == nil && a.Status >= 200 && a.Status < 300 {
		var placed ordersclient.CheckoutResult
		if json.Unmarshal(a.Body, &placed) == nil {
			if id, ok := catalogclient.CanonicalID(placed.OrderID); ok {
				c.Header("Location", Prefix+"/orders/"+id)
			}
		}
	}
	s.reply(c, a, err)
}

func (s shopping) list(c *gin.Context) {
	a, err := s.orders.Orders(c.Request.Context())
	s.reply(c, a, err)
}

func (s shopping) order(c *gin.Context) {
	id, ok := idParam(c, "id", "order")
	if !ok {
		return
	}
	a, err := s.orders.Order(c.Request.Context(), id)
	s.reply(c, a, err)
}

func (s shopping) cancel(c *gin.Context) {
	id, ok := idParam(c, "id", "order")
	if !ok {
		return
	}
	a, err := s.orders.CancelOrder(c.Request.Context(), id)
	s.reply(c, a, err)
}

func (s shopping) notes(c *gin.Context) {
	a, err := s.notifications.Notifications(c.Request.Context())
	c.Header("Cache-Control", private)
	s.notesApp.reply(c, a, err)
}

func (s shopping) reply(c *gin.Context, a servicecall.Answer, err error) {
	c.Header("Cache-Control", private)
	s.ordersApp.reply(c, a, err)
}
