package shop

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/shop/shoptest"
)

func TestShopperDoSendsAsTheShopper(t *testing.T) {
	f := &shoptest.Gateway{}
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 2))
	s := pool.Shoppers(2)[1]
	assert.Equal(t, 1, s.ID())

	a := s.Do(ctx, url, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": "p1", "quantity": 1}, nil)
	assert.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, "/api/v1/cart/items", a.Path)
	assert.Positive(t, a.Latency)
	assert.NoError(t, a.Err)

	a = s.Do(ctx, url, http.MethodPost, "/api/v1/checkout", map[string]any{"payment_token": "tok_visa"}, http.Header{"Idempotency-Key": {"k1"}})
	require.Equal(t, http.StatusAccepted, a.Status, string(a.Body))
	var placed struct {
		OrderID string `json:"order_id"`
	}
	require.NoError(t, json.Unmarshal(a.Body, &placed))
	assert.NotEmpty(t, placed.OrderID)

	a = s.Do(ctx, url, http.MethodGet, "/api/v1/orders", nil, nil)
	assert.Equal(t, http.StatusOK, a.Status)
	assert.Contains(t, string(a.Body), placed.OrderID, "the order is the shopper's")

	a = s.Do(ctx, "http://127.0.0.1:1", http.MethodGet, "/api/v1/orders", nil, nil)
	assert.Zero(t, a.Status)
	assert.Error(t, a.Err, "no answer")
}

func TestShopperRenewsTokensOnlyWhenTheyExpire(t *testing.T) {
	f := &shoptest.Gateway{}
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 1))
	s := pool.Shoppers(1)[0]

	assert.Empty(t, s.Renew(ctx, url, time.Now().Add(time.Minute)), "the stand-in's tokens last 900 s")
	answers := s.Renew(ctx, url, time.Now().Add(time.Hour))
	require.Len(t, answers, 1)
	assert.Equal(t, "/api/v1/auth/refresh", answers[0].Path)
	assert.Equal(t, http.StatusOK, answers[0].Status)
	assert.Equal(t, 1, f.Answered("POST /api/v1/auth/refresh"))

	s.refresh = "bogus" // the refresh token refused: signing in again
	answers = s.Renew(ctx, url, time.Now().Add(time.Hour))
	require.Len(t, answers, 2)
	assert.Equal(t, http.StatusUnauthorized, answers[0].Status)
	assert.Equal(t, "/api/v1/auth/login", answers[1].Path)
	assert.Equal(t, http.StatusOK, answers[1].Status)
	assert.Equal(t, "r:"+s.email, s.refresh)
	assert.Equal(t, s.email, s.token)
}
