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
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
)

// Publisher publishes CloudEvents on the app's pub/sub component.
type Publisher struct {
	client dapr.Client
	pubsub string
}

// NewPublisher publishes on contracts.PubSub.
func NewPublisher(c dapr.Client) *Publisher { return &Publisher{client: c, pubsub: contracts.PubSub} }

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
}

// Send publishes m.
func (p *Publisher) Send(ctx context.Context, m Message) error {
	meta := map[string]string{"cloudevent.type": m.Type, "cloudevent.id": m.ID}
	if m.Key != "" {
		meta["partitionKey"] = m.Key
	}
	err := p.client.PublishEvent(ctx, p.pubsub, m.Topic, []byte(m.Data),
		dapr.PublishEventWithContentType("application/json"), dapr.PublishEventWithMetadata(meta))
	if err != nil {
		return fmt.Errorf("publish %s %s on %s: %w", m.Type, m.ID, m.Topic, err)
	}
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

type subscriptionParams struct {
	fx.In
	Router        httpserver.Router
	Log           *slog.Logger
	Subscriptions []Subscription `group:"subscriptions"`
}

// subscribeEntry is one element of the /dapr/subscribe answer (Dapr
// programmatic subscriptions, v2 routing).
type subscribeEntry struct {
	PubsubName      string      `json:"pubsubname"`
	Topic           string      `json:"topic"`
	Routes          routeConfig `json:"routes"`
	DeadLetterTopic string      `json:"deadLetterTopic"`
}

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
			})
			p.Router.Sidecar.POST("/events/"+s.Topic, deliver(p.Log, nil))
		}
		if len(s.Types) == 0 {
			if entries[i].Routes.Default != "/events/"+s.Topic {
				return fmt.Errorf("topic %s: two catch-all subscriptions", s.Topic)
			}
			path := "/events/" + s.Topic + "/all"
			entries[i].Routes.Default = path
			p.Router.Sidecar.POST(path, deliver(p.Log, s.Handler))
			continue
		}
		for _, t := range s.Types {
			path := "/events/" + s.Topic + "/" + t
			entries[i].Routes.Rules = append(entries[i].Routes.Rules, routeRule{
				Match: "event.type == " + strconv.Quote(t),
				Path:  path,
			})
			p.Router.Sidecar.POST(path, deliver(p.Log, s.Handler))
		}
	}
	if entries == nil {
		entries = []subscribeEntry{}
	}
	p.Router.Sidecar.GET("/dapr/subscribe", func(c *gin.Context) { c.JSON(http.StatusOK, entries) })
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

// deliver adapts a handler to Dapr's delivery contract: 200 with status
// SUCCESS, RETRY (redeliver later) or DROP (to the dead-letter topic).
func deliver(log *slog.Logger, h func(context.Context, Event) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		var ce cloudEvent
		body, err := c.GetRawData()
		if err == nil {
			err = json.Unmarshal(body, &ce)
		}
		if err != nil {
			log.WarnContext(c, "undecodable event dropped", "err", err)
			c.JSON(http.StatusOK, gin.H{"status": "DROP"})
			return
		}
		if h == nil {
			c.JSON(http.StatusOK, gin.H{"status": "SUCCESS"})
			return
		}
		ev, err := ce.event()
		if err == nil {
			ctx := logging.WithIDs(c.Request.Context(), ce.ID, logging.TraceID(c))
			err = h(ctx, ev)
		}
		switch {
		case err == nil:
			c.JSON(http.StatusOK, gin.H{"status": "SUCCESS"})
		case errors.Is(err, ErrDrop):
			log.WarnContext(c, "event dropped to dead letter", "type", ce.Type, "id", ce.ID, "err", err)
			c.JSON(http.StatusOK, gin.H{"status": "DROP"})
		default:
			log.ErrorContext(c, "event handling failed; will be redelivered", "type", ce.Type, "id", ce.ID, "err", err)
			c.JSON(http.StatusOK, gin.H{"status": "RETRY"})
		}
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
