package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
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
	pf := stackProcess(t, app, role)
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
	stream := startCheckoutStream(t, p, shoppers)

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
	stream.finish()
	orders, confirmed := stream.requireAllSettled(t, units)
	t.Logf("%d orders accepted across %d crashes, %d confirmed", orders, len(crashes), confirmed)
}
