package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Status is where a reservation stands.
type Status string

// Reservation statuses. Reserving and Reserved are open (the sweep may
// expire them); the others are final.
const (
	// StatusReserving: the order's lines are being taken.
	StatusReserving Status = "reserving"
	// StatusReserved: every line is held; inventory.reserved was published.
	StatusReserved Status = "reserved"
	// StatusRejected: a line lacked stock; what was taken is given back.
	StatusRejected Status = "rejected"
	// StatusCommitted: the order was confirmed; its units are sold.
	StatusCommitted Status = "committed"
	// StatusCancelled: the order was cancelled; its units are given back. A
	// cancellation that comes first leaves this as a tombstone, so the
	// order's placement reserves nothing.
	StatusCancelled Status = "cancelled"
	// StatusExpired: the order did not finish within the reservation TTL;
	// its units are given back.
	StatusExpired Status = "expired"
)

// Reservation is an order's claim on stock, keyed by order id.
type Reservation struct {
	OrderID string `json:"order_id"`
	Status  Status `json:"status"`
	Lines   []Line `json:"lines"`
	// Reason and ProductID say why a reservation was rejected.
	Reason    string    `json:"reason,omitempty"`
	ProductID string    `json:"product_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func reservationKey(orderID string) string { return "reservation|" + orderID }

// Reservation returns an order's reservation.
func (s *Service) Reservation(ctx context.Context, orderID string) (Reservation, error) {
	r, _, err := s.reservation(ctx, orderID)
	return r, err
}

func (s *Service) reservation(ctx context.Context, orderID string) (Reservation, string, error) {
	var r Reservation
	etag, err := s.store.Get(ctx, reservationKey(orderID), &r)
	if err != nil {
		return Reservation{}, "", fmt.Errorf("reading reservation of order %s: %w", orderID, err)
	}
	return r, etag, nil
}

// moveTo writes r with a new status, guarded by etag. It reports false
// when r changed meanwhile: the caller reads it again.
func (s *Service) moveTo(ctx context.Context, r *Reservation, etag string, status Status) (bool, error) {
	r.Status, r.UpdatedAt = status, s.now()
	err := s.store.Save(ctx, reservationKey(r.OrderID), *r, etag)
	if errors.Is(err, ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("writing reservation of order %s: %w", r.OrderID, err)
	}
	return true, nil
}

// Place reserves all lines of a placed order or none, and publishes
// inventory.reserved or inventory.rejected after the outcome is stored.
// Redelivery resumes where an earlier attempt stopped, and a repeated
// event publishes the stored outcome again without touching stock.
func (s *Service) Place(ctx context.Context, o Order) error {
	lines, err := o.lines()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, placeFence)
	defer cancel()
	for range maxAttempts {
		r, etag, err := s.reservation(ctx, o.ID)
		if errors.Is(err, ErrNotFound) {
			now := s.now()
			r = Reservation{OrderID: o.ID, Status: StatusReserving, Lines: lines, CreatedAt: now, UpdatedAt: now}
			if err := s.store.Create(ctx, reservationKey(o.ID), r); err != nil && !errors.Is(err, ErrConflict) {
				return fmt.Errorf("creating reservation of order %s: %w", o.ID, err)
			}
			continue // read it back for its ETag (or another handler's record)
		}
		if err != nil {
			return err
		}
		done, err := s.advancePlacement(ctx, r, etag)
		if done || err != nil {
			return err
		}
	}
	return fmt.Errorf("placing order %s: %w", o.ID, ErrConflict)
}

// advancePlacement takes a placement one step on from r. It reports false
// when the reservation changed meanwhile and must be read again.
func (s *Service) advancePlacement(ctx context.Context, r Reservation, etag string) (bool, error) {
	switch r.Status {
	case StatusReserving:
		if err := s.index(ctx, r); err != nil {
			return false, err
		}
		outcome, productID, err := s.takeAll(ctx, r)
		if err != nil || outcome == closed {
			return false, err
		}
		next := StatusReserved
		if outcome == short {
			next, r.Reason, r.ProductID = StatusRejected, contracts.ReasonOutOfStock, productID
		}
		if ok, err := s.moveTo(ctx, &r, etag, next); !ok {
			return false, err
		}
		s.out.Reservation(next, r.Reason)
		return true, s.announce(ctx, r)
	case StatusReserved, StatusRejected:
		return true, s.announce(ctx, r)
	case StatusCancelled, StatusExpired:
		// The order ended while (or before) it was placed; a take of ours
		// that raced the release may still hold units.
		return true, s.releaseAll(ctx, r)
	case StatusCommitted:
		return true, nil
	default:
		return false, fmt.Errorf("reservation of order %s has unknown status %q", r.OrderID, r.Status)
	}
}

// takeAll takes r's lines in order. It stops at the first line that lacks
// stock (short, with its product) or that is closed for the order. A line
// found short or closed was not changed by this placement, so only held
// lines are published.
func (s *Service) takeAll(ctx context.Context, r Reservation) (take, string, error) {
	for _, l := range r.Lines {
		var res take
		st, err := s.changeStock(ctx, l.ProductID, func(st *Stock) bool {
			var changed bool
			res, changed = st.take(r.OrderID, l.Quantity)
			return changed
		})
		if errors.Is(err, ErrNotFound) {
			return short, l.ProductID, nil // a product without stock has none
		}
		if err != nil {
			return 0, "", err
		}
		if res != taken {
			return res, l.ProductID, nil
		}
		if err := s.publishStock(ctx, st); err != nil {
			return 0, "", err
		}
	}
	return taken, "", nil
}

// announce publishes the stored outcome of a placement; a rejection first
// gives back whatever was taken.
func (s *Service) announce(ctx context.Context, r Reservation) error {
	ev := contracts.ReservationEvent{OrderID: r.OrderID, At: r.UpdatedAt}
	typ := contracts.InventoryReserved
	if r.Status == StatusRejected {
		if err := s.releaseAll(ctx, r); err != nil {
			return err
		}
		typ, ev.Reason, ev.ProductID = contracts.InventoryRejected, r.Reason, r.ProductID
		s.log.InfoContext(ctx, "order rejected: out of stock", "order_id", r.OrderID, "product_id", r.ProductID)
	}
	if err := s.pub.Publish(ctx, contracts.TopicInventory, typ, r.OrderID, ev); err != nil {
		return fmt.Errorf("publishing %s of order %s: %w", typ, r.OrderID, err)
	}
	return nil
}

// releaseAll gives back the units every line holds for r's order and
// closes the order on each product, so no late take can hold units again.
func (s *Service) releaseAll(ctx context.Context, r Reservation) error {
	return s.endAll(ctx, r, false)
}

// commitAll removes the units every line holds for r's order: sold.
func (s *Service) commitAll(ctx context.Context, r Reservation) error {
	return s.endAll(ctx, r, true)
}

func (s *Service) endAll(ctx context.Context, r Reservation, sold bool) error {
	for _, l := range r.Lines {
		st, err := s.changeStock(ctx, l.ProductID, func(st *Stock) bool {
			return st.end(r.OrderID, sold, s.now())
		})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.publishStock(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// Confirm commits a confirmed order's reservation: its units are sold.
func (s *Service) Confirm(ctx context.Context, orderID string) error {
	if orderID == "" {
		return fmt.Errorf("%w: no order id", ErrInvalid)
	}
	for range maxAttempts {
		r, etag, err := s.reservation(ctx, orderID)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: order %s was confirmed but never reserved", ErrInvalid, orderID)
		}
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusReserving:
			return fmt.Errorf("order %s was confirmed while its reservation is still being made", orderID)
		case StatusReserved:
			if ok, err := s.moveTo(ctx, &r, etag, StatusCommitted); !ok {
				if err != nil {
					return err
				}
				continue
			}
			return s.commitAll(ctx, r)
		case StatusCommitted:
			return s.commitAll(ctx, r) // finishes an interrupted commit
		default:
			// The units went back to stock before the confirmation arrived
			// (the sweep expired the reservation, most likely): they are
			// not taken again behind other orders' backs.
			s.log.WarnContext(ctx, "order confirmed after its reservation ended; stock left as is",
				"order_id", orderID, "status", r.Status)
			return nil
		}
	}
	return fmt.Errorf("confirming order %s: %w", orderID, ErrConflict)
}

// Cancel releases a cancelled order's reservation. A cancellation that
// arrives before the order's placement leaves a tombstone, so the
// placement reserves nothing when it comes.
func (s *Service) Cancel(ctx context.Context, o Order) error {
	if o.ID == "" {
		return fmt.Errorf("%w: no order id", ErrInvalid)
	}
	for range maxAttempts {
		r, etag, err := s.reservation(ctx, o.ID)
		if errors.Is(err, ErrNotFound) {
			lines, _ := o.lines() // informative only: nothing was taken
			now := s.now()
			tomb := Reservation{OrderID: o.ID, Status: StatusCancelled, Lines: lines, CreatedAt: now, UpdatedAt: now}
			err := s.store.Create(ctx, reservationKey(o.ID), tomb)
			if errors.Is(err, ErrConflict) {
				continue // the placement got there first
			}
			if err != nil {
				return fmt.Errorf("writing tombstone of order %s: %w", o.ID, err)
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusReserving, StatusReserved:
			if ok, err := s.moveTo(ctx, &r, etag, StatusCancelled); !ok {
				if err != nil {
					return err
				}
				continue
			}
			return s.releaseAll(ctx, r)
		case StatusCancelled, StatusExpired, StatusRejected:
			return s.releaseAll(ctx, r) // finishes an interrupted release
		default:
			s.log.WarnContext(ctx, "order cancelled after its units were sold; stock left as is", "order_id", o.ID)
			return nil
		}
	}
	return fmt.Errorf("cancelling order %s: %w", o.ID, ErrConflict)
}
