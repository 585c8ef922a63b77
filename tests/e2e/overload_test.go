package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// The overload: shoppers that never pause, each retrying a refused
// checkout with the same key as the API says (after 500 ms). Each has at
// most one request in flight, yet together they offer many times what two
// cores settle (about 25 checkouts/s on the local profile), for as long as
// it takes a backlog to build.
const (
	overloadShoppers = 80
	overloadFor      = 20 * time.Second
	// overloadSettleP99 bounds the accepted orders' placed → settled p99.
	// Queueing everything, it grows with the overload's length (tens of
	// seconds after 20 s); shedding keeps it near the saga's own pace. The
	// p99 target of bench:checkout (1 s) is measured there, not here.
	overloadSettleP99 = 8 * time.Second
	// overloadRSSGrowth bounds how much the gateway may grow meanwhile: its
	// queues are bounded (admission), so its memory must be too.
	overloadRSSGrowth = 128 << 20
)

// TestOverloadShedsInsteadOfQueueing offers more checkouts than the
// platform settles and checks that it refuses the excess honestly instead
// of queueing it: some checkouts are refused with 503 and Retry-After (the
// gateway's admission control, or orders while the saga runs late), none
// hangs or fails otherwise, every accepted order settles and the stock adds
// up, the accepted orders' placed → settled p99 stays bounded, and so does
// the gateway's memory. bench:checkout prints the figures at twice the
// settled rate; this proves the behaviour on every run.
func TestOverloadShedsInsteadOfQueueing(t *testing.T) {
	requireStack(t)
	if profile, _ := runningPubsub(t); profile != "local" {
		t.Skipf("the overload runs on the local profile only; this stack runs %s", profile)
	}
	const units = 1_000_000
	p := stockedProduct(t, units, 700)
	shoppers := make([]customer, overloadShoppers)
	for i := range shoppers {
		shoppers[i] = newCustomer(t, "overload")
	}
	gatewayPid := stackProcess(t, "gateway", stack.RoleApp).Pid
	rssBefore := residentBytes(t, gatewayPid)
	rssMax := rssBefore

	stream := startCheckoutStreamPaused(t, p, shoppers, 0)
	t.Cleanup(stream.finish)
	for end := time.Now().Add(overloadFor); time.Now().Before(end); {
		time.Sleep(time.Second)
		rssMax = max(rssMax, residentBytes(t, gatewayPid))
	}
	stream.finish()
	rssMax = max(rssMax, residentBytes(t, gatewayPid))

	t.Logf("answers by status: %v; slowest %s; gateway RSS %d MiB before, %d MiB at most",
		stream.statuses, stream.slowest.Round(time.Millisecond), rssBefore>>20, rssMax>>20)
	assert.Positive(t, stream.statuses[503], "offered more than it settles, the platform refused some checkouts with 503")
	assert.Zero(t, len(stream.errs), "calls that got no answer within the client's 15 s, e.g. %q", head(stream.errs))
	assert.Zero(t, len(stream.noRetry), "503 answers without Retry-After, e.g. %q", head(stream.noRetry))
	for status, n := range stream.statuses {
		if status >= 500 && status != 503 {
			t.Errorf("%d answers with status %d: overload must read 503 with Retry-After", n, status)
		}
	}
	assert.Less(t, rssMax-rssBefore, int64(overloadRSSGrowth), "the gateway's memory stays bounded")

	orders, confirmed := stream.requireAllSettled(t, units)
	require.NotEmpty(t, stream.settleTimes)
	slices.Sort(stream.settleTimes)
	p50 := stream.settleTimes[len(stream.settleTimes)/2]
	p99 := stream.settleTimes[(len(stream.settleTimes)*99)/100]
	t.Logf("%d orders accepted in %s (%.1f/s), %d confirmed; placed → settled p50 %s, p99 %s",
		orders, overloadFor, float64(orders)/overloadFor.Seconds(), confirmed, p50.Round(time.Millisecond), p99.Round(time.Millisecond))
	assert.Less(t, p99, overloadSettleP99, "accepted orders settle at the saga's pace, not behind a backlog")
}

// stackProcess is one process of the running stack (the app or its daprd).
func stackProcess(t *testing.T, app string, role stack.Role) stack.PidFile {
	t.Helper()
	l, err := stack.NewLayout(repoRoot())
	require.NoError(t, err)
	pf, err := stack.ReadPidFile(l.PidFile(app, role))
	require.NoError(t, err)
	require.True(t, stack.IsOurs(pf.Pid, pf.Binary), "pid %d is the stack's %s %s", pf.Pid, app, role)
	return pf
}

// residentBytes is a process's resident set size.
func residentBytes(t *testing.T, pid int) int64 {
	t.Helper()
	rss, err := stack.ResidentBytes("/proc", pid)
	require.NoError(t, err)
	return rss
}
