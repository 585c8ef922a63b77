package orders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// maxAttempts bounds retries of a write that lost an ETag race.
const maxAttempts = 10

// Service implements the orders use cases.
type Service struct {
	carts   CartStore
	store   Store
	catalog Catalog
	cfg     Config
	now     Clock
	log     *slog.Logger
	out     Outcomes
	pace    *Pace
	users   userLocks
}

// Outcomes is told, once per order, what became of it: the platform's
// business metrics.
type Outcomes interface {
	Placed()
	// Settled: status confirmed, or cancelled with a reason, after the
	// time since the order was placed.
	Settled(status, reason string, after time.Duration)
}

// NewService returns the orders domain over its stores and the catalog.
func NewService(carts CartStore, store Store, catalog Catalog, cfg Config, now Clock, log *slog.Logger, out Outcomes) *Service {
	return &Service{carts: carts, store: store, catalog: catalog, cfg: cfg, now: now, log: log, out: out,
		pace: NewPace(cfg.Pace, now)}
}

// Orders lists the user's orders, newest first.
func (s *Service) Orders(ctx context.Context, userID string) ([]Order, error) {
	ids, _, err := s.store.OrderIndex(ctx, userID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	list, err := s.store.Orders(ctx, ids)
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(o Order) bool { return o.UserID != userID })
	slices.SortFunc(list, func(a, b Order) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return list, nil
}

// Order returns one of the user's orders; another user's is ErrNotFound.
func (s *Service) Order(ctx context.Context, userID, id string) (Order, error) {
	o, _, err := s.store.Order(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if o.UserID != userID {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// Cancel cancels one of the user's orders while it is pending
// (ErrNotPending afterwards).
func (s *Service) Cancel(ctx context.Context, userID, id string) (Order, error) {
	return s.settle(ctx, id, userID, contracts.StatusCancelled, contracts.ReasonCancelledByCustomer)
}

// Resolve applies a saga outcome to a pending order: status confirmed, or
// cancelled with a reason. An order that is no longer pending stays as it is
// (a repeated or late event, or a payment for an order already cancelled,
// which payments refunds on order.cancelled): that is not an error.
func (s *Service) Resolve(ctx context.Context, id, status, reason string) error {
	o, err := s.settle(ctx, id, "", status, reason)
	if errors.Is(err, ErrNotPending) {
		s.log.InfoContext(ctx, "order already settled; event changes nothing",
			"order_id", id, "status", o.Status, "wanted", status, "reason", reason)
		return nil
	}
	return err
}

// settle moves a pending order to status, appends the change to its
// timeline and publishes order.confirmed or order.cancelled with it. With
// owner set, only that user's order is found.
func (s *Service) settle(ctx context.Context, id, owner, status, reason string) (Order, error) {
	typ := contracts.OrderConfirmed
	if status == contracts.StatusCancelled {
		typ = contracts.OrderCancelled
	}
	for attempt := range maxAttempts {
		o, etag, err := s.store.Order(ctx, id)
		if err != nil {
			return Order{}, err
		}
		if owner != "" && o.UserID != owner {
			return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
		}
		if o.Status != contracts.StatusPending {
			return o, fmt.Errorf("order %s is %s: %w", id, o.Status, ErrNotPending)
		}
		now := s.now()
		o.Status, o.Reason, o.UpdatedAt = status, reason, now
		o.Timeline = append(o.Timeline, Change{Status: status, At: now, Reason: reason})
		err = s.store.Update(ctx, o, etag, Event{Type: typ, Data: event(o, "")})
		if errors.Is(err, ErrConflict) {
			backoff(attempt)
			continue
		}
		if err != nil {
			return Order{}, fmt.Errorf("storing order %s: %w", id, err)
		}
		s.out.Settled(status, reason, now.Sub(o.CreatedAt))
		if owner == "" { // the saga's outcome, not a shopper's cancel
			s.pace.Settled(now.Sub(o.CreatedAt))
		}
		return o, nil
	}
	return Order{}, fmt.Errorf("settling order %s: %w", id, ErrConflict)
}

// event is the data of the order's current event. The payment token goes
// on order.placed only.
func event(o Order, paymentToken string) contracts.OrderEvent {
	return contracts.OrderEvent{
		OrderID: o.ID, UserID: o.UserID, Email: o.Email, Name: o.ShippingAddress.Name,
		Lines: o.Lines, Total: o.Total, PaymentToken: paymentToken,
		Status: o.Status, Reason: o.Reason, At: o.UpdatedAt,
	}
}

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}

// backoff waits a little before the next attempt of a write that lost a
// race, with jitter, so that contenders do not collide again in step.
func backoff(attempt int) {
	time.Sleep(rand.N(time.Duration(attempt+1) * 2 * time.Millisecond))
}

// userLocks serialises one user's own cart changes and checkouts within
// this instance (a double click, two tabs); different shoppers never wait
// for each other. Across instances the stores' ETags and first-writes
// decide; the lock only spares a user's requests the reads and writes of
// rounds they would lose.
type userLocks struct {
	mu sync.Mutex
	m  map[string]*userLock
}

type userLock struct {
	sync.Mutex
	waiters int
}

func (l *userLocks) lock(userID string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*userLock{}
	}
	ul := l.m[userID]
	if ul == nil {
		ul = &userLock{}
		l.m[userID] = ul
	}
	ul.waiters++
	l.mu.Unlock()
	ul.Lock()
	return func() {
		ul.Unlock()
		l.mu.Lock()
		if ul.waiters--; ul.waiters == 0 {
			delete(l.m, userID)
		}
		l.mu.Unlock()
	}
}

// Module provides the Service, its configuration and the system clock.
var Module = fx.Provide(NewService, loadConfig, SystemClock)
