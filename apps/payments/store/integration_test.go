package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/apps/payments/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
	"github.com/shopmesh/shopmesh/internal/platform/outbox/outboxtest"
)

// These tests run store.Store and store.Ledger against a real daprd, the
// local PostgreSQL (the payments database, own table prefix) and Redis
// (pub/sub in paymentstest.RedisDB, apart from the running stack's). The
// outbox publishes on a topic of the run's own. `go tool task test` sets
// SHOPMESH_INTEGRATION=1; without it they skip.

type harness struct {
	client dapr.Client
	events chan daprx.Event
	topic  string
}

func start(t *testing.T) harness {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["payments-store-dsn"]
	require.NotEmpty(t, dsn, "no payments-store-dsn: run go tool task infra:up and migrate")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	appID, topic := "paymentsstoretest-"+run, "paymentsstoretest-"+run
	paymentstest.CleanStreams(t, run, appID)
	resources := daprxtest.WriteResources(t, map[string]string{
		"payments-store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "paymentstest_"}
`, contracts.PaymentsStore, dsn),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: "127.0.0.1:16379"}
  - {name: redisDB, value: "%d"}
`, contracts.PubSub, paymentstest.RedisDB),
	})
	events := make(chan daprx.Event, 16)
	app := daprxtest.Start(t, appID, resources,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: topic, Handler: func(_ context.Context, e daprx.Event) error {
				events <- e
				return nil
			}}
		})),
	)
	return harness{client: app.Client, events: events, topic: topic}
}

// store returns the store with an outbox that publishes on the run's topic.
func (h harness) store(t *testing.T) *store.Store {
	return store.New(h.client, outboxtest.Start(t, h.client, contracts.PaymentsStore, h.topic))
}

func TestPaymentsAgainstPostgres(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	st := h.store(t)

	_, _, err := st.Payment(ctx, "o-1")
	require.ErrorIs(t, err, payments.ErrNotFound)

	now := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	p := payments.Payment{ID: "p-1", OrderID: "o-1", UserID: "u-1", Amount: contracts.Money{Amount: 4599, Currency: "USD"},
		Token: sandbox.TokenVisa, Status: payments.StatusPending, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.Create(ctx, p))
	require.ErrorIs(t, st.Create(ctx, p), payments.ErrConflict, "one payment per order")

	got, etag, err := st.Payment(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, p, got)

	held := got
	held.Status, held.LeaseUntil = payments.StatusCharging, now.Add(10*time.Second)
	require.NoError(t, st.Save(ctx, held, etag))
	require.ErrorIs(t, st.Save(ctx, held, etag), payments.ErrConflict, "a stale etag is refused")
	got, _, err = st.Payment(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, held, got, "the lease round-trips")

	select {
	case e := <-h.events:
		t.Fatalf("single writes are not published, got %s", e.Type)
	case <-time.After(3 * time.Second):
	}
}

// The outbox publishes the status change of SaveAndPublish as a CloudEvent
// of the event's type whose data is the event payload, not the stored
// record; a transaction refused for a stale ETag publishes nothing.
func TestSaveAndPublishGoesThroughTheOutbox(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	st := h.store(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	p := payments.Payment{ID: "p-2", OrderID: "o-2", UserID: "u-2", Amount: contracts.Money{Amount: 1250, Currency: "EUR"},
		Token: sandbox.TokenVisa, Status: payments.StatusCharging, LeaseUntil: now.Add(time.Minute), CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.Create(ctx, p))
	_, etag, err := st.Payment(ctx, "o-2")
	require.NoError(t, err)

	captured := p
	captured.Status, captured.ChargeID, captured.LeaseUntil = payments.StatusCaptured, "ch_1", time.Time{}
	ev := payments.Event{Type: contracts.PaymentSucceeded, Data: contracts.PaymentEvent{
		PaymentID: "p-2", OrderID: "o-2", UserID: "u-2", Amount: p.Amount, At: now,
	}}
	stale := "00000000-0000-0000-0000-000000000000"
	require.ErrorIs(t, st.SaveAndPublish(ctx, captured, stale, ev), payments.ErrConflict)
	require.NoError(t, st.SaveAndPublish(ctx, captured, etag, ev))

	got, _, err := st.Payment(ctx, "o-2")
	require.NoError(t, err)
	assert.Equal(t, captured, got, "the record is stored")

	select {
	case e := <-h.events:
		assert.Equal(t, contracts.PaymentSucceeded, e.Type)
		var data contracts.PaymentEvent
		require.NoError(t, e.Decode(&data))
		assert.Equal(t, ev.Data, data)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &raw))
		assert.NotContains(t, raw, "status", "the data is the event, not the record")
		assert.NotContains(t, raw, "payment_token")
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox event was not delivered")
	}
	// The refused transaction left nothing to publish.
	select {
	case e := <-h.events:
		t.Fatalf("a second event arrived: %s %s", e.Type, e.Data)
	case <-time.After(3 * time.Second):
	}
}

// The sandbox keeps its ledger in the payments store: another Sandbox over
// it (the app restarted) answers a repeated charge from it.
func TestSandboxLedgerInPostgres(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	req := payments.ChargeRequest{IdempotencyKey: "o-3", OrderID: "o-3", Token: sandbox.TokenVisa, Amount: contracts.Money{Amount: 999, Currency: "USD"}}
	first, err := sandbox.New(store.NewLedger(h.client)).Charge(ctx, req)
	require.NoError(t, err)
	restarted := sandbox.New(store.NewLedger(h.client))
	again, err := restarted.Charge(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	n, err := restarted.Charges(ctx, "o-3")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	res, err := restarted.Refund(ctx, payments.RefundRequest{IdempotencyKey: "o-3", OrderID: "o-3", ChargeID: first.ChargeID, Amount: req.Amount})
	require.NoError(t, err)
	assert.NotEmpty(t, res.RefundID)
	select {
	case e := <-h.events:
		t.Fatalf("ledger writes are not published, got %s", e.Type)
	case <-time.After(3 * time.Second):
	}
}
