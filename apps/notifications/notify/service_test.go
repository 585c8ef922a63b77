package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/apps/notifications/notifytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

type harness struct {
	svc    *notify.Service
	store  *notifytest.Store
	mailer *notifytest.Mailer
	now    time.Time
	mu     sync.Mutex
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{store: notifytest.NewStore(), mailer: &notifytest.Mailer{}, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	cfg := notify.Config{SendTimeout: time.Second, ClaimLease: 30 * time.Second}
	h.svc = notify.NewService(h.store, h.mailer, cfg, slog.New(slog.DiscardHandler)).WithClock(func() time.Time {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.now
	})
	return h
}

func usd(n int64) contracts.Money { return contracts.Money{Amount: n, Currency: "USD"} }

func orderEvent(orderID, userID string) contracts.OrderEvent {
	return contracts.OrderEvent{
		OrderID: orderID, UserID: userID, Email: userID + "@example.com", Name: "Ann",
		Lines:  []contracts.OrderLine{{ProductID: "p1", SKU: "MUG", Name: "Mug", Quantity: 3, UnitPrice: usd(1999)}},
		Total:  usd(5997),
		Status: contracts.StatusConfirmed,
	}
}

func TestOrderConfirmedSendsTheConfirmationAndLogsIt(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-1", orderEvent("o1", "u1")))

	sent := h.mailer.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "u1@example.com", sent[0].To)
	assert.Equal(t, "Your ShopMesh order o1 is confirmed", sent[0].Subject)
	assert.Contains(t, sent[0].HTML, "$59.97")

	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, notify.KindOrderConfirmed, items[0].Kind)
	assert.Equal(t, "o1", items[0].OrderID)
	assert.Equal(t, sent[0].Subject, items[0].Subject)
	assert.Equal(t, h.now, items[0].SentAt)
	assert.NotEmpty(t, items[0].ID)

	d, _, err := h.store.Delivery(ctx, "order_confirmed|o1")
	require.NoError(t, err)
	assert.Equal(t, notify.StatusSent, d.Status)
	assert.Equal(t, items[0].ID, d.NotificationID)
	assert.Contains(t, d.Text, "Total: $59.97", "the plain-text body is kept as the record")
}

func TestRedeliveredOrDuplicatedEventsSendOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	u := contracts.UserEvent{ID: "u1", Email: "u1@example.com", Name: "Ann"}
	o := orderEvent("o1", "u1")

	for range 3 {
		require.NoError(t, h.svc.Welcome(ctx, "ev-welcome", u), "redelivery, same event id")
		require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-confirm", o))
	}
	// The same fact published again under a new event id (a producer that
	// retried its publish) is the same notification.
	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-confirm-again", o))
	assert.Len(t, h.mailer.Sent(), 2)

	// A different fact about the same order is a new notification.
	o.Status, o.Reason = contracts.StatusCancelled, contracts.ReasonCancelledByCustomer
	require.NoError(t, h.svc.OrderCancelled(ctx, "ev-cancel", o))
	require.NoError(t, h.svc.OrderCancelled(ctx, "ev-cancel", o))
	assert.Len(t, h.mailer.Sent(), 3)

	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, items, 3)
}

func TestConcurrentDuplicatesSendOnce(t *testing.T) {
	h := newHarness(t)
	o := orderEvent("o1", "u1")
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { errs[i] = h.svc.OrderConfirmed(context.Background(), "ev-1", o) })
	}
	wg.Wait()
	assert.Len(t, h.mailer.Sent(), 1)
	for _, err := range errs {
		// A duplicate that met the claim of the one sending is retried
		// later (and then finds it sent).
		if err != nil {
			assert.ErrorIs(t, err, notify.ErrInFlight)
		}
	}
	require.NoError(t, h.svc.OrderConfirmed(context.Background(), "ev-1", o))
	assert.Len(t, h.mailer.Sent(), 1)
}

func TestAFailedSendIsRetriedWithoutWaitingForTheLease(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	o := orderEvent("o1", "u1")

	h.mailer.Fail = errors.New("smtp: connection refused")
	require.Error(t, h.svc.OrderConfirmed(ctx, "ev-1", o))
	assert.Empty(t, h.mailer.Sent())
	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	assert.Empty(t, items, "nothing is logged that was not sent")

	h.mailer.Fail = nil
	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-1", o), "the claim was released")
	assert.Len(t, h.mailer.Sent(), 1)
}

// The crash window: the e-mail went out but could not be marked sent.
// Within the lease a redelivery waits; after it, it sends again
// (at-least-once) and the log still holds the notification once.
func TestCrashAfterSendingIsAtLeastOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	o := orderEvent("o1", "u1")

	h.store.FailSaveDelivery = errors.New("store down")
	require.Error(t, h.svc.OrderConfirmed(ctx, "ev-1", o))
	require.Len(t, h.mailer.Sent(), 1)
	h.store.FailSaveDelivery = nil

	h.advance(10 * time.Second)
	require.ErrorIs(t, h.svc.OrderConfirmed(ctx, "ev-1", o), notify.ErrInFlight)
	assert.Len(t, h.mailer.Sent(), 1)

	h.advance(25 * time.Second)
	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-1", o))
	assert.Len(t, h.mailer.Sent(), 2)

	d, _, err := h.store.Delivery(ctx, "order_confirmed|o1")
	require.NoError(t, err)
	assert.Equal(t, 2, d.Attempts)
	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, d.NotificationID, items[0].ID, "the takeover keeps the notification's id")

	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-1", o))
	assert.Len(t, h.mailer.Sent(), 2, "sent now; never again")
}

// The sidecar gives up on the delivery just as the e-mail went out: the
// send is still recorded, so the redelivery sends nothing.
func TestASentEmailIsRecordedEvenWhenTheDeliveryIsAbandoned(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	h.mailer.AfterSend = cancel
	require.NoError(t, h.svc.OrderConfirmed(ctx, "ev-1", orderEvent("o1", "u1")))

	d, _, err := h.store.Delivery(context.Background(), "order_confirmed|o1")
	require.NoError(t, err)
	assert.Equal(t, notify.StatusSent, d.Status)
	items, err := h.svc.List(context.Background(), "u1")
	require.NoError(t, err)
	assert.Len(t, items, 1)
	require.NoError(t, h.svc.OrderConfirmed(context.Background(), "ev-1", orderEvent("o1", "u1")))
	assert.Len(t, h.mailer.Sent(), 1)
}

func TestTheLogShowsOnlyTheCallersNotificationsNewestFirst(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	require.NoError(t, h.svc.Welcome(ctx, "e1", contracts.UserEvent{ID: "u1", Email: "u1@example.com"}))
	h.advance(time.Minute)
	require.NoError(t, h.svc.Welcome(ctx, "e2", contracts.UserEvent{ID: "u2", Email: "u2@example.com"}))
	h.advance(time.Minute)
	require.NoError(t, h.svc.OrderConfirmed(ctx, "e3", orderEvent("o1", "u1")))
	h.advance(time.Minute)
	require.NoError(t, h.svc.OrderConfirmed(ctx, "e4", orderEvent("o2", "u2")))

	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Equal(t, notify.KindOrderConfirmed, items[0].Kind)
	assert.Equal(t, "o1", items[0].OrderID)
	assert.Equal(t, notify.KindWelcome, items[1].Kind)
	assert.Empty(t, items[1].OrderID)
	assert.True(t, items[0].SentAt.After(items[1].SentAt))

	items, err = h.svc.List(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, items)
}

func TestTheLogKeepsTheNewestEntries(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for i := range notify.MaxLogEntries + 5 {
		h.advance(time.Second)
		require.NoError(t, h.svc.OrderConfirmed(ctx, fmt.Sprint("e", i), orderEvent(fmt.Sprint("o", i), "u1")))
	}
	items, err := h.svc.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, items, notify.MaxLogEntries)
	assert.Equal(t, fmt.Sprint("o", notify.MaxLogEntries+4), items[0].OrderID)
	assert.Equal(t, "o5", items[len(items)-1].OrderID)
}

func TestEventsThatCanNeverBeSentAreInvalid(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, email := range []string{"", "not-an-address", "a@example.com;victim@example.com", "a@example.com, b@example.com", "Ann <a@example.com>"} {
		o := orderEvent("o1", "u1")
		o.Email = email
		assert.ErrorIs(t, h.svc.OrderConfirmed(ctx, "e", o), notify.ErrInvalidEvent, "%q", email)
		assert.ErrorIs(t, h.svc.Welcome(ctx, "e", contracts.UserEvent{ID: "u1", Email: email}), notify.ErrInvalidEvent, "%q", email)
	}
	assert.ErrorIs(t, h.svc.OrderCancelled(ctx, "e", orderEvent("", "u1")), notify.ErrInvalidEvent)
	assert.ErrorIs(t, h.svc.OrderCancelled(ctx, "e", orderEvent("o1", "")), notify.ErrInvalidEvent)
	assert.ErrorIs(t, h.svc.Welcome(ctx, "e", contracts.UserEvent{Email: "a@example.com"}), notify.ErrInvalidEvent)
	assert.Empty(t, h.mailer.Sent())
}

func TestPaymentFailedSendsNothing(t *testing.T) {
	h := newHarness(t)
	h.svc.PaymentFailed(context.Background(), "e1", contracts.PaymentEvent{OrderID: "o1", UserID: "u1", Reason: contracts.PaymentDeclined})
	assert.Empty(t, h.mailer.Sent())
	items, err := h.svc.List(context.Background(), "u1")
	require.NoError(t, err)
	assert.Empty(t, items)
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := notify.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, notify.Config{SendTimeout: 15 * time.Second, ClaimLease: 30 * time.Second}, cfg)

	_, err = notify.LoadConfig(env(map[string]string{"NOTIFICATIONS_CLAIM_LEASE": "10s"}))
	assert.Error(t, err, "a lease shorter than a send")
	_, err = notify.LoadConfig(env(map[string]string{"NOTIFICATIONS_SEND_TIMEOUT": "soon"}))
	assert.Error(t, err)
}
