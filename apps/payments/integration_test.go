package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// TestSagaAgainstRealSidecar runs the whole payments app beside a real
// daprd on the local PostgreSQL (payments database, own table
// prefix) and Redis pub/sub (paymentstest.RedisDB, apart from the running stack's),
// with the project's resiliency policy. It publishes the saga's events on
// the orders and inventory topics and watches what the outbox publishes on
// the payments topic. `go tool task test` sets SHOPMESH_INTEGRATION=1.
func TestSagaAgainstRealSidecar(t *testing.T) {
	daprxtest.RequireIntegration(t)
	dsn := daprxtest.LocalSecrets(t)["payments-store-dsn"]
	require.NotEmpty(t, dsn, "no payments-store-dsn: run go tool task infra:up and migrate")
	resiliency, err := os.ReadFile(filepath.Join(daprxtest.RepoRoot(t), "dapr", "resources", "resiliency.yaml"))
	require.NoError(t, err)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	appID := "paymentstest-" + run
	paymentstest.CleanStreams(t, run, appID, contracts.TopicOrders, contracts.TopicInventory, contracts.TopicPayments)
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
  - {name: redeliverInterval, value: "10s"}
  - {name: processingTimeout, value: "15s"}
  - {name: maxLenApprox, value: "10000"}
`, contracts.PubSub, paymentstest.RedisDB),
		"resiliency.yaml": string(resiliency),
	})

	// Every run consumes in its own group (the app id), so only events of
	// this run's orders count.
	published := make(chan daprx.Event, 64)
	var svc *payments.Service
	a := daprxtest.Start(t, appID, resources, app,
		fx.Provide(daprx.AsSubscription(func() daprx.Subscription {
			return daprx.Subscription{Topic: contracts.TopicPayments,
				Types:   []string{contracts.PaymentSucceeded, contracts.PaymentFailed, contracts.PaymentRefunded},
				Handler: func(_ context.Context, e daprx.Event) error { published <- e; return nil }}
		})),
		fx.Populate(&svc),
	)
	pub := daprx.NewPublisher(a.Client)
	ctx := context.Background()

	visa, declined := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	order := func(id, token string) contracts.OrderEvent {
		return contracts.OrderEvent{OrderID: id, UserID: "user-" + run, Email: "ann@example.com", Total: contracts.Money{Amount: 4599, Currency: "USD"},
			PaymentToken: token, Status: contracts.StatusPending, At: time.Now().UTC()}
	}
	publish := func(topic, typ, id string, data any) {
		t.Helper()
		require.NoError(t, pub.Publish(ctx, topic, typ, id, data))
	}
	// next returns the next payment event of this run's orders.
	next := func(within time.Duration) (daprx.Event, bool) {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case e := <-published:
				var d contracts.PaymentEvent
				require.NoError(t, e.Decode(&d))
				if d.OrderID == visa || d.OrderID == declined {
					return e, true
				}
			case <-deadline:
				return daprx.Event{}, false
			}
		}
	}

	// inventory.reserved first: payments records the reservation, and
	// order.placed, arriving later, charges.
	publish(contracts.TopicInventory, contracts.InventoryReserved, visa, contracts.ReservationEvent{OrderID: visa, At: time.Now().UTC()})
	time.Sleep(time.Second)
	publish(contracts.TopicOrders, contracts.OrderPlaced, visa, order(visa, sandbox.TokenVisa))

	e, ok := next(45 * time.Second)
	require.True(t, ok, "payment.succeeded was not published")
	assert.Equal(t, contracts.PaymentSucceeded, e.Type, "the CloudEvent type set on the write")
	assert.Equal(t, appID, e.Source, "published by this app's outbox")
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(e.Data, &raw))
	assert.ElementsMatch(t, []string{"payment_id", "order_id", "user_id", "amount", "at"}, keys(raw), "the projected payload, not the stored record")
	var succeeded contracts.PaymentEvent
	require.NoError(t, e.Decode(&succeeded))
	v, err := svc.Get(ctx, visa)
	require.NoError(t, err)
	assert.Equal(t, contracts.PaymentEvent{PaymentID: v.ID, OrderID: visa, UserID: "user-" + run, Amount: contracts.Money{Amount: 4599, Currency: "USD"}, At: succeeded.At}, succeeded)
	assert.Equal(t, payments.StatusCaptured, v.Status)
	assert.Equal(t, 1, v.Charges)

	// Duplicates of both events change nothing and publish nothing.
	publish(contracts.TopicOrders, contracts.OrderPlaced, visa, order(visa, sandbox.TokenVisa))
	publish(contracts.TopicInventory, contracts.InventoryReserved, visa, contracts.ReservationEvent{OrderID: visa, At: time.Now().UTC()})

	// A declined card: payment.failed with the reason, nothing charged.
	publish(contracts.TopicOrders, contracts.OrderPlaced, declined, order(declined, sandbox.TokenChargeDeclined))
	time.Sleep(500 * time.Millisecond)
	publish(contracts.TopicInventory, contracts.InventoryReserved, declined, contracts.ReservationEvent{OrderID: declined, At: time.Now().UTC()})
	e, ok = next(30 * time.Second)
	require.True(t, ok, "payment.failed was not published")
	assert.Equal(t, contracts.PaymentFailed, e.Type, "the duplicates published nothing before it")
	var failed contracts.PaymentEvent
	require.NoError(t, e.Decode(&failed))
	assert.Equal(t, declined, failed.OrderID)
	assert.Equal(t, contracts.PaymentDeclined, failed.Reason)
	v, err = svc.Get(ctx, declined)
	require.NoError(t, err)
	assert.Equal(t, 0, v.Charges)

	// The paid order is cancelled (twice): one refund, announced once.
	cancelled := order(visa, "")
	cancelled.Status, cancelled.Reason = contracts.StatusCancelled, contracts.ReasonCancelledByCustomer
	publish(contracts.TopicOrders, contracts.OrderCancelled, visa, cancelled)
	publish(contracts.TopicOrders, contracts.OrderCancelled, visa, cancelled)
	e, ok = next(30 * time.Second)
	require.True(t, ok, "payment.refunded was not published")
	assert.Equal(t, contracts.PaymentRefunded, e.Type)
	e, ok = next(5 * time.Second)
	assert.False(t, ok, "nothing more: got %s %s", e.Type, e.Data)

	v, err = svc.Get(ctx, visa)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusRefunded, v.Status)
	assert.True(t, v.Refunded)
	assert.Equal(t, 1, v.Charges, "one charge, for all the duplicates")
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
