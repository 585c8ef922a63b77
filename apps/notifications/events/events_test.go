package events_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/notifications/events"
	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/apps/notifications/notifytest"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

func service() (*notify.Service, *notifytest.Mailer) {
	m := &notifytest.Mailer{}
	return notify.NewService(notifytest.NewStore(), m, notify.Config{SendTimeout: time.Second, ClaimLease: time.Minute},
		slog.New(slog.DiscardHandler)), m
}

func event(t *testing.T, id, typ string, data any) daprx.Event {
	t.Helper()
	b, err := json.Marshal(data)
	require.NoError(t, err)
	return daprx.Event{ID: id, Type: typ, Data: b}
}

func TestSubscriptions(t *testing.T) {
	svc, _ := service()
	for _, tc := range []struct {
		sub   daprx.Subscription
		topic string
		types []string
	}{
		{events.Users(svc), contracts.TopicUsers, []string{contracts.UserRegistered}},
		{events.Orders(svc), contracts.TopicOrders, []string{contracts.OrderConfirmed, contracts.OrderCancelled}},
		{events.Payments(svc), contracts.TopicPayments, []string{contracts.PaymentFailed}},
	} {
		assert.Equal(t, tc.topic, tc.sub.Topic)
		assert.Equal(t, tc.types, tc.sub.Types)
	}
}

func TestOrderEventsAreRoutedByType(t *testing.T) {
	svc, mailer := service()
	h := events.Orders(svc).Handler
	o := contracts.OrderEvent{OrderID: "o1", UserID: "u1", Email: "u1@example.com", Total: contracts.Money{Amount: 5997, Currency: "USD"}}
	require.NoError(t, h(context.Background(), event(t, "e1", contracts.OrderConfirmed, o)))
	o.Reason = contracts.ReasonOutOfStock
	require.NoError(t, h(context.Background(), event(t, "e2", contracts.OrderCancelled, o)))

	sent := mailer.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, "Your ShopMesh order o1 is confirmed", sent[0].Subject)
	assert.Equal(t, "Your ShopMesh order o1 was cancelled", sent[1].Subject)
	assert.Contains(t, sent[1].HTML, "out of stock")
}

func TestEventsThatCanNeverBeSentAreDeadLettered(t *testing.T) {
	svc, mailer := service()
	ctx := context.Background()
	err := events.Users(svc).Handler(ctx, daprx.Event{ID: "e1", Type: contracts.UserRegistered, Data: []byte(`{"id": 7}`)})
	assert.ErrorIs(t, err, daprx.ErrDrop, "undecodable")
	err = events.Users(svc).Handler(ctx, event(t, "e2", contracts.UserRegistered, contracts.UserEvent{ID: "u1"}))
	assert.ErrorIs(t, err, daprx.ErrDrop, "no address")
	err = events.Orders(svc).Handler(ctx, event(t, "e3", contracts.OrderConfirmed, contracts.OrderEvent{Email: "a@example.com"}))
	assert.ErrorIs(t, err, daprx.ErrDrop, "no order id")
	err = events.Payments(svc).Handler(ctx, daprx.Event{ID: "e4", Type: contracts.PaymentFailed, Data: []byte(`[]`)})
	assert.ErrorIs(t, err, daprx.ErrDrop)
	assert.Empty(t, mailer.Sent())
}

func TestAFailedSendIsRetried(t *testing.T) {
	svc, mailer := service()
	mailer.Fail = assert.AnError
	err := events.Users(svc).Handler(context.Background(),
		event(t, "e1", contracts.UserRegistered, contracts.UserEvent{ID: "u1", Email: "u1@example.com"}))
	require.Error(t, err)
	assert.NotErrorIs(t, err, daprx.ErrDrop)
}

func TestPaymentFailedIsAcknowledgedWithoutAnEmail(t *testing.T) {
	svc, mailer := service()
	p := contracts.PaymentEvent{PaymentID: "p1", OrderID: "o1", UserID: "u1", Reason: contracts.PaymentDeclined}
	require.NoError(t, events.Payments(svc).Handler(context.Background(), event(t, "e1", contracts.PaymentFailed, p)))
	assert.Empty(t, mailer.Sent())
}
