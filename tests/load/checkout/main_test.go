package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/shop"
	"github.com/shopmesh/shopmesh/tests/load/shop/shoptest"
)

func TestRunReportsTheSettledOrders(t *testing.T) {
	g := &shoptest.Gateway{Settle: 30 * time.Millisecond}
	srv := httptest.NewServer(g)
	defer srv.Close()
	o := options{
		shop:     shop.Config{Gateway: srv.URL, AdminEmail: "admin@example.com", AdminPassword: "admin-pass-1", ShopperAddrs: "auto"},
		rate:     20,
		duration: 500 * time.Millisecond,
		shoppers: 20,
		settle:   2 * time.Second,
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), o, &out, log.New(io.Discard, "", 0)))
	text := out.String()
	assert.Contains(t, text, "offered 20.0 checkouts/s for 500ms")
	// 10 at 20/s for 500 ms; fewer only if the pacer lags on a busy machine.
	m := regexp.MustCompile(`accepted checkouts \(202\): (\d+);`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	accepted, _ := strconv.Atoi(m[1])
	assert.InDelta(t, 9, accepted, 1)
	assert.Contains(t, text, "confirmed: "+m[1]+"; other outcomes: map[]")
	assert.Contains(t, text, "placed → confirmed: p50 30ms, p99 30ms, max 30ms")
	assert.NotContains(t, text, "not settled")
	assert.Zero(t, g.Overlaps())
}

func TestRunFailsWhenOrdersDoNotSettle(t *testing.T) {
	srv := httptest.NewServer(&shoptest.Gateway{})
	defer srv.Close()
	o := options{
		shop:     shop.Config{Gateway: srv.URL, AdminEmail: "admin@example.com", AdminPassword: "admin-pass-1", ShopperAddrs: "none"},
		rate:     20,
		duration: 200 * time.Millisecond,
		shoppers: 20,
		settle:   200 * time.Millisecond,
	}
	var out bytes.Buffer
	err := run(context.Background(), o, &out, log.New(io.Discard, "", 0))
	require.Error(t, err)
	assert.Regexp(t, `^[1-4] orders still pending after 200ms$`, err.Error())
	assert.Regexp(t, `not settled after 200ms: [1-4]\n`, out.String())
}
