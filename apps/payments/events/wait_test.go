package events

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
)

// A charge in progress elsewhere is waited out in the handler; other
// outcomes pass at once, and a cancelled delivery stops waiting.
func TestWaitOutAChargeInProgress(t *testing.T) {
	calls := 0
	err := waitOut(context.Background(), func() error {
		calls++
		if calls < 3 {
			return payments.ErrInProgress
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, calls)

	calls = 0
	down := errors.New("store down")
	assert.ErrorIs(t, waitOut(context.Background(), func() error { calls++; return down }), down)
	assert.Equal(t, 1, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	assert.ErrorIs(t, waitOut(ctx, func() error { calls++; return payments.ErrInProgress }), payments.ErrInProgress)
	assert.Equal(t, 1, calls)
}
