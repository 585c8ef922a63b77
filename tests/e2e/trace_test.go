package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// jaegerQuery is the local trace backend's query API (local/jaeger.sh).
var jaegerQuery = envOr("SHOPMESH_JAEGER_QUERY_URL", "http://127.0.0.1:16687")

// daprScope is the instrumentation scope of every span a daprd makes: it
// tells a sidecar's spans from its app's (both carry the app id as
// service name).
const daprScope = "dapr-diagnostics"

// A checkout is one trace: the client's trace id is kept by the gateway
// and carried through every service call, state call and event of the
// saga, and every span's parent is in the trace. Its id is in the apps'
// log lines too.
func TestCheckoutIsOneTrace(t *testing.T) {
	requireStack(t)
	p := stockedProduct(t, 5, 990)
	c := newCustomer(t, "traced")
	c.addToCart(t, p.ID, 1)

	traceID, clientSpan := randomHex(16), randomHex(8)
	r := c.do(t, http.MethodPost, "/api/v1/checkout", checkoutBody("tok_visa"),
		"Idempotency-Key", newKey(), "traceparent", "00-"+traceID+"-"+clientSpan+"-01")
	require.Equal(t, http.StatusAccepted, r.Status, "checkout: %s", r.Body)
	var accepted struct {
		OrderID string `json:"order_id"`
	}
	r.decode(t, &accepted)
	require.Equal(t, "confirmed", c.settled(t, accepted.OrderID, settle).Status)
	mailAbout(t, c.Email, "confirmed")

	// The saga's steps, each a consumer span of the kit named after its
	// topic and carrying the event's type; the e-mail is the notifications
	// sidecar's binding call.
	steps := []struct{ app, event string }{
		{"inventory", "order.placed"},
		{"payments", "inventory.reserved"},
		{"orders", "payment.succeeded"},
		{"notifications", "order.confirmed"},
	}
	services := []string{"gateway", "orders", "catalog", "inventory", "payments", "notifications"}

	// Spans reach Jaeger in batches (a second from the apps, up to five from
	// the sidecars): wait until every step is in and no span's parent is
	// missing. A parent that never arrives is an orphan, and this fails.
	var tr jaegerTrace
	eventually(t, settle, "the checkout's trace holds every step, and every span's parent", func() bool {
		var ok bool
		tr, ok = readTrace(t, traceID)
		if !ok || len(tr.orphans(clientSpan)) > 0 {
			return false
		}
		for _, s := range steps {
			if tr.consumed(s.app, s.event) == nil {
				return false
			}
		}
		return tr.byOperation("notifications", "/dapr.proto.runtime.v1.Dapr/InvokeBinding") != nil
	}, func() string { return fmt.Sprintf("orphans %v; %s", tr.orphans(clientSpan), tr.summary()) })

	for _, svc := range services {
		assert.True(t, tr.has(svc, false), "spans of the %s app", svc)
		assert.True(t, tr.has(svc, true), "spans of the %s sidecar", svc)
	}
	// Saga order: each step descends from the one before, and the e-mail
	// from the confirmation.
	root := tr.byOperation("gateway", "POST /api/v1/checkout")
	require.NotNil(t, root, "the gateway's span of the checkout")
	prev := root
	for _, s := range steps {
		span := tr.consumed(s.app, s.event)
		assert.True(t, tr.descends(span, prev), "%s's %s descends from %q", s.app, s.event, prev.OperationName)
		prev = span
	}
	assert.True(t, tr.descends(tr.byOperation("notifications", "/dapr.proto.runtime.v1.Dapr/InvokeBinding"), prev), "the e-mail descends from order.confirmed")

	// The trace id is in the log lines of every app the checkout crossed.
	l, err := stack.NewLayout(repoRoot())
	require.NoError(t, err)
	for _, app := range services {
		assert.True(t, logMentions(t, l.LogFile(app, stack.RoleApp), traceID), "%s's log has a line with trace_id %s", app, traceID)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jaegerTrace is one trace as Jaeger's query API answers it.
type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []jaegerTag `json:"tags"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type jaegerProcess struct {
	ServiceName string `json:"serviceName"`
}

func readTrace(t *testing.T, id string) (jaegerTrace, bool) {
	t.Helper()
	resp, err := client.Get(jaegerQuery + "/api/traces/" + id)
	if err != nil {
		t.Logf("jaeger: %v", err)
		return jaegerTrace{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jaegerTrace{}, false
	}
	var body struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data) != 1 {
		return jaegerTrace{}, false
	}
	return body.Data[0], true
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (tr jaegerTrace) service(s jaegerSpan) string { return tr.Processes[s.ProcessID].ServiceName }

// orphans lists the spans whose parent is not in the trace, but for the
// root's: the client's span, which no backend holds.
func (tr jaegerTrace) orphans(clientSpan string) []string {
	ids := map[string]bool{}
	for _, s := range tr.Spans {
		ids[s.SpanID] = true
	}
	var out []string
	for _, s := range tr.Spans {
		if p := s.parent(); p != "" && p != clientSpan && !ids[p] {
			out = append(out, tr.service(s)+" "+s.OperationName)
		}
	}
	return out
}

// has reports a span of service's app (sidecar false) or its daprd.
func (tr jaegerTrace) has(service string, sidecar bool) bool {
	for _, s := range tr.Spans {
		if tr.service(s) == service && (s.tag("otel.scope.name") == daprScope) == sidecar {
			return true
		}
	}
	return false
}

// consumed returns service's span that handled an event of eventType.
func (tr jaegerTrace) consumed(service, eventType string) *jaegerSpan {
	for i, s := range tr.Spans {
		if tr.service(s) == service && s.tag("cloudevents.event_type") == eventType {
			return &tr.Spans[i]
		}
	}
	return nil
}

func (tr jaegerTrace) byOperation(service, op string) *jaegerSpan {
	for i, s := range tr.Spans {
		if tr.service(s) == service && s.OperationName == op {
			return &tr.Spans[i]
		}
	}
	return nil
}

// descends reports whether ancestor is on span's chain of parents.
func (tr jaegerTrace) descends(span, ancestor *jaegerSpan) bool {
	if span == nil || ancestor == nil {
		return false
	}
	byID := map[string]jaegerSpan{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	for id, hops := span.parent(), 0; id != "" && hops < len(tr.Spans); hops++ {
		if id == ancestor.SpanID {
			return true
		}
		id = byID[id].parent()
	}
	return false
}

func (tr jaegerTrace) summary() string {
	var lines []string
	for _, s := range tr.Spans {
		lines = append(lines, tr.service(s)+" "+s.OperationName+" "+s.tag("cloudevents.event_type"))
	}
	slices.Sort(lines)
	return fmt.Sprintf("%d spans:\n%s", len(tr.Spans), strings.Join(slices.Compact(lines), "\n"))
}

// logMentions reports whether a JSON log line of file carries traceID.
func logMentions(t *testing.T, file, traceID string) bool {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), traceID) {
			continue
		}
		var rec struct {
			TraceID string `json:"trace_id"`
			SpanID  string `json:"span_id"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.TraceID == traceID && len(rec.SpanID) == 16 {
			return true
		}
	}
	return false
}
