package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServe(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseServe(nil, env(nil), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != "127.0.0.1:19092" || cfg.partitions != 3 || cfg.saslUser != "" || cfg.tlsCert != "" || cfg.dataDir != "" || cfg.logLevel != kfake.LogLevelWarn {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = parseServe([]string{"-listen", "localhost:1234", "-sasl-user", "u", "-tls-cert", "c", "-tls-key", "k", "-partitions", "5", "-log-level", "debug"},
		env(map[string]string{"KAFKA_SASL_PASSWORD": "from-env"}), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.saslPassword != "from-env" || cfg.partitions != 5 || cfg.logLevel != kfake.LogLevelDebug || cfg.listen != "localhost:1234" {
		t.Fatalf("parsed: %+v", cfg)
	}
	cfg, err = parseServe([]string{"-sasl-user", "u", "-sasl-password", "flag"}, env(map[string]string{"KAFKA_SASL_PASSWORD": "env"}), &stderr)
	if err != nil || cfg.saslPassword != "flag" {
		t.Fatalf("the flag wins over the environment: %v %+v", err, cfg)
	}
	for _, args := range [][]string{
		{"-sasl-user", "u"},
		{"-sasl-password", "p"},
		{"-tls-cert", "c"},
		{"-tls-key", "k"},
		{"-partitions", "0"},
		{"-log-level", "loud"},
		{"-listen", "19092"},
		{"-listen", "0.0.0.0:19092"},
		{"-listen", ":19092"},
		{"extra"},
		{"-nope"},
	} {
		stderr.Reset()
		if _, err := parseServe(args, env(nil), &stderr); err != errUsage {
			t.Errorf("%q: err %v, want errUsage", args, err)
		}
		if !strings.Contains(stderr.String(), "usage: kafka serve") {
			t.Errorf("%q: no usage text in %q", args, stderr.String())
		}
	}
}

func TestParseServeHelpKeepsPasswordSecret(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseServe([]string{"-h"}, env(map[string]string{"KAFKA_SASL_PASSWORD": "hunter2"}), &stderr); err == nil {
		t.Fatal("-h parsed as a configuration")
	}
	if strings.Contains(stderr.String(), "hunter2") || !strings.Contains(stderr.String(), "in memory") {
		t.Fatalf("help text:\n%s", stderr.String())
	}
}

func TestParseReplay(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseReplay("replay", []string{"-brokers", "a:1, b:2,", "-sasl-user", "u", "-tls-ca", "ca.pem", "-topic", "orders", "-match", "x"},
		env(map[string]string{"KAFKA_SASL_PASSWORD": "pw"}), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.client.brokers, []string{"a:1", "b:2"}) || cfg.client.saslPassword != "pw" || cfg.topic != "orders" || cfg.match != "x" || cfg.timeout != 30*time.Second {
		t.Fatalf("parsed: %+v", cfg)
	}
	for _, args := range [][]string{
		{"-topic", "t", "-match", "m"},
		{"-brokers", "a:1", "-match", "m"},
		{"-brokers", "a:1", "-topic", "t"},
		{"-brokers", "a:1", "-topic", "t", "-match", "m", "-sasl-user", "u"},
		{"-brokers", "a:1", "-topic", "t", "-match", "m", "-timeout", "0s"},
	} {
		if _, err := parseReplay("replay", args, env(nil), &stderr); err != errUsage {
			t.Errorf("%q: err %v, want errUsage", args, err)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errw bytes.Buffer
	for _, c := range []struct {
		args []string
		want int
	}{{nil, 2}, {[]string{"bogus"}, 2}, {[]string{"help"}, 0}, {[]string{"serve", "-h"}, 0}, {[]string{"replay"}, 2}} {
		if got := run(c.args, env(nil), &out, &errw); got != c.want {
			t.Errorf("run %q = %d, want %d", c.args, got, c.want)
		}
	}
}

func TestGencert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	var stderr bytes.Buffer
	cfg, err := parseGencert([]string{"-dir", dir}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := gencert(cfg, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := checkCerts(cfg); err != nil {
		t.Fatalf("fresh certificates: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, serverKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server key mode: %v %v", fi, err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, caFile))
	if err := gencert(cfg, &stderr); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, caFile))
	if !bytes.Equal(before, after) {
		t.Fatal("a second run replaced valid certificates")
	}
	// Near expiry, or asked for another host: written anew.
	cfg.now = func() time.Time { return time.Now().Add(824 * 24 * time.Hour) }
	if checkCerts(cfg) == nil {
		t.Fatal("a certificate expiring within 30 days passes")
	}
	cfg.now = time.Now
	cfg.hosts = append(cfg.hosts, "kafka.local")
	if err := gencert(cfg, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := checkCerts(cfg); err != nil {
		t.Fatal(err)
	}
	if after2, _ := os.ReadFile(filepath.Join(dir, caFile)); bytes.Equal(after, after2) {
		t.Fatal("certificates not renewed for a new host")
	}
}

// testBroker starts a SASL/SCRAM-SHA-512 + TLS broker like local/kafka.sh
// does and returns the client configuration that reaches it.
func testBroker(t *testing.T, dataDir, password string) (clientConfig, func()) {
	t.Helper()
	tlsDir := filepath.Join(t.TempDir(), "tls")
	if err := gencert(gencertConfig{dir: tlsDir, hosts: []string{"127.0.0.1", "localhost"}, valid: 48 * time.Hour * 24, now: time.Now}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig{
		listen: "127.0.0.1:0", saslUser: "shopmesh", saslPassword: password,
		tlsCert: filepath.Join(tlsDir, serverFile), tlsKey: filepath.Join(tlsDir, serverKeyFile),
		dataDir: dataDir, partitions: 3, logLevel: kfake.LogLevelWarn,
	}
	c, err := startCluster(cfg, &testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	return clientConfig{brokers: c.ListenAddrs(), saslUser: "shopmesh", saslPassword: password, tlsCA: filepath.Join(tlsDir, caFile)}, c.Close
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newClient(t *testing.T, cc clientConfig, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base, err := cc.options()
	if err != nil {
		t.Fatal(err)
	}
	// Like sarama (Dapr), ask for topics to be created on first use.
	cl, err := kgo.NewClient(append(append(base, kgo.AllowAutoTopicCreation()), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func consumeAll(t *testing.T, cc clientConfig, topic string, want int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, cc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s after %d records: %v", topic, len(got), err)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

// TestReplayRoundTrip: topics are auto-created on produce over SASL+TLS, and
// replay appends exact copies (partition, key, value, headers) of the
// matching records only, once.
func TestReplayRoundTrip(t *testing.T) {
	cc, stop := testBroker(t, "", "pw-1")
	defer stop()
	ctx := context.Background()
	producer := newClient(t, cc, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var originals []*kgo.Record
	for i, order := range []string{"order-a", "order-b", "order-a", "order-c", "order-a"} {
		r := &kgo.Record{
			Topic: "orders", Partition: int32(i % 3), Key: []byte(order),
			Value:   []byte(`{"id":"ev-` + string(rune('0'+i)) + `","data":{"order_id":"` + order + `"}}`),
			Headers: []kgo.RecordHeader{{Key: "type", Value: []byte("order.created")}, {Key: "n", Value: []byte{byte(i)}}},
		}
		if err := producer.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		originals = append(originals, r)
	}
	n, err := replay(ctx, replayConfig{client: cc, topic: "orders", match: `"order-a"`, timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("replayed %d, want 3", n)
	}
	all := consumeAll(t, cc, "orders", 8)
	if len(all) != 8 {
		t.Fatalf("%d records, want 8", len(all))
	}
	copies := map[string]int{}
	for _, r := range all {
		copies[string(r.Value)]++
		var orig *kgo.Record
		for _, o := range originals {
			if bytes.Equal(o.Value, r.Value) {
				orig = o
			}
		}
		if orig == nil || orig.Partition != r.Partition || !bytes.Equal(orig.Key, r.Key) || len(orig.Headers) != len(r.Headers) {
			t.Fatalf("record %s/%d %q differs from its original", r.Topic, r.Partition, r.Value)
		}
		for i, h := range orig.Headers {
			if r.Headers[i].Key != h.Key || !bytes.Equal(r.Headers[i].Value, h.Value) {
				t.Fatalf("headers %v, want %v", r.Headers, orig.Headers)
			}
		}
	}
	for _, o := range originals {
		want := 1
		if bytes.Contains(o.Value, []byte(`"order-a"`)) {
			want = 2
		}
		if copies[string(o.Value)] != want {
			t.Errorf("%s appears %d times, want %d", o.Value, copies[string(o.Value)], want)
		}
	}

	if _, err := replay(ctx, replayConfig{client: cc, topic: "missing", match: "x", timeout: 5 * time.Second}); err == nil {
		t.Error("replay of a topic that does not exist succeeded")
	}
	if n, err := replay(ctx, replayConfig{client: cc, topic: "orders", match: "no such order", timeout: 5 * time.Second}); err != nil || n != 0 {
		t.Errorf("replay without a match: %d, %v", n, err)
	}
	// count sees the originals and the copies, and no topic as empty.
	if n, err := count(ctx, replayConfig{client: cc, topic: "orders", match: `"order-a"`, timeout: 10 * time.Second}); err != nil || n != 6 {
		t.Errorf("count: %d, %v; want 6", n, err)
	}
	if n, err := count(ctx, replayConfig{client: cc, topic: "missing", match: "x", timeout: 5 * time.Second}); err != nil || n != 0 {
		t.Errorf("count of a topic not created: %d, %v", n, err)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	cc, stop := testBroker(t, "", "right")
	defer stop()
	cc.saslPassword = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := newClient(t, cc).Ping(ctx); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}

// TestDataDirKeepsRecordsAndOffsetsAndFlagsSetPassword: with -data-dir a
// restart keeps topics and a group's committed offsets, and the password
// comes from the flags even after it changed.
func TestDataDirKeepsRecordsAndOffsetsAndFlagsSetPassword(t *testing.T) {
	dir := t.TempDir()
	cc, stop := testBroker(t, dir, "first")
	ctx := context.Background()
	cl := newClient(t, cc)
	for _, v := range []string{"one", "two"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "events", Key: []byte(v), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	group := newClient(t, cc, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	got := 0
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for got < 2 {
		fs := group.PollFetches(pctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		got += len(fs.Records())
	}
	if err := group.CommitUncommittedOffsets(pctx); err != nil {
		t.Fatal(err)
	}
	group.Close()
	cl.Close()
	stop()

	cc2, stop2 := testBroker(t, dir, "second")
	defer stop2()
	if len(consumeAll(t, cc2, "events", 2)) != 2 {
		t.Fatal("records lost over a restart")
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = "g"
	resp, err := req.RequestWith(ctx, newClient(t, cc2))
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			committed += max(p.Offset, 0)
		}
	}
	if committed != 2 {
		t.Fatalf("committed offsets add up to %d after a restart, want 2", committed)
	}
}

// TestOffsetFetchNullMetadataPatched: an OffsetFetch for a partition without
// a commit answers metadata "" (not null) through the listener, in the
// versions sarama uses (5 for Kafka < 2.4, 7 for >= 2.5) and the grouped v8.
func TestOffsetFetchNullMetadataPatched(t *testing.T) {
	cc, stop := testBroker(t, "", "pw")
	defer stop()
	ctx := context.Background()
	cl := newClient(t, cc)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A group with a commit for the record's partition only (kfake lists
	// no partitions for a group it does not know).
	member := newClient(t, cc, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var recPart int32 = -1
	for recPart < 0 {
		fs := member.PollFetches(pctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { recPart = r.Partition })
	}
	if err := member.CommitUncommittedOffsets(pctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int16{5, 7, 8} {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = v
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{0, 1, 2}
		if v >= 8 {
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = "g"
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.Partitions = "t", []int32{0, 1, 2}
			g.Topics = append(g.Topics, gt)
			req.Groups = append(req.Groups, g)
		} else {
			req.Group = "g"
			req.Topics = append(req.Topics, rt)
		}
		// Pin the version: kgo would otherwise pick the highest.
		resp, err := cl.Broker(0).RetriableRequest(ctx, pinned{req})
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		r := resp.(*kmsg.OffsetFetchResponse)
		n := 0
		check := func(p kmsg.OffsetFetchResponseTopicPartition) {
			n++
			if p.Partition == recPart { // committed by kgo, with its member id as metadata
				if p.Metadata == nil || p.Offset != 1 {
					t.Errorf("v%d: committed partition %d metadata %s offset %d", v, p.Partition, fmtMeta(p.Metadata), p.Offset)
				}
			} else if p.Metadata == nil || *p.Metadata != "" || p.Offset != -1 {
				t.Errorf("v%d: partition %d metadata %s offset %d, want \"\" and -1", v, p.Partition, fmtMeta(p.Metadata), p.Offset)
			}
		}
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				check(p)
			}
		}
		for _, g := range r.Groups {
			for _, tp := range g.Topics {
				for _, p := range tp.Partitions {
					check(kmsg.OffsetFetchResponseTopicPartition{Partition: p.Partition, Offset: p.Offset, Metadata: p.Metadata})
				}
			}
		}
		if n != 3 {
			t.Errorf("v%d: %d partitions answered", v, n)
		}
	}
}

// pinned sends a request at exactly its Version.
type pinned struct{ *kmsg.OffsetFetchRequest }

func (p pinned) MaxVersion() int16 { return p.Version }

func TestRequestScanner(t *testing.T) {
	frame := func(key, ver int16, corr int32, body int) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+body))
		b = binary.BigEndian.AppendUint16(b, uint16(key))
		b = binary.BigEndian.AppendUint16(b, uint16(ver))
		b = binary.BigEndian.AppendUint32(b, uint32(corr))
		return append(b, make([]byte, body)...)
	}
	stream := append(append(frame(9, 7, 1, 40), frame(3, 12, 2, 0)...), frame(9, 6, 3, 5)...)
	for _, chunk := range []int{1, 3, 7, len(stream)} {
		var s requestScanner
		var seen []int32
		for i := 0; i < len(stream); i += chunk {
			s.feed(stream[i:min(i+chunk, len(stream))], func(key, ver int16, corr int32) {
				if key == 9 {
					seen = append(seen, corr)
				}
			})
		}
		if !slices.Equal(seen, []int32{1, 3}) {
			t.Errorf("chunk %d: OffsetFetch correlation ids %v", chunk, seen)
		}
	}
}

// The CA written by gencert verifies the TLS listener for 127.0.0.1.
func TestTLSListenerVerifies(t *testing.T) {
	cc, stop := testBroker(t, "", "pw")
	defer stop()
	pem, _ := os.ReadFile(cc.tlsCA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", cc.brokers[0], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func fmtMeta(m *string) string {
	if m == nil {
		return "null"
	}
	return strconv.Quote(*m)
}
