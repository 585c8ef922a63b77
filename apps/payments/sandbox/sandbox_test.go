package sandbox_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/paymentstest"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

var usd10 = contracts.Money{Amount: 1000, Currency: "USD"}

func chargeReq(order, token string) payments.ChargeRequest {
	return payments.ChargeRequest{IdempotencyKey: order, OrderID: order, Token: token, Amount: usd10}
}

func TestTokensDecide(t *testing.T) {
	s := sandbox.New(paymentstest.NewKV())
	ctx := context.Background()
	for token, want := range map[string]payments.ChargeResult{
		sandbox.TokenVisa:              {Approved: true},
		sandbox.TokenChargeDeclined:    {DeclineReason: contracts.PaymentDeclined},
		sandbox.TokenInsufficientFunds: {DeclineReason: contracts.PaymentInsufficientFunds},
		"tok_mastercard":               {DeclineReason: contracts.PaymentInvalidToken},
		"":                             {DeclineReason: contracts.PaymentInvalidToken},
	} {
		got, err := s.Charge(ctx, chargeReq("order-"+token, token))
		require.NoError(t, err, token)
		assert.NotEmpty(t, got.ChargeID, token)
		got.ChargeID = ""
		assert.Equal(t, want, got, token)
		n, err := s.Charges(ctx, "order-"+token)
		require.NoError(t, err)
		assert.Equal(t, map[bool]int{true: 1, false: 0}[want.Approved], n, "only approved charges count: %s", token)
	}
}

func TestChargesAreIdempotent(t *testing.T) {
	kv := paymentstest.NewKV()
	s := sandbox.New(kv)
	ctx := context.Background()
	first, err := s.Charge(ctx, chargeReq("o-1", sandbox.TokenVisa))
	require.NoError(t, err)
	again, err := s.Charge(ctx, chargeReq("o-1", sandbox.TokenVisa))
	require.NoError(t, err)
	assert.Equal(t, first, again, "the first result, not a new charge")

	// The ledger is in the KV, not in the Sandbox: a new one (the app
	// restarted) knows the charge.
	restarted := sandbox.New(kv)
	again, err = restarted.Charge(ctx, chargeReq("o-1", sandbox.TokenVisa))
	require.NoError(t, err)
	assert.Equal(t, first, again)
	n, err := restarted.Charges(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// A key reused with other parameters is refused, as PSPs do.
	other := chargeReq("o-1", sandbox.TokenVisa)
	other.Amount.Amount++
	_, err = s.Charge(ctx, other)
	assert.ErrorIs(t, err, sandbox.ErrIdempotencyMismatch)

	// Another key for the same order is another charge: the count shows it.
	second := chargeReq("o-1", sandbox.TokenVisa)
	second.IdempotencyKey = "other-key"
	_, err = s.Charge(ctx, second)
	require.NoError(t, err)
	n, err = s.Charges(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestConcurrentChargesWithOneKeyChargeOnce(t *testing.T) {
	s := sandbox.New(paymentstest.NewKV())
	ctx := context.Background()
	ids := make(chan string, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			res, err := s.Charge(ctx, chargeReq("o-1", sandbox.TokenVisa))
			assert.NoError(t, err)
			ids <- res.ChargeID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	assert.Len(t, seen, 1, "every request got the one charge")
	n, err := s.Charges(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestRefunds(t *testing.T) {
	s := sandbox.New(paymentstest.NewKV())
	ctx := context.Background()
	ch, err := s.Charge(ctx, chargeReq("o-1", sandbox.TokenVisa))
	require.NoError(t, err)
	req := payments.RefundRequest{IdempotencyKey: "o-1", OrderID: "o-1", ChargeID: ch.ChargeID, Amount: usd10}
	first, err := s.Refund(ctx, req)
	require.NoError(t, err)
	assert.NotEmpty(t, first.RefundID)
	again, err := s.Refund(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, first, again, "idempotent")
	n, err := s.Refunds(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	more := req
	more.IdempotencyKey = "another"
	_, err = s.Refund(ctx, more)
	assert.ErrorIs(t, err, sandbox.ErrNotRefundable, "the charge is refunded in full")

	declined, err := s.Charge(ctx, chargeReq("o-2", sandbox.TokenChargeDeclined))
	require.NoError(t, err)
	_, err = s.Refund(ctx, payments.RefundRequest{IdempotencyKey: "o-2", OrderID: "o-2", ChargeID: declined.ChargeID, Amount: usd10})
	assert.ErrorIs(t, err, sandbox.ErrNotRefundable, "a declined charge moved no money")
	_, err = s.Refund(ctx, payments.RefundRequest{IdempotencyKey: "o-3", OrderID: "o-3", ChargeID: "ch_nope", Amount: usd10})
	assert.ErrorIs(t, err, sandbox.ErrNotRefundable)
}

func TestBadRequests(t *testing.T) {
	s := sandbox.New(paymentstest.NewKV())
	ctx := context.Background()
	for name, req := range map[string]payments.ChargeRequest{
		"no key":    {OrderID: "o", Token: sandbox.TokenVisa, Amount: usd10},
		"no order":  {IdempotencyKey: "o", Token: sandbox.TokenVisa, Amount: usd10},
		"no amount": {IdempotencyKey: "o", OrderID: "o", Token: sandbox.TokenVisa, Amount: contracts.Money{Currency: "USD"}},
	} {
		_, err := s.Charge(ctx, req)
		assert.ErrorIs(t, err, sandbox.ErrBadRequest, name)
	}
	_, err := s.Refund(ctx, payments.RefundRequest{IdempotencyKey: "o", OrderID: "o", Amount: usd10})
	assert.ErrorIs(t, err, sandbox.ErrBadRequest, "no charge id")
	n, err := s.Charges(ctx, "o")
	require.NoError(t, err)
	assert.Zero(t, n)
}
