package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Category is one of the catalog's categories.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Product is the catalog's product (search hits leave out the version and times).
type Product struct {
	ID          string    `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       Money     `json:"price"`
	ImageURL    string    `json:"image_url"`
	InStock     bool      `json:"in_stock"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProductPage is one page of a listing.
type ProductPage struct {
	Items         []Product `json:"items"`
	NextPageToken string    `json:"next_page_token"`
}

// ProductInput is the body of creating or replacing a product.
type ProductInput struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       Money  `json:"price"`
	ImageURL    string `json:"image_url,omitempty"`
}

// SearchQuery is a search; zero values are left out of the request.
type SearchQuery struct {
	Q         string
	Category  string
	MinPrice  *int64 // inclusive, minor units
	MaxPrice  *int64 // inclusive, minor units
	Sort      string
	PageSize  int
	PageToken string
}

// SearchResult is one page of matches, their total and the facets of the
// whole match: per category id and per price band.
type SearchResult struct {
	Items  []Product `json:"items"`
	Total  int       `json:"total"`
	Facets struct {
		Category map[string]int `json:"category"`
		Price    map[string]int `json:"price"`
	} `json:"facets"`
	NextPageToken string `json:"next_page_token"`
}

// Account is a newly registered account.
type Account struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Tokens is a successful sign-in.
type Tokens struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}

// Address is an entry of the shopper's address book.
type Address struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Me is the signed-in shopper's account.
type Me struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Addresses []Address `json:"addresses"`
}

// CartItem is one line of the cart.
type CartItem struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
}

// Cart is the shopper's cart.
type Cart struct {
	Items []CartItem `json:"items"`
	Total Money      `json:"total"`
}

// ShippingAddress is where an order goes.
type ShippingAddress struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// CheckoutRequest places an order from the cart.
type CheckoutRequest struct {
	ShippingAddress ShippingAddress `json:"shipping_address"`
	PaymentToken    string          `json:"payment_token"`
}

// Placed is an accepted checkout.
type Placed struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
}

// Order statuses.
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
)

// OrderItem is one line of an order, with the name it was sold under.
type OrderItem struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
}

// Change is one entry of an order's timeline.
type Change struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Order is one of the shopper's orders.
type Order struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Reason          string          `json:"reason"`
	Items           []OrderItem     `json:"items"`
	Total           Money           `json:"total"`
	ShippingAddress ShippingAddress `json:"shipping_address"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	Timeline        []Change        `json:"timeline"`
}

// Settled reports whether the order will not change any more.
func (o Order) Settled() bool { return o.Status != StatusPending }

// Notification is an e-mail sent to the shopper.
type Notification struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	SentAt  time.Time `json:"sent_at"`
	OrderID *string   `json:"order_id"`
}

// Stock is a product's stock.
type Stock struct {
	ProductID string `json:"product_id"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
}

const prefix = "/api/v1"

type list[T any] struct {
	Items []T `json:"items"`
}

// Categories lists every category in display order.
func (c *Client) Categories(ctx context.Context) ([]Category, error) {
	var out list[Category]
	err := c.call(ctx, http.MethodGet, prefix+"/categories", nil, "", nil, nil, &out)
	return out.Items, err
}

// Products returns one page of the catalog, of one category when category is not empty.
func (c *Client) Products(ctx context.Context, category string, pageSize int, pageToken string) (ProductPage, error) {
	q := url.Values{}
	setIf(q, "category", category)
	setIf(q, "page_token", pageToken)
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	var out ProductPage
	err := c.call(ctx, http.MethodGet, prefix+"/products", q, "", nil, nil, &out)
	return out, err
}

// Product reads one product.
func (c *Client) Product(ctx context.Context, id string) (Product, error) {
	var out Product
	err := c.call(ctx, http.MethodGet, prefix+"/products/"+url.PathEscape(id), nil, "", nil, nil, &out)
	return out, err
}

// Search runs q.
func (c *Client) Search(ctx context.Context, s SearchQuery) (SearchResult, error) {
	q := url.Values{}
	setIf(q, "q", s.Q)
	setIf(q, "category", s.Category)
	setIf(q, "sort", s.Sort)
	setIf(q, "page_token", s.PageToken)
	if s.MinPrice != nil {
		q.Set("min_price", strconv.FormatInt(*s.MinPrice, 10))
	}
	if s.MaxPrice != nil {
		q.Set("max_price", strconv.FormatInt(*s.MaxPrice, 10))
	}
	if s.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(s.PageSize))
	}
	var out SearchResult
	err := c.call(ctx, http.MethodGet, prefix+"/search", q, "", nil, nil, &out)
	return out, err
}

// Register creates a customer account.
func (c *Client) Register(ctx context.Context, email, password, name string) (Account, error) {
	var out Account
	in := map[string]string{"email": email, "password": password, "name": name}
	err := c.call(ctx, http.MethodPost, prefix+"/auth/register", nil, "", nil, in, &out)
	return out, err
}

// Login trades credentials for an access token.
func (c *Client) Login(ctx context.Context, email, password string) (Tokens, error) {
	var out Tokens
	in := map[string]string{"email": email, "password": password}
	err := c.call(ctx, http.MethodPost, prefix+"/auth/login", nil, "", nil, in, &out)
	return out, err
}

// Me reads the account of token.
func (c *Client) Me(ctx context.Context, token string) (Me, error) {
	var out Me
	err := c.call(ctx, http.MethodGet, prefix+"/me", nil, token, nil, nil, &out)
	return out, err
}

// Cart reads the shopper's cart.
func (c *Client) Cart(ctx context.Context, token string) (Cart, error) {
	var out Cart
	err := c.call(ctx, http.MethodGet, prefix+"/cart", nil, token, nil, nil, &out)
	return out, err
}

// AddToCart adds quantity of a product to the cart (to its line, if it has one).
func (c *Client) AddToCart(ctx context.Context, token, productID string, quantity int64) (Cart, error) {
	var out Cart
	in := map[string]any{"product_id": productID, "quantity": quantity}
	err := c.call(ctx, http.MethodPost, prefix+"/cart/items", nil, token, nil, in, &out)
	return out, err
}

// RemoveFromCart takes a product's line out of the cart.
func (c *Client) RemoveFromCart(ctx context.Context, token, productID string) (Cart, error) {
	var out Cart
	err := c.call(ctx, http.MethodDelete, prefix+"/cart/items/"+url.PathEscape(productID), nil, token, nil, nil, &out)
	return out, err
}

// Checkout places an order from the cart. The same key with the same
// request answers the same order, never a second one.
func (c *Client) Checkout(ctx context.Context, token, idempotencyKey string, in CheckoutRequest) (Placed, error) {
	var out Placed
	h := http.Header{"Idempotency-Key": {idempotencyKey}}
	err := c.call(ctx, http.MethodPost, prefix+"/checkout", nil, token, h, in, &out)
	return out, err
}

// Orders lists the shopper's orders, newest first.
func (c *Client) Orders(ctx context.Context, token string) ([]Order, error) {
	var out list[Order]
	err := c.call(ctx, http.MethodGet, prefix+"/orders", nil, token, nil, nil, &out)
	return out.Items, err
}

// Order reads one of the shopper's orders.
func (c *Client) Order(ctx context.Context, token, id string) (Order, error) {
	var out Order
	err := c.call(ctx, http.MethodGet, prefix+"/orders/"+url.PathEscape(id), nil, token, nil, nil, &out)
	return out, err
}

// CancelOrder cancels a pending order.
func (c *Client) CancelOrder(ctx context.Context, token, id string) (Order, error) {
	var out Order
	err := c.call(ctx, http.MethodPost, prefix+"/orders/"+url.PathEscape(id)+"/cancel", nil, token, nil, nil, &out)
	return out, err
}

// Notifications lists the e-mails sent to the shopper.
func (c *Client) Notifications(ctx context.Context, token string) ([]Notification, error) {
	var out list[Notification]
	err := c.call(ctx, http.MethodGet, prefix+"/notifications", nil, token, nil, nil, &out)
	return out.Items, err
}

// CreateProduct adds a product to the catalog (administrators).
func (c *Client) CreateProduct(ctx context.Context, token string, in ProductInput) (Product, error) {
	var out Product
	err := c.call(ctx, http.MethodPost, prefix+"/products", nil, token, nil, in, &out)
	return out, err
}

// ReplaceProduct replaces every field of a product (administrators).
func (c *Client) ReplaceProduct(ctx context.Context, token, id string, in ProductInput) (Product, error) {
	var out Product
	err := c.call(ctx, http.MethodPut, prefix+"/products/"+url.PathEscape(id), nil, token, nil, in, &out)
	return out, err
}

// Stock reads a product's stock (administrators).
func (c *Client) Stock(ctx context.Context, token, productID string) (Stock, error) {
	var out Stock
	err := c.call(ctx, http.MethodGet, prefix+"/inventory/"+url.PathEscape(productID), nil, token, nil, nil, &out)
	return out, err
}

// SetStock sets a product's available units (administrators).
func (c *Client) SetStock(ctx context.Context, token, productID string, available int64) (Stock, error) {
	var out Stock
	in := map[string]int64{"available": available}
	err := c.call(ctx, http.MethodPut, prefix+"/inventory/"+url.PathEscape(productID), nil, token, nil, in, &out)
	return out, err
}

func setIf(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}
