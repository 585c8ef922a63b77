// Package outbox makes a state change and the events that announce it one
// unit: stored if and only if published, on any transactional state store
// and any pub/sub, without Dapr's transactional outbox (which waits a fixed
// second per message and, on a failed transaction, retries for ever).
//
// Transact adds one record holding the events to the app's own state
// transaction, under a key of this process's own ("outbox|<owner>|<slot>").
// Once the transaction commits, the events are published at once and the
// record is deleted (in bulk, off the request's path). A process that dies
// between commit and publish leaves the record behind; a recovery sweep
// publishes and deletes it. The sweep finds records without a query API:
// every process holds one of a fixed number of seats ("outbox-seat|<n>"),
// a lease naming its owner id, and a record's key is made of that owner id
// and a slot number below the seat's slot count. A sweeper reads every
// seat in one bulk get and, for a seat whose lease ran out (or that a
// restarted process of the same instance name left), reads its owner's
// slots in one bulk get, publishes what it finds and deletes it.
//
// The guarantees: an event is published only if its transaction committed
// (a failed transaction's record is deleted at once, for stores without
// rollback such as Redis), and every committed event is published at
// least once. Consumers are idempotent: a message keeps its id (the
// CloudEvent id) however often it is sent.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Event is one event to publish if, and only if, its transaction commits.
type Event struct {
	Topic string
	Type  string
	Key   string // the aggregate's id: brokers that partition keep its events in order
	Data  any    // JSON-encoded
}

// ErrUnavailable: the outbox holds no valid seat lease (the store has not
// answered for a while), so it cannot promise to publish; nothing was written.
var ErrUnavailable = errors.New("outbox: no seat lease")

// Store is the state store the outbox shares with the app's writes.
type Store interface {
	Transact(ctx context.Context, ops ...daprx.Op) error
	GetBulk(ctx context.Context, keys []string) ([]daprx.Item, error)
	Get(ctx context.Context, key string, v any) (etag string, err error)
	Save(ctx context.Context, key string, v any, etag string) error
	Create(ctx context.Context, key string, v any) error
	Delete(ctx context.Context, key, etag string) error
	DeleteBulk(ctx context.Context, keys []string) error
}

// Publisher sends one message.
type Publisher interface {
	Send(ctx context.Context, m daprx.Message) error
}

// Config sizes the outbox.
type Config struct {
	// Instance names this process's place (the host name: a pod keeps it
	// across container restarts). A process that starts under the name of
	// a seat's holder takes the seat over at once and publishes what its
	// predecessor left, instead of waiting for the lease to run out. Two
	// live processes must not share a name.
	Instance string
	Seats    int           // how many processes may share the store
	Slots    int           // transactions of one process in flight at once
	Lease    time.Duration // how long a seat is held without renewal
	Sweep    time.Duration // how often expired seats are looked for
	// TxTimeout bounds a transaction; a lease must have at least this much
	// left for a transaction to start, so no record lands after the lease
	// ran out and a sweeper read the slots.
	TxTimeout time.Duration
	// Skew is how far clocks of two processes may differ.
	Skew time.Duration
	// ExitAfterCommit is a failpoint for tests of the recovery: the process
	// exits right after a transaction with events commits, before anything
	// is published, as a SIGKILL at that moment would leave it. Never set
	// in production (OUTBOX_FAILPOINT=exit-after-commit).
	ExitAfterCommit bool
}

// failpointExitCode is the exit status of the ExitAfterCommit failpoint.
const failpointExitCode = 86

// record is what a slot holds: the events of one committed transaction.
type record struct {
	Events []daprx.Message `json:"events"`
	At     time.Time       `json:"at"`
}

// Outbox publishes the events of transactions on one state store.
type Outbox struct {
	store Store
	pub   Publisher
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	exit  func(code int) // os.Exit but in tests
	owner string         // this process, for as long as it lives

	free chan int // slots free to take
	done chan int // slots whose events are out; their records go next

	mu      sync.Mutex
	seat    int       // -1 while none is held
	until   time.Time // the seat's lease, as last renewed
	waiting map[int]record
	claimed chan struct{} // closed once a seat is first held
}

// New returns an outbox on store. Start it (Run) before Transact.
func New(store Store, pub Publisher, cfg Config, log *slog.Logger) *Outbox {
	o := &Outbox{
		store: store, pub: pub, cfg: cfg, log: log, now: time.Now, exit: os.Exit,
		owner:   uuid.NewString(),
		free:    make(chan int, cfg.Slots),
		done:    make(chan int, cfg.Slots),
		seat:    -1,
		waiting: map[int]record{},
		claimed: make(chan struct{}),
	}
	for i := range cfg.Slots {
		o.free <- i
	}
	return o
}

func slotKey(owner string, slot int) string { return "outbox|" + owner + "|" + strconv.Itoa(slot) }

// Transact applies ops and the record of events in one state transaction
// and, once it has committed, publishes the events. Without events it is a
// plain transaction. A failed publish does not fail the call: the change is
// stored, and the event goes out on a later try.
func (o *Outbox) Transact(ctx context.Context, events []Event, ops ...daprx.Op) error {
	if len(events) == 0 {
		return o.store.Transact(ctx, ops...)
	}
	rec := record{Events: make([]daprx.Message, len(events)), At: o.now().UTC()}
	traceparent := telemetry.TraceParent(ctx) // published later, maybe by another process
	for i, e := range events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("encoding %s event: %w", e.Type, err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("event id: %w", err)
		}
		rec.Events[i] = daprx.Message{ID: id.String(), Topic: e.Topic, Type: e.Type, Key: e.Key, Data: data, TraceParent: traceparent}
	}
	if err := o.leased(ctx); err != nil {
		return err
	}
	var slot int
	select {
	case slot = <-o.free:
	case <-ctx.Done():
		return fmt.Errorf("waiting for an outbox slot: %w", ctx.Err())
	}
	// Once sent, the transaction runs to its end (or TxTimeout) even if the
	// caller gives up, so the slot's fate is known before it is reused.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.cfg.TxTimeout)
	defer cancel()
	key := slotKey(o.owner, slot)
	if err := o.store.Transact(tctx, append(ops, daprx.Op{Key: key, Value: rec})...); err != nil {
		// Stores without rollback (Redis) may have written the record of a
		// refused transaction: it must not outlive the refusal.
		if derr := o.store.Delete(tctx, key, ""); derr != nil {
			o.log.ErrorContext(ctx, "outbox: record of a failed transaction not deleted; the slot stays taken", "key", key, "err", derr)
			return err
		}
		o.free <- slot
		return err
	}
	if o.cfg.ExitAfterCommit {
		o.log.ErrorContext(ctx, "outbox: failpoint exit-after-commit: exiting before the publish", "key", key)
		o.exit(failpointExitCode)
		return nil
	}
	o.publish(tctx, slot, rec)
	return nil
}

// publish sends a committed record's events; on failure the record waits
// for the keeper's next try.
func (o *Outbox) publish(ctx context.Context, slot int, rec record) {
	for i, m := range rec.Events {
		if err := o.pub.Send(ctx, m); err != nil {
			o.log.WarnContext(ctx, "outbox: publish failed; will retry", "type", m.Type, "id", m.ID, "err", err)
			rec.Events = rec.Events[i:]
			o.mu.Lock()
			o.waiting[slot] = rec
			o.mu.Unlock()
			return
		}
	}
	o.done <- slot
}

// leased waits until a seat is held (at start-up), then checks the lease
// leaves room for a transaction.
func (o *Outbox) leased(ctx context.Context) error {
	select {
	case <-o.claimed:
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for a seat: %w", ErrUnavailable, ctx.Err())
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seat < 0 || o.now().Add(o.cfg.TxTimeout).After(o.until) {
		return fmt.Errorf("%w (lease until %s)", ErrUnavailable, o.until.Format(time.RFC3339))
	}
	return nil
}

// Ready reports whether the outbox can take transactions.
func (o *Outbox) Ready(ctx context.Context) error {
	select {
	case <-o.claimed:
	default:
		return fmt.Errorf("%w: none claimed yet", ErrUnavailable)
	}
	return o.leased(ctx)
}

// maxBatch bounds one bulk delete.
const maxBatch = 100

// reap deletes the records of published slots in bulk and frees the slots:
// one store call for as many records as were published meanwhile.
func (o *Outbox) reap(ctx context.Context) {
	batch := make([]int, 0, maxBatch)
	keys := make([]string, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case s := <-o.done:
			batch = append(batch, s)
		case <-ctx.Done():
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case s := <-o.done:
				batch = append(batch, s)
			default:
				break fill
			}
		}
		keys = keys[:0]
		for _, s := range batch {
			keys = append(keys, slotKey(o.owner, s))
		}
		for {
			err := o.store.DeleteBulk(ctx, keys)
			if err == nil {
				break
			}
			o.log.WarnContext(ctx, "outbox: deleting published records failed; retrying", "records", len(keys), "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
		}
		for _, s := range batch {
			o.free <- s
		}
	}
}

// retry sends the records whose publish failed.
func (o *Outbox) retry(ctx context.Context) {
	o.mu.Lock()
	waiting := maps.Clone(o.waiting)
	o.mu.Unlock()
	// Each record leaves the map only as it is sent (publish puts it back
	// on failure), so Backlog keeps seeing the ones still to go.
	for s, r := range waiting {
		o.mu.Lock()
		delete(o.waiting, s)
		o.mu.Unlock()
		o.publish(ctx, s, r)
	}
}

// Backlog reports the committed events whose publish failed and waits for
// a retry, and how long the oldest of them has waited (0 when none).
func (o *Outbox) Backlog() (events int, oldest time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var first time.Time
	for _, r := range o.waiting {
		events += len(r.Events)
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
	}
	if first.IsZero() {
		return events, 0
	}
	return events, o.now().Sub(first)
}

// Pending counts the records committed and not yet deleted.
func (o *Outbox) Pending() int { return o.cfg.Slots - len(o.free) }
