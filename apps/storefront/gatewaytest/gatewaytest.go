// Package gatewaytest is a fake ShopMesh gateway for the storefront's tests:
// an httptest server answering, in the public API's shapes, the part of the
// REST API the storefront uses, from memory. Tests seed it, make a route
// fail on demand, and read what it was sent.
package gatewaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/apps/storefront/gateway"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// Password of every seeded user.
const Password = "correct-horse-battery"

// Users seeded by New.
const (
	CustomerEmail = "ada@example.com"
	AdminEmail    = "admin@example.com"
)

// Failure is an answer a route gives instead of its own.
type Failure struct {
	Status     int
	RetryAfter int // seconds; 0 sends no Retry-After
	Type       string
	Detail     string
	Errors     []problem.FieldError
}

type user struct {
	gateway.Me
	password string
}

// Gateway is the fake; its methods are safe to call while it serves.
type Gateway struct {
	URL string

	mu         sync.Mutex
	categories []gateway.Category
	products   []gateway.Product
	users      map[string]*user // by email
	tokens     map[string]string
	carts      map[string]*gateway.Cart // by user id
	orders     map[string]*order
	stock      map[string]gateway.Stock
	failures   map[string]Failure
	calls      map[string]int
	keys       []string
	settle     int // see SettleAfter
}

type order struct {
	gateway.Order
	userID string
	token  string
	reads  int
	key    string
}

// New starts the fake with two categories, three products, a customer and
// an administrator; it stops when the test ends.
func New(t *testing.T) *Gateway {
	t.Helper()
	g := &Gateway{
		users: map[string]*user{}, tokens: map[string]string{}, carts: map[string]*gateway.Cart{},
		orders: map[string]*order{}, stock: map[string]gateway.Stock{}, failures: map[string]Failure{}, calls: map[string]int{},
		settle: 2,
	}
	g.categories = []gateway.Category{{ID: "kitchen", Name: "Kitchen"}, {ID: "audio", Name: "Audio"}}
	g.addProduct(gateway.Product{SKU: "KIT-0001", Name: "Stainless Steel Kettle", Description: "Boils a litre in four minutes.", Category: "kitchen", Price: gateway.Money{Amount: 3999, Currency: "USD"}, ImageURL: "/images/products/kit-0001.svg", InStock: true})
	g.addProduct(gateway.Product{SKU: "KIT-0002", Name: "Enamel Mug", Description: "Holds 350 ml.", Category: "kitchen", Price: gateway.Money{Amount: 1250, Currency: "USD"}, InStock: true})
	g.addProduct(gateway.Product{SKU: "AUD-0001", Name: "Studio Headphones", Description: "Closed back.", Category: "audio", Price: gateway.Money{Amount: 12900, Currency: "USD"}, InStock: false})
	g.addUser("Ada Lovelace", CustomerEmail, "customer")
	g.addUser("Grace Admin", AdminEmail, "customer", "admin")

	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.calls[pattern]++
			if f, ok := g.failures[pattern]; ok {
				delete(g.failures, pattern)
				writeFailure(w, f)
				return
			}
			h(w, r)
		})
	}
	route("GET /api/v1/categories", g.listCategories)
	route("GET /api/v1/products", g.listProducts)
	route("POST /api/v1/products", g.admin(g.createProduct))
	route("GET /api/v1/products/{id}", g.getProduct)
	route("PUT /api/v1/products/{id}", g.admin(g.replaceProduct))
	route("GET /api/v1/search", g.search)
	route("POST /api/v1/auth/register", g.register)
	route("POST /api/v1/auth/login", g.login)
	route("GET /api/v1/me", g.customer(g.me))
	route("GET /api/v1/cart", g.customer(g.cart))
	route("POST /api/v1/cart/items", g.customer(g.addItem))
	route("DELETE /api/v1/cart/items/{product_id}", g.customer(g.removeItem))
	route("POST /api/v1/checkout", g.customer(g.checkout))
	route("GET /api/v1/orders", g.customer(g.listOrders))
	route("GET /api/v1/orders/{id}", g.customer(g.getOrder))
	route("POST /api/v1/orders/{id}/cancel", g.customer(g.cancel))
	route("GET /api/v1/notifications", g.customer(g.notifications))
	route("GET /api/v1/inventory/{product_id}", g.admin(g.getStock))
	route("PUT /api/v1/inventory/{product_id}", g.admin(g.setStock))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// AddProduct adds p with a new id and returns it.
func (g *Gateway) AddProduct(p gateway.Product) gateway.Product {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addProduct(p)
}

func (g *Gateway) addProduct(p gateway.Product) gateway.Product {
	p.ID = uuid.Must(uuid.NewV7()).String()
	p.Version, p.CreatedAt, p.UpdatedAt = 1, time.Now().UTC(), time.Now().UTC()
	g.products = append(g.products, p)
	slices.SortFunc(g.products, func(a, b gateway.Product) int { return strings.Compare(a.Name, b.Name) })
	return p
}

// Product returns the seeded product named name.
func (g *Gateway) Product(name string) gateway.Product {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.products {
		if p.Name == name {
			return p
		}
	}
	panic("no product named " + name)
}

// AddUser adds an account with Password.
func (g *Gateway) AddUser(name, email string, roles ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addUser(name, email, roles...)
}

func (g *Gateway) addUser(name, email string, roles ...string) {
	g.users[email] = &user{Me: gateway.Me{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, Roles: roles, Addresses: []gateway.Address{}}, password: Password}
}

// SettleAfter sets how many reads of a pending order pass before it
// settles: confirmed, or cancelled as payment_declined for a declined card.
func (g *Gateway) SettleAfter(reads int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.settle = reads
}

// Fail makes the next request to pattern (as registered, e.g.
// "POST /api/v1/checkout") answer f.
func (g *Gateway) Fail(pattern string, f Failure) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures[pattern] = f
}

// Calls returns how many requests pattern has had.
func (g *Gateway) Calls(pattern string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[pattern]
}

// IdempotencyKeys returns the Idempotency-Key of every checkout so far.
func (g *Gateway) IdempotencyKeys() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.keys)
}

// Cart returns the cart of the user with email.
func (g *Gateway) Cart(email string) gateway.Cart {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *g.cartOf(g.users[email].ID)
}

// Orders returns how many orders exist.
func (g *Gateway) Orders() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.orders)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeFailure(w http.ResponseWriter, f Failure) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	typ := f.Type
	if typ == "" {
		typ = "https://shopmesh.dev/problems/test"
	}
	w.Header().Set("Content-Type", problem.ContentType)
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(problem.Problem{Type: typ, Title: http.StatusText(f.Status), Status: f.Status, Detail: f.Detail, Errors: f.Errors})
}

func fail(w http.ResponseWriter, status int, detail string) {
	writeFailure(w, Failure{Status: status, Detail: detail})
}

// caller returns the user of the request's Bearer token.
func (g *Gateway) caller(r *http.Request) (*user, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	email, ok := g.tokens[tok]
	if !ok {
		return nil, false
	}
	return g.users[email], true
}

func (g *Gateway) customer(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := g.caller(r)
		if !ok {
			fail(w, http.StatusUnauthorized, "the access token is missing or invalid")
			return
		}
		h(w, r, u)
	}
}

func (g *Gateway) admin(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return g.customer(func(w http.ResponseWriter, r *http.Request, u *user) {
		if !slices.Contains(u.Roles, "admin") {
			fail(w, http.StatusForbidden, "this request needs the admin role")
			return
		}
		h(w, r, u)
	})
}

func (g *Gateway) listCategories(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": g.categories})
}

// listProducts pages by position; the token is the offset.
func (g *Gateway) listProducts(w http.ResponseWriter, r *http.Request) {
	cat := r.URL.Query().Get("category")
	size := 20
	if s := r.URL.Query().Get("page_size"); s != "" {
		size, _ = strconv.Atoi(s)
	}
	var all []gateway.Product
	for _, p := range g.products {
		if cat == "" || p.Category == cat {
			all = append(all, p)
		}
	}
	from := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "o"))
		if err != nil || n > len(all) {
			writeFailure(w, Failure{Status: http.StatusBadRequest, Detail: "the request has invalid fields", Errors: []problem.FieldError{{Field: "page_token", Detail: "is not a page token"}}})
			return
		}
		from = n
	}
	to := min(from+size, len(all))
	next := ""
	if to < len(all) {
		next = "o" + strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, gateway.ProductPage{Items: append([]gateway.Product{}, all[from:to]...), NextPageToken: next})
}

func (g *Gateway) find(id string) (int, bool) {
	i := slices.IndexFunc(g.products, func(p gateway.Product) bool { return p.ID == id })
	return i, i >= 0
}

func (g *Gateway) getProduct(w http.ResponseWriter, r *http.Request) {
	i, ok := g.find(r.PathValue("id"))
	if !ok {
		fail(w, http.StatusNotFound, "no such product")
		return
	}
	writeJSON(w, http.StatusOK, g.products[i])
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "the body is not valid JSON")
		return false
	}
	return true
}

func (g *Gateway) createProduct(w http.ResponseWriter, r *http.Request, _ *user) {
	var in gateway.ProductInput
	if !decode(w, r, &in) {
		return
	}
	for _, p := range g.products {
		if p.SKU == strings.ToUpper(in.SKU) {
			fail(w, http.StatusConflict, "the SKU "+in.SKU+" belongs to another product")
			return
		}
	}
	p := g.addProduct(gateway.Product{SKU: strings.ToUpper(in.SKU), Name: in.Name, Description: in.Description, Category: in.Category, Price: in.Price, ImageURL: in.ImageURL, InStock: true})
	writeJSON(w, http.StatusCreated, p)
}

func (g *Gateway) replaceProduct(w http.ResponseWriter, r *http.Request, _ *user) {
	i, ok := g.find(r.PathValue("id"))
	if !ok {
		fail(w, http.StatusNotFound, "no such product")
		return
	}
	var in gateway.ProductInput
	if !decode(w, r, &in) {
		return
	}
	p := &g.products[i]
	p.SKU, p.Name, p.Description, p.Category, p.Price, p.ImageURL = strings.ToUpper(in.SKU), in.Name, in.Description, in.Category, in.Price, in.ImageURL
	p.Version++
	writeJSON(w, http.StatusOK, *p)
}

// search matches every word as a substring of name or description, or
// (for kettel) with the test's one typo.
func (g *Gateway) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(q.Get("q"), "kettel", "kettle")))
	res := gateway.SearchResult{Items: []gateway.Product{}}
	res.Facets.Category, res.Facets.Price = map[string]int{}, map[string]int{"under_25": 0, "25_to_50": 0, "50_to_100": 0, "100_to_200": 0, "200_and_over": 0}
	minP, _ := strconv.ParseInt(q.Get("min_price"), 10, 64)
	maxP, err := strconv.ParseInt(q.Get("max_price"), 10, 64)
	if err != nil {
		maxP = 1 << 62
	}
	for _, p := range g.products {
		text := strings.ToLower(p.Name + " " + p.Description)
		match := true
		for _, wd := range words {
			match = match && strings.Contains(text, wd)
		}
		if !match || (q.Get("category") != "" && p.Category != q.Get("category")) || p.Price.Amount < minP || p.Price.Amount > maxP {
			continue
		}
		res.Items = append(res.Items, p)
		res.Facets.Category[p.Category]++
		switch a := p.Price.Amount; {
		case a < 2500:
			res.Facets.Price["under_25"]++
		case a < 5000:
			res.Facets.Price["25_to_50"]++
		case a < 10000:
			res.Facets.Price["50_to_100"]++
		case a < 20000:
			res.Facets.Price["100_to_200"]++
		default:
			res.Facets.Price["200_and_over"]++
		}
	}
	res.Total = len(res.Items)
	writeJSON(w, http.StatusOK, res)
}

func (g *Gateway) register(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password, Name string }
	if !decode(w, r, &in) {
		return
	}
	if _, ok := g.users[strings.ToLower(in.Email)]; ok {
		fail(w, http.StatusConflict, "an account with this e-mail address exists")
		return
	}
	if len([]rune(in.Password)) < 10 {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Detail: "the request has invalid fields", Errors: []problem.FieldError{{Field: "password", Detail: "must have at least 10 characters"}}})
		return
	}
	g.addUser(in.Name, strings.ToLower(in.Email), "customer")
	g.users[strings.ToLower(in.Email)].password = in.Password
	u := g.users[strings.ToLower(in.Email)]
	writeJSON(w, http.StatusCreated, gateway.Account{ID: u.ID, Email: u.Email, Name: u.Name})
}

func (g *Gateway) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if !decode(w, r, &in) {
		return
	}
	u, ok := g.users[strings.ToLower(in.Email)]
	if !ok || u.password != in.Password {
		fail(w, http.StatusUnauthorized, "the e-mail address or the password is wrong")
		return
	}
	tok := "token-" + uuid.NewString()
	g.tokens[tok] = u.Email
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 900, "refresh_token": "refresh-" + tok})
}

func (g *Gateway) me(w http.ResponseWriter, _ *http.Request, u *user) {
	writeJSON(w, http.StatusOK, u.Me)
}

func (g *Gateway) cartOf(userID string) *gateway.Cart {
	c, ok := g.carts[userID]
	if !ok {
		c = &gateway.Cart{Items: []gateway.CartItem{}, Total: gateway.Money{Currency: "USD"}}
		g.carts[userID] = c
	}
	c.Total.Amount = 0
	for _, it := range c.Items {
		c.Total.Amount += it.Quantity * it.UnitPrice.Amount
	}
	return c
}

func (g *Gateway) cart(w http.ResponseWriter, _ *http.Request, u *user) {
	writeJSON(w, http.StatusOK, g.cartOf(u.ID))
}

func (g *Gateway) addItem(w http.ResponseWriter, r *http.Request, u *user) {
	var in struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
	}
	if !decode(w, r, &in) {
		return
	}
	i, ok := g.find(in.ProductID)
	if !ok {
		fail(w, http.StatusNotFound, "no such product")
		return
	}
	c := g.cartOf(u.ID)
	j := slices.IndexFunc(c.Items, func(it gateway.CartItem) bool { return it.ProductID == in.ProductID })
	have := int64(0)
	if j >= 0 {
		have = c.Items[j].Quantity
	}
	if in.Quantity < 1 || have+in.Quantity > 100 {
		fail(w, http.StatusBadRequest, "the quantity must be from 1 to 100")
		return
	}
	if j >= 0 {
		c.Items[j].Quantity += in.Quantity
	} else {
		c.Items = append(c.Items, gateway.CartItem{ProductID: in.ProductID, Quantity: in.Quantity, UnitPrice: g.products[i].Price})
	}
	writeJSON(w, http.StatusOK, g.cartOf(u.ID))
}

func (g *Gateway) removeItem(w http.ResponseWriter, r *http.Request, u *user) {
	c := g.cartOf(u.ID)
	c.Items = slices.DeleteFunc(c.Items, func(it gateway.CartItem) bool { return it.ProductID == r.PathValue("product_id") })
	writeJSON(w, http.StatusOK, g.cartOf(u.ID))
}

func (g *Gateway) checkout(w http.ResponseWriter, r *http.Request, u *user) {
	key := r.Header.Get("Idempotency-Key")
	g.keys = append(g.keys, key)
	if key == "" {
		fail(w, http.StatusBadRequest, "Idempotency-Key is required")
		return
	}
	var in gateway.CheckoutRequest
	if !decode(w, r, &in) {
		return
	}
	for _, o := range g.orders {
		if o.userID == u.ID && o.key == key {
			writeJSON(w, http.StatusAccepted, gateway.Placed{OrderID: o.ID, Status: "pending"})
			return
		}
	}
	c := g.cartOf(u.ID)
	if len(c.Items) == 0 {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Type: "https://shopmesh.dev/problems/cart-empty", Detail: "the cart is empty"})
		return
	}
	now := time.Now().UTC()
	o := &order{userID: u.ID, token: in.PaymentToken, key: key, Order: gateway.Order{
		ID: uuid.Must(uuid.NewV7()).String(), Status: gateway.StatusPending, Total: c.Total, ShippingAddress: in.ShippingAddress,
		CreatedAt: now, UpdatedAt: now, Timeline: []gateway.Change{{Status: gateway.StatusPending, At: now}},
	}}
	for _, it := range c.Items {
		i, _ := g.find(it.ProductID)
		o.Items = append(o.Items, gateway.OrderItem{ProductID: it.ProductID, SKU: g.products[i].SKU, Name: g.products[i].Name, Quantity: it.Quantity, UnitPrice: it.UnitPrice})
	}
	g.orders[o.ID] = o
	c.Items = []gateway.CartItem{}
	w.Header().Set("Location", "/api/v1/orders/"+o.ID)
	writeJSON(w, http.StatusAccepted, gateway.Placed{OrderID: o.ID, Status: "pending"})
}

func (g *Gateway) listOrders(w http.ResponseWriter, _ *http.Request, u *user) {
	var out []gateway.Order
	for _, o := range g.orders {
		if o.userID == u.ID {
			out = append(out, o.Order)
		}
	}
	slices.SortFunc(out, func(a, b gateway.Order) int { return strings.Compare(b.ID, a.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"items": append([]gateway.Order{}, out...)})
}

func (g *Gateway) orderOf(w http.ResponseWriter, r *http.Request, u *user) (*order, bool) {
	o, ok := g.orders[r.PathValue("id")]
	if !ok || o.userID != u.ID {
		fail(w, http.StatusNotFound, "no such order")
		return nil, false
	}
	return o, true
}

func (g *Gateway) settleOrder(o *order, status, reason string) {
	now := time.Now().UTC()
	o.Status, o.Reason, o.UpdatedAt = status, reason, now
	o.Timeline = append(o.Timeline, gateway.Change{Status: status, At: now, Reason: reason})
}

func (g *Gateway) getOrder(w http.ResponseWriter, r *http.Request, u *user) {
	o, ok := g.orderOf(w, r, u)
	if !ok {
		return
	}
	if o.Status == gateway.StatusPending {
		if o.reads++; o.reads > g.settle {
			if o.token == "tok_visa" {
				g.settleOrder(o, gateway.StatusConfirmed, "")
			} else {
				g.settleOrder(o, gateway.StatusCancelled, "payment_declined")
			}
		}
	}
	writeJSON(w, http.StatusOK, o.Order)
}

func (g *Gateway) cancel(w http.ResponseWriter, r *http.Request, u *user) {
	o, ok := g.orderOf(w, r, u)
	if !ok {
		return
	}
	if o.Status != gateway.StatusPending {
		fail(w, http.StatusConflict, "the order is "+o.Status)
		return
	}
	g.settleOrder(o, gateway.StatusCancelled, "cancelled_by_customer")
	writeJSON(w, http.StatusOK, o.Order)
}

func (g *Gateway) notifications(w http.ResponseWriter, _ *http.Request, u *user) {
	items := []gateway.Notification{{ID: "n1", Kind: "welcome", Subject: fmt.Sprintf("Welcome, %s", u.Name), SentAt: time.Now().UTC()}}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (g *Gateway) getStock(w http.ResponseWriter, r *http.Request, _ *user) {
	st, ok := g.stock[r.PathValue("product_id")]
	if !ok {
		fail(w, http.StatusNotFound, "no stock record")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (g *Gateway) setStock(w http.ResponseWriter, r *http.Request, _ *user) {
	id := r.PathValue("product_id")
	if _, ok := g.find(id); !ok {
		fail(w, http.StatusNotFound, "no such product")
		return
	}
	var in struct{ Available int64 }
	if !decode(w, r, &in) {
		return
	}
	st := g.stock[id]
	st.ProductID, st.Available = id, in.Available
	g.stock[id] = st
	writeJSON(w, http.StatusOK, st)
}
