// Package api serves the catalog over HTTP to its sidecar; the gateway
// reaches it through Dapr service invocation. Shapes match the public API.
package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/catalog/catalog"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Page sizes of product listings.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Handler holds the catalog's HTTP handlers.
type Handler struct{ svc *catalog.Service }

// Register mounts the handlers on the sidecar-only router.
func Register(r httpserver.Router, svc *catalog.Service) {
	h := Handler{svc: svc}
	r.Sidecar.GET("/products", h.list)
	r.Sidecar.POST("/products", h.create)
	r.Sidecar.GET("/products/:id", h.get)
	r.Sidecar.PUT("/products/:id", h.update)
	r.Sidecar.DELETE("/products/:id", h.delete)
	r.Sidecar.GET("/categories", h.categories)
}

// Money is the wire form of an amount.
type Money struct {
	Amount   *int64 `json:"amount" validate:"required,gte=0,lte=100000000000"`
	Currency string `json:"currency" validate:"required,iso4217"`
}

// ProductInput is the body of create and update.
type ProductInput struct {
	SKU         string `json:"sku" validate:"required,min=1,max=64,code"`
	Name        string `json:"name" validate:"required,min=1,max=200"`
	Description string `json:"description" validate:"max=5000"`
	Category    string `json:"category" validate:"required,max=64,code"`
	Price       *Money `json:"price" validate:"required"`
	ImageURL    string `json:"image_url" validate:"omitempty,max=2048,http_url_or_path"`
}

// Product is the wire form of a product.
type Product struct {
	ID          string    `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       MoneyOut  `json:"price"`
	ImageURL    string    `json:"image_url"`
	InStock     bool      `json:"in_stock"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MoneyOut is the wire form of an amount in responses.
type MoneyOut struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func toProduct(p catalog.Product) Product {
	return Product{
		ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: MoneyOut{p.Price.Amount, p.Price.Currency}, ImageURL: p.ImageURL, InStock: p.InStock,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func (in ProductInput) draft() catalog.Draft {
	return catalog.Draft{
		SKU:         strings.ToUpper(strings.TrimSpace(in.SKU)),
		Name:        strings.TrimSpace(in.Name),
		Description: strings.TrimSpace(in.Description),
		Category:    strings.TrimSpace(in.Category),
		Price:       catalog.Money{Amount: *in.Price.Amount, Currency: in.Price.Currency},
		ImageURL:    strings.TrimSpace(in.ImageURL),
	}
}

func (h Handler) list(c *gin.Context) {
	category := c.Query("category")
	size, perr := pageSize(c.Query("page_size"))
	after, terr := decodeToken(c.Query("page_token"), category)
	if fields := append(perr, terr...); len(fields) > 0 {
		httpserver.Abort(c, problem.Validation(fields...))
		return
	}
	page, err := h.svc.List(c, category, after, size)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]Product, len(page.Items))
	for i, p := range page.Items {
		items[i] = toProduct(p)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_page_token": encodeToken(page.Next, category)})
}

func (h Handler) get(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	p, err := h.svc.Get(c, id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toProduct(p))
}

func (h Handler) create(c *gin.Context) {
	var in ProductInput
	if !httpserver.BindJSON(c, &in) {
		return
	}
	p, err := h.svc.Create(c, in.draft())
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/products/"+p.ID)
	c.JSON(http.StatusCreated, toProduct(p))
}

func (h Handler) update(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	var in ProductInput
	if !httpserver.BindJSON(c, &in) {
		return
	}
	p, err := h.svc.Update(c, id, in.draft())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toProduct(p))
}

func (h Handler) delete(c *gin.Context) {
	id, ok := productID(c)
	if !ok {
		return
	}
	if err := h.svc.Delete(c, id); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h Handler) categories(c *gin.Context) {
	cs, err := h.svc.Categories(c)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]gin.H, len(cs))
	for i, cat := range cs {
		items[i] = gin.H{"id": cat.ID, "name": cat.Name}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// productID answers 404 for ids that cannot exist, without a store lookup.
func productID(c *gin.Context) (string, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		httpserver.Abort(c, problem.NotFound("no product with id "+strconv.Quote(c.Param("id"))))
		return "", false
	}
	return id.String(), true
}

func pageSize(raw string) (int, []problem.FieldError) {
	if raw == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, []problem.FieldError{{Field: "page_size", Detail: "must be an integer from 1 to " + strconv.Itoa(MaxPageSize)}}
	}
	return n, nil
}

// Page tokens are opaque to clients: base64url of "v1|<category>|<cursor>".
// The category is part of the token so it cannot be replayed on another
// filter; the cursor must be a product id.
const tokenVersion = "v1"

func encodeToken(cursor, category string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(tokenVersion + "|" + category + "|" + cursor))
}

func decodeToken(tok, category string) (string, []problem.FieldError) {
	if tok == "" {
		return "", nil
	}
	bad := []problem.FieldError{{Field: "page_token", Detail: "is not a page token issued for this listing"}}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != tokenVersion || parts[1] != category {
		return "", bad
	}
	// One page has one token, the one encodeToken writes: other spellings of
	// the same bytes (spare base64 bits set) or of the same id (upper case,
	// braces, urn:uuid:) would each be a new entry in the gateway's cache,
	// and a cursor that is not in canonical form sorts elsewhere.
	id, err := uuid.Parse(parts[2])
	if err != nil || id.String() != parts[2] || encodeToken(parts[2], category) != tok {
		return "", bad
	}
	return parts[2], nil
}

// fail maps domain errors to problems; anything else is a 500 or, for a
// store that is down, a 503.
func fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		httpserver.Abort(c, problem.NotFound("no such product"))
	case errors.Is(err, catalog.ErrDuplicateSKU):
		httpserver.Abort(c, problem.Conflict(err.Error()))
	case errors.Is(err, catalog.ErrUnknownCategory):
		httpserver.Abort(c, problem.Validation(problem.FieldError{Field: "category", Detail: "is not a catalog category (see GET /api/v1/categories)"}))
	case errors.Is(err, catalog.ErrConflict):
		httpserver.Abort(c, problem.Conflict("the product was changed concurrently; retry"))
	default:
		_ = c.Error(err)
		httpserver.Abort(c, problem.Unavailable("the catalog could not complete the request; retry later"))
	}
}

// Module mounts the handlers.
var Module = fx.Invoke(Register)
