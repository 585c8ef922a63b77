package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// maxAttempts bounds the re-reads after a write lost an ETag race.
const maxAttempts = 8

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Service implements the payment flow of the checkout saga. Every method is
// idempotent: the payment is keyed by order id and every change is an ETag
// write, so redelivered and duplicated events change nothing.
type Service struct {
	store    Store
	provider Provider
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	out      Outcomes
}

// Outcomes is told, once per payment, each final status it reaches
// (captured, failed with the provider's reason, refunded): the platform's
// business metrics.
type Outcomes interface {
	Settled(status Status, reason string)
}

// NewService returns the payment flow over store and provider.
func NewService(store Store, provider Provider, cfg Config, log *slog.Logger, out Outcomes) *Service {
	return &Service{store: store, provider: provider, cfg: cfg, now: func() time.Time { return time.Now().UTC() }, log: log, out: out}
}

// WithClock makes s read the time from now (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

func (in Intent) validate() error {
	switch {
	case in.OrderID == "":
		return fmt.Errorf("%w: no order id", ErrInvalid)
	case in.UserID == "":
		return fmt.Errorf("%w: order %s has no user id", ErrInvalid, in.OrderID)
	case in.Amount.Amount <= 0:
		return fmt.Errorf("%w: order %s has a total of %d", ErrInvalid, in.OrderID, in.Amount.Amount)
	case !currencyPattern.MatchString(in.Amount.Currency):
		return fmt.Errorf("%w: order %s has no ISO 4217 currency", ErrInvalid, in.OrderID)
	}
	return nil
}

// Place records the payment intent of a placed order (order.placed). An
// intent recorded before is left as it is. If the order's stock was
// reserved first, the payment is charged now.
func (s *Service) Place(ctx context.Context, in Intent) error {
	if err := in.validate(); err != nil {
		return err
	}
	for range maxAttempts {
		p, etag, err := s.store.Payment(ctx, in.OrderID)
		switch {
		case errors.Is(err, ErrNotFound):
			p, err = s.newPayment(in.OrderID, StatusPending)
			if err != nil {
				return err
			}
			p.UserID, p.Amount, p.Token = in.UserID, in.Amount, in.Token
			err = s.store.Create(ctx, p)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return fmt.Errorf("recording the payment intent of order %s: %w", in.OrderID, err)
			}
			s.log.InfoContext(ctx, "payment intent recorded", "order_id", in.OrderID, "payment_id", p.ID)
			return nil
		case err != nil:
			return fmt.Errorf("reading the payment of order %s: %w", in.OrderID, err)
		case p.UserID != "":
			return nil // recorded before: a redelivery or a duplicate
		}
		p.UserID, p.Amount, p.UpdatedAt = in.UserID, in.Amount, s.now()
		if p.Status == StatusPending {
			// inventory.reserved came first: record the intent, then charge.
			p.Token = in.Token
		}
		// Otherwise the order's cancellation was handled first (deliveries
		// are concurrent): complete the record for admins, but it stays
		// cancelled and keeps no token, as it will never be charged.
		err = s.store.Save(ctx, p, etag)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("completing the payment of order %s: %w", in.OrderID, err)
		}
		if p.Status == StatusPending {
			s.log.InfoContext(ctx, "payment intent recorded after the reservation", "order_id", in.OrderID, "payment_id", p.ID)
			return s.chargeIfReady(ctx, in.OrderID)
		}
		return nil
	}
	return fmt.Errorf("recording the payment intent of order %s: %w", in.OrderID, ErrConflict)
}

// Charge records that the order's stock is reserved (inventory.reserved)
// and charges the payment if its intent is recorded; if order.placed has
// not arrived yet, Place charges when it does.
func (s *Service) Charge(ctx context.Context, orderID string) error {
	if orderID == "" {
		return fmt.Errorf("%w: no order id", ErrInvalid)
	}
	for range maxAttempts {
		p, etag, err := s.store.Payment(ctx, orderID)
		switch {
		case errors.Is(err, ErrNotFound):
			p, err = s.newPayment(orderID, StatusPending)
			if err != nil {
				return err
			}
			p.StockReserved = true
			err = s.store.Create(ctx, p)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return fmt.Errorf("recording the reservation of order %s: %w", orderID, err)
			}
			s.log.InfoContext(ctx, "stock reserved before the payment intent arrived", "order_id", orderID)
			return nil
		case err != nil:
			return fmt.Errorf("reading the payment of order %s: %w", orderID, err)
		case p.StockReserved:
			return s.chargeIfReady(ctx, orderID)
		}
		p.StockReserved, p.UpdatedAt = true, s.now()
		err = s.store.Save(ctx, p, etag)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("recording the reservation of order %s: %w", orderID, err)
		}
		return s.chargeIfReady(ctx, orderID)
	}
	return fmt.Errorf("recording the reservation of order %s: %w", orderID, ErrConflict)
}

// chargeIfReady charges the order's payment once both its intent and its
// stock reservation are recorded, at most once however often it is called,
// and records payment.succeeded or payment.failed with the outcome.
func (s *Service) chargeIfReady(ctx context.Context, orderID string) error {
	for range maxAttempts {
		p, etag, err := s.store.Payment(ctx, orderID)
		if err != nil {
			return fmt.Errorf("reading the payment of order %s: %w", orderID, err)
		}
		switch p.Status {
		case StatusPending:
			if !p.StockReserved || p.UserID == "" {
				return nil // the other half has not arrived yet
			}
		case StatusCharging:
			if s.leased(p) {
				return fmt.Errorf("order %s: %w", orderID, ErrInProgress)
			}
			s.log.WarnContext(ctx, "taking over a charge whose worker stopped", "order_id", orderID)
		default:
			return nil // charged already, or never to be: cancelled first
		}
		held, err := s.hold(ctx, p, etag, StatusCharging)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		return s.charge(ctx, held)
	}
	return fmt.Errorf("charging order %s: %w", orderID, ErrConflict)
}

// Cancel handles the cancellation of an order (order.cancelled): a payment
// not charged yet is cancelled, so it never will be; a captured one is
// refunded; a failed, cancelled or refunded one is left alone.
func (s *Service) Cancel(ctx context.Context, orderID string) error {
	if orderID == "" {
		return fmt.Errorf("%w: no order id", ErrInvalid)
	}
	for range maxAttempts {
		p, etag, err := s.store.Payment(ctx, orderID)
		switch {
		case errors.Is(err, ErrNotFound):
			// Cancelled before order.placed got here: a cancelled record
			// keeps the later order.placed and inventory.reserved from
			// charging.
			p, err = s.newPayment(orderID, StatusCancelled)
			if err != nil {
				return err
			}
			err = s.store.Create(ctx, p)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return fmt.Errorf("cancelling the payment of order %s: %w", orderID, err)
			}
			s.log.InfoContext(ctx, "payment cancelled before its intent arrived", "order_id", orderID)
			return nil
		case err != nil:
			return fmt.Errorf("reading the payment of order %s: %w", orderID, err)
		}
		switch p.Status {
		case StatusPending:
			p.Status, p.UpdatedAt = StatusCancelled, s.now()
			err := s.store.Save(ctx, p, etag)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return fmt.Errorf("cancelling the payment of order %s: %w", orderID, err)
			}
			s.log.InfoContext(ctx, "payment cancelled before the charge", "order_id", orderID)
			return nil
		case StatusCharging:
			if s.leased(p) {
				return fmt.Errorf("order %s: %w", orderID, ErrInProgress)
			}
			// The worker that began the charge stopped: finish it (the
			// provider answers from its idempotency record if it charged),
			// then look again, to refund what was captured.
			held, err := s.hold(ctx, p, etag, StatusCharging)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.charge(ctx, held); err != nil {
				return err
			}
		case StatusCaptured, StatusRefunding:
			if p.Status == StatusRefunding && s.leased(p) {
				return fmt.Errorf("order %s: %w", orderID, ErrInProgress)
			}
			held, err := s.hold(ctx, p, etag, StatusRefunding)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			return s.refund(ctx, held)
		default:
			return nil // failed, cancelled or refunded: nothing to give back
		}
	}
	return fmt.Errorf("cancelling the payment of order %s: %w", orderID, ErrConflict)
}

// Get returns the payment of an order with the provider's count of charges.
func (s *Service) Get(ctx context.Context, orderID string) (View, error) {
	p, _, err := s.store.Payment(ctx, orderID)
	if err != nil {
		return View{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
	defer cancel()
	n, err := s.provider.Charges(ctx, orderID)
	if err != nil {
		return View{}, fmt.Errorf("counting the charges of order %s: %w", orderID, err)
	}
	return View{Payment: p, Charges: n, Refunded: p.Status == StatusRefunded}, nil
}

func (s *Service) newPayment(orderID string, st Status) (Payment, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Payment{}, fmt.Errorf("new payment id: %w", err)
	}
	now := s.now()
	return Payment{ID: id.String(), OrderID: orderID, Status: st, CreatedAt: now, UpdatedAt: now}, nil
}

// leased reports whether a worker still holds p for a provider call.
func (s *Service) leased(p Payment) bool { return s.now().Before(p.LeaseUntil) }

// hold takes p for a provider call: status st with a fresh lease, written
// with p's ETag so that of concurrent workers exactly one goes on.
func (s *Service) hold(ctx context.Context, p Payment, etag string, st Status) (Payment, error) {
	now := s.now()
	p.Status, p.LeaseUntil, p.UpdatedAt = st, now.Add(s.cfg.Lease), now
	err := s.store.Save(ctx, p, etag)
	if err != nil && !errors.Is(err, ErrConflict) {
		return Payment{}, fmt.Errorf("holding the payment of order %s: %w", p.OrderID, err)
	}
	return p, err
}

// release gives up the lease of held after a failed provider call, so the
// retry need not wait for it to run out. Best effort: the lease also ends
// by itself.
func (s *Service) release(ctx context.Context, held Payment) {
	p, etag, err := s.store.Payment(ctx, held.OrderID)
	if err != nil || p.Status != held.Status || !p.LeaseUntil.Equal(held.LeaseUntil) {
		return // gone, moved on, or taken over
	}
	p.LeaseUntil = time.Time{}
	_ = s.store.Save(ctx, p, etag)
}

// charge calls the provider for a payment held in charging and records the
// outcome with its event. The idempotency key is the order id, so a repeated
// call (after a crash before the outcome was stored) charges nothing more.
func (s *Service) charge(ctx context.Context, held Payment) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
	res, err := s.provider.Charge(pctx, ChargeRequest{
		IdempotencyKey: held.OrderID, OrderID: held.OrderID, Token: held.Token, Amount: held.Amount,
	})
	cancel()
	if err != nil {
		s.release(ctx, held)
		return fmt.Errorf("charging order %s: %w", held.OrderID, err)
	}
	return s.settle(ctx, held.OrderID, StatusCharging, func(p *Payment) {
		// The token has served its purpose: refunds go by charge id.
		p.ChargeID, p.Token = res.ChargeID, ""
		if res.Approved {
			p.Status, p.Reason = StatusCaptured, ""
		} else {
			p.Status, p.Reason = StatusFailed, res.DeclineReason
		}
	})
}

// refund calls the provider for a payment held in refunding and records the
// outcome with payment.refunded; idempotent on the order id like charge.
func (s *Service) refund(ctx context.Context, held Payment) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProviderTimeout)
	res, err := s.provider.Refund(pctx, RefundRequest{
		IdempotencyKey: held.OrderID, OrderID: held.OrderID, ChargeID: held.ChargeID, Amount: held.Amount,
	})
	cancel()
	if err != nil {
		s.release(ctx, held)
		return fmt.Errorf("refunding order %s: %w", held.OrderID, err)
	}
	return s.settle(ctx, held.OrderID, StatusRefunding, func(p *Payment) {
		p.Status, p.RefundID = StatusRefunded, res.RefundID
	})
}

// settle records a provider call's outcome (apply) and its event in one
// transaction, if the payment still waits in status from: a worker that
// took over a lost lease may have recorded the same outcome already.
func (s *Service) settle(ctx context.Context, orderID string, from Status, apply func(*Payment)) error {
	for range maxAttempts {
		p, etag, err := s.store.Payment(ctx, orderID)
		if err != nil {
			return fmt.Errorf("reading the payment of order %s: %w", orderID, err)
		}
		if p.Status != from {
			return nil
		}
		apply(&p)
		p.LeaseUntil, p.UpdatedAt = time.Time{}, s.now()
		ev := eventOf(p)
		err = s.store.SaveAndPublish(ctx, p, etag, ev)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("recording %s for order %s: %w", ev.Type, orderID, err)
		}
		s.log.InfoContext(ctx, "payment "+string(p.Status), "order_id", orderID, "payment_id", p.ID, "reason", p.Reason)
		s.out.Settled(p.Status, p.Reason)
		return nil
	}
	return fmt.Errorf("recording the outcome for order %s: %w", orderID, ErrConflict)
}

// eventOf is the event announcing that p reached its (final) status.
func eventOf(p Payment) Event {
	typ := contracts.PaymentFailed
	switch p.Status {
	case StatusCaptured:
		typ = contracts.PaymentSucceeded
	case StatusRefunded:
		typ = contracts.PaymentRefunded
	}
	return Event{Type: typ, Data: contracts.PaymentEvent{
		PaymentID: p.ID, OrderID: p.OrderID, UserID: p.UserID, Amount: p.Amount, Reason: p.Reason, At: p.UpdatedAt,
	}}
}
