package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Stock is one product's stock record. Available and Reserved never go
// below zero; Version grows by one whenever either changes.
type Stock struct {
	ProductID string `json:"product_id"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
	Version   int64  `json:"version"`
	// Holds maps an order id to the units reserved for it; their sum is
	// Reserved.
	Holds map[string]int64 `json:"holds,omitempty"`
	// Closed maps an order id to when (Unix seconds) its hold ended,
	// released or sold, so that a late attempt to take units for that order
	// is refused.
	Closed    map[string]int64 `json:"closed,omitempty"`
	UpdatedAt time.Time        `json:"updated_at"`
}

func stockKey(productID string) string { return "stock|" + productID }

// Timing of the protocol between reservations and stock records.
const (
	// placeFence bounds how long a placement may take units after reading
	// its reservation; a slower one stops (and its event is redelivered).
	// A placement takes milliseconds; the fence leaves room for retries on
	// a contended record and a loaded machine.
	placeFence = 10 * time.Second
	// closedRetention is how long a stock record remembers an order whose
	// hold ended. It must outlast placeFence by far: a placement that read
	// the reservation before the order closed may still try to take units
	// until its fence ends, and the marker is what refuses it. Every order
	// of the last closedRetention rides in its products' records, which
	// every take reads and writes: at 100 orders/s of one product, 3,000
	// entries.
	closedRetention = 3 * placeFence
)

// Bounds of conflict retries.
const (
	// maxAttempts bounds retries of a reservation or index write.
	maxAttempts = 10
	// maxStockAttempts is higher: a popular product's record is what
	// concurrent checkouts contend for.
	maxStockAttempts = 100
)

// backoff waits a little before retry attempt (0-based), with jitter so
// that contenders do not collide again in lockstep.
func backoff(ctx context.Context, attempt int) error {
	ceiling := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// take is the result of trying to reserve units for an order.
type take int

const (
	taken  take = iota // the units are held for the order now
	short              // not enough units available; nothing changed
	closed             // the order's hold has ended; nothing changed
)

// take holds qty units for order. It reports whether the record changed;
// an order that already holds units keeps them (the take is idempotent).
func (s *Stock) take(order string, qty int64) (take, bool) {
	if _, ok := s.Holds[order]; ok {
		return taken, false
	}
	if _, ok := s.Closed[order]; ok {
		return closed, false
	}
	if s.Available < qty {
		return short, false
	}
	if s.Holds == nil {
		s.Holds = map[string]int64{}
	}
	s.Available -= qty
	s.Reserved += qty
	s.Holds[order] = qty
	return taken, true
}

// end ends order's hold, returning its units to Available unless they were
// sold, and marks the order closed. It reports whether the record changed.
func (s *Stock) end(order string, sold bool, now time.Time) bool {
	qty, held := s.Holds[order]
	if !held {
		if _, ok := s.Closed[order]; ok {
			return false
		}
	} else {
		delete(s.Holds, order)
		s.Reserved -= qty
		if !sold {
			s.Available += qty
		}
	}
	if s.Closed == nil {
		s.Closed = map[string]int64{}
	}
	s.Closed[order] = now.Unix()
	return true
}

// prune forgets closed orders older than closedRetention.
func (s *Stock) prune(now time.Time) {
	for order, at := range s.Closed {
		if now.Sub(time.Unix(at, 0)) > closedRetention {
			delete(s.Closed, order)
		}
	}
}

// event is the stock.changed data for the record.
func (s Stock) event() contracts.StockEvent {
	return contracts.StockEvent{
		ProductID: s.ProductID, Available: s.Available, Reserved: s.Reserved,
		InStock: s.Available > 0, Version: s.Version, At: s.UpdatedAt,
	}
}

// changeStock applies fn to productID's record in an ETag-guarded
// read-modify-write, retried on conflict. fn reports whether it changed the
// record; an unchanged record is not written. Its version grows when its
// counts changed. Callers publish the record after (publishStock) also when
// fn changed nothing, if an earlier attempt of theirs may have changed it
// and failed to publish: consumers drop repeated versions.
func (s *Service) changeStock(ctx context.Context, productID string, fn func(*Stock) bool) (Stock, error) {
	for attempt := range maxStockAttempts {
		var st Stock
		etag, err := s.store.Get(ctx, stockKey(productID), &st)
		if err != nil {
			return Stock{}, fmt.Errorf("reading stock of %s: %w", productID, err)
		}
		before := st
		if !fn(&st) {
			return st, nil
		}
		now := s.now()
		if st.Available != before.Available || st.Reserved != before.Reserved {
			st.Version++
			st.UpdatedAt = now
		}
		st.prune(now)
		err = s.store.Save(ctx, stockKey(productID), st, etag)
		if errors.Is(err, ErrConflict) {
			if err := backoff(ctx, attempt); err != nil {
				return Stock{}, fmt.Errorf("writing stock of %s: %w", productID, err)
			}
			continue
		}
		if err != nil {
			return Stock{}, fmt.Errorf("writing stock of %s: %w", productID, err)
		}
		return st, nil
	}
	return Stock{}, fmt.Errorf("writing stock of %s: %w", productID, ErrConflict)
}

func (s *Service) publishStock(ctx context.Context, st Stock) error {
	if err := s.pub.Publish(ctx, contracts.TopicInventory, contracts.StockChanged, st.ProductID, st.event()); err != nil {
		return fmt.Errorf("publishing stock of %s: %w", st.ProductID, err)
	}
	return nil
}

// Stock returns a product's stock record.
func (s *Service) Stock(ctx context.Context, productID string) (Stock, error) {
	var st Stock
	if _, err := s.store.Get(ctx, stockKey(productID), &st); err != nil {
		return Stock{}, fmt.Errorf("reading stock of %s: %w", productID, err)
	}
	return st, nil
}

// CreateStock gives a new product its record with the configured initial
// stock. It is a first-write, so a redelivered product.created never resets
// stock that has changed since.
func (s *Service) CreateStock(ctx context.Context, productID string) error {
	now := s.now()
	st := Stock{ProductID: productID, Available: s.cfg.InitialStock, Version: 1, UpdatedAt: now}
	err := s.store.Create(ctx, stockKey(productID), st)
	if errors.Is(err, ErrConflict) {
		if _, err := s.store.Get(ctx, stockKey(productID), &st); err != nil {
			return fmt.Errorf("reading stock of %s: %w", productID, err)
		}
	} else if err != nil {
		return fmt.Errorf("creating stock of %s: %w", productID, err)
	}
	return s.publishStock(ctx, st)
}

// SetAvailable sets how many units of a product can be bought; reserved
// units are left as they are. The product must exist in the catalog.
func (s *Service) SetAvailable(ctx context.Context, productID string, available int64) (Stock, error) {
	ok, err := s.catalog.ProductExists(ctx, productID)
	if err != nil {
		return Stock{}, fmt.Errorf("asking the catalog for %s: %w", productID, err)
	}
	if !ok {
		return Stock{}, fmt.Errorf("%w: %s", ErrUnknownProduct, productID)
	}
	for attempt := range maxAttempts {
		st, err := s.changeStock(ctx, productID, func(st *Stock) bool {
			if st.Available == available {
				return false
			}
			st.Available = available
			return true
		})
		if err == nil {
			return st, s.publishStock(ctx, st)
		}
		if !errors.Is(err, ErrNotFound) {
			return Stock{}, err
		}
		st = Stock{ProductID: productID, Available: available, Version: 1, UpdatedAt: s.now()}
		err = s.store.Create(ctx, stockKey(productID), st)
		if errors.Is(err, ErrConflict) {
			if err := backoff(ctx, attempt); err != nil {
				return Stock{}, err
			}
			continue // created meanwhile: set it again
		}
		if err != nil {
			return Stock{}, fmt.Errorf("creating stock of %s: %w", productID, err)
		}
		return st, s.publishStock(ctx, st)
	}
	return Stock{}, fmt.Errorf("setting stock of %s: %w", productID, ErrConflict)
}
