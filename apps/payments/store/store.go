// Package store keeps payments in the Dapr state store contracts.PaymentsStore.
// A payment's final status change and its payment.* event on the payments
// topic are one unit (the kit's outbox). The sandbox provider's ledger lives in the
// same component under its own keys (Ledger).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/apps/payments/sandbox"
	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/daprx"
	"github.com/shopmesh/shopmesh/internal/platform/outbox"
)

// Keys. The state store prefixes them with the app id.
func paymentKey(orderID string) string { return "payment|" + orderID }

// Store implements payments.Store.
type Store struct {
	state  *daprx.State
	outbox *outbox.Outbox
}

// New returns the store on contracts.PaymentsStore; ob is that store's outbox.
func New(c dapr.Client, ob *outbox.Outbox) *Store {
	return &Store{state: daprx.NewState(c, contracts.PaymentsStore), outbox: ob}
}

// record is the stored form of a payment. Token is the PSP's payment token;
// no card data exists anywhere to store.
type record struct {
	ID         string          `json:"id"`
	OrderID    string          `json:"order_id"`
	UserID     string          `json:"user_id,omitempty"`
	Amount     contracts.Money `json:"amount"`
	Token      string          `json:"payment_token,omitempty"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason,omitempty"`
	ChargeID   string          `json:"charge_id,omitempty"`
	RefundID   string          `json:"refund_id,omitempty"`
	LeaseUntil *time.Time      `json:"lease_until,omitempty"`
	Reserved   bool            `json:"stock_reserved,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

func toRecord(p payments.Payment) record {
	r := record{
		ID: p.ID, OrderID: p.OrderID, UserID: p.UserID, Amount: p.Amount, Token: p.Token, Status: string(p.Status),
		Reason: p.Reason, ChargeID: p.ChargeID, RefundID: p.RefundID, Reserved: p.StockReserved,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if !p.LeaseUntil.IsZero() {
		r.LeaseUntil = &p.LeaseUntil
	}
	return r
}

func (r record) payment() payments.Payment {
	p := payments.Payment{
		ID: r.ID, OrderID: r.OrderID, UserID: r.UserID, Amount: r.Amount, Token: r.Token, Status: payments.Status(r.Status),
		Reason: r.Reason, ChargeID: r.ChargeID, RefundID: r.RefundID, StockReserved: r.Reserved,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.LeaseUntil != nil {
		p.LeaseUntil = *r.LeaseUntil
	}
	return p
}

// domainErr translates daprx errors into the domain's.
func domainErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", payments.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", payments.ErrConflict, err)
	}
	return err
}

// Payment implements payments.Store.
func (s *Store) Payment(ctx context.Context, orderID string) (payments.Payment, string, error) {
	var r record
	etag, err := s.state.Get(ctx, paymentKey(orderID), &r)
	if err != nil {
		return payments.Payment{}, "", domainErr(err)
	}
	return r.payment(), etag, nil
}

// Create implements payments.Store.
func (s *Store) Create(ctx context.Context, p payments.Payment) error {
	return domainErr(s.state.Create(ctx, paymentKey(p.OrderID), toRecord(p)))
}

// Save implements payments.Store. Nothing is announced.
func (s *Store) Save(ctx context.Context, p payments.Payment, etag string) error {
	return domainErr(s.state.Save(ctx, paymentKey(p.OrderID), toRecord(p), etag))
}

// SaveAndPublish implements payments.Store: the write and ev, keyed by
// the order, through the store's outbox.
func (s *Store) SaveAndPublish(ctx context.Context, p payments.Payment, etag string, ev payments.Event) error {
	announce := []outbox.Event{{Topic: contracts.TopicPayments, Type: ev.Type, Key: p.OrderID, Data: ev.Data}}
	return domainErr(s.outbox.Transact(ctx, announce, daprx.Op{Key: paymentKey(p.OrderID), Value: toRecord(p), ETag: etag}))
}

// Ledger is the sandbox provider's KV in contracts.PaymentsStore. Nothing
// of it is published.
type Ledger struct{ state *daprx.State }

// NewLedger returns the sandbox's KV on contracts.PaymentsStore.
func NewLedger(c dapr.Client) *Ledger {
	return &Ledger{state: daprx.NewState(c, contracts.PaymentsStore)}
}

func ledgerErr(err error) error {
	switch {
	case errors.Is(err, daprx.ErrNotFound):
		return fmt.Errorf("%w: %w", sandbox.ErrNotFound, err)
	case errors.Is(err, daprx.ErrConflict):
		return fmt.Errorf("%w: %w", sandbox.ErrConflict, err)
	}
	return err
}

// Get implements sandbox.KV.
func (l *Ledger) Get(ctx context.Context, key string, v any) (string, error) {
	etag, err := l.state.Get(ctx, key, v)
	return etag, ledgerErr(err)
}

// Create implements sandbox.KV.
func (l *Ledger) Create(ctx context.Context, key string, v any) error {
	return ledgerErr(l.state.Create(ctx, key, v))
}

// Save implements sandbox.KV.
func (l *Ledger) Save(ctx context.Context, key string, v any, etag string) error {
	return ledgerErr(l.state.Save(ctx, key, v, etag))
}

// Module provides the store as payments.Store and the sandbox, on its
// ledger, as payments.Provider.
var Module = fx.Options(
	outbox.Module(contracts.PaymentsStore),
	fx.Provide(
		fx.Annotate(New, fx.As(new(payments.Store))),
		fx.Annotate(func(c dapr.Client) *sandbox.Sandbox { return sandbox.New(NewLedger(c)) }, fx.As(new(payments.Provider))),
	),
)
