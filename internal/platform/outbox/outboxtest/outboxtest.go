// Package outboxtest runs a real outbox beside a test's sidecar, publishing
// on a topic of the test's own so runs on a shared broker do not meet.
package outboxtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Config is an outbox's configuration for tests: a unique instance and
// short timings.
func Config() outbox.Config {
	return outbox.Config{
		Instance: "test-" + uuid.NewString(), Seats: 8, Slots: 64,
		Lease: 10 * time.Second, Sweep: time.Second, TxTimeout: 5 * time.Second, Skew: 0,
	}
}

// Start runs an outbox on the state store component store that publishes
// every event on topic, and waits until it holds a seat. It stops, giving
// the seat up, when t ends.
func Start(t *testing.T, c dapr.Client, store, topic string) *outbox.Outbox {
	t.Helper()
	return StartWith(t, daprx.NewState(c, store), Retopic{Publisher: daprx.NewPublisher(c), Topic: topic}, Config())
}

// StartWith runs an outbox on st and pub with cfg until t ends.
func StartWith(t *testing.T, st outbox.Store, pub outbox.Publisher, cfg outbox.Config) *outbox.Outbox {
	t.Helper()
	o := outbox.New(st, pub, cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx)
	}()
	t.Cleanup(func() {
		stop, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelStop()
		_ = o.Close(stop)
		cancel()
		<-done
	})
	require.Eventually(t, func() bool { return o.Ready(context.Background()) == nil }, 20*time.Second, 20*time.Millisecond,
		"the outbox claimed no seat")
	return o
}

// Retopic sends every message on Topic.
type Retopic struct {
	Publisher outbox.Publisher
	Topic     string
}

// Send implements outbox.Publisher.
func (r Retopic) Send(ctx context.Context, m daprx.Message) error {
	m.Topic = r.Topic
	return r.Publisher.Send(ctx, m)
}
