package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

var total = contracts.Money{Amount: 4599, Currency: "USD"}

func newOrderID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	return id.String()
}

// place records the intent of a new order paid with token.
func place(t *testing.T, env *paymentstest.Env, token string) string {
	t.Helper()
	id := newOrderID(t)
	require.NoError(t, env.Service.Place(context.Background(), payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: token}))
	return id
}

func status(t *testing.T, env *paymentstest.Env, orderID string) payments.Payment {
	t.Helper()
	p, _, err := env.Store.Payment(context.Background(), orderID)
	require.NoError(t, err)
	return p
}

func charges(t *testing.T, env *paymentstest.Env, orderID string) int {
	t.Helper()
	n, err := env.Sandbox.Charges(context.Background(), orderID)
	require.NoError(t, err)
	return n
}

func refunds(t *testing.T, env *paymentstest.Env, orderID string) int {
	t.Helper()
	n, err := env.Sandbox.Refunds(context.Background(), orderID)
	require.NoError(t, err)
	return n
}

func types(evs []payments.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func TestChargeCapturesAndAnnounces(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	assert.Equal(t, payments.StatusPending, status(t, env, id).Status)

	require.NoError(t, env.Service.Charge(ctx, id))
	p := status(t, env, id)
	assert.Equal(t, payments.StatusCaptured, p.Status)
	assert.NotEmpty(t, p.ChargeID)
	assert.True(t, p.LeaseUntil.IsZero(), "the lease ends with the outcome")
	assert.Empty(t, p.Token, "the token is not kept once charged")

	evs := env.Store.Published()
	require.Len(t, evs, 1)
	assert.Equal(t, payments.Event{Type: contracts.PaymentSucceeded, Data: contracts.PaymentEvent{
		PaymentID: p.ID, OrderID: id, UserID: "user-1", Amount: total, At: env.Clock.Now(),
	}}, evs[0])

	v, err := env.Service.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 1, v.Charges)
	assert.False(t, v.Refunded)
	assert.Equal(t, total, v.Amount)
}

func TestRedeliveriesChargeOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: sandbox.TokenVisa}), "order.placed again")
	for range 3 {
		require.NoError(t, env.Service.Charge(ctx, id), "inventory.reserved again")
	}
	assert.Equal(t, 1, env.Provider.ChargeCalls(id), "the provider is asked once")
	assert.Equal(t, 1, charges(t, env, id))
	assert.Equal(t, []string{contracts.PaymentSucceeded}, types(env.Store.Published()))
}

// Ten deliveries of one inventory.reserved at once, while the provider is
// slow: one charges, the others are told to come back (ErrInProgress), and
// when they do the payment is captured and they change nothing.
func TestConcurrentDuplicatesChargeOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)

	release := env.Provider.Stall()
	defer release()
	errs := make(chan error, 10)
	for range 10 {
		go func() { errs <- env.Service.Charge(ctx, id) }()
	}
	for range 9 {
		assert.ErrorIs(t, <-errs, payments.ErrInProgress)
	}
	release()
	require.NoError(t, <-errs)
	for range 9 {
		require.NoError(t, env.Service.Charge(ctx, id), "the redelivery of a duplicate")
	}
	assert.Equal(t, 1, env.Provider.ChargeCalls(id))
	assert.Equal(t, 1, charges(t, env, id))
	assert.Equal(t, []string{contracts.PaymentSucceeded}, types(env.Store.Published()))
}

// Duplicates racing without a stall, each redelivered until it succeeds.
func TestRacingDuplicatesChargeOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for {
				err := env.Service.Charge(ctx, id)
				if !errors.Is(err, payments.ErrInProgress) {
					assert.NoError(t, err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, env.Provider.ChargeCalls(id))
	assert.Equal(t, 1, charges(t, env, id))
	assert.Len(t, env.Store.Published(), 1)
}

func TestDeclines(t *testing.T) {
	for token, reason := range map[string]string{
		sandbox.TokenChargeDeclined:    contracts.PaymentDeclined,
		sandbox.TokenInsufficientFunds: contracts.PaymentInsufficientFunds,
		"tok_unknown":                  contracts.PaymentInvalidToken,
		"4242424242424242":             contracts.PaymentInvalidToken,
		"":                             contracts.PaymentInvalidToken,
	} {
		t.Run(token, func(t *testing.T) {
			env := paymentstest.New(t)
			ctx := context.Background()
			id := place(t, env, token)
			require.NoError(t, env.Service.Charge(ctx, id))
			p := status(t, env, id)
			assert.Equal(t, payments.StatusFailed, p.Status)
			assert.Equal(t, reason, p.Reason)
			evs := env.Store.Published()
			require.Len(t, evs, 1)
			assert.Equal(t, contracts.PaymentFailed, evs[0].Type)
			assert.Equal(t, reason, evs[0].Data.Reason)
			assert.Equal(t, 0, charges(t, env, id), "a decline charges nothing")

			// The order is then cancelled for the decline: nothing to refund.
			require.NoError(t, env.Service.Cancel(ctx, id))
			require.NoError(t, env.Service.Charge(ctx, id), "a late duplicate")
			assert.Equal(t, payments.StatusFailed, status(t, env, id).Status)
			assert.Equal(t, 0, env.Provider.RefundCalls(id))
			assert.Equal(t, 1, env.Provider.ChargeCalls(id))
			assert.Len(t, env.Store.Published(), 1)
			assert.Equal(t, []string{"failed " + reason}, env.Outcomes.All())
		})
	}
}

// inventory.reserved may arrive before order.placed (two topics): it is
// recorded and acknowledged, and order.placed charges when it comes.
func TestReservedBeforePlacedChargesWhenPlaced(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := newOrderID(t)
	require.NoError(t, env.Service.Charge(ctx, id))
	assert.Equal(t, payments.StatusPending, status(t, env, id).Status)
	assert.Equal(t, 0, env.Provider.ChargeCalls(id), "no intent, no charge")
	require.NoError(t, env.Service.Charge(ctx, id), "a redelivery")
	assert.Equal(t, 0, env.Provider.ChargeCalls(id))

	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: sandbox.TokenVisa}))
	assert.Equal(t, payments.StatusCaptured, status(t, env, id).Status)
	assert.Equal(t, 1, env.Provider.ChargeCalls(id))
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: sandbox.TokenVisa}))
	require.NoError(t, env.Service.Charge(ctx, id))
	assert.Equal(t, 1, env.Provider.ChargeCalls(id), "redeliveries charge nothing more")
	assert.Len(t, env.Store.Published(), 1)
}

// A cancellation between the reservation and the intent: never charged.
func TestReservedThenCancelledThenPlacedNeverCharges(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := newOrderID(t)
	require.NoError(t, env.Service.Charge(ctx, id))
	require.NoError(t, env.Service.Cancel(ctx, id))
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: sandbox.TokenVisa}))
	assert.Equal(t, payments.StatusCancelled, status(t, env, id).Status)
	assert.Equal(t, 0, env.Provider.ChargeCalls(id))
	assert.Empty(t, env.Store.Published())
}

func TestCancelBeforeChargeNeverCharges(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	require.NoError(t, env.Service.Cancel(ctx, id))
	require.NoError(t, env.Service.Cancel(ctx, id), "a redelivery")
	assert.Equal(t, payments.StatusCancelled, status(t, env, id).Status)

	require.NoError(t, env.Service.Charge(ctx, id), "a late inventory.reserved")
	assert.Equal(t, 0, env.Provider.ChargeCalls(id))
	assert.Equal(t, payments.StatusCancelled, status(t, env, id).Status)
	assert.Empty(t, env.Store.Published())

	v, err := env.Service.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 0, v.Charges)
	assert.False(t, v.Refunded)
}

// order.cancelled handled before order.placed (deliveries are concurrent):
// the payment is born cancelled and never charged.
func TestCancelBeforePlacedNeverCharges(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := newOrderID(t)
	require.NoError(t, env.Service.Cancel(ctx, id))
	require.NoError(t, env.Service.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: sandbox.TokenVisa}))
	require.NoError(t, env.Service.Charge(ctx, id))

	p := status(t, env, id)
	assert.Equal(t, payments.StatusCancelled, p.Status)
	assert.Equal(t, "user-1", p.UserID, "the record is completed for admins")
	assert.Equal(t, total, p.Amount)
	assert.Empty(t, p.Token, "a payment that will never be charged keeps no token")
	assert.Equal(t, 0, env.Provider.ChargeCalls(id))
	assert.Empty(t, env.Store.Published())
}

func TestCancelAfterCaptureRefundsOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	require.NoError(t, env.Service.Charge(ctx, id))
	env.Clock.Advance(time.Minute)

	require.NoError(t, env.Service.Cancel(ctx, id))
	p := status(t, env, id)
	assert.Equal(t, payments.StatusRefunded, p.Status)
	assert.NotEmpty(t, p.RefundID)
	for range 3 {
		require.NoError(t, env.Service.Cancel(ctx, id), "order.cancelled again")
	}
	require.NoError(t, env.Service.Charge(ctx, id), "inventory.reserved again")

	assert.Equal(t, 1, env.Provider.RefundCalls(id))
	assert.Equal(t, 1, refunds(t, env, id))
	assert.Equal(t, 1, env.Provider.ChargeCalls(id))
	evs := env.Store.Published()
	assert.Equal(t, []string{contracts.PaymentSucceeded, contracts.PaymentRefunded}, types(evs))
	assert.Equal(t, contracts.PaymentEvent{PaymentID: p.ID, OrderID: id, UserID: "user-1", Amount: total, At: env.Clock.Now()}, evs[1].Data)
	assert.Equal(t, []string{"captured", "refunded"}, env.Outcomes.All(), "each outcome counted once")

	v, err := env.Service.Get(ctx, id)
	require.NoError(t, err)
	assert.True(t, v.Refunded)
	assert.Equal(t, 1, v.Charges, "the charge happened; it was refunded")
}

func TestConcurrentCancelsRefundOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	require.NoError(t, env.Service.Charge(ctx, id))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for {
				err := env.Service.Cancel(ctx, id)
				if !errors.Is(err, payments.ErrInProgress) {
					assert.NoError(t, err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, env.Provider.RefundCalls(id))
	assert.Equal(t, 1, refunds(t, env, id))
	assert.Equal(t, []string{contracts.PaymentSucceeded, contracts.PaymentRefunded}, types(env.Store.Published()))
}

// The process dies after the provider charged and before the outcome was
// stored. The redelivery waits for the dead worker's lease, then asks the
// provider again with the same key: the provider answers from its record,
// no second charge, and the outcome is announced once.
func TestCrashAfterTheProviderCallChargesOnce(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	env.Store.FailNextPublish(errors.New("killed"))
	require.Error(t, env.Service.Charge(ctx, id))
	assert.Equal(t, payments.StatusCharging, status(t, env, id).Status)
	assert.Equal(t, 1, charges(t, env, id), "the provider charged")

	require.ErrorIs(t, env.Service.Charge(ctx, id), payments.ErrInProgress, "the lease still runs")
	env.Clock.Advance(paymentstest.Config.Lease)
	require.NoError(t, env.Service.Charge(ctx, id))

	assert.Equal(t, payments.StatusCaptured, status(t, env, id).Status)
	assert.Equal(t, 2, env.Provider.ChargeCalls(id), "asked twice")
	assert.Equal(t, 1, charges(t, env, id), "charged once")
	assert.Equal(t, []string{contracts.PaymentSucceeded}, types(env.Store.Published()))
}

// The same crash, but the order is cancelled before inventory.reserved is
// redelivered: the cancellation finishes the charge and refunds it.
func TestCancelAfterACrashedChargeRefunds(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	env.Store.FailNextPublish(errors.New("killed"))
	require.Error(t, env.Service.Charge(ctx, id))

	require.ErrorIs(t, env.Service.Cancel(ctx, id), payments.ErrInProgress, "the charge may still be running")
	env.Clock.Advance(paymentstest.Config.Lease)
	require.NoError(t, env.Service.Cancel(ctx, id))
	require.NoError(t, env.Service.Charge(ctx, id), "the late redelivery")

	assert.Equal(t, payments.StatusRefunded, status(t, env, id).Status)
	assert.Equal(t, 1, charges(t, env, id))
	assert.Equal(t, 1, refunds(t, env, id))
	assert.Equal(t, []string{contracts.PaymentSucceeded, contracts.PaymentRefunded}, types(env.Store.Published()))
}

// A provider that does not answer: the worker gives its lease back, so the
// retry goes on at once, and the provider's idempotency keeps it one charge.
func TestProviderFailureReleasesTheLease(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	id := place(t, env, sandbox.TokenVisa)
	env.Provider.Fail(errors.New("psp unreachable"))
	require.Error(t, env.Service.Charge(ctx, id))
	p := status(t, env, id)
	assert.Equal(t, payments.StatusCharging, p.Status)
	assert.True(t, p.LeaseUntil.IsZero())

	env.Provider.Fail(nil)
	require.NoError(t, env.Service.Charge(ctx, id))
	assert.Equal(t, payments.StatusCaptured, status(t, env, id).Status)
	assert.Equal(t, 1, charges(t, env, id))

	env.Provider.Fail(errors.New("psp unreachable"))
	require.Error(t, env.Service.Cancel(ctx, id))
	assert.Equal(t, payments.StatusRefunding, status(t, env, id).Status)
	env.Provider.Fail(nil)
	require.NoError(t, env.Service.Cancel(ctx, id))
	assert.Equal(t, payments.StatusRefunded, status(t, env, id).Status)
	assert.Equal(t, 1, refunds(t, env, id))
}

func TestInvalidEventsAreRefused(t *testing.T) {
	env := paymentstest.New(t)
	ctx := context.Background()
	for name, in := range map[string]payments.Intent{
		"no order id":   {UserID: "u", Amount: total, Token: sandbox.TokenVisa},
		"no user":       {OrderID: "o-1", Amount: total, Token: sandbox.TokenVisa},
		"zero total":    {OrderID: "o-1", UserID: "u", Amount: contracts.Money{Currency: "USD"}, Token: sandbox.TokenVisa},
		"negative":      {OrderID: "o-1", UserID: "u", Amount: contracts.Money{Amount: -1, Currency: "USD"}, Token: sandbox.TokenVisa},
		"bad currency":  {OrderID: "o-1", UserID: "u", Amount: contracts.Money{Amount: 1, Currency: "usd"}, Token: sandbox.TokenVisa},
		"currency none": {OrderID: "o-1", UserID: "u", Amount: contracts.Money{Amount: 1}, Token: sandbox.TokenVisa},
	} {
		assert.ErrorIs(t, env.Service.Place(ctx, in), payments.ErrInvalid, name)
	}
	_, _, err := env.Store.Payment(ctx, "o-1")
	assert.ErrorIs(t, err, payments.ErrNotFound)
	assert.ErrorIs(t, env.Service.Charge(ctx, ""), payments.ErrInvalid)
	assert.ErrorIs(t, env.Service.Cancel(ctx, ""), payments.ErrInvalid)
}

func TestGetUnknown(t *testing.T) {
	env := paymentstest.New(t)
	_, err := env.Service.Get(context.Background(), newOrderID(t))
	assert.ErrorIs(t, err, payments.ErrNotFound)
}

// Tokens stay out of logs and events: the log names the order instead.
func TestTokensAreNeitherLoggedNorPublished(t *testing.T) {
	env := paymentstest.New(t)
	var logs bytes.Buffer
	svc := payments.NewService(env.Store, env.Provider, paymentstest.Config, slog.New(slog.NewJSONHandler(&logs, nil)), env.Outcomes).WithClock(env.Clock.Now)
	ctx := context.Background()
	for _, token := range []string{sandbox.TokenVisa, sandbox.TokenChargeDeclined, "tok_secretish"} {
		id := newOrderID(t)
		require.NoError(t, svc.Place(ctx, payments.Intent{OrderID: id, UserID: "user-1", Amount: total, Token: token}))
		require.NoError(t, svc.Charge(ctx, id))
		require.NoError(t, svc.Cancel(ctx, id))
		assert.Contains(t, logs.String(), id)
	}
	assert.NotContains(t, logs.String(), "tok_")
	b, err := json.Marshal(env.Store.Published())
	require.NoError(t, err)
	assert.NotContains(t, string(b), "tok_")
}

func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	cfg, err := payments.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, payments.DefaultConfig, cfg)

	cfg, err = payments.LoadConfig(env(map[string]string{"PAYMENTS_PROVIDER_TIMEOUT": "2s", "PAYMENTS_LEASE": "30s"}))
	require.NoError(t, err)
	assert.Equal(t, payments.Config{ProviderTimeout: 2 * time.Second, Lease: 30 * time.Second}, cfg)

	for _, bad := range []map[string]string{
		{"PAYMENTS_LEASE": "5s"}, // not longer than the provider timeout
		{"PAYMENTS_LEASE": "soon"},
		{"PAYMENTS_PROVIDER_TIMEOUT": "0s"},
	} {
		_, err := payments.LoadConfig(env(bad))
		assert.Error(t, err, bad)
	}
}
