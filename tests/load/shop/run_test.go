package shop

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/shop/shoptest"
)

func startFake(t *testing.T, f *shoptest.Gateway) (*Pool, string) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	pool := NewPool(srv.URL, nil, 4)
	t.Cleanup(pool.Close)
	return pool, srv.URL
}

func TestRunPlacesOrdersAndSettleFollowsThem(t *testing.T) {
	f := &shoptest.Gateway{}
	f.Settle = 50 * time.Millisecond
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, Ready(ctx, url))
	require.NoError(t, pool.Grow(ctx, 10))
	require.Equal(t, 10, pool.Len())

	res, err := Run(ctx, Load{Gateway: url, Rate: 50, Duration: 400 * time.Millisecond, Products: []string{"p1"}, Shoppers: pool.Shoppers(10)})
	require.NoError(t, err)
	assert.Zero(t, f.Overlaps(), "a shopper had two requests in flight")
	// 50 checkouts/s are 100 requests/s: 40 in 400 ms, fewer if the
	// pacer lags on a busy machine.
	assert.InDelta(t, 35, res.Requests, 5)
	assert.Zero(t, res.Skipped)
	assert.Equal(t, res.Requests, res.Codes[200]+res.Codes[202])
	// Checkouts and add-to-carts alternate from the first request: half
	// the carts were filled beforehand.
	assert.Equal(t, (res.Requests+1)/2, res.Codes[202])
	assert.Equal(t, res.Requests/2, res.Codes[200])
	assert.Equal(t, 5+res.Codes[200], f.Answered("POST /api/v1/cart/items"))
	assert.Len(t, res.Placed, res.Codes[202])
	assert.Len(t, res.CheckoutLatencies, res.Codes[202])
	assert.Zero(t, res.ServerErrors()+res.OtherErrors()+res.NoAnswer())

	time.Sleep(f.Settle) // every order confirmed by the first read
	outcomes, stats, err := Settle(ctx, url, res.Placed, 5*time.Second)
	require.NoError(t, err)
	sum := Summarize(outcomes)
	assert.Equal(t, len(res.Placed), sum.Confirmed)
	assert.Zero(t, sum.Pending)
	assert.Equal(t, 50*time.Millisecond, Percentile(sum.PlacedToConfirmed, 99))
	assert.Zero(t, stats.PollErrors)
	assert.Equal(t, 10, stats.Polls, "one history read per shopper")
}

func TestRunNeverGivesAShopperTwoRequestsAtOnce(t *testing.T) {
	f := &shoptest.Gateway{}
	f.Delay = 60 * time.Millisecond // slower than 2 shoppers can keep up with at 40 requests/s
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 2))

	res, err := Run(ctx, Load{Gateway: url, Rate: 20, Duration: 300 * time.Millisecond, Products: []string{"p1"}, Shoppers: pool.Shoppers(2)})
	require.NoError(t, err)
	assert.Zero(t, f.Overlaps())
	assert.Positive(t, res.Skipped, "ticks with every shopper busy are skipped")
	assert.Equal(t, res.Skipped, res.NoAnswer())
	assert.Equal(t, res.Requests, res.Codes[0]+res.Codes[200]+res.Codes[202])
	assert.Equal(t, res.Skipped, countContaining(res.Failures, errNotReady.Error()))
}

func countContaining(m map[string]int, s string) int {
	n := 0
	for k, v := range m {
		if strings.Contains(k, s) {
			n += v
		}
	}
	return n
}

func TestSettleCountsOrdersStillPendingAtTheBound(t *testing.T) {
	f := &shoptest.Gateway{} // orders never confirm
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 4))
	res, err := Run(ctx, Load{Gateway: url, Rate: 20, Duration: 200 * time.Millisecond, Products: []string{"p1"}, Shoppers: pool.Shoppers(4)})
	require.NoError(t, err)
	require.NotEmpty(t, res.Placed)

	started := time.Now()
	outcomes, stats, err := Settle(ctx, url, res.Placed, 300*time.Millisecond)
	require.NoError(t, err)
	assert.Less(t, time.Since(started), 2*time.Second, "the wait is bounded")
	assert.Equal(t, len(res.Placed), Summarize(outcomes).Pending)
	assert.Positive(t, stats.Polls)
}

func TestPrepareFillsHalfTheCartsAndEmptyCartsEmptiesThem(t *testing.T) {
	f := &shoptest.Gateway{}
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 5))
	l := Load{Gateway: url, Rate: 10, Duration: time.Second, Products: []string{"p1"}, Shoppers: pool.Shoppers(5)}
	require.NoError(t, Prepare(ctx, l))
	require.NoError(t, Prepare(ctx, l), "a second time fills nothing more")
	assert.Equal(t, 2, f.Answered("POST /api/v1/cart/items"))
	full := 0
	for _, s := range pool.Shoppers(5) {
		if s.cart == cartFull {
			full++
		}
	}
	assert.Equal(t, 2, full)

	require.NoError(t, pool.EmptyCarts(ctx, []string{"p1"}))
	assert.Equal(t, 2, f.Answered("DELETE /api/v1/cart/items/p1"), "only the full carts are emptied")
	for _, s := range pool.Shoppers(5) {
		assert.Equal(t, cartEmpty, s.cart)
	}
	assert.Equal(t, 5, pool.Len())
}

func TestNextCart(t *testing.T) {
	for _, c := range []struct {
		cart     cartState
		checkout bool
		code     int
		want     cartState
	}{
		{cartEmpty, false, 200, cartFull},
		{cartEmpty, false, 429, cartEmpty},
		{cartEmpty, false, 0, cartUnknown},
		{cartFull, true, 202, cartEmpty},
		{cartFull, true, 503, cartFull},
		{cartFull, true, 429, cartFull},
		{cartFull, true, 0, cartUnknown},
		{cartUnknown, true, 400, cartEmpty},
		{cartUnknown, true, 202, cartEmpty},
	} {
		assert.Equal(t, c.want, nextCart(c.cart, c.checkout, c.code), "%+v", c)
	}
}

func TestRunResultCountsAnswersByKind(t *testing.T) {
	r := RunResult{Codes: map[int]int{0: 3, 200: 10, 202: 9, 400: 1, 409: 2, 429: 4, 500: 5, 503: 6}}
	assert.Equal(t, 5, r.ServerErrors(), "5xx but 503")
	assert.Equal(t, 10, r.Shed(), "503 and 429")
	assert.Equal(t, 3, r.OtherErrors())
	assert.Equal(t, 3, r.NoAnswer())
}

func TestRefreshRenewsTokensThatWouldExpire(t *testing.T) {
	f := &shoptest.Gateway{}
	pool, _ := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 3))
	require.NoError(t, pool.Refresh(ctx, 3, time.Now().Add(time.Minute)))
	assert.Zero(t, f.Answered("POST /api/v1/auth/refresh"), "tokens last 15 minutes")

	pool.Shoppers(3)[1].refresh = "stale" // refused: sign in again
	require.NoError(t, pool.Refresh(ctx, 2, time.Now().Add(time.Hour)))
	assert.Equal(t, 2, f.Answered("POST /api/v1/auth/refresh"), "only the first two")
	assert.Equal(t, 3+1, f.Answered("POST /api/v1/auth/login"))
	for _, s := range pool.Shoppers(2) {
		assert.True(t, strings.HasPrefix(s.refresh, "r:"), s.refresh)
		assert.Equal(t, s.email, s.token)
	}
}

func TestShoppersSpreadOverProducts(t *testing.T) {
	f := &shoptest.Gateway{}
	pool, url := startFake(t, f)
	ctx := context.Background()
	require.NoError(t, pool.Grow(ctx, 8))
	products := []string{"p1", "p2"}
	shoppers := pool.Shoppers(8)
	seen := map[string]int{}
	for _, s := range shoppers {
		seen[ProductFor(s, products)]++
		assert.Equal(t, ProductFor(s, products), ProductFor(s, products), "a shopper always buys the same product")
	}
	assert.Equal(t, map[string]int{"p1": 4, "p2": 4}, seen)

	require.NoError(t, Prepare(ctx, Load{Gateway: url, Rate: 10, Duration: time.Second, Products: products, Shoppers: shoppers}))
	require.NoError(t, pool.EmptyCarts(ctx, products))
	assert.Equal(t, 4, f.Answered("DELETE /api/v1/cart/items/p1")+f.Answered("DELETE /api/v1/cart/items/p2"))
	assert.Positive(t, f.Answered("DELETE /api/v1/cart/items/p1"))
	assert.Positive(t, f.Answered("DELETE /api/v1/cart/items/p2"))
}
