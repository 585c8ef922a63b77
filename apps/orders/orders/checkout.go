package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// pricingConcurrency bounds the catalog calls one checkout makes at once.
const pricingConcurrency = 8

// Hash identifies the request for its idempotency key: SHA-256 of its
// canonical JSON (fixed field order, values as normalised by the API), so
// the same request sent with other spacing or field order matches.
func (r CheckoutRequest) Hash() string {
	type address struct {
		Name       string `json:"name"`
		Line1      string `json:"line1"`
		Line2      string `json:"line2"`
		City       string `json:"city"`
		PostalCode string `json:"postal_code"`
		Country    string `json:"country"`
	}
	b, _ := json.Marshal(struct {
		ShippingAddress address `json:"shipping_address"`
		PaymentToken    string  `json:"payment_token"`
	}{address(r.ShippingAddress), r.PaymentToken})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Checkout turns the user's cart into a pending order at the catalog's
// current prices and empties the cart. The order, its order.placed event,
// the idempotency record and the user's order index are stored in one
// transaction. The same key with the same request returns the order it
// made, without a second one (and empties the cart if a crash left it
// full); with another request it is ErrKeyReused. Concurrent checkouts
// with one key make one order: the idempotency record is a first-write and
// the index is ETag-guarded, so all but one transaction fail and the
// others then find the winner's record. While the saga runs late, Pace
// refuses what it cannot settle as ErrBusy.
func (s *Service) Checkout(ctx context.Context, who Customer, req CheckoutRequest, key string) (Order, error) {
	// Refused before any store work: while the saga is behind, a refusal
	// must cost next to nothing. A client that lost an answer and repeats
	// its checkout gets its order on a later try.
	if s.pace.Shed() {
		return Order{}, ErrBusy
	}
	hash := req.Hash()
	defer s.users.lock(who.UserID)()
	for attempt := range maxAttempts {
		ids, indexETag, err := s.store.OrderIndex(ctx, who.UserID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Order{}, err
		}
		if o, ok, err := s.replay(ctx, who.UserID, key, hash); ok || err != nil {
			return o, err
		}
		cart, _, err := s.carts.Cart(ctx, who.UserID)
		if errors.Is(err, ErrNotFound) || (err == nil && len(cart.Lines) == 0) {
			return Order{}, ErrEmptyCart
		}
		if err != nil {
			return Order{}, err
		}
		lines, err := s.price(ctx, cart)
		if err != nil {
			return Order{}, err
		}
		o, err := s.newOrder(who, req.ShippingAddress, lines)
		if err != nil {
			return Order{}, err
		}
		err = s.store.Place(ctx, Placement{
			Order: o,
			Event: Event{Type: contracts.OrderPlaced, Data: event(o, req.PaymentToken)},
			Idempotency: Idempotency{
				Key: key, OrderID: o.ID, RequestHash: hash, CartID: cart.ID, CreatedAt: o.CreatedAt,
			},
			Index:     append([]string{o.ID}, ids...),
			IndexETag: indexETag,
		})
		if errors.Is(err, ErrConflict) {
			backoff(attempt)
			continue
		}
		if err != nil {
			return Order{}, fmt.Errorf("placing order %s: %w", o.ID, err)
		}
		s.out.Placed()
		return o, s.emptyCart(ctx, who.UserID, cart.ID, o.Lines)
	}
	return Order{}, fmt.Errorf("checkout of %s: %w", who.UserID, ErrConflict)
}

// replay answers a checkout whose key was used before: ok with its order
// when the request is the same (and the cart emptied, in case the first
// call ended before that), ErrKeyReused when not.
func (s *Service) replay(ctx context.Context, userID, key, hash string) (Order, bool, error) {
	rec, err := s.store.Idempotency(ctx, userID, key)
	if errors.Is(err, ErrNotFound) {
		return Order{}, false, nil
	}
	if err != nil {
		return Order{}, false, err
	}
	if rec.RequestHash != hash {
		return Order{}, false, fmt.Errorf("%w: the key made order %s", ErrKeyReused, rec.OrderID)
	}
	o, _, err := s.store.Order(ctx, rec.OrderID)
	if err != nil {
		return Order{}, false, fmt.Errorf("order %s of an idempotency key: %w", rec.OrderID, err)
	}
	return o, true, s.emptyCart(ctx, userID, rec.CartID, o.Lines)
}

// price reads every line's product from the catalog, in parallel. Products
// the catalog no longer knows make ErrProductGone naming them all.
func (s *Service) price(ctx context.Context, c Cart) ([]contracts.OrderLine, error) {
	lines := make([]contracts.OrderLine, len(c.Lines))
	errs := make([]error, len(c.Lines))
	sem := make(chan struct{}, pricingConcurrency)
	var wg sync.WaitGroup
	for i, l := range c.Lines {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := s.catalog.Product(ctx, l.ProductID)
			if err == nil && p.Price.Currency != s.cfg.Currency {
				err = fmt.Errorf("%w: %s costs %s, the shop sells in %s", ErrCurrency, p.ID, p.Price.Currency, s.cfg.Currency)
			}
			lines[i] = contracts.OrderLine{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Quantity: l.Quantity, UnitPrice: p.Price}
			errs[i] = err
		})
	}
	wg.Wait()
	var gone []string
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrUnknownProduct):
			gone = append(gone, c.Lines[i].ProductID)
		case err != nil:
			return nil, fmt.Errorf("pricing %s: %w", c.Lines[i].ProductID, err)
		}
	}
	if len(gone) > 0 {
		return nil, fmt.Errorf("%w: %s (remove them from the cart)", ErrProductGone, strings.Join(gone, ", "))
	}
	return lines, nil
}

func (s *Service) newOrder(who Customer, to Address, lines []contracts.OrderLine) (Order, error) {
	id, err := newID()
	if err != nil {
		return Order{}, err
	}
	now := s.now()
	o := Order{
		ID: id, UserID: who.UserID, Email: who.Email, Status: contracts.StatusPending,
		Lines: lines, Total: contracts.Money{Currency: s.cfg.Currency}, ShippingAddress: to,
		CreatedAt: now, UpdatedAt: now, Timeline: []Change{{Status: contracts.StatusPending, At: now}},
	}
	for _, l := range lines {
		o.Total.Amount += l.Quantity * l.UnitPrice.Amount
	}
	return o, nil
}
