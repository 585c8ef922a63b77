package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// The saga under failure: duplicated events, poison events and processes
// killed in the middle. Duplicates are made by appending copies of an
// order's events to the profile's broker (broker_test.go).

// A broker that delivers every event of an order a second time (same
// CloudEvent ids) changes nothing: no stock moves, no second charge, no
// second e-mail, the order's timeline stays as it was.
func TestRedeliveredEventsChangeNothing(t *testing.T) {
	requireStack(t)
	b := pubsubBroker(t)
	p := stockedProduct(t, 6, 800)
	c := newCustomer(t, "redeliver")
	c.addToCart(t, p.ID, 2)
	id := c.placeOrder(t, "tok_visa")
	require.Equal(t, "confirmed", c.settled(t, id, settle).Status)
	// Everything the first delivery causes is in before the snapshot: the
	// welcome and confirmation e-mails, the order's notification entry, the
	// committed stock.
	mailAbout(t, c.Email, "welcome")
	mailAbout(t, c.Email, "confirmed")
	eventually(t, settle, "the saga's last steps", func() bool {
		if stock(t, p.ID).Reserved != 0 {
			return false
		}
		items := c.notifications(t).Items
		return len(items) == 2 && slices.ContainsFunc(items, func(n notificationBody) bool { return n.OrderID == id })
	})
	time.Sleep(time.Second)
	before := struct {
		order  orderBody
		stock  stockBody
		pay    paymentBody
		mails  int
		notifs int
	}{order: c.order(t, id), stock: stock(t, p.ID), mails: len(mailsTo(t, c.Email)), notifs: len(c.notifications(t).Items)}
	before.pay, _ = payment(t, id)

	replayed := 0
	for _, topic := range []string{"orders", "inventory", "payments"} {
		replayed += b.replay(t, topic, id)
	}
	require.GreaterOrEqual(t, replayed, 4, "order.placed, inventory.reserved, payment.succeeded, order.confirmed at least")
	t.Logf("replayed %d events of order %s", replayed, id)

	// Give every consumer time to see the copies.
	time.Sleep(5 * time.Second)
	after := c.order(t, id)
	assert.Equal(t, before.order.Status, after.Status)
	assert.Equal(t, len(before.order.Timeline), len(after.Timeline))
	assert.Equal(t, before.stock, stock(t, p.ID))
	pay, _ := payment(t, id)
	assert.Equal(t, before.pay.Charges, pay.Charges)
	assert.Equal(t, 1, pay.Charges)
	assert.Equal(t, before.mails, len(mailsTo(t, c.Email)), "no second e-mail")
	assert.Equal(t, before.notifs, len(c.notifications(t).Items))
}

// An event no consumer can ever handle lands on the topic's dead-letter
// topic, and orders placed after it still complete.
func TestPoisonEventIsDeadLetteredAndOrdersFlow(t *testing.T) {
	requireStack(t)
	b := pubsubBroker(t)
	marker := fmt.Sprintf("poison-%d", time.Now().UnixNano())
	orders := sidecarOf(t, "orders")
	const dropped = `sum(messaging_client_consumed_messages_total{status="drop",messaging_destination_name="orders"})`
	droppedBefore := promValue(t, dropped)
	// An order.placed whose data is not an order at all.
	r := call(t, http.MethodPost, orders.base+"/v1.0/publish/pubsub/orders?metadata.cloudevent.type=order.placed",
		map[string]any{"order_id": 42, "lines": "none", "marker": marker}, "dapr-api-token", orders.token)
	require.Equal(t, http.StatusNoContent, r.Status, "publish: %s", r.Body)

	eventually(t, 3*time.Minute, "the poison event on orders-deadletter", func() bool {
		return b.count(t, "orders-deadletter", marker) > 0
	})
	// Every consumer of order.placed (inventory, payments) dropped it: the
	// dead-letter counter moved, and the alert that calls a human fires.
	eventually(t, settle, "the dead-letter counter moved and EventDeadLettered fires", func() bool {
		if promValue(t, dropped)-droppedBefore < 1 {
			return false
		}
		for _, a := range promFiring(t)["EventDeadLettered"] {
			if a["messaging_destination_name"] == "orders" {
				return true
			}
		}
		return false
	}, func() string { return string(mustJSON(t, promFiring(t))) })

	p := stockedProduct(t, 3, 100)
	c := newCustomer(t, "afterpoison")
	c.addToCart(t, p.ID, 1)
	id := c.placeOrder(t, "tok_visa")
	assert.Equal(t, "confirmed", c.settled(t, id, settle).Status)
}

// kill9 kills one process of the running stack (the app or its daprd) with
// SIGKILL, as a crash would.
func kill9(t *testing.T, app string, role stack.Role) {
	t.Helper()
	l, err := stack.NewLayout(repoRoot())
	require.NoError(t, err)
	pf, err := stack.ReadPidFile(l.PidFile(app, role))
	require.NoError(t, err)
	require.True(t, stack.IsOurs(pf.Pid, pf.Binary), "pid %d is the stack's %s %s", pf.Pid, app, role)
	require.NoError(t, syscall.Kill(pf.Pid, syscall.SIGKILL))
	eventually(t, 10*time.Second, app+" "+string(role)+" is gone", func() bool { return !stack.IsOurs(pf.Pid, pf.Binary) })
}

// restartStack lets the runner start what is missing, as an orchestrator would.
func restartStack(t *testing.T) {
	t.Helper()
	root := repoRoot()
	up := exec.Command(filepath.Join(root, ".local", "bin", "runner"), "up")
	up.Dir = root
	out, err := up.CombinedOutput()
	require.NoError(t, err, "runner up: %s", out)
}

// During a stream of checkouts, orders, inventory and payments (and once a
// sidecar) are killed with SIGKILL and started again. Every checkout that
// was accepted ends confirmed or cancelled, none is lost or doubled, and
// stock and payments add up.
func TestCrashesLoseNoAcceptedOrder(t *testing.T) {
	requireStack(t)
	const units = 1000
	p := stockedProduct(t, units, 650)
	shoppers := make([]customer, 6)
	for i := range shoppers {
		shoppers[i] = newCustomer(t, "crash")
	}

	type placed struct {
		c   customer
		key string
		id  string
	}
	var (
		mu       sync.Mutex
		accepted []placed
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for _, c := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				// A client that got no answer retries with the same key
				// and the same cart, as the API tells clients to, and
				// finishes its retries even when the run is over: an order
				// stored before a crash must be answered.
				key := newKey()
				added := false
				for attempt := 0; attempt < 120; attempt++ {
					if !added {
						// Adding is not idempotent: a client that lost the
						// answer looks at its cart before adding again.
						if r := c.do(t, http.MethodGet, "/api/v1/cart", nil); r.Status == http.StatusOK && strings.Contains(string(r.Body), p.ID) {
							added = true
							continue
						}
						r := c.do(t, http.MethodPost, "/api/v1/cart/items", map[string]any{"product_id": p.ID, "quantity": 1})
						if r.Status != http.StatusOK {
							time.Sleep(500 * time.Millisecond)
							continue
						}
						added = true
					}
					r := c.checkout(t, key, "tok_visa")
					if r.Status == http.StatusAccepted {
						var a struct {
							OrderID string `json:"order_id"`
						}
						r.decode(t, &a)
						mu.Lock()
						accepted = append(accepted, placed{c: c, key: key, id: a.OrderID})
						mu.Unlock()
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}

	crashes := []struct {
		app  string
		role stack.Role
	}{
		{"orders", stack.RoleApp}, {"inventory", stack.RoleApp}, {"payments", stack.RoleApp}, {"orders", stack.RoleDaprd},
	}
	for _, cr := range crashes {
		time.Sleep(3 * time.Second)
		kill9(t, cr.app, cr.role)
		time.Sleep(2 * time.Second)
		restartStack(t)
		t.Logf("killed and restarted %s %s", cr.app, cr.role)
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	require.NotEmpty(t, accepted)

	confirmed, sold := 0, int64(0)
	seen := map[string]bool{}
	for _, a := range accepted {
		if seen[a.id] {
			continue // a retried key answered the same order: fine
		}
		seen[a.id] = true
		o := a.c.settled(t, a.id, 2*time.Minute)
		pay, charged := payment(t, a.id)
		switch o.Status {
		case "confirmed":
			confirmed++
			for _, it := range o.Items {
				sold += it.Quantity
			}
			require.True(t, charged, "confirmed order %s has a payment", a.id)
			assert.Equal(t, 1, pay.Charges, "order %s charged once", a.id)
		case "cancelled":
			assert.True(t, !charged || pay.Charges == 0 || pay.Refunded, "cancelled order %s keeps no money", a.id)
		default:
			t.Errorf("order %s ended %q", a.id, o.Status)
		}
	}
	// No order was made twice: each shopper's history holds exactly the
	// orders their accepted checkouts answered.
	total := 0
	for _, c := range shoppers {
		var mine struct {
			Items []orderBody `json:"items"`
		}
		r := c.do(t, http.MethodGet, "/api/v1/orders", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.decode(t, &mine)
		for _, o := range mine.Items {
			assert.True(t, seen[o.ID], "order %s was never answered to a checkout", o.ID)
		}
		total += len(mine.Items)
	}
	assert.Equal(t, len(seen), total)
	var last stockBody
	eventually(t, time.Minute, "stock adds up", func() bool {
		last = stock(t, p.ID)
		return last.Reserved == 0 && last.Available == units-sold
	}, func() string {
		return fmt.Sprintf("want available %d reserved 0, have available %d reserved %d (%d units in %d confirmed orders)",
			units-sold, last.Available, last.Reserved, sold, confirmed)
	})
	t.Logf("%d orders accepted across %d crashes, %d confirmed", len(seen), len(crashes), confirmed)
}
