package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// A process that dies between an outbox commit and its publish loses
// nothing. The app runs with the kit's failpoint (OUTBOX_FAILPOINT=
// exit-after-commit): it exits right after its first transaction with an
// event commits, before anything is published, as a SIGKILL at that moment
// would leave it. The stack then starts it again as an orchestrator would,
// and the restart publishes what its predecessor left: the order confirms
// exactly once, charged once, stock moved once.
func TestACrashBetweenCommitAndPublishLosesNothing(t *testing.T) {
	requireStack(t)

	t.Run("orders after storing order.placed", func(t *testing.T) {
		p := stockedProduct(t, 5, 1500)
		c := newCustomer(t, "failpoint-orders")
		c.addToCart(t, p.ID, 1)
		withFailpoint(t, "orders", func() {
			r := c.checkout(t, newKey(), "tok_visa")
			assert.GreaterOrEqual(t, r.Status, 500, "the shopper hears no answer from an orders that died: %s", r.Body)
		})
		id := onlyOrder(t, c)
		assertSettledOnce(t, c, id, p.ID, 4)
	})

	t.Run("payments after storing payment.succeeded", func(t *testing.T) {
		p := stockedProduct(t, 5, 2500)
		c := newCustomer(t, "failpoint-payments")
		c.addToCart(t, p.ID, 1)
		var id string
		withFailpoint(t, "payments", func() { id = c.placeOrder(t, "tok_visa") })
		assertSettledOnce(t, c, id, p.ID, 4)
	})
}

// withFailpoint replaces the stack's app by one running with the failpoint
// beside the app's running daprd (as a restarted container would run),
// runs act, waits for the app to exit by it, and lets the runner start the
// stack's own app again.
func withFailpoint(t *testing.T, app string, act func()) {
	t.Helper()
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	tmpl, err := stack.LoadTemplate(filepath.Join(root, "dapr", "dapr.yaml"))
	require.NoError(t, err)
	spec, err := tmpl.App(app)
	require.NoError(t, err)
	spec, err = spec.WithProfile(l.RunningProfile())
	require.NoError(t, err)
	env := make(map[string]string, len(spec.Env)+1)
	for k, v := range spec.Env {
		env[k] = v
	}
	env["OUTBOX_FAILPOINT"] = "exit-after-commit"
	spec.Env = env

	// Put the stack back even if the test fails.
	t.Cleanup(func() {
		restartStack(t)
		waitForGateway(t, app)
	})
	kill9(t, app, stack.RoleApp)
	// A killed process leaves /proc before its sockets are closed.
	appPort := spec
	appPort.Ports = stack.Ports{App: spec.App}
	eventually(t, settle, app+"'s port is free", func() bool {
		return stack.CheckPorts(appPort) == nil
	})
	pid, err := stack.StartAppBesideDaprd(l, spec)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, stack.WaitReady(ctx, l, spec, 90*time.Second, nil))
	waitForGateway(t, app)

	act()
	eventually(t, settle, app+" exits at the failpoint", func() bool { return syscall.Kill(pid, 0) != nil })
	restartStack(t)
	waitForGateway(t, app)
}

// waitForGateway waits until the gateway reaches app (its sidecar resolves
// the app's current instance): a read that app answers with 200 or 404.
func waitForGateway(t *testing.T, app string) {
	t.Helper()
	const unknown = "0193f2a4-0000-7000-8000-0000000000ff" // a well-formed order id no order has
	path := map[string]string{"orders": "/api/v1/orders/", "payments": "/api/v1/payments/"}[app] + unknown
	eventually(t, settle, "the gateway reaches "+app, func() bool {
		st := call(t, http.MethodGet, gateway+path, nil, asAdmin(t)...).Status
		return st == http.StatusOK || st == http.StatusNotFound
	})
}

// onlyOrder waits for the customer's one order (accepted though its
// shopper heard no answer) and returns its id.
func onlyOrder(t *testing.T, c customer) string {
	t.Helper()
	var mine struct {
		Items []orderBody `json:"items"`
	}
	eventually(t, settle, "the order is listed", func() bool {
		c.do(t, http.MethodGet, "/api/v1/orders", nil).decode(t, &mine)
		return len(mine.Items) > 0
	})
	require.Len(t, mine.Items, 1)
	return mine.Items[0].ID
}

// assertSettledOnce: the order confirmed, one charge, the stock moved once.
func assertSettledOnce(t *testing.T, c customer, id, productID string, available int64) {
	t.Helper()
	o := c.settled(t, id, 2*settle)
	require.Equal(t, "confirmed", o.Status, "order %+v", o)
	confirmations := 0
	for _, e := range o.Timeline {
		if e.Status == "confirmed" {
			confirmations++
		}
	}
	assert.Equal(t, 1, confirmations, "confirmed once: %+v", o.Timeline)
	pay, ok := payment(t, id)
	require.True(t, ok)
	assert.Equal(t, 1, pay.Charges)
	assert.False(t, pay.Refunded)
	eventually(t, settle, "one unit sold", func() bool {
		s := stock(t, productID)
		return s.Available == available && s.Reserved == 0
	})
}

// Writes that lose an ETag race (concurrent updates of one product,
// identical checkouts at once) publish nothing of their own, and nothing
// stalls after them: every stored change went out exactly once, and a
// later order confirms. The events are read back from the broker, so the
// count is checked on the profiles whose broker can be read (Redis
// streams, Kafka); the rest runs on every profile.
func TestLostRacesLeaveNoEventBehind(t *testing.T) {
	requireStack(t)
	_, typ := runningPubsub(t)
	readable := typ == "pubsub.redis" || typ == "pubsub.kafka"
	var b broker
	if readable {
		b = pubsubBroker(t)
	}

	t.Run("catalog: concurrent updates of one product", func(t *testing.T) {
		sku := uniqueSKU("E2E-RACE")
		r := call(t, http.MethodPost, gateway+"/api/v1/products", newProductBody(sku), asAdmin(t)...)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		var p product
		r.decode(t, &p)
		// Each update a name of its own: a losing transaction's event
		// would show its name a second time, once the update is retried.
		names := make([]string, 12)
		status := make([]int, len(names))
		var wg sync.WaitGroup
		for i := range names {
			names[i] = fmt.Sprintf("%s race %02d.", sku, i) // no name is a prefix of another
			wg.Go(func() {
				body := newProductBody(sku)
				body["name"] = names[i]
				status[i] = call(t, http.MethodPut, gateway+"/api/v1/products/"+p.ID, body, asAdmin(t)...).Status
			})
		}
		wg.Wait()
		// An update that lost every retry answers 409: its change was not
		// stored, so no event may carry its name.
		stored := 0
		for i, st := range status {
			require.Contains(t, []int{http.StatusOK, http.StatusConflict}, st, "update %d", i)
			if st == http.StatusOK {
				stored++
			}
		}
		require.Positive(t, stored)
		if readable {
			for i, name := range names {
				if status[i] == http.StatusOK {
					eventually(t, settle, "product.updated named "+name, func() bool {
						return b.count(t, "catalog", name) >= 1
					})
				}
			}
			time.Sleep(2 * time.Second) // time for a stray event to show
			for i, name := range names {
				want := map[int]int{http.StatusOK: 1, http.StatusConflict: 0}[status[i]]
				assert.Equal(t, want, b.count(t, "catalog", name), "events named %q (update answered %d)", name, status[i])
			}
		}
	})

	t.Run("orders: identical checkouts at once", func(t *testing.T) {
		p := stockedProduct(t, 20, 1000)
		c := newCustomer(t, "race")
		c.addToCart(t, p.ID, 1)
		key := newKey()
		var wg sync.WaitGroup
		accepted := make([]string, 8)
		for i := range accepted {
			wg.Go(func() {
				r := c.checkout(t, key, "tok_visa")
				if r.Status == http.StatusAccepted {
					var got struct {
						OrderID string `json:"order_id"`
					}
					r.decode(t, &got)
					accepted[i] = got.OrderID
				}
			})
		}
		wg.Wait()
		id := onlyOrder(t, c)
		for _, a := range accepted {
			if a != "" {
				assert.Equal(t, id, a, "every accepted answer names the one order")
			}
		}
		assert.Equal(t, "confirmed", c.settled(t, id, settle).Status)
		if readable {
			time.Sleep(2 * time.Second)
			// order.placed and order.confirmed of the one order, nothing
			// of the checkouts that lost.
			assert.Equal(t, 2, b.count(t, "orders", c.ID), "events of the customer on the orders topic")
		}

		// And a later order of another shopper confirms.
		later := newCustomer(t, "after-race")
		later.addToCart(t, p.ID, 1)
		assert.Equal(t, "confirmed", later.settled(t, later.placeOrder(t, "tok_visa"), settle).Status)
	})
}
