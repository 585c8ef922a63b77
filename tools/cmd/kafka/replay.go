package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// replayConfig is what `kafka replay` runs with.
type replayConfig struct {
	client  clientConfig
	topic   string
	match   string
	timeout time.Duration
}

// clientConfig says how to reach and authenticate to the brokers.
type clientConfig struct {
	brokers      []string
	saslUser     string
	saslPassword string
	tlsCA        string
}

const replayUsage = `usage: kafka replay|count -brokers ADDRS -topic T -match S [flags]

replay produces again, to the same partition with the same key, value and
headers, every record of topic T that existed when the command started and
whose value contains S; it prints how many it appended. The e2e suite uses it
to redeliver an order's events (same CloudEvent ids) to the subscribers.
count prints how many records of T contain S (0 for a topic not created yet).

Flags:
`

// parseReplay reads `kafka replay` flags; getenv supplies KAFKA_SASL_PASSWORD.
func parseReplay(name string, args []string, getenv func(string) string, stderr io.Writer) (replayConfig, error) {
	var cfg replayConfig
	fs := newFlagSet(name, replayUsage, stderr)
	brokers := fs.String("brokers", "", "comma-separated bootstrap brokers (host:port)")
	fs.StringVar(&cfg.client.saslUser, "sasl-user", "", "SASL SCRAM-SHA-512 user")
	fs.StringVar(&cfg.client.saslPassword, "sasl-password", "", "SASL password (or the environment variable KAFKA_SASL_PASSWORD)")
	fs.StringVar(&cfg.client.tlsCA, "tls-ca", "", "PEM CA that signed the brokers' certificate; enables TLS")
	fs.StringVar(&cfg.topic, "topic", "", "topic to replay")
	fs.StringVar(&cfg.match, "match", "", "replay only records whose value contains this string")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if cfg.client.saslPassword == "" {
		cfg.client.saslPassword = getenv("KAFKA_SASL_PASSWORD")
	}
	for _, b := range strings.Split(*brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cfg.client.brokers = append(cfg.client.brokers, b)
		}
	}
	switch {
	case len(cfg.client.brokers) == 0:
		return cfg, usageError(fs, errors.New("-brokers is required"))
	case cfg.topic == "":
		return cfg, usageError(fs, errors.New("-topic is required"))
	case cfg.match == "":
		// An empty match would replay the whole topic: never what a test means.
		return cfg, usageError(fs, errors.New("-match is required"))
	case (cfg.client.saslUser == "") != (cfg.client.saslPassword == ""):
		return cfg, usageError(fs, errors.New("-sasl-user and -sasl-password go together"))
	case cfg.timeout <= 0:
		return cfg, usageError(fs, errors.New("-timeout must be positive"))
	}
	return cfg, nil
}

// options are the kgo options that connect as cfg says.
func (cfg clientConfig) options() ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.brokers...), kgo.ClientID("shopmesh-kafka-replay")}
	if cfg.saslUser != "" {
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.saslUser, Pass: cfg.saslPassword}.AsSha512Mechanism()))
	}
	if cfg.tlsCA != "" {
		pem, err := os.ReadFile(cfg.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in %s", cfg.tlsCA)
		}
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

// replay appends again the records of cfg.topic whose value contains
// cfg.match, in their order within each partition, and returns how many.
// Only records below the end offsets seen at the start are read, so the
// copies it appends are never replayed themselves.
func replay(ctx context.Context, cfg replayConfig) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	opts, err := cfg.client.options()
	if err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(append(opts,
		// Keep each copy on its original's partition: Dapr (sarama) hashes
		// keys differently from kgo's default partitioner.
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)...)
	if err != nil {
		return 0, fmt.Errorf("new client: %w", err)
	}
	defer cl.Close()

	bounds, err := partitionBounds(ctx, cl, cfg.topic)
	if err != nil {
		return 0, err
	}
	matched, err := readMatching(ctx, opts, cfg.topic, cfg.match, bounds)
	if err != nil {
		return 0, err
	}
	for _, r := range matched {
		copyOf := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers}
		if err := cl.ProduceSync(ctx, copyOf).FirstErr(); err != nil {
			return 0, fmt.Errorf("append copy of %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
	}
	return len(matched), nil
}

// count returns how many records of cfg.topic contain cfg.match; a topic
// that does not exist (yet) has none.
func count(ctx context.Context, cfg replayConfig) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	opts, err := cfg.client.options()
	if err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("new client: %w", err)
	}
	defer cl.Close()
	bounds, err := partitionBounds(ctx, cl, cfg.topic)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	matched, err := readMatching(ctx, opts, cfg.topic, cfg.match, bounds)
	return len(matched), err
}

// bound is the offset range [start, end) of one partition.
type bound struct{ start, end int64 }

// partitionBounds lists topic's partitions with their log start and end
// offsets; an unknown topic is an error (it is never created here).
func partitionBounds(ctx context.Context, cl *kgo.Client, topic string) (map[int32]bound, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	meta.AllowAutoTopicCreation = false
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(mresp.Topics) != 1 {
		return nil, fmt.Errorf("metadata of %s: %d topics in the answer", topic, len(mresp.Topics))
	}
	if err := kerr.ErrorForCode(mresp.Topics[0].ErrorCode); err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, err)
	}
	bounds := make(map[int32]bound)
	for _, ts := range []int64{-2, -1} { // -2 earliest, -1 latest
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range mresp.Topics[0].Partitions {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p.Partition
			rp.Timestamp = ts
			rp.CurrentLeaderEpoch = -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, p.Partition, err)
				}
				b := bounds[p.Partition]
				if ts == -2 {
					b.start = p.Offset
				} else {
					b.end = p.Offset
				}
				bounds[p.Partition] = b
			}
		}
	}
	return bounds, nil
}

// readMatching reads every partition of topic from its start to its end in
// bounds and returns the records whose value contains match.
func readMatching(ctx context.Context, opts []kgo.Opt, topic, match string, bounds map[int32]bound) ([]*kgo.Record, error) {
	from := make(map[int32]kgo.Offset)
	pending := make(map[int32]int64) // partition → end offset still to reach
	for p, b := range bounds {
		if b.end > b.start {
			from[p] = kgo.NewOffset().At(b.start)
			pending[p] = b.end
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))...)
	if err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	defer cl.Close()
	needle := []byte(match)
	var matched []*kgo.Record
	for len(pending) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read %s: %d partitions not read to their end: %w", topic, len(pending), ctx.Err())
		}
		if err := fetches.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			end, ok := pending[fp.Partition]
			if !ok {
				return
			}
			for _, r := range fp.Records {
				if r.Offset >= end {
					break
				}
				if bytes.Contains(r.Value, needle) {
					matched = append(matched, r)
				}
			}
			// Done at the end seen at the start. (Were the partition's last
			// record a transaction marker, which kgo never returns, this
			// would wait until -timeout; Dapr does not produce in
			// transactions.)
			if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset+1 >= end {
				delete(pending, fp.Partition)
			}
		})
	}
	return matched, nil
}
