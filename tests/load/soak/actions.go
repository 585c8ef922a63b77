package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/shopmesh/shopmesh/tests/load/shop"
)

// shopping is what the shoppers' actions share: where the shop is, what
// is in it, and where answers are noted.
type shopping struct {
	gateway    string
	products   []string // the run's own products, the only ones bought
	categories []string // the catalogue's category ids
	seen       *seen    // products met browsing, for views
	run        string   // tells this run's idempotency keys apart
	rec        *recorder
}

// searches are the queries shoppers type: words, a typo, filters, sorts.
var searches = []string{
	"q=kettle",
	"q=stainles+kettel",
	"q=teapot",
	"q=load+test+teapot&sort=price_asc",
	"q=headphones&sort=price_desc",
	"q=desk+lamp",
	"q=tent&category=outdoor",
	"category=kitchen&sort=newest",
	"q=keyboard&max_price=20000",
	"q=wireless&min_price=1000",
}

// renewBefore is how long before its token expires a shopper renews it.
const renewBefore = 2 * time.Minute

// act makes one action of kind k as s, renewing its token first when it
// is about to expire.
func (sh *shopping) act(ctx context.Context, k Kind, s *shopper) {
	sent := time.Now()
	for _, a := range s.Renew(ctx, sh.gateway, sent.Add(renewBefore)) {
		sh.rec.request(Token, sent, a)
	}
	switch k {
	case Browse:
		sh.browse(ctx, s)
	case Search:
		sh.do(ctx, Search, s, http.MethodGet, "/api/v1/search?"+searches[rand.IntN(len(searches))], nil, nil)
	case View:
		id := sh.seen.pick()
		if a := sh.do(ctx, View, s, http.MethodGet, "/api/v1/products/"+id, nil, nil); a.Status == http.StatusNotFound {
			// Deleted since it was listed (by an admin, or another
			// test): a shopper would not come back to it.
			sh.seen.forget(id)
		}
	case Add:
		sh.add(ctx, Add, s, sh.productToAdd(s))
	case Change:
		sh.add(ctx, Change, s, anyLine(s.cart))
	case Remove:
		p := anyLine(s.cart)
		if a := sh.do(ctx, Remove, s, http.MethodDelete, "/api/v1/cart/items/"+p, nil, nil); a.Status == http.StatusOK {
			delete(s.cart, p)
		}
	case Checkout, Declined:
		sh.checkout(ctx, k, s)
	case History:
		sh.history(ctx, s)
	}
}

// do sends one request and notes its answer.
func (sh *shopping) do(ctx context.Context, k Kind, s *shopper, method, path string, body any, header http.Header) shop.Answer {
	sent := time.Now()
	a := s.Do(ctx, sh.gateway, method, path, body, header)
	sh.rec.request(k, sent, a)
	return a
}

// browse lists the catalogue, a category a third of the time, and
// follows next_page_token for up to two more pages.
func (sh *shopping) browse(ctx context.Context, s *shopper) {
	q := url.Values{"page_size": {"20"}}
	if len(sh.categories) > 0 && rand.IntN(3) == 0 {
		q.Set("category", sh.categories[rand.IntN(len(sh.categories))])
	}
	pages := 1 + rand.IntN(3)
	for range pages {
		a := sh.do(ctx, Browse, s, http.MethodGet, "/api/v1/products?"+q.Encode(), nil, nil)
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextPageToken string `json:"next_page_token"`
		}
		if a.Status != http.StatusOK || json.Unmarshal(a.Body, &page) != nil {
			return
		}
		for _, p := range page.Items {
			sh.seen.add(p.ID)
		}
		if page.NextPageToken == "" {
			return
		}
		q.Set("page_token", page.NextPageToken)
	}
}

// productToAdd is a run product not yet in s's cart, if there is one.
func (sh *shopping) productToAdd(s *shopper) string {
	var fresh []string
	for _, p := range sh.products {
		if s.cart[p] == 0 {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return sh.products[rand.IntN(len(sh.products))]
	}
	return fresh[rand.IntN(len(fresh))]
}

// anyLine is a product in cart ("" for an empty cart, which take never
// hands to the actions that call it).
func anyLine(cart map[string]int) string {
	if len(cart) == 0 {
		return ""
	}
	lines := make([]string, 0, len(cart))
	for p := range cart {
		lines = append(lines, p)
	}
	slices.Sort(lines)
	return lines[rand.IntN(len(lines))]
}

// add puts one unit of product into s's cart: an add, or a change of a
// line the cart holds.
func (sh *shopping) add(ctx context.Context, k Kind, s *shopper, product string) {
	a := sh.do(ctx, k, s, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": product, "quantity": 1}, nil)
	if a.Status == http.StatusOK {
		s.cart[product]++
	}
}

// shippingAddress is where the shoppers' orders go.
var shippingAddress = map[string]any{"name": "Soak Shopper", "line1": "1 Soak Street", "city": "Lisbon", "postal_code": "1000-001", "country": "PT"}

// checkout checks out s's cart, with the declined card for Declined.
func (sh *shopping) checkout(ctx context.Context, k Kind, s *shopper) {
	token := "tok_visa"
	if k == Declined {
		token = "tok_chargeDeclined"
	}
	s.checkouts++
	header := http.Header{"Idempotency-Key": {fmt.Sprintf("soak-%s-%d-%d", sh.run, s.ID(), s.checkouts)}}
	sent := time.Now()
	a := sh.do(ctx, k, s, http.MethodPost, "/api/v1/checkout", map[string]any{"shipping_address": shippingAddress, "payment_token": token}, header)
	switch {
	case a.Status >= 200 && a.Status < 300:
		clear(s.cart)
		var placed struct {
			OrderID string `json:"order_id"`
		}
		if json.Unmarshal(a.Body, &placed) != nil || placed.OrderID == "" {
			sh.rec.note(k, "checkout answered 2xx without an order_id")
			return
		}
		sh.rec.place(shop.Placed{OrderID: placed.OrderID, Shopper: s.Shopper}, sent, k == Declined)
	case a.Status == http.StatusBadRequest:
		// Most likely the cart was empty: an add whose answer was lost
		// did not go through, or a checkout whose answer was lost did.
		clear(s.cart)
	}
}

// history reads s's orders and, half the time, the newest of them.
func (sh *shopping) history(ctx context.Context, s *shopper) {
	a := sh.do(ctx, History, s, http.MethodGet, "/api/v1/orders", nil, nil)
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &list) != nil || len(list.Items) == 0 || rand.IntN(2) == 0 {
		return
	}
	sh.do(ctx, History, s, http.MethodGet, "/api/v1/orders/"+list.Items[0].ID, nil, nil)
}

// seen holds up to maxSeen product ids met browsing; once full, a new id
// takes a random one's place.
type seen struct {
	mu  sync.Mutex
	ids []string
	has map[string]bool
}

const maxSeen = 500

func newSeen(ids []string) *seen {
	s := &seen{has: map[string]bool{}}
	for _, id := range ids {
		s.add(id)
	}
	return s
}

func (s *seen) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || s.has[id] {
		return
	}
	if len(s.ids) < maxSeen {
		s.ids = append(s.ids, id)
	} else {
		i := rand.IntN(len(s.ids))
		delete(s.has, s.ids[i])
		s.ids[i] = id
	}
	s.has[id] = true
}

// forget drops id, unless it is the last one.
func (s *seen) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.has[id] || len(s.ids) == 1 {
		return
	}
	i := slices.Index(s.ids, id)
	s.ids[i] = s.ids[len(s.ids)-1]
	s.ids = s.ids[:len(s.ids)-1]
	delete(s.has, id)
}

func (s *seen) pick() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[rand.IntN(len(s.ids))]
}
