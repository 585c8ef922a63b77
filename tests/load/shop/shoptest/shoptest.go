// Package shoptest is a stand-in for the ShopMesh gateway, enough of its
// public API for the load scenarios' own tests: accounts (tokens last
// 900 s; a refresh token is "r:" and the e-mail), an admin who
// adds products, one cart per customer, checkout and order histories.
package shoptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Gateway is the stand-in. Set its fields before serving.
type Gateway struct {
	// Delay holds every POST this long before answering.
	Delay time.Duration
	// Settle is how long after it is placed an order confirms; 0: never.
	Settle time.Duration

	mu       sync.Mutex
	inFlight map[string]bool
	overlaps int
	answers  map[string]int
	carts    map[string]int
	orders   map[string][]order
	next     int
}

type order struct {
	id     string
	placed time.Time
}

// Overlaps counts requests that came while the same customer had one in
// flight.
func (g *Gateway) Overlaps() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.overlaps
}

// Answered counts the requests for "METHOD /path".
func (g *Gateway) Answered(route string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.answers[route]
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body) // GETs and DELETEs have none
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	g.mu.Lock()
	if g.inFlight == nil {
		g.inFlight, g.answers, g.carts, g.orders = map[string]bool{}, map[string]int{}, map[string]int{}, map[string][]order{}
	}
	g.answers[r.Method+" "+r.URL.Path]++
	g.mu.Unlock()
	switch r.URL.Path {
	case "/readyz":
		reply(http.StatusOK, map[string]string{"status": "ok"})
		return
	case "/api/v1/auth/register":
		reply(http.StatusCreated, map[string]any{"id": "u", "email": body["email"]})
		return
	case "/api/v1/auth/login":
		reply(http.StatusOK, map[string]any{"access_token": body["email"], "token_type": "Bearer", "expires_in": 900, "refresh_token": "r:" + fmt.Sprint(body["email"])})
		return
	case "/api/v1/auth/refresh":
		email, ok := strings.CutPrefix(fmt.Sprint(body["refresh_token"]), "r:")
		if !ok {
			reply(http.StatusUnauthorized, map[string]string{"type": "unauthorized"})
			return
		}
		reply(http.StatusOK, map[string]any{"access_token": email, "token_type": "Bearer", "expires_in": 900, "refresh_token": "r:" + email})
		return
	}
	who := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if who == "" {
		reply(http.StatusUnauthorized, map[string]string{"type": "unauthorized"})
		return
	}
	g.mu.Lock()
	if g.inFlight[who] {
		g.overlaps++
	}
	g.inFlight[who] = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight[who] = false
		g.mu.Unlock()
	}()
	if r.Method == http.MethodPost {
		time.Sleep(g.Delay)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/products":
		g.next++
		reply(http.StatusCreated, map[string]any{"id": fmt.Sprintf("product-%d", g.next), "sku": body["sku"]})
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/inventory/"):
		reply(http.StatusOK, map[string]any{"available": body["available"]})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/cart/items":
		g.carts[who]++
		reply(http.StatusOK, map[string]any{"items": []any{}})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v1/cart/items/"):
		g.carts[who] = 0
		reply(http.StatusOK, map[string]any{"items": []any{}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/checkout":
		if r.Header.Get("Idempotency-Key") == "" || g.carts[who] == 0 {
			reply(http.StatusBadRequest, map[string]string{"type": "https://shopmesh.dev/problems/cart-empty"})
			return
		}
		g.carts[who] = 0
		g.next++
		id := fmt.Sprintf("order-%d", g.next)
		g.orders[who] = append(g.orders[who], order{id: id, placed: time.Now().UTC()})
		reply(http.StatusAccepted, map[string]string{"order_id": id, "status": "pending"})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/orders":
		items := []map[string]any{}
		for _, o := range g.orders[who] {
			timeline := []map[string]any{{"status": "pending", "at": o.placed}}
			status := "pending"
			if at := o.placed.Add(g.Settle); g.Settle > 0 && time.Now().After(at) {
				status = "confirmed"
				timeline = append(timeline, map[string]any{"status": "confirmed", "at": at})
			}
			items = append(items, map[string]any{"id": o.id, "status": status, "created_at": o.placed, "timeline": timeline})
		}
		reply(http.StatusOK, map[string]any{"items": items})
	default:
		reply(http.StatusNotFound, map[string]string{"type": "not-found"})
	}
}
