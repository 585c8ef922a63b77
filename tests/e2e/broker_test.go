package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// broker is the running profile's pub/sub as the saga tests use it: they
// look for events on a topic and append copies of them, as a broker that
// redelivers would. It follows the type of the profile's pubsub component.
type broker interface {
	// count is how many events on topic contain s.
	count(t *testing.T, topic, s string) int
	// replay appends again every event on topic that contains s (same
	// CloudEvent, same id) and says how many it appended.
	replay(t *testing.T, topic, s string) int
}

// pubsubBroker is the running profile's broker; a test skips on a profile
// whose broker offers no way to read a topic back (SNS/SQS deletes what it
// delivered).
func pubsubBroker(t *testing.T) broker {
	t.Helper()
	root := repoRoot()
	profile, typ := runningPubsub(t)
	switch typ {
	case "pubsub.redis":
		c := redis.NewClient(&redis.Options{Addr: redisAddr})
		t.Cleanup(func() { c.Close() })
		return redisStreams{c}
	case "pubsub.kafka":
		return kafkaTopics{tool: filepath.Join(root, ".local", "bin", "kafka"), root: root}
	default:
		t.Skipf("profile %s: its pub/sub %s cannot be read back by the tests", profile, typ)
		return nil
	}
}

// runningPubsub names the running profile and the type of its pubsub
// component.
func runningPubsub(t *testing.T) (profile, typ string) {
	t.Helper()
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	profile = l.RunningProfile()
	typ, err = stack.ComponentType(root, profile, "pubsub")
	require.NoError(t, err)
	return profile, typ
}

// assertLocalTarget holds took to a latency that an issue sets for the
// local stack, where services talk over Redis streams. On the emulated AWS
// profiles it is only logged: their stand-ins (kfake, fauxqs, dynalite in
// one Node process each) are not the systems the target is about.
func assertLocalTarget(t *testing.T, took, target time.Duration, what string) {
	t.Helper()
	profile, typ := runningPubsub(t)
	t.Logf("%s in %s (target %s, profile %s)", what, took.Round(time.Millisecond), target, profile)
	if typ == "pubsub.redis" {
		assert.LessOrEqual(t, took, target, "%s within %s", what, target)
	}
}

// redisStreams: Redis Streams keep every event of a topic in a stream named
// after it.
type redisStreams struct{ c *redis.Client }

func (r redisStreams) about(t *testing.T, topic, s string) []redis.XMessage {
	t.Helper()
	all, err := r.c.XRange(context.Background(), topic, "-", "+").Result()
	require.NoError(t, err)
	var out []redis.XMessage
	for _, m := range all {
		if data, ok := m.Values["data"].(string); ok && strings.Contains(data, s) {
			out = append(out, m)
		}
	}
	return out
}

func (r redisStreams) count(t *testing.T, topic, s string) int { return len(r.about(t, topic, s)) }

func (r redisStreams) replay(t *testing.T, topic, s string) int {
	t.Helper()
	ms := r.about(t, topic, s)
	for _, m := range ms {
		require.NoError(t, r.c.XAdd(context.Background(), &redis.XAddArgs{Stream: topic, Values: m.Values}).Err())
	}
	return len(ms)
}

// kafkaTopics: the local Kafka (local/kafka.sh: SASL/SCRAM over TLS) keeps
// a topic's records; the project's kafka command reads and re-appends them.
type kafkaTopics struct{ tool, root string }

func (k kafkaTopics) run(t *testing.T, verb, topic, s string) int {
	t.Helper()
	password := localSecrets(t)["kafka-scram-password"]
	require.NotEmpty(t, password, "no kafka-scram-password in the local secrets (local/kafka.sh writes it)")
	cmd := exec.Command(k.tool, verb,
		"-brokers", "127.0.0.1:"+envOr("SHOPMESH_KAFKA_PORT", "19092"),
		"-sasl-user", "shopmesh", "-tls-ca", filepath.Join(k.root, ".local", "kafka-tls", "ca.pem"),
		"-topic", topic, "-match", s)
	cmd.Env = append(os.Environ(), "KAFKA_SASL_PASSWORD="+password)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kafka %s: %s", verb, out)
	// "appended N records to T" or "N records of T match"
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil {
			return n
		}
	}
	require.Failf(t, "kafka "+verb, "no count in %q", out)
	return 0
}

func (k kafkaTopics) count(t *testing.T, topic, s string) int  { return k.run(t, "count", topic, s) }
func (k kafkaTopics) replay(t *testing.T, topic, s string) int { return k.run(t, "replay", topic, s) }
