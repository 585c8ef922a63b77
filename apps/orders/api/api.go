// Package api serves the orders service over HTTP to its sidecar: the
// gateway reaches it through Dapr service invocation and maps
// /api/v1/<path> onto <path> (API.md lists the routes). Every route acts for
// a customer the gateway verified. Errors are problem+json.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// IdempotencyKeyHeader names the checkout's idempotency key.
const IdempotencyKeyHeader = "Idempotency-Key"

// MaxIdempotencyKey bounds the key's length in characters.
const MaxIdempotencyKey = 255

// Problem types of this service, besides the platform's.
const (
	TypeCartEmpty = "https://shopmesh.dev/problems/cart-empty"
	TypeKeyReused = "https://shopmesh.dev/problems/idempotency-key-reused"
)

// Handler holds the orders service's HTTP handlers.
type Handler struct {
	svc      *orders.Service
	currency string
	log      *slog.Logger
}

// Register mounts the handlers on the sidecar-only router, for customers.
func Register(r httpserver.Router, svc *orders.Service, cfg orders.Config, log *slog.Logger) {
	h := Handler{svc: svc, currency: cfg.Currency, log: log}
	g := r.Sidecar.Group("/", auth.Require(auth.RoleCustomer))
	g.GET("/cart", h.cart)
	g.POST("/cart/items", h.addItem)
	g.DELETE("/cart/items/:product_id", h.removeItem)
	g.POST("/checkout", h.checkout)
	g.GET("/orders", h.orders)
	g.GET("/orders/:id", h.order)
	g.POST("/orders/:id/cancel", h.cancel)
}

// CartItem is one line of the cart.
type CartItem struct {
	ProductID string          `json:"product_id"`
	Quantity  int64           `json:"quantity"`
	UnitPrice contracts.Money `json:"unit_price"`
}

// Cart is the answer of the cart routes.
type Cart struct {
	Items []CartItem      `json:"items"`
	Total contracts.Money `json:"total"`
}

// Address is the wire form of a shipping address.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Change is one timeline entry.
type Change struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Order is the wire form of an order.
type Order struct {
	ID              string                `json:"id"`
	Status          string                `json:"status"`
	Reason          string                `json:"reason,omitempty"`
	Items           []contracts.OrderLine `json:"items"`
	Total           contracts.Money       `json:"total"`
	ShippingAddress Address               `json:"shipping_address"`
	CreatedAt       time.Time             `json:"created_at"`
	UpdatedAt       time.Time             `json:"updated_at"`
	Timeline        []Change              `json:"timeline"`
}

// Placed is the answer of a checkout.
type Placed struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
}

func (h Handler) toCart(c orders.Cart) Cart {
	out := Cart{Items: make([]CartItem, len(c.Lines)), Total: c.Total(h.currency)}
	for i, l := range c.Lines {
		out.Items[i] = CartItem(l)
	}
	return out
}

func toOrder(o orders.Order) Order {
	out := Order{
		ID: o.ID, Status: o.Status, Reason: o.Reason, Items: o.Lines, Total: o.Total,
		ShippingAddress: Address(o.ShippingAddress), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		Timeline: make([]Change, len(o.Timeline)),
	}
	if out.Items == nil {
		out.Items = []contracts.OrderLine{}
	}
	for i, c := range o.Timeline {
		out.Timeline[i] = Change(c)
	}
	return out
}

// Bodies are decoded strictly into the plain struct first, normalised
// (trimmed, country upper-cased), then validated in the tagged one.

type addItemJSON struct {
	ProductID string `json:"product_id"`
	Quantity  *int64 `json:"quantity"`
}

// AddItemInput is the body of POST /cart/items, normalised. The quantity's
// range is the domain's rule (orders.MaxQuantity), checked there.
type AddItemInput struct {
	ProductID string `json:"product_id" validate:"required,max=64"`
	Quantity  *int64 `json:"quantity" validate:"required"`
}

type addressJSON struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type checkoutJSON struct {
	ShippingAddress *addressJSON `json:"shipping_address"`
	PaymentToken    string       `json:"payment_token"`
}

// AddressInput is a shipping address, normalised.
type AddressInput struct {
	Name       string `json:"name" validate:"required,max=100"`
	Line1      string `json:"line1" validate:"required,max=200"`
	Line2      string `json:"line2" validate:"max=200"`
	City       string `json:"city" validate:"required,max=100"`
	PostalCode string `json:"postal_code" validate:"required,max=20"`
	Country    string `json:"country" validate:"required,iso3166_1_alpha2"`
}

// CheckoutInput is the body of POST /checkout, normalised.
type CheckoutInput struct {
	ShippingAddress *AddressInput `json:"shipping_address" validate:"required"`
	PaymentToken    string        `json:"payment_token" validate:"required,max=255"`
}

// bind decodes the body into raw, lets normalize build the tagged input
// from it, and validates that; false means the problem was written.
func bind[R, T any](c *gin.Context, normalize func(R) T) (T, bool) {
	var raw R
	var in T
	if !httpserver.BindJSON(c, &raw) {
		return in, false
	}
	in = normalize(raw)
	if p := httpserver.Validate(in); p != nil {
		httpserver.Abort(c, p)
		return in, false
	}
	return in, true
}

func normalizeCheckout(r checkoutJSON) CheckoutInput {
	in := CheckoutInput{PaymentToken: strings.TrimSpace(r.PaymentToken)}
	if a := r.ShippingAddress; a != nil {
		in.ShippingAddress = &AddressInput{
			Name: strings.TrimSpace(a.Name), Line1: strings.TrimSpace(a.Line1), Line2: strings.TrimSpace(a.Line2),
			City: strings.TrimSpace(a.City), PostalCode: strings.TrimSpace(a.PostalCode),
			Country: strings.ToUpper(strings.TrimSpace(a.Country)),
		}
	}
	return in
}

// userID is the caller auth.Require admitted.
func userID(c *gin.Context) string {
	id, _ := auth.FromContext(c.Request.Context())
	return id.UserID
}

func (h Handler) cart(c *gin.Context) {
	cart, err := h.svc.Cart(c, userID(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, h.toCart(cart))
}

func (h Handler) addItem(c *gin.Context) {
	in, ok := bind(c, func(r addItemJSON) AddItemInput {
		return AddItemInput{ProductID: strings.TrimSpace(r.ProductID), Quantity: r.Quantity}
	})
	if !ok {
		return
	}
	// Catalog ids are UUIDs: anything else is an unknown product.
	id, err := uuid.Parse(in.ProductID)
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no product with id "+strconv.Quote(in.ProductID)))
		return
	}
	cart, err := h.svc.AddItem(c, userID(c), id.String(), *in.Quantity)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, h.toCart(cart))
}

func (h Handler) removeItem(c *gin.Context) {
	id := c.Param("product_id")
	if u, err := uuid.Parse(id); err == nil {
		id = u.String()
	}
	cart, err := h.svc.RemoveItem(c, userID(c), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, h.toCart(cart))
}

func (h Handler) checkout(c *gin.Context) {
	key := c.GetHeader(IdempotencyKeyHeader)
	if strings.TrimSpace(key) == "" || utf8.RuneCountInString(key) > MaxIdempotencyKey {
		httpserver.Abort(c, problem.Validation(problem.FieldError{
			Field:  IdempotencyKeyHeader,
			Detail: "header is required: a unique value of 1 to " + strconv.Itoa(MaxIdempotencyKey) + " characters per checkout, repeated on retries",
		}))
		return
	}
	in, ok := bind(c, normalizeCheckout)
	if !ok {
		return
	}
	id, _ := auth.FromContext(c.Request.Context())
	o, err := h.svc.Checkout(c, orders.Customer{UserID: id.UserID, Email: id.Email}, orders.CheckoutRequest{
		ShippingAddress: orders.Address(*in.ShippingAddress), PaymentToken: in.PaymentToken,
	}, key)
	if err != nil {
		h.fail(c, err)
		return
	}
	// A replay answers what the first call answered.
	c.Header("Location", "/api/v1/orders/"+o.ID)
	c.JSON(http.StatusAccepted, Placed{OrderID: o.ID, Status: contracts.StatusPending})
}

func (h Handler) orders(c *gin.Context) {
	list, err := h.svc.Orders(c, userID(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	items := make([]Order, len(list))
	for i, o := range list {
		items[i] = toOrder(o)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// orderID answers 404 for ids that cannot exist, without a store lookup.
func orderID(c *gin.Context) (string, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no order with id "+strconv.Quote(c.Param("id"))))
		return "", false
	}
	return id.String(), true
}

func (h Handler) order(c *gin.Context) {
	id, ok := orderID(c)
	if !ok {
		return
	}
	o, err := h.svc.Order(c, userID(c), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

func (h Handler) cancel(c *gin.Context) {
	id, ok := orderID(c)
	if !ok {
		return
	}
	o, err := h.svc.Cancel(c, userID(c), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrder(o))
}

// fail maps domain errors to problems; anything else is a 503: a store or
// the catalog did not answer, and the client may retry (checkout with the
// same Idempotency-Key).
func (h Handler) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, orders.ErrUnknownProduct):
		httpserver.Abort(c, problem.NotFound("the catalog has no such product"))
	case errors.Is(err, orders.ErrQuantity):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "quantity", Detail: detail(err, orders.ErrQuantity)}))
	case errors.Is(err, orders.ErrCartFull):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "product_id", Detail: detail(err, orders.ErrCartFull)}))
	case errors.Is(err, orders.ErrCurrency):
		httpserver.Abort(c, problem.Conflict(detail(err, orders.ErrCurrency)))
	case errors.Is(err, orders.ErrEmptyCart):
		httpserver.Abort(c, problem.New(TypeCartEmpty, http.StatusBadRequest, "the cart is empty: add products before checking out"))
	case errors.Is(err, orders.ErrProductGone):
		httpserver.Abort(c, problem.Conflict("products in the cart are no longer sold: "+detail(err, orders.ErrProductGone)))
	case errors.Is(err, orders.ErrKeyReused):
		httpserver.Abort(c, problem.New(TypeKeyReused, http.StatusUnprocessableEntity,
			"this Idempotency-Key was used for a checkout with another body; use a new key for a new checkout"))
	case errors.Is(err, orders.ErrNotFound):
		httpserver.Abort(c, problem.NotFound("no such order"))
	case errors.Is(err, orders.ErrNotPending):
		httpserver.Abort(c, problem.Conflict("only a pending order can be cancelled"))
	case errors.Is(err, orders.ErrBusy):
		// Retry-After comes with every 503 (httpserver.Abort).
		httpserver.Abort(c, problem.Unavailable("orders are settling slower than they arrive; retry after the Retry-After seconds"))
	case errors.Is(err, orders.ErrConflict):
		httpserver.Abort(c, problem.Conflict("the cart or order was changed concurrently; retry"))
	default:
		h.log.ErrorContext(c, "orders request failed", "path", c.FullPath(), "err", err)
		httpserver.Abort(c, problem.Unavailable("the orders service could not complete the request; retry later"))
	}
}

// detail is the domain's explanation after the sentinel's own words
// ("quantity out of range: the cart holds …" → "the cart holds …").
func detail(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()+": "); i >= 0 {
		return msg[i+len(sentinel.Error())+2:]
	}
	return sentinel.Error()
}

// Module mounts the handlers.
var Module = fx.Invoke(Register)
