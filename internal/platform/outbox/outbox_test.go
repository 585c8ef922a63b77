package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/daprx"
)

// memStore is a state store in memory. rollback says whether a refused
// transaction writes nothing (PostgreSQL) or the operations that passed
// (Redis). fail makes every call fail (the store out of reach).
type memStore struct {
	mu       sync.Mutex
	rollback bool
	fail     bool
	seq      int
	data     map[string]memItem
}

type memItem struct {
	value []byte
	etag  string
}

func newMemStore(rollback bool) *memStore {
	return &memStore{rollback: rollback, data: map[string]memItem{}}
}

var errDown = errors.New("store down")

func (m *memStore) put(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.seq++
	m.data[key] = memItem{value: b, etag: strconv.Itoa(m.seq)}
	return nil
}

func (m *memStore) check(op daprx.Op) error {
	cur, ok := m.data[op.Key]
	switch {
	case op.ETag != "" && (!ok || cur.etag != op.ETag):
		return daprx.ErrConflict
	case op.Create && ok:
		return daprx.ErrConflict
	}
	return nil
}

func (m *memStore) Transact(_ context.Context, ops ...daprx.Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errDown
	}
	var refused error
	for _, op := range ops {
		if err := m.check(op); err != nil {
			refused = err
		}
	}
	if refused != nil && m.rollback {
		return refused
	}
	for _, op := range ops {
		if m.check(op) != nil {
			continue
		}
		if op.Delete {
			delete(m.data, op.Key)
			continue
		}
		if err := m.put(op.Key, op.Value); err != nil {
			return err
		}
	}
	return refused
}

func (m *memStore) GetBulk(_ context.Context, keys []string) ([]daprx.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return nil, errDown
	}
	out := make([]daprx.Item, len(keys))
	for i, k := range keys {
		out[i].Key = k
		if it, ok := m.data[k]; ok {
			out[i].Value, out[i].ETag = it.value, it.etag
		}
	}
	return out, nil
}

func (m *memStore) Get(_ context.Context, key string, v any) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return "", errDown
	}
	it, ok := m.data[key]
	if !ok {
		return "", daprx.ErrNotFound
	}
	return it.etag, json.Unmarshal(it.value, v)
}

func (m *memStore) Save(_ context.Context, key string, v any, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errDown
	}
	if err := m.check(daprx.Op{Key: key, ETag: etag}); err != nil {
		return err
	}
	return m.put(key, v)
}

func (m *memStore) Create(_ context.Context, key string, v any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errDown
	}
	if err := m.check(daprx.Op{Key: key, Create: true}); err != nil {
		return err
	}
	return m.put(key, v)
}

func (m *memStore) Delete(_ context.Context, key, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errDown
	}
	if cur, ok := m.data[key]; ok && etag != "" && cur.etag != etag {
		return daprx.ErrConflict
	}
	delete(m.data, key)
	return nil
}

func (m *memStore) DeleteBulk(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := m.Delete(ctx, k, ""); err != nil {
			return err
		}
	}
	return nil
}

// keys lists the stored keys with the prefix.
func (m *memStore) count(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.data {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// memPub records what is sent; fail makes sends fail.
type memPub struct {
	mu   sync.Mutex
	fail bool
	sent []daprx.Message
}

func (p *memPub) Send(_ context.Context, m daprx.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("broker down")
	}
	p.sent = append(p.sent, m)
	return nil
}

func (p *memPub) setFail(f bool) {
	p.mu.Lock()
	p.fail = f
	p.mu.Unlock()
}

func (p *memPub) messages() []daprx.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]daprx.Message(nil), p.sent...)
}

func testConfig(instance string) Config {
	return Config{Instance: instance, Seats: 4, Slots: 8, Lease: 30 * time.Second, Sweep: 5 * time.Second, TxTimeout: 10 * time.Second, Skew: 5 * time.Second}
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// started returns an outbox holding a seat, with its reaper running.
func started(t *testing.T, st *memStore, pub *memPub, cfg Config, clk *clock) *Outbox {
	t.Helper()
	o := New(st, pub, cfg, slog.New(slog.DiscardHandler))
	o.now = clk.now
	require.NoError(t, o.claim(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go o.reap(ctx)
	return o
}

type thing struct {
	Name string `json:"name"`
}

func TestTransactPublishesOnceCommittedAndDeletesTheRecord(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	o := started(t, st, pub, testConfig("a"), clk)

	err := o.Transact(context.Background(),
		[]Event{{Topic: "things", Type: "thing.saved", Key: "t1", Data: thing{"one"}}},
		daprx.Op{Key: "t1", Value: thing{"one"}})
	require.NoError(t, err)

	sent := pub.messages()
	require.Len(t, sent, 1)
	assert.Equal(t, "things", sent[0].Topic)
	assert.Equal(t, "thing.saved", sent[0].Type)
	assert.Equal(t, "t1", sent[0].Key)
	assert.JSONEq(t, `{"name":"one"}`, string(sent[0].Data))
	assert.NotEmpty(t, sent[0].ID)
	assert.Equal(t, 1, st.count("t1"), "the change is stored")
	require.Eventually(t, func() bool { return st.count("outbox|") == 0 && o.Pending() == 0 },
		5*time.Second, 5*time.Millisecond, "the published record is deleted and its slot freed")
}

func TestRefusedTransactionLeavesNoEventBehind(t *testing.T) {
	for _, rollback := range []bool{true, false} {
		t.Run("rollback="+strconv.FormatBool(rollback), func(t *testing.T) {
			st, pub, clk := newMemStore(rollback), &memPub{}, &clock{t: time.Now()}
			o := started(t, st, pub, testConfig("a"), clk)
			ctx := context.Background()
			require.NoError(t, st.Save(ctx, "t1", thing{"old"}, ""))

			err := o.Transact(ctx, []Event{{Topic: "things", Type: "thing.saved", Data: thing{"new"}}},
				daprx.Op{Key: "t1", Value: thing{"new"}, ETag: "stale"})
			require.ErrorIs(t, err, daprx.ErrConflict)
			assert.Empty(t, pub.messages(), "nothing published")
			assert.Equal(t, 0, st.count("outbox|"), "no record left for a sweep to publish")
			assert.Equal(t, 0, o.Pending(), "the slot is free again")

			// Nothing stalls: the next transaction goes through.
			require.NoError(t, o.Transact(ctx, []Event{{Topic: "things", Type: "thing.saved", Data: thing{"next"}}},
				daprx.Op{Key: "t2", Value: thing{"next"}}))
			assert.Len(t, pub.messages(), 1)
		})
	}
}

func TestFailedPublishIsRetriedWithTheSameID(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	o := started(t, st, pub, testConfig("a"), clk)
	ctx := context.Background()
	pub.setFail(true)
	require.NoError(t, o.Transact(ctx, []Event{{Topic: "things", Type: "a"}, {Topic: "things", Type: "b"}},
		daprx.Op{Key: "t1", Value: thing{"x"}}), "the change is stored even though the broker is down")
	assert.Equal(t, 1, st.count("outbox|"), "the record waits")
	clk.add(7 * time.Second)
	n, age := o.Backlog()
	assert.Equal(t, 2, n, "both events wait")
	assert.Equal(t, 7*time.Second, age)

	pub.setFail(false)
	o.retry(ctx)
	n, age = o.Backlog()
	assert.Equal(t, 0, n, "nothing waits once sent")
	assert.Zero(t, age)
	sent := pub.messages()
	require.Len(t, sent, 2)
	assert.Equal(t, []string{"a", "b"}, []string{sent[0].Type, sent[1].Type}, "in order")
	require.Eventually(t, func() bool { return st.count("outbox|") == 0 }, 5*time.Second, 5*time.Millisecond)
}

func TestSlotsBoundTransactionsInFlight(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	cfg := testConfig("a")
	cfg.Slots = 2
	o := started(t, st, pub, cfg, clk)
	pub.setFail(true)
	ctx := context.Background()
	ev := []Event{{Topic: "things", Type: "a"}}
	require.NoError(t, o.Transact(ctx, ev, daprx.Op{Key: "1", Value: 1}))
	require.NoError(t, o.Transact(ctx, ev, daprx.Op{Key: "2", Value: 2}))

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := o.Transact(short, ev, daprx.Op{Key: "3", Value: 3})
	require.ErrorIs(t, err, context.DeadlineExceeded, "a third waits for a slot")
	assert.Equal(t, 0, st.count("3"), "and writes nothing")
}

// crashed commits a record and dies before it is published.
func crashed(t *testing.T, st *memStore, clk *clock, instance string) {
	t.Helper()
	pub := &memPub{fail: true}
	o := started(t, st, pub, testConfig(instance), clk)
	require.NoError(t, o.Transact(context.Background(), []Event{{Topic: "orders", Type: "order.placed", Key: "o1", Data: thing{"o1"}}},
		daprx.Op{Key: "o1", Value: thing{"o1"}}))
	require.Equal(t, 1, st.count("outbox|"))
}

func TestRestartOfTheSameInstancePublishesWhatItsPredecessorLeft(t *testing.T) {
	st, clk := newMemStore(true), &clock{t: time.Now()}
	crashed(t, st, clk, "host-1/orders")

	pub := &memPub{}
	o := New(st, pub, testConfig("host-1/orders"), slog.New(slog.DiscardHandler))
	o.now = clk.now
	require.NoError(t, o.claim(context.Background()), "no need to wait for the lease to run out")
	sent := pub.messages()
	require.Len(t, sent, 1)
	assert.Equal(t, "order.placed", sent[0].Type)
	assert.Equal(t, 0, st.count("outbox|"))
	assert.Equal(t, 1, st.count("outbox-seat|"), "the seat passed to the new process")
	require.NoError(t, o.Ready(context.Background()))
}

func TestSweepPublishesWhatAnExpiredSeatLeft(t *testing.T) {
	st, clk := newMemStore(true), &clock{t: time.Now()}
	crashed(t, st, clk, "host-1/orders")

	pub := &memPub{}
	other := started(t, st, pub, testConfig("host-2/orders"), clk)
	ctx := context.Background()
	require.NoError(t, other.sweep(ctx))
	assert.Empty(t, pub.messages(), "a live lease is left alone")

	clk.add(30*time.Second + 5*time.Second + time.Millisecond) // lease plus skew
	require.NoError(t, other.sweep(ctx))
	sent := pub.messages()
	require.Len(t, sent, 1)
	assert.Equal(t, "order.placed", sent[0].Type)
	assert.Equal(t, 0, st.count("outbox|"))
	assert.Equal(t, 1, st.count("outbox-seat|"), "the expired seat is free again")

	require.NoError(t, other.sweep(ctx))
	assert.Len(t, pub.messages(), 1, "published once")
}

func TestLeaseRunningOutStopsTransactions(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	o := started(t, st, pub, testConfig("a"), clk)
	ctx := context.Background()
	ev := []Event{{Topic: "things", Type: "a"}}

	st.fail = true
	clk.add(15 * time.Second)
	require.Error(t, o.renew(ctx))
	clk.add(6 * time.Second) // less than TxTimeout of the lease is left
	err := o.Transact(ctx, ev, daprx.Op{Key: "1", Value: 1})
	require.ErrorIs(t, err, ErrUnavailable)
	require.Error(t, o.Ready(ctx))

	st.fail = false
	require.NoError(t, o.renew(ctx))
	require.NoError(t, o.Transact(ctx, ev, daprx.Op{Key: "1", Value: 1}))
}

func TestALostSeatIsGivenUpAndAnotherClaimed(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	o := started(t, st, pub, testConfig("a"), clk)
	ctx := context.Background()
	// A sweeper freed our seat while we could not renew.
	require.NoError(t, st.Delete(ctx, seatKey(0), ""))
	require.Error(t, o.renew(ctx))
	require.ErrorIs(t, o.Transact(ctx, []Event{{Topic: "t", Type: "a"}}), ErrUnavailable)
	require.NoError(t, o.claim(ctx))
	require.NoError(t, o.Transact(ctx, []Event{{Topic: "t", Type: "a"}}, daprx.Op{Key: "1", Value: 1}))
}

func TestCloseGivesTheSeatUp(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	o := started(t, st, pub, testConfig("a"), clk)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, o.Transact(ctx, []Event{{Topic: "t", Type: "a"}}, daprx.Op{Key: "1", Value: 1}))
	require.NoError(t, o.Close(ctx))
	assert.Equal(t, 0, st.count("outbox"), "no record and no seat left")
}

func TestAllSeatsTaken(t *testing.T) {
	st, clk := newMemStore(true), &clock{t: time.Now()}
	cfg := testConfig("a")
	cfg.Seats = 1
	started(t, st, &memPub{}, cfg, clk)
	cfg.Instance = "b"
	o := New(st, &memPub{}, cfg, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, o.claim(context.Background()), "all 1 seats are held")
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, err := LoadConfig(env(map[string]string{"OUTBOX_INSTANCE": "pod-1", "OUTBOX_SLOTS": "64"}))
	require.NoError(t, err)
	assert.Equal(t, "pod-1", cfg.Instance)
	assert.Equal(t, 64, cfg.Slots)
	assert.Equal(t, 30*time.Second, cfg.Lease)

	_, err = LoadConfig(env(map[string]string{"OUTBOX_LEASE": "5s"}))
	require.ErrorContains(t, err, "OUTBOX_LEASE", "a lease shorter than two transactions is refused")
	_, err = LoadConfig(env(map[string]string{"OUTBOX_SEATS": "0"}))
	require.Error(t, err)
	_, err = LoadConfig(env(map[string]string{"OUTBOX_SWEEP": "soon"}))
	require.Error(t, err)

	cfg, err = LoadConfig(env(map[string]string{"OUTBOX_FAILPOINT": "exit-after-commit"}))
	require.NoError(t, err)
	assert.True(t, cfg.ExitAfterCommit)
	_, err = LoadConfig(env(map[string]string{"OUTBOX_FAILPOINT": "crash"}))
	require.ErrorContains(t, err, "OUTBOX_FAILPOINT")
}

// The failpoint leaves the store as a SIGKILL between commit and publish
// would, and the restart of the instance publishes the event.
func TestExitAfterCommitFailpoint(t *testing.T) {
	st, pub, clk := newMemStore(true), &memPub{}, &clock{t: time.Now()}
	cfg := testConfig("host-1/orders")
	cfg.ExitAfterCommit = true
	o := New(st, pub, cfg, slog.New(slog.DiscardHandler))
	o.now = clk.now
	exited := -1
	o.exit = func(code int) { exited = code }
	require.NoError(t, o.claim(context.Background()))

	require.NoError(t, o.Transact(context.Background(), []Event{{Topic: "orders", Type: "order.placed"}}, daprx.Op{Key: "o1", Value: 1}))
	assert.Equal(t, failpointExitCode, exited)
	assert.Empty(t, pub.messages(), "nothing was published")
	assert.Equal(t, 1, st.count("outbox|"), "the record was committed")

	cfg.ExitAfterCommit = false
	restarted := New(st, pub, cfg, slog.New(slog.DiscardHandler))
	restarted.now = clk.now
	require.NoError(t, restarted.claim(context.Background()))
	assert.Len(t, pub.messages(), 1)
}
