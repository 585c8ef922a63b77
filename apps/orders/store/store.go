// Package store keeps the orders domain in its two Dapr state stores: carts
// in contracts.CartStore (each write carrying a TTL, so abandoned carts
// expire) and orders in contracts.OrdersStore, whose writes publish their
// order.* event on the orders topic through the kit's outbox (stored if and
// only if published).
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Keys. The state stores prefix them with the app id.
func orderKey(id string) string     { return "order|" + id }
func indexKey(userID string) string { return "user-orders|" + userID }

// idempotencyKey hashes the client's key: it may hold any character,
// including Dapr's key separator "||".
func idempotencyKey(userID, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "idempotency|" + userID + "|" + hex.EncodeToString(sum[:])
}

// domainErr translates daprx errors into the domain's.
func domainErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", orders.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", orders.ErrConflict, err)
	}
	return err
}

// Orders implements orders.Store.
type Orders struct {
	state  *daprx.State
	outbox *outbox.Outbox
}

// NewOrders returns the store on contracts.OrdersStore; ob is that store's outbox.
func NewOrders(c dapr.Client, ob *outbox.Outbox) *Orders {
	return &Orders{state: daprx.NewState(c, contracts.OrdersStore), outbox: ob}
}

type addressRecord struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type changeRecord struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// orderRecord is the stored form of an order. It holds no payment token:
// only order.placed carries that, to payments.
type orderRecord struct {
	ID              string                `json:"id"`
	UserID          string                `json:"user_id"`
	Email           string                `json:"email"`
	Status          string                `json:"status"`
	Reason          string                `json:"reason,omitempty"`
	Lines           []contracts.OrderLine `json:"lines"`
	Total           contracts.Money       `json:"total"`
	ShippingAddress addressRecord         `json:"shipping_address"`
	CreatedAt       time.Time             `json:"created_at"`
	UpdatedAt       time.Time             `json:"updated_at"`
	Timeline        []changeRecord        `json:"timeline"`
}

func toOrderRecord(o orders.Order) orderRecord {
	r := orderRecord{
		ID: o.ID, UserID: o.UserID, Email: o.Email, Status: o.Status, Reason: o.Reason, Lines: o.Lines,
		Total: o.Total, ShippingAddress: addressRecord(o.ShippingAddress), CreatedAt: o.CreatedAt,
		UpdatedAt: o.UpdatedAt, Timeline: make([]changeRecord, len(o.Timeline)),
	}
	for i, c := range o.Timeline {
		r.Timeline[i] = changeRecord(c)
	}
	return r
}

func (r orderRecord) order() orders.Order {
	o := orders.Order{
		ID: r.ID, UserID: r.UserID, Email: r.Email, Status: r.Status, Reason: r.Reason, Lines: r.Lines,
		Total: r.Total, ShippingAddress: orders.Address(r.ShippingAddress), CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, Timeline: make([]orders.Change, len(r.Timeline)),
	}
	for i, c := range r.Timeline {
		o.Timeline[i] = orders.Change(c)
	}
	return o
}

type indexRecord struct {
	OrderIDs []string `json:"order_ids"`
}

type idempotencyRecord struct {
	OrderID     string    `json:"order_id"`
	RequestHash string    `json:"request_hash"`
	CartID      string    `json:"cart_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// Order implements orders.Store.
func (s *Orders) Order(ctx context.Context, id string) (orders.Order, string, error) {
	var r orderRecord
	etag, err := s.state.Get(ctx, orderKey(id), &r)
	if err != nil {
		return orders.Order{}, "", domainErr(err)
	}
	return r.order(), etag, nil
}

// Orders implements orders.Store.
func (s *Orders) Orders(ctx context.Context, ids []string) ([]orders.Order, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = orderKey(id)
	}
	items, err := s.state.GetBulk(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]orders.Order, 0, len(items))
	for _, it := range items {
		if it.Value == nil {
			continue
		}
		var r orderRecord
		if err := it.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r.order())
	}
	return out, nil
}

// OrderIndex implements orders.Store.
func (s *Orders) OrderIndex(ctx context.Context, userID string) ([]string, string, error) {
	var r indexRecord
	etag, err := s.state.Get(ctx, indexKey(userID), &r)
	if err != nil {
		return nil, "", domainErr(err)
	}
	return r.OrderIDs, etag, nil
}

// Idempotency implements orders.Store.
func (s *Orders) Idempotency(ctx context.Context, userID, key string) (orders.Idempotency, error) {
	var r idempotencyRecord
	if _, err := s.state.Get(ctx, idempotencyKey(userID, key), &r); err != nil {
		return orders.Idempotency{}, domainErr(err)
	}
	return orders.Idempotency{Key: key, OrderID: r.OrderID, RequestHash: r.RequestHash, CartID: r.CartID, CreatedAt: r.CreatedAt}, nil
}

// announce is ev on the orders topic, keyed by the order.
func announce(o orders.Order, ev orders.Event) []outbox.Event {
	return []outbox.Event{{Topic: contracts.TopicOrders, Type: ev.Type, Key: o.ID, Data: ev.Data}}
}

// Place implements orders.Store.
func (s *Orders) Place(ctx context.Context, p orders.Placement) error {
	user := p.Order.UserID
	upsert := daprx.Op{Key: orderKey(p.Order.ID), Value: toOrderRecord(p.Order)}
	idem := daprx.Op{Key: idempotencyKey(user, p.Idempotency.Key), Create: true, Value: idempotencyRecord{
		OrderID: p.Idempotency.OrderID, RequestHash: p.Idempotency.RequestHash, CartID: p.Idempotency.CartID, CreatedAt: p.Idempotency.CreatedAt,
	}}
	index := daprx.Op{Key: indexKey(user), Value: indexRecord{OrderIDs: p.Index}, ETag: p.IndexETag, Create: p.IndexETag == ""}
	err := s.outbox.Transact(ctx, announce(p.Order, p.Event), upsert, idem, index)
	if err == nil || errors.Is(err, daprx.ErrConflict) {
		return domainErr(err)
	}
	// PostgreSQL refuses a first-write on a taken key with a plain error;
	// a key that holds a value now tells that conflict from a failure.
	taken := []string{idem.Key}
	if index.Create {
		taken = append(taken, index.Key)
	}
	if items, gerr := s.state.GetBulk(ctx, taken); gerr == nil {
		for _, it := range items {
			if it.Value != nil {
				return fmt.Errorf("%w: %s is taken: %w", orders.ErrConflict, it.Key, err)
			}
		}
	}
	return err
}

// Update implements orders.Store.
func (s *Orders) Update(ctx context.Context, o orders.Order, etag string, ev orders.Event) error {
	upsert := daprx.Op{Key: orderKey(o.ID), Value: toOrderRecord(o), ETag: etag}
	return domainErr(s.outbox.Transact(ctx, announce(o, ev), upsert))
}

// Module provides the stores as the domain's ports.
var Module = fx.Options(
	outbox.Module(contracts.OrdersStore),
	fx.Provide(
		fx.Annotate(NewOrders, fx.As(new(orders.Store))),
		fx.Annotate(NewCarts, fx.As(new(orders.CartStore))),
		loadConfig,
	),
)
