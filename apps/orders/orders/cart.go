package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Total is the sum of the cart's lines, in currency (an empty cart's total
// is zero in the shop's currency).
func (c Cart) Total(currency string) contracts.Money {
	total := contracts.Money{Currency: currency}
	for _, l := range c.Lines {
		total.Amount += l.Quantity * l.UnitPrice.Amount
	}
	return total
}

// Cart returns the user's cart; a user without one has an empty cart.
func (s *Service) Cart(ctx context.Context, userID string) (Cart, error) {
	c, _, err := s.carts.Cart(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return Cart{}, nil
	}
	return c, err
}

// AddItem adds quantity of a product to the user's cart at the catalog's
// current price; a product already in the cart gets the quantities added.
func (s *Service) AddItem(ctx context.Context, userID, productID string, quantity int64) (Cart, error) {
	if quantity < 1 || quantity > MaxQuantity {
		return Cart{}, fmt.Errorf("%w: %d is not within 1..%d", ErrQuantity, quantity, MaxQuantity)
	}
	p, err := s.catalog.Product(ctx, productID)
	if err != nil {
		return Cart{}, err
	}
	if p.Price.Currency != s.cfg.Currency {
		return Cart{}, fmt.Errorf("%w: %s costs %s, the shop sells in %s", ErrCurrency, p.ID, p.Price.Currency, s.cfg.Currency)
	}
	return s.changeCart(ctx, userID, func(c *Cart) (bool, error) {
		i := slices.IndexFunc(c.Lines, func(l CartLine) bool { return l.ProductID == p.ID })
		if i < 0 {
			if len(c.Lines) >= MaxLines {
				return false, fmt.Errorf("%w: it holds %d products", ErrCartFull, MaxLines)
			}
			c.Lines = append(c.Lines, CartLine{ProductID: p.ID, Quantity: quantity, UnitPrice: p.Price})
			return true, nil
		}
		if sum := c.Lines[i].Quantity + quantity; sum > MaxQuantity {
			return false, fmt.Errorf("%w: the cart holds %d of %s, adding %d makes %d, more than %d",
				ErrQuantity, c.Lines[i].Quantity, p.ID, quantity, sum, MaxQuantity)
		}
		c.Lines[i].Quantity += quantity
		c.Lines[i].UnitPrice = p.Price
		return true, nil
	})
}

// RemoveItem removes a product's line from the user's cart; removing a
// product that is not in it changes nothing.
func (s *Service) RemoveItem(ctx context.Context, userID, productID string) (Cart, error) {
	return s.changeCart(ctx, userID, func(c *Cart) (bool, error) {
		n := len(c.Lines)
		c.Lines = slices.DeleteFunc(c.Lines, func(l CartLine) bool { return l.ProductID == productID })
		return len(c.Lines) != n, nil
	})
}

// changeCart applies change to the user's current cart and stores the
// result with the ETag it was read with, re-reading and re-applying when
// another writer got there first. A change that reports false is not
// written (and does not renew the cart's expiry).
func (s *Service) changeCart(ctx context.Context, userID string, change func(*Cart) (bool, error)) (Cart, error) {
	defer s.users.lock(userID)()
	for attempt := range maxAttempts {
		c, etag, err := s.carts.Cart(ctx, userID)
		switch {
		case errors.Is(err, ErrNotFound):
			if c.ID, err = newID(); err != nil {
				return Cart{}, err
			}
		case err != nil:
			return Cart{}, err
		}
		changed, err := change(&c)
		if err != nil || !changed {
			return c, err
		}
		c.UpdatedAt = s.now()
		err = s.carts.SaveCart(ctx, userID, c, etag)
		if errors.Is(err, ErrConflict) {
			backoff(attempt)
			continue
		}
		if err != nil {
			return Cart{}, fmt.Errorf("storing the cart of %s: %w", userID, err)
		}
		return c, nil
	}
	return Cart{}, fmt.Errorf("changing the cart of %s: %w", userID, ErrConflict)
}

// emptyCart takes an order's lines out of the cart generation cartID, and
// stores what is left (usually nothing) as a new generation. It is
// idempotent: when that generation is gone (emptied before, or expired) it
// does nothing, so lines added after checkout read the cart stay. The cart
// is rewritten rather than deleted because Redis lets an ETag-guarded write
// recreate a deleted key: a change racing from another instance would bring
// the ordered lines back.
func (s *Service) emptyCart(ctx context.Context, userID, cartID string, lines []contracts.OrderLine) error {
	for attempt := range maxAttempts {
		c, etag, err := s.carts.Cart(ctx, userID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.ID != cartID {
			return nil
		}
		for _, ol := range lines {
			if i := slices.IndexFunc(c.Lines, func(l CartLine) bool { return l.ProductID == ol.ProductID }); i >= 0 {
				c.Lines[i].Quantity -= ol.Quantity
			}
		}
		c.Lines = slices.DeleteFunc(c.Lines, func(l CartLine) bool { return l.Quantity <= 0 })
		if c.ID, err = newID(); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		err = s.carts.SaveCart(ctx, userID, c, etag)
		if errors.Is(err, ErrConflict) {
			backoff(attempt)
			continue
		}
		if err != nil {
			return fmt.Errorf("emptying the cart of %s: %w", userID, err)
		}
		return nil
	}
	return fmt.Errorf("emptying the cart of %s: %w", userID, ErrConflict)
}
