// Package awsemutest checks the aws-emulated profile's stand-ins against a
// real daprd (.local/bin/daprd): state.aws.dynamodb on dynalite and
// pubsub.aws.snssqs on fauxqs, with the Dapr features ShopMesh relies on.
// It skips unless SHOPMESH_AWS_EMULATORS=1, and expects the emulators up:
//
//	local/dynalite.sh start && local/fauxqs.sh start
//	SHOPMESH_AWS_EMULATORS=1 go test -count=1 -v ./local/awsemutest/
//
// Each test runs its own daprd (and app) on free ports.
package awsemutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

func requireEmulators(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOPMESH_AWS_EMULATORS") != "1" {
		t.Skip("set SHOPMESH_AWS_EMULATORS=1 with local/dynalite.sh and local/fauxqs.sh started")
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func dynaliteEndpoint() string {
	return "http://127.0.0.1:" + envOr("SHOPMESH_DYNALITE_PORT", "18000")
}

func fauxqsEndpoint() string {
	return "http://127.0.0.1:" + envOr("SHOPMESH_FAUXQS_PORT", "14566")
}

// runID tells this run's keys, queues and topics from earlier runs' (the
// emulators outlive the test).
func runID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

// startDaprd runs daprd as appID on the one component YAML, with an app on
// appPort when it is not 0 (see daprxtest.StartDaprd), and returns its HTTP
// API base URL.
func startDaprd(t *testing.T, appID, component string, appPort int) string {
	t.Helper()
	resources := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(resources, "component.yaml"), []byte(component), 0o600))
	args := []string{"--resources-path", resources}
	if appPort != 0 {
		args = append(args, "--app-port", strconv.Itoa(appPort), "--app-channel-address", "127.0.0.1")
	}
	return daprxtest.StartDaprd(t, appID, args...).HTTP
}

type response struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url string, body any) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

const dynamoComponent = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: inventory-store
spec:
  type: state.aws.dynamodb
  version: v1
  initTimeout: 15s
  metadata:
    - name: table
      value: %s
    - name: endpoint
      value: %s
    - name: region
      value: us-east-1
    - name: accessKey
      value: local
    - name: secretKey
      value: local
    - name: partitionKey
      value: key
    - name: ttlAttributeName
      value: expiresAt
`

// TestDynamoDBState: the inventory store's operations on dynalite — single
// key ETag writes, first-write, bulk get, delete with ETag — and that Init
// accepts ttlAttributeName although dynalite has no TTL.
func TestDynamoDBState(t *testing.T) {
	requireEmulators(t)
	table := envOr("SHOPMESH_DYNAMO_TABLE", "shopmesh-local-inventory")
	base := startDaprd(t, "awsemu-inventory", fmt.Sprintf(dynamoComponent, table, dynaliteEndpoint()), 0)
	state := base + "/v1.0/state/inventory-store"
	run := runID()
	k1, k2, missing := "stock-"+run, "reservation-"+run, "missing-"+run

	// Save and get: the ETag comes back as a header.
	res := call(t, http.MethodPost, state, []map[string]any{{"key": k1, "value": map[string]int{"available": 5}}})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	res = call(t, http.MethodGet, state+"/"+k1, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.JSONEq(t, `{"available":5}`, res.body)
	etag1 := res.header.Get("ETag")
	require.NotEmpty(t, etag1)

	// A write with the current ETag succeeds and changes the ETag.
	res = call(t, http.MethodPost, state, []map[string]any{{"key": k1, "value": map[string]int{"available": 4}, "etag": etag1}})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	res = call(t, http.MethodGet, state+"/"+k1, nil)
	require.Equal(t, http.StatusOK, res.status)
	etag2 := res.header.Get("ETag")
	require.NotEmpty(t, etag2)
	require.NotEqual(t, etag1, etag2)

	// A write with the stale ETag is refused and changes nothing.
	res = call(t, http.MethodPost, state, []map[string]any{{"key": k1, "value": map[string]int{"available": 3}, "etag": etag1}})
	assert.Equal(t, http.StatusConflict, res.status, res.body)
	assert.Contains(t, res.body, "etag mismatch")
	t.Logf("stale ETag save: %d %.120s", res.status, res.body)
	res = call(t, http.MethodGet, state+"/"+k1, nil)
	assert.JSONEq(t, `{"available":4}`, res.body)

	// first-write without an ETag: allowed on a new key, refused on an
	// existing one. Dapr's DynamoDB store (contrib v1.17.3, Set) maps a failed condition to an
	// ETag mismatch only when the request had an ETag, so this refusal is a
	// plain error (HTTP 500), as it would be on AWS: daprx's Create/Write
	// tell it from a failure by reading the key.
	firstWrite := map[string]string{"concurrency": "first-write"}
	refusedFirstWrite := func(key, want string, res response) {
		t.Helper()
		assert.Equal(t, http.StatusInternalServerError, res.status, res.body)
		assert.Contains(t, res.body, "ConditionalCheckFailedException")
		assert.JSONEq(t, want, call(t, http.MethodGet, state+"/"+key, nil).body)
	}
	res = call(t, http.MethodPost, state, []map[string]any{{"key": k1, "value": map[string]int{"available": 9}, "options": firstWrite}})
	refusedFirstWrite(k1, `{"available":4}`, res)
	t.Logf("first-write on an existing key: %d %.120s", res.status, res.body)
	res = call(t, http.MethodPost, state, []map[string]any{{"key": k2, "value": map[string]string{"order": "o-1"}, "options": firstWrite}})
	require.Equal(t, http.StatusNoContent, res.status, res.body)
	res = call(t, http.MethodPost, state, []map[string]any{{"key": k2, "value": map[string]string{"order": "o-2"}, "options": firstWrite}})
	refusedFirstWrite(k2, `{"order":"o-1"}`, res)

	// A TTL write is accepted (dynalite stores the attribute; nothing expires).
	res = call(t, http.MethodPost, state, []map[string]any{{"key": "ttl-" + run, "value": "x", "metadata": map[string]string{"ttlInSeconds": "60"}}})
	assert.Equal(t, http.StatusNoContent, res.status, res.body)

	// Bulk get: both keys with values and ETags, the missing one without.
	res = call(t, http.MethodPost, state+"/bulk", map[string]any{"keys": []string{k1, k2, missing}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	var items []struct {
		Key  string          `json:"key"`
		Data json.RawMessage `json:"data"`
		ETag string          `json:"etag"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &items))
	got := map[string]string{}
	etags := map[string]string{}
	for _, it := range items {
		got[it.Key] = string(it.Data)
		etags[it.Key] = it.ETag
	}
	assert.JSONEq(t, `{"available":4}`, got[k1])
	assert.Equal(t, etag2, etags[k1])
	assert.JSONEq(t, `{"order":"o-1"}`, got[k2])
	assert.NotEmpty(t, etags[k2])
	assert.Empty(t, got[missing])

	// Delete: refused with the stale ETag, done with the current one.
	req := state + "/" + k1
	res = callWithHeader(t, http.MethodDelete, req, "If-Match", etag1)
	assert.Equal(t, http.StatusConflict, res.status, res.body)
	res = callWithHeader(t, http.MethodDelete, req, "If-Match", etag2)
	assert.Equal(t, http.StatusNoContent, res.status, res.body)
	res = call(t, http.MethodGet, req, nil)
	assert.Equal(t, http.StatusNoContent, res.status, res.body)
}

func callWithHeader(t *testing.T, method, url, name, value string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	req.Header.Set(name, value)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// snssqsComponent is the pub/sub on fauxqs. accountID "" leaves accountId
// out, so daprd asks STS (fauxqs answers GetCallerIdentity).
func snssqsComponent(consumerID, accountID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.aws.snssqs
  version: v1
  initTimeout: 30s
  metadata:
    - name: endpoint
      value: %s
    - name: region
      value: us-east-1
    - name: accessKey
      value: local
    - name: secretKey
      value: local
    - name: consumerID
      value: %s
    - name: sqsDeadLettersQueueName
      value: %s-deadletter
    - name: messageReceiveLimit
      value: "3"
    - name: messageVisibilityTimeout
      value: "2"
`, fauxqsEndpoint(), consumerID, consumerID)
	if accountID != "" {
		fmt.Fprintf(&b, "    - name: accountId\n      value: %q\n", accountID)
	}
	return b.String()
}

type delivery struct {
	at    time.Time
	id    string
	topic string
	data  json.RawMessage
}

// subscriber is a tiny app: programmatic subscriptions (with optional
// dead-letter topics; route /events/<topic>), and an answer per topic and
// delivery number.
type subscriber struct {
	subs    []map[string]string
	answer  func(topic string, attempt int) (int, string)
	mu      sync.Mutex
	got     []delivery
	changed chan struct{}
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/dapr/subscribe" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.subs)
		return
	}
	// The route names the topic: an event resent to a dead-letter topic
	// keeps its original CloudEvent "topic".
	topic, ok := strings.CutPrefix(r.URL.Path, "/events/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	var ce struct {
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ce); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, delivery{at: time.Now(), id: ce.ID, topic: topic, data: ce.Data})
	attempt := 0
	for _, d := range s.got {
		if d.topic == topic && d.id == ce.ID {
			attempt++
		}
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	code, status := s.answer(topic, attempt)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if status != "" {
		_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
	}
}

// waitFor waits until cond holds for the deliveries so far.
func (s *subscriber) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]delivery) bool) []delivery {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got := append([]delivery(nil), s.got...)
		s.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-s.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s; deliveries: %+v", timeout, what, got)
		}
	}
}

func ofTopic(ds []delivery, topic string) []delivery {
	var out []delivery
	for _, d := range ds {
		if d.topic == topic {
			out = append(out, d)
		}
	}
	return out
}

func startSubscriber(t *testing.T, s *subscriber) int {
	t.Helper()
	s.changed = make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func publish(t *testing.T, base, topic string, data any) time.Time {
	t.Helper()
	at := time.Now()
	res := call(t, http.MethodPost, base+"/v1.0/publish/pubsub/"+topic, data)
	require.Equal(t, http.StatusNoContent, res.status, "publish to %s: %s", topic, res.body)
	return at
}

// TestSNSSQSPubSub: delivery of CloudEvents through fauxqs, with topic
// names like ShopMesh's (dashes, dead-letter, outbox), redelivery after a
// 500 and a RETRY, Dapr's dead-letter topic on DROP, and the SQS redrive
// to the dead-letter queue.
func TestSNSSQSPubSub(t *testing.T) {
	requireEmulators(t)
	run := runID()
	var (
		plain      = "orders-" + run                              // dashes
		retried    = "payments-" + run                            // 500, RETRY, then SUCCESS
		dropped    = "catalog-" + run                             // DROP -> <topic>-deadletter
		deadLetter = dropped + "-deadletter"                      // Dapr's dead-letter topic
		outbox     = "shopmeshorders" + "orders" + run + "outbox" // <ns><appid><topic>outbox
		poisoned   = "users-" + run                               // always 500 -> SQS DLQ
	)
	s := &subscriber{
		subs: []map[string]string{
			{"pubsubname": "pubsub", "topic": plain, "route": "/events/" + plain},
			{"pubsubname": "pubsub", "topic": retried, "route": "/events/" + retried},
			{"pubsubname": "pubsub", "topic": dropped, "route": "/events/" + dropped, "deadLetterTopic": deadLetter},
			{"pubsubname": "pubsub", "topic": deadLetter, "route": "/events/" + deadLetter},
			{"pubsubname": "pubsub", "topic": outbox, "route": "/events/" + outbox},
			{"pubsubname": "pubsub", "topic": poisoned, "route": "/events/" + poisoned},
		},
		answer: func(topic string, attempt int) (int, string) {
			switch {
			case topic == retried && attempt == 1:
				return http.StatusInternalServerError, ""
			case topic == retried && attempt == 2:
				return http.StatusOK, "RETRY"
			case topic == dropped:
				return http.StatusOK, "DROP"
			case topic == poisoned:
				return http.StatusInternalServerError, ""
			}
			return http.StatusOK, "SUCCESS"
		},
	}
	consumerID := "awsemu-" + run
	base := startDaprd(t, "awsemu-app", snssqsComponent(consumerID, "000000000000"), startSubscriber(t, s))

	sent := map[string]time.Time{}
	for _, topic := range []string{plain, retried, dropped, outbox, poisoned} {
		sent[topic] = publish(t, base, topic, map[string]string{"topic": topic})
	}

	got := s.waitFor(t, 20*time.Second, "the plain and outbox-named topics", func(ds []delivery) bool {
		return len(ofTopic(ds, plain)) > 0 && len(ofTopic(ds, outbox)) > 0
	})
	for _, topic := range []string{plain, outbox} {
		d := ofTopic(got, topic)[0]
		assert.JSONEq(t, fmt.Sprintf(`{"topic":%q}`, topic), string(d.data))
		assert.NotEmpty(t, d.id)
		t.Logf("%s: delivered %s after publish", topic, d.at.Sub(sent[topic]).Round(time.Millisecond))
	}

	got = s.waitFor(t, 30*time.Second, "three deliveries of the retried event", func(ds []delivery) bool {
		return len(ofTopic(ds, retried)) >= 3
	})
	r := ofTopic(got, retried)
	assert.Equal(t, r[0].id, r[1].id, "a redelivery carries the same CloudEvent id")
	assert.Equal(t, r[0].id, r[2].id)
	t.Logf("%s: deliveries at +%s, +%s, +%s", retried, r[0].at.Sub(sent[retried]).Round(time.Millisecond),
		r[1].at.Sub(sent[retried]).Round(time.Millisecond), r[2].at.Sub(sent[retried]).Round(time.Millisecond))

	got = s.waitFor(t, 30*time.Second, "the dropped event on its dead-letter topic", func(ds []delivery) bool {
		return len(ofTopic(ds, deadLetter)) > 0
	})
	dl := ofTopic(got, deadLetter)[0]
	assert.JSONEq(t, fmt.Sprintf(`{"topic":%q}`, dropped), string(dl.data))
	t.Logf("%s: on %s after %s", dropped, deadLetter, dl.at.Sub(sent[dropped]).Round(time.Millisecond))

	// The poisoned event goes to the SQS dead-letter queue once its receive
	// count passes messageReceiveLimit (fauxqs applies the redrive policy
	// Dapr set on the queue).
	dlq := consumerID + "-deadletter"
	deadline := time.Now().Add(40 * time.Second)
	for {
		// fauxqs's inspection endpoint: the queue with its messages (SNS
		// envelopes holding the CloudEvent).
		res := call(t, http.MethodGet, fauxqsEndpoint()+"/_fauxqs/queues/"+dlq, nil)
		if res.status == http.StatusOK && strings.Contains(res.body, poisoned) {
			n := len(ofTopic(s.waitFor(t, time.Second, "", func([]delivery) bool { return true }), poisoned))
			t.Logf("%s: in SQS dead-letter queue %s after %s, %d deliveries", poisoned, dlq,
				time.Since(sent[poisoned]).Round(time.Millisecond), n)
			break
		}
		require.True(t, time.Now().Before(deadline), "poisoned event not in %s: %d %s", dlq, res.status, res.body)
		time.Sleep(250 * time.Millisecond)
	}
}

// TestSNSSQSWithoutAccountID: without accountId daprd calls
// sts:GetCallerIdentity at Init; fauxqs answers it, and delivery works.
func TestSNSSQSWithoutAccountID(t *testing.T) {
	requireEmulators(t)
	run := runID()
	topic := "inventory-" + run
	s := &subscriber{
		subs:   []map[string]string{{"pubsubname": "pubsub", "topic": topic, "route": "/events/" + topic}},
		answer: func(string, int) (int, string) { return http.StatusOK, "SUCCESS" },
	}
	base := startDaprd(t, "awsemu-noaccount", snssqsComponent("awsemu-noaccount-"+run, ""), startSubscriber(t, s))
	at := publish(t, base, topic, map[string]int{"n": 1})
	got := s.waitFor(t, 20*time.Second, "the event", func(ds []delivery) bool { return len(ds) > 0 })
	assert.JSONEq(t, `{"n":1}`, string(got[0].data))
	t.Logf("%s: delivered %s after publish", topic, got[0].at.Sub(at).Round(time.Millisecond))
}

// A client that hangs up in the middle of its request (a sidecar killed
// while its call was in flight, as the e2e crash test does) leaves the
// DynamoDB stand-in serving: dynalite itself throws on it and dies, which
// local/aws-emulators/dynalite-server.mjs catches.
func TestDynaliteSurvivesAClientHangingUp(t *testing.T) {
	requireEmulators(t)
	addr := strings.TrimPrefix(dynaliteEndpoint(), "http://")
	for range 3 {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\n"+
			"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{\"Li", addr)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, conn.Close())
	}
	time.Sleep(200 * time.Millisecond)
	req, err := http.NewRequest(http.MethodPost, dynaliteEndpoint(), strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "dynalite still answers")
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
}
