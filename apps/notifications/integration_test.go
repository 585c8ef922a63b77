package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/notifications/api"
	"github.com/shopmesh/shopmesh/apps/notifications/email"
	"github.com/shopmesh/shopmesh/apps/notifications/events"
	"github.com/shopmesh/shopmesh/apps/notifications/notify"
	"github.com/shopmesh/shopmesh/apps/notifications/store"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/auth"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// This test runs the notifications app in the test process beside a real
// daprd with the real `email` binding (bindings.smtp) pointed at a
// mailpit of its own (free ports, temporary database), its store on the
// local PostgreSQL (notifications database, own table prefix) and an
// in-memory pub/sub, so no other app sees its events nor it theirs. It
// reads the e-mails back through mailpit's HTTP API. `go tool task test`
// sets SHOPMESH_INTEGRATION=1; without it the test skips.

// mailpit is a mailpit started for one test.
type mailpit struct {
	smtpPort int
	api      string // http://127.0.0.1:<port>
}

func startMailpit(t *testing.T) mailpit {
	t.Helper()
	bin := filepath.Join(daprxtest.RepoRoot(t), ".local", "bin", "mailpit")
	require.FileExists(t, bin, "run go tool task build:mailpit")
	ports := daprxtest.FreePorts(t, 2)
	m := mailpit{smtpPort: ports[0], api: fmt.Sprintf("http://127.0.0.1:%d", ports[1])}
	dir := t.TempDir()
	cmd := exec.Command(bin,
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.smtpPort), "--listen", strings.TrimPrefix(m.api, "http://"),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns", "--quiet")
	logFile, err := os.Create(filepath.Join(dir, "mailpit.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("mailpit log:\n%s", b)
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(m.api + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "mailpit did not start")
	return m
}

// address is a recipient as mailpit's API shows it.
type address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

type summary struct {
	ID      string    `json:"ID"`
	From    address   `json:"From"`
	To      []address `json:"To"`
	Subject string    `json:"Subject"`
}

type fullMessage struct {
	summary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

func (m mailpit) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// to lists the messages to addr: GET /api/v1/search?query=to:"addr".
func (m mailpit) to(t *testing.T, addr string) []summary {
	t.Helper()
	var out struct {
		Messages []summary `json:"messages"`
	}
	m.getJSON(t, "/api/v1/search?query="+url.QueryEscape(`to:"`+addr+`"`), &out)
	return out.Messages
}

// waitFor waits until addr has n messages and returns them.
func (m mailpit) waitFor(t *testing.T, addr string, n int) []summary {
	t.Helper()
	var got []summary
	require.Eventually(t, func() bool { got = m.to(t, addr); return len(got) >= n }, 30*time.Second, 100*time.Millisecond,
		"%d e-mail(s) to %s", n, addr)
	return got
}

// message reads one message: GET /api/v1/message/{ID}.
func (m mailpit) message(t *testing.T, id string) fullMessage {
	t.Helper()
	var msg fullMessage
	m.getJSON(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// startApp runs the app on its own mailpit and returns both.
func startApp(t *testing.T, run string) (daprxtest.App, mailpit) {
	t.Helper()
	daprxtest.RequireIntegration(t)
	mp := startMailpit(t)
	dsn := daprxtest.LocalSecrets(t)["notifications-store-dsn"]
	require.NotEmpty(t, dsn, "no notifications-store-dsn: run go tool task infra:up and migrate")
	resources := daprxtest.WriteResources(t, map[string]string{
		"email.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: bindings.smtp
  version: v1
  metadata:
  - {name: host, value: "127.0.0.1"}
  - {name: port, value: "%d"}
  - {name: skipTLSVerify, value: "true"}
  - {name: emailFrom, value: "ShopMesh <no-reply@shopmesh.local>"}
`, contracts.EmailBinding, mp.smtpPort),
		"store.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: state.postgresql
  version: v2
  metadata:
  - {name: connectionString, value: %q}
  - {name: tablePrefix, value: "notiftest_"}
`, contracts.NotificationsStore, dsn),
		"pubsub.yaml": fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: pubsub.in-memory
  version: v1
`, contracts.PubSub),
	})
	app := daprxtest.Start(t, "notiftest-"+run, resources,
		store.Module, email.Module, notify.Module, events.Module, api.Module)
	return app, mp
}

func TestEventsBecomeEmailsInMailpit(t *testing.T) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	app, mp := startApp(t, run)
	ctx := context.Background()

	userID, orderID := "user-"+run, "order-"+run
	addr := "ann-" + run + "@example.com"
	t.Cleanup(func() {
		for _, key := range []string{"delivery|welcome|" + userID, "delivery|order_confirmed|" + orderID,
			"delivery|order_cancelled|" + orderID, "log|" + userID} {
			_ = app.Client.DeleteState(ctx, contracts.NotificationsStore, key, nil)
		}
	})
	publish := func(topic, typ, id string, data any) {
		t.Helper()
		require.NoError(t, app.Client.PublishEvent(ctx, contracts.PubSub, topic, data,
			dapr.PublishEventWithMetadata(map[string]string{"cloudevent.type": typ, "cloudevent.id": id})))
	}

	// Welcome, from user.registered with its data as a JSON object.
	publish(contracts.TopicUsers, contracts.UserRegistered, "ev-user-"+run,
		contracts.UserEvent{ID: userID, Email: addr, Name: "Ann Zoë", RegisteredAt: time.Now().UTC()})
	welcome := mp.waitFor(t, addr, 1)[0]
	assert.Equal(t, "Welcome to ShopMesh", welcome.Subject)

	// Confirmation, from order.confirmed.
	usd := func(n int64) contracts.Money { return contracts.Money{Amount: n, Currency: "USD"} }
	order := contracts.OrderEvent{
		OrderID: orderID, UserID: userID, Email: addr, Name: "Ann Zoë",
		Lines: []contracts.OrderLine{
			{ProductID: "p1", SKU: "MUG-BLUE", Name: "Blue mug", Quantity: 3, UnitPrice: usd(1999)},
			{ProductID: "p2", SKU: "TEE-L", Name: "T-shirt", Quantity: 1, UnitPrice: usd(250000)},
		},
		Total: usd(255997), Status: contracts.StatusConfirmed, At: time.Now().UTC(),
	}
	publish(contracts.TopicOrders, contracts.OrderConfirmed, "ev-confirmed-"+run, order)

	msgs := mp.waitFor(t, addr, 2)
	var confirmation summary
	for _, s := range msgs {
		if s.ID != welcome.ID {
			confirmation = s
		}
	}
	msg := mp.message(t, confirmation.ID)
	assert.Equal(t, "Your ShopMesh order "+orderID+" is confirmed", msg.Subject)
	require.Len(t, msg.To, 1)
	assert.Equal(t, addr, msg.To[0].Address)
	assert.Equal(t, "no-reply@shopmesh.local", msg.From.Address)
	assert.Contains(t, msg.HTML, "$2,559.97", "the total, through the real binding")
	assert.Contains(t, msg.HTML, "$59.97", "3 x $19.99")
	assert.Contains(t, msg.HTML, "Hello Ann Zoë,", "UTF-8 survives the binding")
	assert.Contains(t, msg.Text, "$2,559.97", "mailpit's text view of the HTML")

	// Redelivery (same CloudEvent id) and a duplicate under a new id send
	// nothing. A cancellation published after them on the same topic (the
	// in-memory pub/sub delivers a topic's events one after another) shows
	// they were handled.
	publish(contracts.TopicOrders, contracts.OrderConfirmed, "ev-confirmed-"+run, order)
	publish(contracts.TopicOrders, contracts.OrderConfirmed, "ev-confirmed-again-"+run, order)
	cancelled := order
	cancelled.Status, cancelled.Reason = contracts.StatusCancelled, contracts.ReasonPaymentDeclined
	publish(contracts.TopicOrders, contracts.OrderCancelled, "ev-cancelled-"+run, cancelled)
	msgs = mp.waitFor(t, addr, 3)
	subjects := map[string]int{}
	for _, s := range msgs {
		subjects[s.Subject]++
		if s.Subject == "Your ShopMesh order "+orderID+" was cancelled" {
			m := mp.message(t, s.ID)
			assert.Contains(t, m.HTML, "Your payment was declined.")
			assert.Contains(t, m.HTML, "You have not been charged.")
		}
	}
	assert.Equal(t, map[string]int{
		"Welcome to ShopMesh":                               1,
		"Your ShopMesh order " + orderID + " is confirmed":  1,
		"Your ShopMesh order " + orderID + " was cancelled": 1,
	}, subjects)

	// The delivery record keeps the id of the event that caused it.
	rec, err := app.Client.GetState(ctx, contracts.NotificationsStore, "delivery|order_confirmed|"+orderID, nil)
	require.NoError(t, err)
	var d notify.Delivery
	require.NoError(t, json.Unmarshal(rec.Value, &d))
	assert.Equal(t, "ev-confirmed-"+run, d.EventID)
	assert.Equal(t, notify.StatusSent, d.Status)
	assert.Equal(t, 1, d.Attempts)

	// The log, as the gateway's sidecar asks for it.
	list := func(userID string) []api.Item {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/notifications", app.Config.Port), nil)
		require.NoError(t, err)
		req.Header = auth.Identity{UserID: userID, Roles: []string{auth.RoleCustomer}}.Header()
		req.Header.Set("dapr-caller-app-id", contracts.AppGateway)
		req.Header.Set("dapr-api-token", app.Config.AppAPIToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body api.List
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return body.Items
	}
	items := list(userID)
	require.Len(t, items, 3)
	assert.Equal(t, []string{notify.KindOrderCancelled, notify.KindOrderConfirmed, notify.KindWelcome},
		[]string{items[0].Kind, items[1].Kind, items[2].Kind}, "newest first")
	require.NotNil(t, items[1].OrderID)
	assert.Equal(t, orderID, *items[1].OrderID)
	assert.Nil(t, items[2].OrderID)
	assert.Empty(t, list("someone-else-"+run))
}

// The store's first-write and ETag guards on the real PostgreSQL store, and
// concurrent deliveries of one notification through the real binding.
func TestStoreGuardsAndConcurrentDeliveries(t *testing.T) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	app, mp := startApp(t, run)
	ctx := context.Background()
	st := store.New(app.Client)
	key, userID := "test|"+run, "user-"+run
	t.Cleanup(func() {
		for _, k := range []string{"delivery|" + key, "log|" + userID, "delivery|order_confirmed|order-" + run} {
			_ = app.Client.DeleteState(ctx, contracts.NotificationsStore, k, nil)
		}
	})

	_, _, err := st.Delivery(ctx, key)
	require.ErrorIs(t, err, notify.ErrNotFound)
	d := notify.Delivery{NotificationID: "n1", Kind: "test", UserID: userID, Status: notify.StatusSending, Attempts: 1}
	etag, err := st.CreateDelivery(ctx, key, d)
	require.NoError(t, err)
	require.NotEmpty(t, etag)
	_, err = st.CreateDelivery(ctx, key, d)
	require.ErrorIs(t, err, notify.ErrConflict, "first-write")

	d.Status = notify.StatusSent
	newETag, err := st.SaveDelivery(ctx, key, d, etag)
	require.NoError(t, err)
	_, err = st.SaveDelivery(ctx, key, d, etag)
	require.ErrorIs(t, err, notify.ErrConflict, "stale etag")
	require.ErrorIs(t, st.DeleteDelivery(ctx, key, etag), notify.ErrConflict)
	got, gotETag, err := st.Delivery(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, newETag, gotETag)
	assert.Equal(t, d, got)

	entries, logETag, err := st.Log(ctx, userID)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Empty(t, logETag)
	one := []notify.Entry{{ID: "n1", Kind: "test", Subject: "s", SentAt: time.Now().UTC().Truncate(time.Millisecond)}}
	require.NoError(t, st.SaveLog(ctx, userID, one, ""))
	require.ErrorIs(t, st.SaveLog(ctx, userID, one, ""), notify.ErrConflict, "a log is created once")
	entries, logETag, err = st.Log(ctx, userID)
	require.NoError(t, err)
	assert.Equal(t, one, entries)
	require.NoError(t, st.SaveLog(ctx, userID, nil, logETag))
	require.ErrorIs(t, st.SaveLog(ctx, userID, nil, logETag), notify.ErrConflict)

	// Eight deliveries of the same order.confirmed at once: one e-mail.
	svc := notify.NewService(st, email.New(app.Client), notify.Config{SendTimeout: 10 * time.Second, ClaimLease: time.Minute},
		slog.New(slog.DiscardHandler))
	addr := "bob-" + run + "@example.com"
	order := contracts.OrderEvent{OrderID: "order-" + run, UserID: "user2-" + run, Email: addr,
		Total: contracts.Money{Amount: 100, Currency: "EUR"}}
	t.Cleanup(func() { _ = app.Client.DeleteState(ctx, contracts.NotificationsStore, "log|user2-"+run, nil) })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- svc.OrderConfirmed(ctx, "ev-"+run, order) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			assert.ErrorIs(t, err, notify.ErrInFlight)
		}
	}
	require.NoError(t, svc.OrderConfirmed(ctx, "ev-"+run, order))
	msgs := mp.waitFor(t, addr, 1)
	assert.Len(t, msgs, 1)
	assert.Contains(t, mp.message(t, msgs[0].ID).HTML, "€1.00")
}
