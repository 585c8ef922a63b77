package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// The backing servers under failure: during a stream of checkouts, each
// server of the running profile that holds the platform's data or carries
// its events is killed with SIGKILL and started again, and one is frozen
// (SIGSTOP) for 30 s, as a hung disk or a long GC pause would. Afterwards
// every accepted order is settled and nothing adds up wrong; meanwhile the
// gateway answered every call in time, and a 503 always said when to retry.

// serverDown is how long a crashed server stays down before its restart.
const serverDown = 5 * time.Second

// serverHang is how long the frozen server stays frozen.
const serverHang = 30 * time.Second

// chaosServers are the servers of the running profile a crash can hurt:
// the stores and brokers. Left out: Jaeger, Prometheus and mailpit (nothing
// of an order lives there), and fauxqs, the SNS/SQS stand-in, which keeps
// everything in memory (the AWS services it stands for are durable).
//
// Also left out, until the platform works around it: the Kafka stand-in.
// After it is killed and started again, Dapr 1.17.5's Kafka subscriber
// (components-contrib v1.17.3, sarama 1.45.2) keeps its consumer session
// but never receives another message, and the saga stops: orders stay
// pending. Neither an app health flip (which resubscribes) nor time heals
// it; a restart of the sidecar does. dapr/components-contrib#4349 (open)
// reports the same on 1.17.3 against MSK. docs/dapr-1.17.md has the
// reproduction.
func chaosServers(t *testing.T) []string {
	t.Helper()
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	all, err := stack.Infra(root, l.RunningProfile())
	require.NoError(t, err)
	var out []string
	for _, s := range all {
		if !slices.Contains([]string{"jaeger", "prometheus", "mailpit", "fauxqs", "kafka"}, s) {
			out = append(out, s)
		}
	}
	return out
}

// server runs local/<name>.sh with the argument and returns its output.
func server(t *testing.T, name, arg string) string {
	t.Helper()
	root := repoRoot()
	cmd := exec.Command("bash", filepath.Join(root, "local", name+".sh"), arg)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "local/%s.sh %s: %s", name, arg, out)
	return strings.TrimSpace(string(out))
}

func serverPid(t *testing.T, name string) int {
	t.Helper()
	pid, err := strconv.Atoi(server(t, name, "pid"))
	require.NoError(t, err, "%s is not running", name)
	return pid
}

// signalServer sends sig to the server, and to its children when it leads
// a process group of its own (PostgreSQL's backends): a crash of the whole
// server, as the OOM killer or a lost machine would make it.
func signalServer(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	target := pid
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		target = -pid
	}
	require.NoError(t, syscall.Kill(target, sig))
}

// probeCheckout places one order with a fresh cart and waits until it is
// confirmed, retrying what fails: the platform has recovered.
func probeCheckout(t *testing.T, c customer, p product, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r, err := send(c.c, http.MethodPost, gateway+"/api/v1/cart/items", map[string]any{"product_id": p.ID, "quantity": 1}, c.auth...); err != nil || r.Status != http.StatusOK {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		r, err := send(c.c, http.MethodPost, gateway+"/api/v1/checkout", checkoutBody("tok_visa"), append([]string{"Idempotency-Key", newKey()}, c.auth...)...)
		if err != nil || r.Status != http.StatusAccepted {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		var a struct {
			OrderID string `json:"order_id"`
		}
		r.decode(t, &a)
		o := c.settled(t, a.OrderID, time.Until(deadline)+time.Second)
		require.Equal(t, "confirmed", o.Status, "the probe order after recovery: %s", o.Reason)
		return
	}
	t.Fatalf("no checkout was accepted within %s of the restart", within)
}

func TestBackingServerCrashesLoseNothing(t *testing.T) {
	requireStack(t)
	servers := chaosServers(t)
	require.NotEmpty(t, servers)
	const units = 5000
	p := stockedProduct(t, units, 700)
	probeStock := stockedProduct(t, units, 700)
	shoppers := make([]customer, 6)
	for i := range shoppers {
		shoppers[i] = newCustomer(t, "chaos")
	}
	probe := newCustomer(t, "chaosprobe")
	stream := startCheckoutStream(t, p, shoppers)
	t.Cleanup(stream.finish)

	var report []string
	for _, name := range servers {
		time.Sleep(3 * time.Second)
		before := stream.acceptedSoFar()
		signalServer(t, serverPid(t, name), syscall.SIGKILL)
		time.Sleep(serverDown)
		started := time.Now()
		server(t, name, "start")
		restarted := time.Since(started)
		probeCheckout(t, probe, probeStock, 2*time.Minute)
		report = append(report, name+" killed: restart "+restarted.Round(100*time.Millisecond).String()+
			", a new order confirmed "+time.Since(started).Round(100*time.Millisecond).String()+" after the restart began"+
			", "+strconv.Itoa(stream.acceptedSoFar()-before)+" checkouts accepted meanwhile")
	}

	// One hang: the first server frozen for serverHang, then let go.
	name := servers[0]
	time.Sleep(3 * time.Second)
	pid := serverPid(t, name)
	signalServer(t, pid, syscall.SIGSTOP)
	thawed := false
	t.Cleanup(func() {
		if !thawed {
			signalServer(t, pid, syscall.SIGCONT)
		}
	})
	time.Sleep(serverHang)
	signalServer(t, pid, syscall.SIGCONT)
	thawed = true
	started := time.Now()
	probeCheckout(t, probe, probeStock, 2*time.Minute)
	report = append(report, name+" frozen "+serverHang.String()+": a new order confirmed "+time.Since(started).Round(100*time.Millisecond).String()+" after it was let go")

	time.Sleep(3 * time.Second)
	stream.finish()
	for _, line := range report {
		t.Log(line)
	}
	t.Logf("answers during the faults by status: %v; slowest %s", stream.statuses, stream.slowest.Round(time.Millisecond))

	// Meanwhile the gateway answered in time (the client gives up after
	// 15 s: an error here is a hang), and every 503 said when to retry.
	assert.Zero(t, len(stream.errs), "calls that got no answer, e.g. %q", head(stream.errs))
	assert.Zero(t, len(stream.noRetry), "503 answers without Retry-After, e.g. %q", head(stream.noRetry))
	for status, n := range stream.statuses {
		if status >= 500 && status != 503 {
			t.Errorf("%d answers with status %d: a fault must read 503 with Retry-After", n, status)
		}
	}
	orders, confirmed := stream.requireAllSettled(t, units)
	// No event is left in an outbox (what every app's /metrics says, as
	// Prometheus scraped it).
	eventually(t, time.Minute, "every outbox is empty", func() bool {
		return promValue(t, "sum(shopmesh_outbox_events_waiting)") == 0
	})
	t.Logf("%d orders accepted across %d crashes and a hang, %d confirmed", orders, len(servers), confirmed)
}

// head is the first few of a long list, for a failure message.
func head(s []string) []string { return s[:min(len(s), 3)] }
