package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/notifications/message"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Module provides the Service and its Config.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	NewService,
)

// maxAttempts bounds retries of a write that lost an ETag race.
const maxAttempts = 5

// recordTimeout bounds the writes that record a send's outcome.
const recordTimeout = 10 * time.Second

// Config tunes delivery.
type Config struct {
	// SendTimeout bounds one call to the mailer.
	SendTimeout time.Duration
	// ClaimLease is how long a claim without a sent e-mail keeps other
	// deliveries of the same notification waiting. After it the claim's
	// owner is taken to have crashed and another delivery sends. It must
	// exceed SendTimeout, and stay well below the time the pub/sub inbound
	// retries of dapr/resources/resiliency.yaml take in all (about 50 s),
	// so a waiting redelivery takes over before it is dead-lettered.
	ClaimLease time.Duration
}

// LoadConfig reads NOTIFICATIONS_SEND_TIMEOUT (default 15s) and
// NOTIFICATIONS_CLAIM_LEASE (default 30s).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		SendTimeout: l.Duration("NOTIFICATIONS_SEND_TIMEOUT", 15*time.Second),
		ClaimLease:  l.Duration("NOTIFICATIONS_CLAIM_LEASE", 30*time.Second),
	}
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	if cfg.SendTimeout <= 0 || cfg.ClaimLease <= cfg.SendTimeout {
		return Config{}, fmt.Errorf("config: NOTIFICATIONS_CLAIM_LEASE (%s) must exceed NOTIFICATIONS_SEND_TIMEOUT (%s) > 0",
			cfg.ClaimLease, cfg.SendTimeout)
	}
	return cfg, nil
}

// Service turns events into e-mails and keeps the notification log.
type Service struct {
	store  Store
	mailer Mailer
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
}

// NewService returns the service over store and mailer.
func NewService(store Store, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	return &Service{store: store, mailer: mailer, cfg: cfg, now: func() time.Time { return time.Now().UTC() }, log: log}
}

// WithClock replaces the service's clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// notice is one notification to deliver.
type notice struct {
	key     string // what it is about; one e-mail per key, ever
	kind    string
	eventID string
	userID  string
	orderID string
	to      string
	email   message.Email
}

// Welcome greets a new account (user.registered).
func (s *Service) Welcome(ctx context.Context, eventID string, u contracts.UserEvent) error {
	if u.ID == "" {
		return fmt.Errorf("%w: user.registered without a user id", ErrInvalidEvent)
	}
	to, err := recipient(u.Email)
	if err != nil {
		return err
	}
	e, err := message.Welcome(u)
	if err != nil {
		return err
	}
	return s.deliver(ctx, notice{key: KindWelcome + "|" + u.ID, kind: KindWelcome, eventID: eventID, userID: u.ID, to: to, email: e})
}

// OrderConfirmed sends the confirmation with the order's lines and total
// (order.confirmed).
func (s *Service) OrderConfirmed(ctx context.Context, eventID string, o contracts.OrderEvent) error {
	return s.order(ctx, eventID, KindOrderConfirmed, o, message.OrderConfirmed)
}

// OrderCancelled tells the shopper why the order was cancelled
// (order.cancelled). It is also the one e-mail about a declined payment:
// orders cancels such an order with reason payment_declined.
func (s *Service) OrderCancelled(ctx context.Context, eventID string, o contracts.OrderEvent) error {
	return s.order(ctx, eventID, KindOrderCancelled, o, message.OrderCancelled)
}

func (s *Service) order(ctx context.Context, eventID, kind string, o contracts.OrderEvent, render func(contracts.OrderEvent) (message.Email, error)) error {
	if o.OrderID == "" || o.UserID == "" {
		return fmt.Errorf("%w: %s event without order or user id", ErrInvalidEvent, kind)
	}
	to, err := recipient(o.Email)
	if err != nil {
		return err
	}
	e, err := render(o)
	if err != nil {
		return err
	}
	return s.deliver(ctx, notice{key: kind + "|" + o.OrderID, kind: kind, eventID: eventID, userID: o.UserID, orderID: o.OrderID, to: to, email: e})
}

// PaymentFailed sends nothing: orders cancels the order with reason
// payment_declined, and that order.cancelled e-mail says so, lists the
// order and tells the shopper nothing was charged. A second e-mail about
// the same checkout would only repeat it, and it could not list the order
// (payment events carry neither lines nor an address). The failure is
// logged so support can tell a declined card from other cancellations.
func (s *Service) PaymentFailed(ctx context.Context, eventID string, p contracts.PaymentEvent) {
	s.log.InfoContext(ctx, "payment failed; the shopper hears of it through the order's cancellation",
		"event_id", eventID, "order_id", p.OrderID, "user_id", p.UserID, "reason", p.Reason)
}

// recipient checks that address is one plain e-mail address. The bindings
// split emailTo at ';', so anything else could reach other mailboxes.
func recipient(address string) (string, error) {
	a, err := mail.ParseAddress(address)
	if err != nil || a.Name != "" || a.Address != address || strings.ContainsAny(address, ";,") {
		return "", fmt.Errorf("%w: %q is not a single e-mail address", ErrInvalidEvent, address)
	}
	return address, nil
}

// deliver sends n's e-mail unless it went out already.
//
// It is at-least-once, deliberately: the delivery is claimed (first-write)
// before sending and marked sent after. A crash between sending and
// marking leaves a claim that, once its lease ends, lets a redelivery send
// again: a rare second e-mail. The other order, marking before sending,
// would lose the e-mail for good on such a crash, and a shopper would
// rather read an order confirmation twice than never.
func (s *Service) deliver(ctx context.Context, n notice) error {
	d, etag, err := s.claim(ctx, n)
	if err != nil {
		return err
	}
	if d.Status == StatusSent {
		// Sent by an earlier delivery; make sure the log shows it (that
		// delivery may have failed after marking).
		s.log.InfoContext(ctx, "notification already sent; nothing to do", "key", n.key, "event_id", n.eventID)
		return s.appendLog(ctx, d)
	}

	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	err = s.mailer.Send(sendCtx, Mail{To: d.To, Subject: n.email.Subject, HTML: n.email.HTML})
	cancel()
	// What follows records the outcome of the send. It must not be cut
	// short when the delivery's context ends (the sidecar gave up waiting):
	// an e-mail that went out but was not marked sent is sent again.
	ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err != nil {
		// Free the claim so the redelivery need not wait out the lease. If
		// that fails too, the lease frees it.
		if rerr := s.store.DeleteDelivery(ctx, n.key, etag); rerr != nil {
			s.log.WarnContext(ctx, "could not release the claim of an unsent notification", "key", n.key, "err", rerr)
		}
		return fmt.Errorf("sending %s e-mail %s: %w", n.kind, d.NotificationID, err)
	}

	d.Status, d.SentAt = StatusSent, s.now()
	if _, err := s.store.SaveDelivery(ctx, n.key, d, etag); err != nil {
		if errors.Is(err, ErrConflict) {
			// The lease ran out while sending and another delivery took
			// over: it sends (again) and logs.
			s.log.WarnContext(ctx, "claim taken over while sending; the notification may arrive twice", "key", n.key)
			return nil
		}
		return fmt.Errorf("marking %s sent: %w", n.key, err)
	}
	s.log.InfoContext(ctx, "notification sent", "kind", n.kind, "notification_id", d.NotificationID,
		"user_id", d.UserID, "order_id", d.OrderID, "event_id", n.eventID, "attempts", d.Attempts)
	return s.appendLog(ctx, d)
}

// claim makes this delivery the one that sends n, or returns the delivery
// already marked sent, or ErrInFlight while another holds a fresh claim.
func (s *Service) claim(ctx context.Context, n notice) (Delivery, string, error) {
	for range maxAttempts {
		now := s.now()
		id, err := uuid.NewV7()
		if err != nil {
			return Delivery{}, "", fmt.Errorf("new notification id: %w", err)
		}
		d := Delivery{
			NotificationID: id.String(), EventID: n.eventID, Kind: n.kind, UserID: n.userID, OrderID: n.orderID,
			To: n.to, Subject: n.email.Subject, Text: n.email.Text, Status: StatusSending, Attempts: 1, ClaimedAt: now,
		}
		etag, err := s.store.CreateDelivery(ctx, n.key, d)
		if err == nil {
			return d, etag, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Delivery{}, "", fmt.Errorf("claiming %s: %w", n.key, err)
		}

		held, etag, err := s.store.Delivery(ctx, n.key)
		switch {
		case errors.Is(err, ErrNotFound):
			continue // released meanwhile
		case err != nil:
			return Delivery{}, "", fmt.Errorf("reading claim %s: %w", n.key, err)
		case held.Status == StatusSent:
			return held, etag, nil
		case now.Sub(held.ClaimedAt) < s.cfg.ClaimLease:
			return Delivery{}, "", fmt.Errorf("%s (claimed %s ago): %w", n.key, now.Sub(held.ClaimedAt).Round(time.Millisecond), ErrInFlight)
		}
		// A stale claim: its delivery crashed or hung, and whether its
		// e-mail went out is unknown. Take over and send (at-least-once),
		// keeping the notification's id.
		held.EventID, held.ClaimedAt, held.Attempts = n.eventID, now, held.Attempts+1
		etag, err = s.store.SaveDelivery(ctx, n.key, held, etag)
		if err == nil {
			s.log.WarnContext(ctx, "taking over a stale claim; the notification may arrive twice", "key", n.key, "attempt", held.Attempts)
			return held, etag, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Delivery{}, "", fmt.Errorf("taking over claim %s: %w", n.key, err)
		}
	}
	return Delivery{}, "", fmt.Errorf("claiming %s: %w", n.key, ErrConflict)
}

// appendLog adds d to its user's log unless it is there, newest first.
func (s *Service) appendLog(ctx context.Context, d Delivery) error {
	for attempt := range maxAttempts {
		if attempt > 0 {
			// A user's events arrive together (a batch handles its entries
			// at once): spread the rounds so they do not collide again.
			time.Sleep(rand.N(time.Duration(attempt) * 5 * time.Millisecond))
		}
		entries, etag, err := s.store.Log(ctx, d.UserID)
		if err != nil {
			return fmt.Errorf("reading the log of user %s: %w", d.UserID, err)
		}
		if slices.ContainsFunc(entries, func(e Entry) bool { return e.ID == d.NotificationID }) {
			return nil
		}
		entries = append(entries, d.entry())
		// Redeliveries can log an older notification after a newer one.
		slices.SortStableFunc(entries, func(a, b Entry) int {
			return cmp.Or(b.SentAt.Compare(a.SentAt), strings.Compare(b.ID, a.ID))
		})
		if len(entries) > MaxLogEntries {
			entries = entries[:MaxLogEntries]
		}
		err = s.store.SaveLog(ctx, d.UserID, entries, etag)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConflict) {
			return fmt.Errorf("writing the log of user %s: %w", d.UserID, err)
		}
	}
	return fmt.Errorf("writing the log of user %s: %w", d.UserID, ErrConflict)
}

// List returns the user's notifications, newest first.
func (s *Service) List(ctx context.Context, userID string) ([]Entry, error) {
	entries, _, err := s.store.Log(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("reading the log of user %s: %w", userID, err)
	}
	return entries, nil
}
