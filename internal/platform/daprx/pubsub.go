package daprx

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

// Publisher publishes CloudEvents on the app's pub/sub component.
type Publisher struct {
	client  dapr.Client
	pubsub  string
	metrics *metrics.Messaging // nil: not counted
}

// NewPublisher publishes on contracts.PubSub.
func NewPublisher(c dapr.Client) *Publisher { return &Publisher{client: c, pubsub: contracts.PubSub} }

// NewCountedPublisher publishes on contracts.PubSub and counts each event
// in m: the app's publisher.
func NewCountedPublisher(c dapr.Client, m *metrics.Messaging) *Publisher {
	p := NewPublisher(c)
	p.metrics = m
	return p
}

func (p *Publisher) count(topic string) {
	if p.metrics != nil {
		p.metrics.Sent(topic)
	}
}

// Publish sends data as JSON with the CloudEvent type eventType. key orders
// events of one aggregate on brokers that partition (Kafka's partitionKey).
func (p *Publisher) Publish(ctx context.Context, topic, eventType, key string, data any) error {
	meta := map[string]string{"cloudevent.type": eventType}
	if key != "" {
		meta["partitionKey"] = key
	}
	if err := p.client.PublishEvent(ctx, p.pubsub, topic, data, dapr.PublishEventWithMetadata(meta)); err != nil {
		return fmt.Errorf("publish %s on %s: %w", eventType, topic, err)
	}
	p.count(topic)
	return nil
}

// Message is one event to publish with an id of its own, which becomes the
// CloudEvent id: a message sent twice (the outbox's recovery may) reaches
// consumers with the same id both times.
type Message struct {
	ID    string          `json:"id"`
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	Key   string          `json:"key,omitempty"` // partitionKey
	Data  json.RawMessage `json:"data"`
	// TraceParent is the W3C trace context of the span that made the
	// message: its publish, and every consumer's span, join that trace.
	TraceParent string `json:"traceparent,omitempty"`
}

// Send publishes m, as a child of the span that made it (m.TraceParent)
// however late it goes out.
func (p *Publisher) Send(ctx context.Context, m Message) error {
	ctx = telemetry.WithRemoteParent(ctx, m.TraceParent)
	meta := map[string]string{"cloudevent.type": m.Type, "cloudevent.id": m.ID}
	if m.Key != "" {
		meta["partitionKey"] = m.Key
	}
	err := p.client.PublishEvent(ctx, p.pubsub, m.Topic, []byte(m.Data),
		dapr.PublishEventWithContentType("application/json"), dapr.PublishEventWithMetadata(meta))
	if err != nil {
		return fmt.Errorf("publish %s %s on %s: %w", m.Type, m.ID, m.Topic, err)
	}
	p.count(m.Topic)
	return nil
}

// Event is a delivered CloudEvent, its data already unwrapped to JSON.
type Event struct {
	ID     string
	Type   string
	Source string
	Topic  string
	Time   time.Time
	Data   json.RawMessage
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decoding %s event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// ErrDrop marks an event that can never be handled (malformed, unknown
// version): it goes to the dead-letter topic instead of being retried.
var ErrDrop = errors.New("event dropped")

// Subscription is one topic the app consumes. Types, when set, routes only
// those CloudEvent types to Handler (Dapr routing rules); other types on the
// topic are acknowledged and ignored. Provide it into the "subscriptions" group.
type Subscription struct {
	Topic   string
	Types   []string
	Handler func(context.Context, Event) error
}

// AsSubscription annotates a constructor so its Subscription joins the group.
func AsSubscription(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"subscriptions"`))
}

// Subscribed tells when the sidecar subscribed the app to its topics: it
// fetches GET /dapr/subscribe and subscribes to the broker right after, and
// only events published from then on reach the app. A broker without
// retention for a subscription that does not exist yet (SNS → SQS) drops
// the others, so state rebuilt from a source of truth must be read after
// this. A sidecar fetches the subscriptions once in its life: an app that
// restarts beside a running sidecar learns it from the sidecar's metadata,
// which lists them once fetched.
type Subscribed struct {
	once sync.Once
	ch   chan struct{}
	at   time.Time
}

// NewSubscribed returns a Subscribed not yet marked.
func NewSubscribed() *Subscribed { return &Subscribed{ch: make(chan struct{})} }

func (s *Subscribed) mark() {
	s.once.Do(func() {
		s.at = time.Now()
		close(s.ch)
	})
}

// Wait blocks until the sidecar has the app's subscriptions (it fetched them
// from this process, or sidecar's metadata lists them) and settle has passed
// since (the time it takes to subscribe to the broker), or ctx ends.
func (s *Subscribed) Wait(ctx context.Context, sidecar *Sidecar, settle time.Duration) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-s.ch:
			done = true
		case <-ctx.Done():
			return fmt.Errorf("waiting for the sidecar to subscribe: %w", ctx.Err())
		case <-tick.C:
			if sidecar != nil && sidecar.hasSubscriptions(ctx) {
				s.mark()
			}
		}
	}
	t := time.NewTimer(time.Until(s.at.Add(settle)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the sidecar to subscribe: %w", ctx.Err())
	}
}

type subscriptionParams struct {
	fx.In
	Router        httpserver.Router
	Subscribed    *Subscribed
	Log           *slog.Logger
	Tracing       telemetry.Tracing
	Metrics       *metrics.Messaging
	Subscriptions []Subscription `group:"subscriptions"`
}

// subscribeEntry is one element of the /dapr/subscribe answer (Dapr
// programmatic subscriptions, v2 routing).
type subscribeEntry struct {
	PubsubName      string        `json:"pubsubname"`
	Topic           string        `json:"topic"`
	Routes          routeConfig   `json:"routes"`
	DeadLetterTopic string        `json:"deadLetterTopic"`
	BulkSubscribe   bulkSubscribe `json:"bulkSubscribe"`
}

// bulkSubscribe is Dapr's bulk delivery setting. Every subscription is
// bulk because the single-event contract cannot tell a delivery that
// failed from one that succeeded in Dapr 1.17: its HTTP app channel shares
// one middleware chain between concurrent calls (pkg/middleware/http/
// pipeline.go sets the chain's root on every call), so a call may run
// another call's handler, whose transport error then lands in the other
// call's variables; the first call answers 200 with an empty body, which
// the single-event contract counts as success and the broker acknowledges.
// That happens when deliveries fail because the app is down (a crash, a
// restart), and the event is lost. A bulk answer must name a status per
// entry: an empty body, or an entry without a status, is redelivered.
// (docs/dapr-1.17.md, "Deliveries to an app that is down")
type bulkSubscribe struct {
	Enabled            bool  `json:"enabled"`
	MaxMessagesCount   int32 `json:"maxMessagesCount"`
	MaxAwaitDurationMs int32 `json:"maxAwaitDurationMs"`
}

// A batch goes out after bulkMaxAwaitMs or bulkMaxMessages events,
// whichever comes first: a short wait, as every step of the checkout saga
// adds it once (10 ms made placed→confirmed 20 ms slower at 10 orders/s
// than single events; 2 ms, 3 ms), and a batch about as large as the
// brokers' consumer concurrency.
const (
	bulkMaxMessages = 64
	bulkMaxAwaitMs  = 2
)

type routeConfig struct {
	Rules   []routeRule `json:"rules,omitempty"`
	Default string      `json:"default"`
}

type routeRule struct {
	Match string `json:"match"`
	Path  string `json:"path"`
}

// serveSubscriptions answers the sidecar's GET /dapr/subscribe and receives
// deliveries at /events/<topic>[/<type>]. Every topic has a default route
// that acknowledges types the app does not handle: without it Dapr would
// dead-letter them.
func serveSubscriptions(p subscriptionParams) error {
	c := consumer{log: p.Log, tracer: p.Tracing.Tracer(tracerName), metrics: p.Metrics}
	var entries []subscribeEntry
	byTopic := map[string]int{}
	for _, s := range p.Subscriptions {
		i, ok := byTopic[s.Topic]
		if !ok {
			i = len(entries)
			byTopic[s.Topic] = i
			entries = append(entries, subscribeEntry{
				PubsubName:      contracts.PubSub,
				Topic:           s.Topic,
				Routes:          routeConfig{Default: "/events/" + s.Topic},
				DeadLetterTopic: contracts.DeadLetter(s.Topic),
				BulkSubscribe:   bulkSubscribe{Enabled: true, MaxMessagesCount: bulkMaxMessages, MaxAwaitDurationMs: bulkMaxAwaitMs},
			})
			p.Router.Sidecar.POST("/events/"+s.Topic, deliver(c, nil))
			if p.Metrics != nil {
				p.Metrics.Subscribed(s.Topic)
			}
		}
		if len(s.Types) == 0 {
			if entries[i].Routes.Default != "/events/"+s.Topic {
				return fmt.Errorf("topic %s: two catch-all subscriptions", s.Topic)
			}
			path := "/events/" + s.Topic + "/all"
			entries[i].Routes.Default = path
			p.Router.Sidecar.POST(path, deliver(c, s.Handler))
			continue
		}
		for _, t := range s.Types {
			path := "/events/" + s.Topic + "/" + t
			entries[i].Routes.Rules = append(entries[i].Routes.Rules, routeRule{
				Match: "event.type == " + strconv.Quote(t),
				Path:  path,
			})
			p.Router.Sidecar.POST(path, deliver(c, s.Handler))
		}
	}
	if entries == nil {
		entries = []subscribeEntry{}
	}
	p.Router.Sidecar.GET("/dapr/subscribe", func(c *gin.Context) {
		c.JSON(http.StatusOK, entries)
		if p.Subscribed != nil {
			p.Subscribed.mark()
		}
	})
	return nil
}

// cloudEvent is the envelope Dapr delivers over HTTP.
type cloudEvent struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Topic           string          `json:"topic"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      string          `json:"data_base64"`
	TraceParent     string          `json:"traceparent"`
}

// deliver adapts a handler to Dapr's delivery contract. Subscriptions are
// bulk (see bulkSubscribe): Dapr posts a batch of entries and the answer
// names the status of each, SUCCESS, RETRY (redeliver later) or DROP (to the
// dead-letter topic); the entries of a batch are handled concurrently. A
// single CloudEvent is answered with its status as well.
func deliver(cs consumer, h func(context.Context, Event) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := c.GetRawData()
		var batch bulkEnvelope
		if err == nil && json.Unmarshal(body, &batch) == nil && batch.Entries != nil {
			c.JSON(http.StatusOK, bulkAnswer{Statuses: cs.deliverBulk(c.Request.Context(), h, batch.Entries)})
			return
		}
		if err != nil {
			cs.log.WarnContext(c, "unreadable event dropped", "err", err)
			c.JSON(http.StatusOK, gin.H{"status": statusDrop})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": cs.handle(c.Request.Context(), h, body)})
	}
}

// consumer hands delivered events to the app's handlers.
type consumer struct {
	log     *slog.Logger
	tracer  trace.Tracer
	metrics *metrics.Messaging // nil: not counted
}

// tracerName names the kit's own spans.
const tracerName = "github.com/shopmesh/shopmesh/internal/platform/daprx"

// Delivery statuses of Dapr's subscription contract.
const (
	statusSuccess = "SUCCESS"
	statusRetry   = "RETRY"
	statusDrop    = "DROP"
)

// bulkEnvelope is the body of a bulk delivery; each entry's event is one
// CloudEvent.
type bulkEnvelope struct {
	Entries []bulkEntry `json:"entries"`
}

type bulkEntry struct {
	EntryID string          `json:"entryId"`
	Event   json.RawMessage `json:"event"`
}

type bulkAnswer struct {
	Statuses []bulkStatus `json:"statuses"`
}

type bulkStatus struct {
	EntryID string `json:"entryId"`
	Status  string `json:"status"`
}

// deliverBulk handles every entry of a batch concurrently and answers a
// status for each: Dapr redelivers an entry without one.
func (cs consumer) deliverBulk(ctx context.Context, h func(context.Context, Event) error, entries []bulkEntry) []bulkStatus {
	out := make([]bulkStatus, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		out[i].EntryID = e.EntryID
		wg.Go(func() { out[i].Status = cs.handle(ctx, h, e.Event) })
	}
	wg.Wait()
	return out
}

// handle decodes one CloudEvent, runs h on it and says which status Dapr
// should act on. h runs in a consumer span whose parent is the publisher's
// (the event's traceparent), linked to the delivery's request span: a
// batch holds events of many traces, and each stays in its own.
func (cs consumer) handle(ctx context.Context, h func(context.Context, Event) error, raw []byte) string {
	var ce cloudEvent
	if err := json.Unmarshal(raw, &ce); err != nil {
		cs.log.WarnContext(ctx, "undecodable event dropped", "err", err)
		return statusDrop
	}
	if h == nil {
		return statusSuccess
	}
	var opts []trace.SpanStartOption
	if req := trace.SpanContextFromContext(ctx); req.IsValid() && ce.TraceParent != "" {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: req}))
	}
	ctx, span := cs.tracer.Start(telemetry.WithRemoteParent(ctx, ce.TraceParent), "process "+ce.Topic, append(opts,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "dapr"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", ce.Topic),
			attribute.String("messaging.message.id", ce.ID),
			attribute.String("cloudevents.event_type", ce.Type),
		))...)
	defer span.End()
	start := time.Now()
	status := cs.run(logging.WithRequestID(ctx, ce.ID), span, h, ce)
	if cs.metrics != nil {
		cs.metrics.Consumed(ce.Topic, status, time.Since(start))
	}
	return status
}

// run hands one event to h and maps its answer to a delivery status.
func (cs consumer) run(ctx context.Context, span trace.Span, h func(context.Context, Event) error, ce cloudEvent) string {
	ev, err := ce.event()
	if err == nil {
		err = h(ctx, ev)
	}
	switch {
	case err == nil:
		return statusSuccess
	case errors.Is(err, ErrDrop):
		span.SetStatus(codes.Error, "dropped to the dead-letter topic")
		span.RecordError(err)
		cs.log.WarnContext(ctx, "event dropped to dead letter", "type", ce.Type, "id", ce.ID, "err", err)
		return statusDrop
	default:
		span.SetStatus(codes.Error, "will be redelivered")
		span.RecordError(err)
		cs.log.ErrorContext(ctx, "event handling failed; will be redelivered", "type", ce.Type, "id", ce.ID, "err", err)
		return statusRetry
	}
}

// event unwraps the data: a JSON object as is, or data_base64 holding one.
// Every event of ours carries an object; anything else is poison.
func (ce cloudEvent) event() (Event, error) {
	ev := Event{ID: ce.ID, Type: ce.Type, Source: ce.Source, Topic: ce.Topic}
	if ce.Time != "" {
		ev.Time, _ = time.Parse(time.RFC3339Nano, ce.Time)
	}
	ev.Data = ce.Data
	if ce.DataBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(ce.DataBase64)
		if err != nil {
			return ev, fmt.Errorf("%w: data_base64: %v", ErrDrop, err)
		}
		ev.Data = b
	}
	ev.Data = bytes.TrimSpace(ev.Data)
	if len(ev.Data) == 0 || ev.Data[0] != '{' || !json.Valid(ev.Data) {
		return ev, fmt.Errorf("%w: data is not a JSON object", ErrDrop)
	}
	return ev, nil
}
